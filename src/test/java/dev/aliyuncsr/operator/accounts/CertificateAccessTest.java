package dev.aliyuncsr.operator.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AccountIssuance;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasInstances;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An account carries its certificate-instance actions on the same budget as its CSR actions: an
 * AliyunCertificate's calls take the namespace's turns, its polls the certificates share, and every
 * one of them counts against the account's one rate. Its route says what the account lets the
 * certificate spend and publish, and a refusal holds no client.
 */
class CertificateAccessTest {
  final dev.aliyuncsr.operator.testing.CountingCasClient sdk =
      new dev.aliyuncsr.operator.testing.CountingCasClient();
  final RecordingInstances instances = new RecordingInstances();
  final CasAccounts.Settings settings =
      new CasAccounts.Settings(
          "operator",
          "sts.example",
          "/token",
          CasAccountBudgetTest.cas(5, 4),
          0.2,
          0.2,
          Duration.ofMillis(250),
          "mark-key",
          List.of("example.com", "example.org"));
  final CasAccounts accounts = accounts(CasAccounts.defaultAccount(sdk, instances, settings));

  CasAccounts accounts(CasAccount defaultAccount) {
    return new CasAccounts(
        null,
        settings,
        defaultAccount,
        (name, cas, credentials) -> sdk,
        new CasAccounts.Listener() {
          @Override
          public void accountChanged(String account) {}

          @Override
          public void namespaceChanged(String namespace) {}
        },
        account -> 0,
        account -> List.of(),
        () -> false,
        Clock.systemUTC());
  }

  @AfterEach
  void close() {
    accounts.close();
  }

  @Test
  void theDefaultAccountServesAnyInstanceAndPublishesInTheConfiguredZonesOnly() throws Exception {
    var route = accounts.route("team-a", null);
    assertThat(route.refusal()).isEmpty();
    assertThat(route.instanceIds()).as("any instance").isEmpty();
    assertThat(route.dnsZones()).containsExactly("example.com", "example.org");
    route.access().orElseThrow().calls().applyCertificate("cas_dv-cn-1");
    route.access().orElseThrow().polls().getInstanceDetail("cas_dv-cn-1");
    assertThat(instances.calls).containsExactly("ApplyCertificate", "GetInstanceDetail");
  }

  @Test
  void withoutADefaultAccountTheDefaultRouteIsRefusedWithNoClient() {
    try (CasAccounts none = accounts(null)) {
      var route = none.route("team-a", null);
      assertThat(route.access()).isEmpty();
      assertThat(route.refusal().orElseThrow().reason()).isEqualTo(Reasons.INVALID_SPEC);
    }
  }

  @Test
  void anAccountThatDoesNotExistIsRefusedWithNoClient() {
    var route = accounts.route("team-a", "payments");
    assertThat(route.access()).isEmpty();
    assertThat(route.refusal().orElseThrow().reason()).isEqualTo(Reasons.ACCOUNT_NOT_FOUND);
  }

  @Test
  void anAccountsIssuanceListsItsInstancesAndZones() {
    AccountIssuance issuance = new AccountIssuance();
    issuance.setInstanceIds(List.of("cas_dv-cn-1"));
    issuance.setDnsZones(List.of("shop.example.com"));
    CasAccount payments =
        accounts.newAccount(
            "payments", CasAccountBudgetTest.cas(5, 4), null, sdk, instances, issuance);
    assertThat(payments.allowedInstances()).contains(List.of("cas_dv-cn-1"));
    assertThat(payments.dnsZones()).containsExactly("shop.example.com");

    CasAccount open =
        accounts.newAccount("open", CasAccountBudgetTest.cas(5, 4), null, sdk, instances, null);
    assertThat(open.allowedInstances()).isEmpty();
    assertThat(open.dnsZones()).isEmpty();
  }

  @Test
  void certificateCallsAndPollsShareTheAccountsRateWithUploads() throws Exception {
    // One call a second: after any instance call, the next upload must wait its turn.
    CasAccount called =
        accounts.newAccount("called", CasAccountBudgetTest.cas(1, 4), null, sdk, instances, null);
    called
        .certificateAccess("team-a")
        .calls()
        .updateInstance("cas_dv-cn-1", "csr", List.of(), null, null);
    assertThat(called.gate().admit("team-b", "uid-1")).isInstanceOf(CallBudget.Later.class);

    CasAccount polled =
        accounts.newAccount("polled", CasAccountBudgetTest.cas(1, 4), null, sdk, instances, null);
    polled.certificateAccess("team-a").polls().getInstanceDetail("cas_dv-cn-1");
    assertThat(polled.gate().admit("team-b", "uid-1")).isInstanceOf(CallBudget.Later.class);

    assertThat(instances.calls).containsExactly("UpdateInstance", "GetInstanceDetail");
    assertThat(called.callRate() + polled.callRate()).isGreaterThan(0);
  }

  @Test
  void pollsBeyondTheCertificatesShareAreRefusedAsRetryableWithoutACall() throws Exception {
    // qps 0.5, share 0.2: one poll every 10 s; the second waits longer than a call may wait.
    CasAccount slow =
        accounts.newAccount("slow", CasAccountBudgetTest.cas(0.5, 4), null, sdk, instances, null);
    var polls = slow.certificateAccess("team-a").polls();
    polls.getInstanceDetail("cas_dv-cn-1");
    CasException refused = null;
    try {
      polls.getInstanceDetail("cas_dv-cn-2");
    } catch (CasException e) {
      refused = e;
    }
    assertThat(refused).isNotNull();
    assertThat(refused.kind()).isEqualTo(CasException.Kind.RETRYABLE);
    assertThat(refused.reason()).isEqualTo(Reasons.THROTTLED);
    assertThat(instances.calls).containsExactly("GetInstanceDetail");
  }

  @Test
  void aClientWithoutInstanceActionsRefusesEveryOneBeforeSendingIt() {
    CasAccount csrOnly = accounts.newAccount("csr-only", CasAccountBudgetTest.cas(5, 4), null, sdk);
    try {
      csrOnly.certificateAccess("team-a").calls().applyCertificate("cas_dv-cn-1");
      throw new AssertionError("no ApplyCertificate without instance actions");
    } catch (CasException e) {
      assertThat(e.kind()).isEqualTo(CasException.Kind.TERMINAL);
      assertThat(e.code()).isEqualTo("NotSupported");
    }
  }

  /** Records the instance actions called, answering each with little. */
  static final class RecordingInstances implements CasInstances {
    final List<String> calls = new ArrayList<>();

    @Override
    public synchronized InstanceDetail getInstanceDetail(String instanceId) {
      calls.add("GetInstanceDetail");
      return new InstanceDetail(
          instanceId,
          "inactive",
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          Optional.empty(),
          Optional.empty(),
          null,
          List.of(),
          Optional.empty(),
          Optional.empty(),
          "request");
    }

    @Override
    public synchronized String updateInstance(
        String instanceId,
        String csrPem,
        List<String> domains,
        String keyAlgorithm,
        String validationMethod) {
      calls.add("UpdateInstance");
      return "request";
    }

    @Override
    public synchronized String applyCertificate(String instanceId) {
      calls.add("ApplyCertificate");
      return "request";
    }

    @Override
    public synchronized IssuedCertificate getUserCertificateDetail(long certId) {
      calls.add("GetUserCertificateDetail");
      return new IssuedCertificate("", certId, null, null, null, null, null, null, "request");
    }
  }
}
