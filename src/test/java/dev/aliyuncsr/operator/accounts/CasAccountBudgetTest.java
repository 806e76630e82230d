package dev.aliyuncsr.operator.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.cloud.CasSettings;
import dev.aliyuncsr.operator.testing.CountingCasClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An account's budget lives as long as the account: rebuilding it (a re-probe, a new spec, a
 * rotated Secret) keeps every waiting place and call in flight; and every call of the account,
 * whoever makes it, takes its turn in that one budget.
 */
class CasAccountBudgetTest {
  static final Duration PARK = Duration.ofMillis(250);

  final CountingCasClient sdk = new CountingCasClient();
  final CasAccounts.Settings settings =
      new CasAccounts.Settings(
          "operator", "sts.example", "/token", cas(5, 4), 0.2, 0.2, PARK, "mark-key");
  final CasAccounts accounts =
      new CasAccounts(
          null,
          settings,
          null,
          (name, cas, credentials) -> sdk,
          new CasAccounts.Listener() {
            @Override
            public void accountChanged(String account) {}

            @Override
            public void namespaceChanged(String namespace) {}
          },
          account -> 0,
          account -> java.util.List.of(),
          () -> false,
          Clock.systemUTC());

  @AfterEach
  void close() {
    accounts.close();
  }

  @Test
  void aRebuiltAccountKeepsItsBudgetWithEveryWaitingPlaceAndCallInFlight() {
    CasAccount first = accounts.newAccount("payments", cas(100, 1), null, sdk);
    // A lookup's turn holds the only concurrency slot; an upload's turn keeps its place.
    var inFlight =
        (CallBudget.Granted) first.budget().admit(CallBudget.Tenant.namespace("team-a"), "uid-1");
    assertThat(first.budget().admit(CallBudget.Tenant.namespace("team-a"), "uid-2"))
        .isEqualTo(new CallBudget.Later(Duration.ofMillis(100), true));

    // A credential re-probe, a new spec or a rotated Secret builds the account again.
    CasAccount rebuilt = accounts.newAccount("payments", cas(50, 1), null, sdk);
    assertThat(rebuilt.budget()).isSameAs(first.budget());
    assertThat(rebuilt.budget().interval()).as("the new qps").isEqualTo(Duration.ofMillis(20));
    assertThat(rebuilt.budget().waiting()).as("uid-2 keeps its place").isEqualTo(1);
    assertThat(rebuilt.budget().admit(CallBudget.Tenant.namespace("team-a"), "uid-2"))
        .as("uid-1's call still fills the only slot")
        .isEqualTo(new CallBudget.Later(Duration.ofMillis(100), true));

    inFlight.slot().close();
    assertThat(rebuilt.budget().admit(CallBudget.Tenant.namespace("team-a"), "uid-2"))
        .isInstanceOf(CallBudget.Granted.class);
  }

  @Test
  void aNamespacesRouteIsTheSameUntilTheAccountIsRebuilt() {
    // A confirmation counts only through the route it was asked through (Decider): a route that
    // compared unequal at every reconcile confirmed a missing CSR forever (ObservationIT).
    CasAccount first = accounts.newAccount("payments", cas(100, 1), null, sdk);
    assertThat(first.access("team-a")).isEqualTo(first.access("team-a"));
    assertThat(first.access("team-a")).isNotEqualTo(first.access("team-b"));
    CasAccount rebuilt = accounts.newAccount("payments", cas(100, 1), null, sdk);
    assertThat(rebuilt.access("team-a")).as("a new handle").isNotEqualTo(first.access("team-a"));
  }

  @Test
  void eachAccountAndTheDefaultHaveABudgetOfTheirOwn() {
    CasAccount payments = accounts.newAccount("payments", cas(5, 4), null, sdk);
    CasAccount search = accounts.newAccount("search", cas(5, 4), null, sdk);
    CasAccount operators = CasAccounts.defaultAccount(sdk, settings);
    assertThat(List.of(payments.budget(), search.budget(), operators.budget()))
        .doesNotHaveDuplicates();
  }

  @Test
  void lookupsObservationCertificatePollsAndUploadsOfAnAccountShareOneRate() throws Exception {
    // One call a second: after any call, the next upload must wait its turn.
    CasAccount lookups = accounts.newAccount("lookups", cas(1, 4), null, sdk);
    lookups.access("team-a").cas().getCsrDetail(1);
    assertThat(lookups.gate().admit("team-b", "uid-1")).isInstanceOf(CallBudget.Later.class);

    CasAccount observed = accounts.newAccount("observed", cas(1, 4), null, sdk);
    observed.observeClient().getCsrDetail(1);
    assertThat(observed.gate().admit("team-b", "uid-1")).isInstanceOf(CallBudget.Later.class);

    CasAccount polled = accounts.newAccount("polled", cas(1, 4), null, sdk);
    Optional<CallBudget.Permit> poll = polled.certificatePollPermit();
    assertThat(poll).isPresent();
    poll.get().close();
    assertThat(polled.gate().admit("team-b", "uid-1")).isInstanceOf(CallBudget.Later.class);

    assertThat(sdk.calls).isEqualTo(2);
  }

  @Test
  void aResourceThatIsGoneGivesUpItsPlaceInEveryAccount() {
    CasAccount payments = accounts.newAccount("payments", cas(1, 4), null, sdk);
    payments.gate().admit("team-a", "uid-1");
    payments.gate().admit("team-a", "uid-2");
    assertThat(payments.budget().waiting()).isEqualTo(1);
    accounts.cancel("uid-2");
    assertThat(payments.budget().waiting()).isZero();
  }

  static CasSettings cas(double qps, int maxConcurrentCalls) {
    return new CasSettings(
        "cas.example",
        "HTTPS",
        "cn-hangzhou",
        qps,
        maxConcurrentCalls,
        Duration.ofSeconds(5),
        Duration.ofSeconds(10));
  }
}
