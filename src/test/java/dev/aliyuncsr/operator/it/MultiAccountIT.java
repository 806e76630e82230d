package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AccessKeySecretRef;
import dev.aliyuncsr.operator.api.AccountCredentials;
import dev.aliyuncsr.operator.api.AccountNamespaceSelector;
import dev.aliyuncsr.operator.api.AccountRef;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCasAccountSpec;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 on the real API server: AliyunCsrs of different namespaces upload into different Alibaba
 * Cloud accounts, each a CAS emulator of its own (its own CSRs, keys and limits, as separate
 * accounts have), reached with the credentials of an AliyunCasAccount.
 */
class MultiAccountIT {
  static final Duration WAIT = Duration.ofSeconds(90);

  /** The operator's own namespace: the only one it reads credential Secrets from. */
  static final String OPERATOR_NS = "csr-operator-" + UUID.randomUUID().toString().substring(0, 6);

  static OperatorHarness harness;
  static CasEmulator accountA;
  static CasEmulator accountB;

  @BeforeAll
  static void start() {
    accountA = OperatorHarness.newEmulator();
    accountB = OperatorHarness.newEmulator();
    // The operator's namespace exists before the operator: it keeps its mark key Secret there.
    try (var admin = dev.aliyuncsr.operator.testing.KubeApiServerFixture.newClient()) {
      admin
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(OPERATOR_NS).endMetadata().build())
          .create();
    }
    harness = OperatorHarness.start(Map.of("POD_NAMESPACE", OPERATOR_NS, "CAS_QPS", "50"));
  }

  @AfterAll
  static void stop() {
    harness.deleteAllAsOrphans();
    harness.deleteAllAccounts();
    harness.close();
    accountA.close();
    accountB.close();
  }

  @Test
  void twoNamespacesOnTwoAccountsEachLandTheirCsrInTheirOwnAccount() {
    String nsA = harness.newNamespace();
    String nsB = harness.newNamespace();
    account("acct-a-" + nsA, accountA, nsA, OperatorHarness.ACCESS_KEY_SECRET, null);
    account("acct-b-" + nsB, accountB, nsB, OperatorHarness.ACCESS_KEY_SECRET, null);
    AliyunCsr a = upload(nsA, "a", "acct-a-" + nsA);
    AliyunCsr b = upload(nsB, "b", "acct-b-" + nsB);
    AliyunCsr readyA = awaitReady(nsA, "a");
    AliyunCsr readyB = awaitReady(nsB, "b");
    assertThat(readyA.getStatus().getAccount()).isEqualTo("acct-a-" + nsA);
    assertThat(readyB.getStatus().getAccount()).isEqualTo("acct-b-" + nsB);
    assertThat(names(accountA)).contains(readyA.getStatus().getUploadName());
    assertThat(names(accountA)).doesNotContain(readyB.getStatus().getUploadName());
    assertThat(names(accountB)).contains(readyB.getStatus().getUploadName());
    assertThat(names(accountB)).doesNotContain(readyA.getStatus().getUploadName());
    assertThat(names(harness.emulator))
        .as("nothing in the operator's own account")
        .doesNotContain(readyA.getStatus().getUploadName(), readyB.getStatus().getUploadName());
    // The account says how many CSRs it holds, and keeps its finalizer.
    AliyunCasAccount status =
        await()
            .atMost(WAIT)
            .until(
                () ->
                    harness
                        .client
                        .resources(AliyunCasAccount.class)
                        .withName("acct-a-" + nsA)
                        .get(),
                x ->
                    x.getStatus() != null
                        && Integer.valueOf(1).equals(x.getStatus().getCsrCount()));
    assertThat(status.getStatus().condition("Ready").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(status.getStatus().getNamespaceCount()).isEqualTo(1);
    assertThat(status.getMetadata().getFinalizers()).contains(AliyunCasAccount.FINALIZER);
    assertThat(harness.operator().metrics().scrape())
        .contains("account=\"acct-a-" + nsA + "\"")
        .contains("account=\"acct-b-" + nsB + "\"");
    assertThat(a).isNotNull();
    assertThat(b).isNotNull();
  }

  @Test
  void aNamespaceTheAccountDoesNotSelectStallsAndCallsNothing() {
    String allowed = harness.newNamespace();
    String other = harness.newNamespace();
    String name = "acct-only-" + allowed;
    account(name, accountA, allowed, OperatorHarness.ACCESS_KEY_SECRET, null);
    awaitAccountReady(name);
    Map<String, Map<String, Integer>> before = accountA.callStats();
    upload(other, "intruder", name);
    AliyunCsr stalled =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(other, "intruder"),
                r -> reasonIs(r, Reasons.ACCOUNT_NOT_PERMITTED));
    assertThat(stalled.getStatus().condition("Stalled").orElseThrow().getStatus())
        .isEqualTo("True");
    assertThat(stalled.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains(other)
        .contains(name);
    assertThat(accountA.callStats()).as("no call to the account").isEqualTo(before);
    assertThat(stalled.getMetadata().getFinalizers()).isNullOrEmpty();
  }

  @Test
  void aRotatedAccountSecretIsUsedWithoutARestart() {
    String ns = harness.newNamespace();
    String name = "acct-rot-" + ns;
    // A wrong secret first: the account is not ready, and the resource waits for it.
    account(name, accountA, ns, "not-the-secret-0123456789", "creds-" + name);
    upload(ns, "rotated", name);
    await()
        .atMost(WAIT)
        .until(() -> harness.get(ns, "rotated"), r -> reasonIs(r, Reasons.ACCOUNT_NOT_READY));
    Instant rotated = Instant.now();
    credentialSecret("creds-" + name, OperatorHarness.ACCESS_KEY_SECRET);
    AliyunCsr ready = awaitReady(ns, "rotated");
    System.out.printf(
        "rotation: Ready %s after the Secret changed%n", Duration.between(rotated, Instant.now()));
    assertThat(names(accountA)).contains(ready.getStatus().getUploadName());
  }

  @Test
  void oneThrottledAccountDoesNotSlowAnother() {
    String slowNs = harness.newNamespace();
    String fastNs = harness.newNamespace();
    try (CasEmulator slow = OperatorHarness.newEmulator();
        CasEmulator fast = OperatorHarness.newEmulator()) {
      slow.setRateLimit("UploadCsr", 1);
      fast.setRateLimit("UploadCsr", 10);
      account("slow-" + slowNs, slow, slowNs, OperatorHarness.ACCESS_KEY_SECRET, null, 5.0);
      account("fast-" + fastNs, fast, fastNs, OperatorHarness.ACCESS_KEY_SECRET, null, 10.0);
      awaitAccountReady("slow-" + slowNs);
      awaitAccountReady("fast-" + fastNs);
      KeyPair key = TestPki.rsa(2048);
      int slowCount = 60;
      int fastCount = 200;
      for (int i = 0; i < slowCount; i++) {
        harness.secret(
            slowNs,
            "csr-" + i,
            Map.of("tls.csr", TestPki.csr(key, "s" + i + ".example.com").csrPem()));
      }
      for (int i = 0; i < fastCount; i++) {
        harness.secret(
            fastNs,
            "csr-" + i,
            Map.of("tls.csr", TestPki.csr(key, "f" + i + ".example.com").csrPem()));
      }
      for (int i = 0; i < slowCount; i++) {
        create(slowNs, "s-" + i, "csr-" + i, "slow-" + slowNs);
      }
      Instant start = Instant.now();
      for (int i = 0; i < fastCount; i++) {
        create(fastNs, "f-" + i, "csr-" + i, "fast-" + fastNs);
      }
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> readyCount(fastNs) == fastCount);
      Duration fastTook = Duration.between(start, Instant.now());
      long slowReady = readyCount(slowNs);
      System.out.printf(
          "two accounts: %d uploads into the 10/s account took %s while the 1/s account had %d of"
              + " %d Ready (throttled %d times)%n",
          fastCount, fastTook, slowReady, slowCount, slow.calls("UploadCsr", "Throttling.User"));
      // 200 at 10/s is 20 s at best; the throttled account must not add to it.
      assertThat(fastTook).isLessThan(Duration.ofSeconds(20 + 15));
      assertThat(fast.calls("UploadCsr", "OK")).isEqualTo(fastCount);
      assertThat(slowReady).as("the slow account was still busy").isLessThan(slowCount);
    }
  }

  @Test
  void deletingAnAccountThatHoldsCsrsWaitsAndAnAccountGoneIsReportedAndOrphanReleases() {
    String ns = harness.newNamespace();
    String name = "acct-del-" + ns;
    account(name, accountB, ns, OperatorHarness.ACCESS_KEY_SECRET, null);
    upload(ns, "held", name);
    AliyunCsr ready = awaitReady(ns, "held");
    long csrId = ready.getStatus().getCsrId();

    harness.client.resources(AliyunCasAccount.class).withName(name).delete();
    AliyunCasAccount waiting =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.client.resources(AliyunCasAccount.class).withName(name).get(),
                a ->
                    a.getStatus() != null
                        && a.getStatus()
                            .condition("Ready")
                            .map(c -> c.getMessage().contains("Being deleted"))
                            .orElse(false));
    assertThat(waiting.getMetadata().getDeletionTimestamp()).isNotNull();
    assertThat(waiting.getStatus().getCsrCount()).isEqualTo(1);
    assertThat(accountB.csr(csrId)).isPresent();

    OperatorHarness.retryOnConflict(
        () ->
            // An admin forces it away: the resource's deletion now cannot reach its account and
            // says so.
            harness
                .client
                .resources(AliyunCasAccount.class)
                .withName(name)
                .edit(
                    a -> {
                      a.getMetadata().setFinalizers(List.of());
                      return a;
                    }));
    await()
        .atMost(WAIT)
        .until(() -> harness.client.resources(AliyunCasAccount.class).withName(name).get() == null);
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("held").delete();
    AliyunCsr stuck =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "held"),
                r ->
                    r != null
                        && reasonIs(r, Reasons.DELETING)
                        && r.getStatus()
                            .condition("Ready")
                            .orElseThrow()
                            .getMessage()
                            .contains(name));
    assertThat(stuck.getStatus().condition("Ready").orElseThrow().getMessage()).contains("Orphan");
    OperatorHarness.retryOnConflict(
        () ->
            harness
                .client
                .resources(AliyunCsr.class)
                .inNamespace(ns)
                .withName("held")
                .edit(
                    r -> {
                      r.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
                      return r;
                    }));
    await().atMost(WAIT).until(() -> harness.get(ns, "held") == null);
    assertThat(accountB.csr(csrId)).as("kept: the account was gone").isPresent();
  }

  @Test
  void aResourceIsDeletedThroughItsAccountEvenAfterItsNamespaceIsNoLongerSelected() {
    String ns = harness.newNamespace();
    String name = "acct-revoked-" + ns;
    account(name, accountA, ns, OperatorHarness.ACCESS_KEY_SECRET, null);
    upload(ns, "revoked", name);
    long csrId = awaitReady(ns, "revoked").getStatus().getCsrId();
    OperatorHarness.retryOnConflict(
        () ->
            // The grant is withdrawn: the resource may do nothing new in the account...
            harness
                .client
                .resources(AliyunCasAccount.class)
                .withName(name)
                .edit(
                    a -> {
                      a.getSpec().getNamespaceSelector().setNames(List.of("somewhere-else"));
                      return a;
                    }));
    OperatorHarness.retryOnConflict(
        () ->
            harness
                .client
                .resources(AliyunCsr.class)
                .inNamespace(ns)
                .withName("revoked")
                .edit(
                    r -> {
                      r.getMetadata().setLabels(Map.of("touched", "1"));
                      return r;
                    }));
    await()
        .atMost(WAIT)
        .until(() -> harness.get(ns, "revoked"), r -> reasonIs(r, Reasons.ACCOUNT_NOT_PERMITTED));
    // ...but its cleanup is not blocked by the policy change.
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("revoked").delete();
    await().atMost(WAIT).until(() -> harness.get(ns, "revoked") == null);
    assertThat(accountA.csr(csrId)).as("deleted in its account").isEmpty();
  }

  // ---- helpers ---------------------------------------------------------------------------------

  static void account(
      String name, CasEmulator cas, String namespace, String secret, String secretName) {
    account(name, cas, namespace, secret, secretName, 50.0);
  }

  static void account(
      String name,
      CasEmulator cas,
      String namespace,
      String secret,
      String secretName,
      double qps) {
    String credentials = secretName == null ? "creds-" + name : secretName;
    credentialSecret(credentials, secret);
    AliyunCasAccount account = new AliyunCasAccount();
    account.setMetadata(new ObjectMetaBuilder().withName(name).build());
    AliyunCasAccountSpec spec = new AliyunCasAccountSpec();
    AccountCredentials creds = new AccountCredentials();
    AccessKeySecretRef ref = new AccessKeySecretRef();
    ref.setName(credentials);
    creds.setAccessKeySecretRef(ref);
    spec.setCredentials(creds);
    spec.setEndpoint(cas.endpoint());
    spec.setProtocol("HTTP");
    spec.setQps(qps);
    spec.setMaxConcurrency(4);
    AccountNamespaceSelector selector = new AccountNamespaceSelector();
    selector.setNames(List.of(namespace));
    spec.setNamespaceSelector(selector);
    account.setSpec(spec);
    harness.client.resource(account).create();
  }

  static void credentialSecret(String name, String secret) {
    harness.secret(
        OPERATOR_NS,
        name,
        Map.of("access-key-id", OperatorHarness.ACCESS_KEY_ID, "access-key-secret", secret));
  }

  static void awaitAccountReady(String name) {
    harness.awaitAccountReady(name, WAIT);
  }

  static AliyunCsr upload(String ns, String name, String account) {
    var pki = TestPki.rsaCsr(2048, name + "." + ns + ".example.com");
    harness.secret(ns, name + "-csr", Map.of("tls.csr", pki.csrPem()));
    return create(ns, name, name + "-csr", account);
  }

  static AliyunCsr create(String ns, String name, String secret, String account) {
    AliyunCsr r = aliyunCsr(ns, name, secret, null);
    r.getSpec().setAccountRef(new AccountRef(account));
    return harness.create(r);
  }

  static AliyunCsr awaitReady(String ns, String name) {
    return await().atMost(WAIT).until(() -> harness.get(ns, name), AliyunCsrIT::isReady);
  }

  static long readyCount(String ns) {
    return harness.client.resources(AliyunCsr.class).inNamespace(ns).list().getItems().stream()
        .filter(AliyunCsrIT::isReady)
        .count();
  }

  static boolean reasonIs(AliyunCsr r, String reason) {
    return r != null
        && r.getStatus() != null
        && r.getStatus().condition("Ready").map(c -> reason.equals(c.getReason())).orElse(false);
  }

  static List<String> names(CasEmulator cas) {
    return cas.csrs().stream().map(StoredCsr::name).toList();
  }
}
