package dev.aliyuncsr.operator.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AccessKeySecretRef;
import dev.aliyuncsr.operator.api.AccountCredentials;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCasAccountSpec;
import dev.aliyuncsr.operator.api.AliyunCasAccountStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An AliyunCasAccount's status tells which version of its credentials Secret the account was built
 * from, so that whoever rotates a key can tell when the operator took it up: lastProbeAt has whole
 * seconds, and a rotated key taken up within the second of the build before left the status as it
 * was (TenantEvidenceAndLimitsIT waited 90 s for it to change).
 */
class CasAccountsStatusTest {
  static final Instant CREATED = Instant.parse("2026-12-03T19:20:09.070Z");
  static final Instant ROTATED = Instant.parse("2026-12-03T19:20:09.761Z");

  final CasAccounts accounts =
      new CasAccounts(
          null,
          new CasAccounts.Settings(
              "operator",
              "sts.example",
              "/token",
              CasAccountBudgetTest.cas(5, 4),
              0.2,
              0.2,
              Duration.ofMillis(250),
              "mark-key"),
          null,
          (name, cas, credentials) -> new dev.aliyuncsr.operator.testing.CountingCasClient(),
          new CasAccounts.Listener() {
            @Override
            public void accountChanged(String account) {}

            @Override
            public void namespaceChanged(String namespace) {}
          },
          account -> 0,
          account -> List.of(),
          () -> true,
          Clock.fixed(ROTATED, ZoneOffset.UTC));

  @AfterEach
  void close() {
    accounts.close();
  }

  @Test
  void aKeyTakenUpWithinTheSecondOfTheBuildBeforeStillChangesTheStatus() {
    AliyunCasAccount account = account("payments");
    account.setStatus(accounts.statusOf(account, built(CREATED, "1642"), 3));

    AliyunCasAccountStatus rotated = accounts.statusOf(account, built(ROTATED, "1648"), 3);

    assertThat(rotated.getLastProbeAt())
        .as("whole seconds: the probe of the rotated key does not show there")
        .isEqualTo(account.getStatus().getLastProbeAt());
    assertThat(CasAccounts.sameStatus(account.getStatus(), rotated))
        .as("the status is written again")
        .isFalse();
    assertThat(rotated.getCredentialsSecretVersion()).isEqualTo("1648");
    assertThat(
            CasAccounts.sameStatus(rotated, accounts.statusOf(account, built(ROTATED, "1648"), 3)))
        .as("and only once")
        .isTrue();
  }

  @Test
  void credentialsFromNoSecretRemoveTheVersionAnEarlierSecretLeft() {
    AliyunCasAccount account = account("payments");
    account.setStatus(accounts.statusOf(account, built(CREATED, "1642"), 3));

    // spec.credentials now names RRSA, say: the status is merge-patched, so the version must be
    // written as null to go.
    AliyunCasAccountStatus next = accounts.statusOf(account, built(ROTATED, null), 3);

    assertThat(CasAccounts.sameStatus(account.getStatus(), next)).isFalse();
    assertThat(Serialization.asJson(Map.of("status", next)))
        .contains("\"credentialsSecretVersion\":null");
  }

  @Test
  void onlyASecretsResourceVersionIsOne() {
    assertThat(AccountCredentialsFactory.secretVersion("1648")).isEqualTo("1648");
    assertThat(AccountCredentialsFactory.secretVersion(AccountCredentialsFactory.ABSENT)).isNull();
    assertThat(AccountCredentialsFactory.secretVersion(AccountCredentialsFactory.NO_SECRET))
        .isNull();
  }

  /** A working account built at {@code at} from this version of its Secret. */
  static CasAccounts.Entry built(Instant at, String secretVersion) {
    return new CasAccounts.Entry(
        null,
        "1/" + (secretVersion == null ? "" : secretVersion),
        true,
        "CredentialsWork",
        "ListCsr answered",
        at,
        secretVersion);
  }

  static AliyunCasAccount account(String name) {
    AliyunCasAccount account = new AliyunCasAccount();
    account.setMetadata(new ObjectMetaBuilder().withName(name).withGeneration(1L).build());
    AliyunCasAccountSpec spec = new AliyunCasAccountSpec();
    AccountCredentials credentials = new AccountCredentials();
    AccessKeySecretRef ref = new AccessKeySecretRef();
    ref.setName("creds-" + name);
    credentials.setAccessKeySecretRef(ref);
    spec.setCredentials(credentials);
    account.setSpec(spec);
    return account;
  }
}
