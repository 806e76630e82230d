package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.Certificates.awaitReason;
import static dev.aliyuncsr.operator.testing.Certificates.certificate;
import static dev.aliyuncsr.operator.testing.Certificates.events;
import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AccessKeySecretRef;
import dev.aliyuncsr.operator.api.AccountCredentials;
import dev.aliyuncsr.operator.api.AccountIssuance;
import dev.aliyuncsr.operator.api.AccountNamespaceSelector;
import dev.aliyuncsr.operator.api.AccountRef;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCasAccountSpec;
import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.PrivateKeyRef;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.certificate.CertificateAnnotations;
import dev.aliyuncsr.operator.certificate.DnsEndpoints;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.ChainMode;
import dev.aliyuncsr.operator.emulator.InstanceOptions;
import dev.aliyuncsr.operator.testing.Certificates;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * AliyunCertificate end to end on a real API server, the real SDK talking to the emulator: from a
 * Ready AliyunCsr and a bought instance to a kubernetes.io/tls Secret, and every reason a person
 * can meet on the way.
 */
class CertificateIT {
  static final Duration WAIT = Duration.ofSeconds(60);

  /** Long enough for an application lease to end after a lost answer. */
  static final Duration LEASE_WAIT = Duration.ofSeconds(120);

  static final String ACCOUNT = CasEmulator.DEFAULT_ACCOUNT;

  /** The operator's own namespace: the only one it reads credential Secrets from. */
  static final String OPERATOR_NS = "cert-operator-" + UUID.randomUUID().toString().substring(0, 6);

  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    try (var admin = KubeApiServerFixture.newClient()) {
      admin
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(OPERATOR_NS).endMetadata().build())
          .create();
    }
    harness =
        OperatorHarness.start(
            Map.of(
                "POD_NAMESPACE", OPERATOR_NS,
                "CERTIFICATE_POLL_MIN", "1s",
                "CERTIFICATE_POLL_MAX", "2s",
                "CAS_CONNECT_TIMEOUT", "2s",
                "CAS_READ_TIMEOUT", "3s",
                "DNS_VALIDATION_ZONES", "example.com"));
  }

  @AfterAll
  static void stop() {
    Certificates.deleteAll(harness.client);
    harness.deleteAllAsOrphans();
    harness.deleteAllAccounts();
    harness.close();
  }

  /** A namespace with an AliyunCsr "shop" on its own key for {@code host}, and its Secrets. */
  record Given(String ns, TestPki.Material pki, String host) {}

  static Given given(String label) {
    String ns = harness.newNamespace();
    String host = label + "-" + UUID.randomUUID().toString().substring(0, 6) + ".example.com";
    TestPki.Material pki = TestPki.ecCsr("secp256r1", host);
    harness.secret(ns, "shop-tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    harness.create(aliyunCsr(ns, "shop", "shop-tls", "shop-tls"));
    return new Given(ns, pki, host);
  }

  static AliyunCertificate create(Given g, String name, String instanceId) {
    return harness
        .client
        .resource(certificate(g.ns(), name, "shop", instanceId, name + "-cert"))
        .create();
  }

  static AliyunCertificate awaitFor(Given g, String name, String reason) {
    return awaitReason(harness.client, g.ns(), name, reason, WAIT);
  }

  static Secret secret(String ns, String name) {
    return harness.client.secrets().inNamespace(ns).withName(name).get();
  }

  static String decoded(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
  }

  static List<X509Certificate> chain(String pem) throws Exception {
    return CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.UTF_8)))
        .stream()
        .map(c -> (X509Certificate) c)
        .toList();
  }

  @Test
  void theWholePathEndsInATlsSecretWithTheCsrsKeyAndTheChain() throws Exception {
    Given g = given("shop");
    String instance = harness.emulator.buyInstance(ACCOUNT);
    create(g, "shop", instance);

    // CAS waits for validation: the records are in status, and a Normal Event says so once.
    AliyunCertificate pending = awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
    assertThat(pending.getStatus().getInstanceStatus()).isEqualTo("pending");
    assertThat(pending.getStatus().getValidation())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getDomain()).isEqualTo(g.host());
              assertThat(v.getType()).isEqualTo("TXT");
              assertThat(v.getRecordName()).isEqualTo("_dnsauth." + g.host());
              assertThat(v.getValue())
                  .isEqualTo(
                      harness
                          .emulator
                          .instance(instance)
                          .orElseThrow()
                          .domainValidations()
                          .get(0)
                          .validationValue());
            });
    assertThat(pending.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains("_dnsauth." + g.host());
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, g.ns(), "shop", "Normal", Reasons.AWAITING_VALIDATION),
            e -> e.size() == 1);

    harness.emulator.completeValidation(instance);
    AliyunCertificate issued = awaitFor(g, "shop", Reasons.ISSUED);
    assertThat(issued.getStatus().condition("Ready").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(issued.getStatus().getValidation()).isNull();

    Secret secret = secret(g.ns(), "shop-cert");
    assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry(CertificateAnnotations.SECRET_OWNER, "shop");
    assertThat(secret.getData()).containsOnlyKeys("tls.crt", "tls.key");
    assertThat(decoded(secret, "tls.key")).isEqualTo(g.pki().pkcs8KeyPem());
    List<X509Certificate> chain = chain(decoded(secret, "tls.crt"));
    assertThat(chain).hasSize(2);
    X509Certificate leaf = chain.get(0);
    assertThat(leaf.getPublicKey().getEncoded())
        .isEqualTo(g.pki().keyPair().getPublic().getEncoded());
    assertThat(chain.get(1)).isEqualTo(harness.emulator.caIntermediate());
    leaf.verify(harness.emulator.caIntermediate().getPublicKey());

    var status = issued.getStatus();
    assertThat(status.getCertificateId())
        .isEqualTo(harness.emulator.instance(instance).orElseThrow().certificateId());
    assertThat(status.getCertificateInstanceId()).isEqualTo(instance);
    assertThat(status.getSerialNumber()).isEqualTo(leaf.getSerialNumber().toString(16));
    assertThat(Instant.parse(status.getNotBefore())).isEqualTo(leaf.getNotBefore().toInstant());
    assertThat(Instant.parse(status.getNotAfter())).isEqualTo(leaf.getNotAfter().toInstant());
    assertThat(status.getObservedGeneration()).isEqualTo(issued.getMetadata().getGeneration());

    // Applied once, filled once; a Normal Event for the issue.
    assertThat(harness.emulator.instanceCalls(instance, "ApplyCertificate")).isEqualTo(1);
    assertThat(harness.emulator.instanceCalls(instance, "UpdateInstance")).isEqualTo(1);
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, g.ns(), "shop", "Normal", Reasons.ISSUED),
            e -> e.size() == 1);

    // The gauge, as cert-manager's: the certificate's end as a Unix timestamp.
    String series =
        "aliyuncsr_certificate_expiration_timestamp_seconds{name=\"shop\",namespace=\""
            + g.ns()
            + "\"}";
    await()
        .atMost(WAIT)
        .until(() -> harness.operator().metrics().scrape(), m -> m.contains(series));
    String line =
        harness
            .operator()
            .metrics()
            .scrape()
            .lines()
            .filter(l -> l.startsWith(series))
            .findFirst()
            .orElseThrow();
    assertThat(Double.parseDouble(line.substring(series.length()).trim()))
        .isEqualTo((double) leaf.getNotAfter().toInstant().getEpochSecond());
  }

  @Test
  void whileTheCaReviewsItIsIssuingAndARootCasReturnsGoesToCaCrt() throws Exception {
    Given g = given("review");
    String instance = harness.emulator.buyInstance(ACCOUNT);
    create(g, "shop", instance);
    awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
    harness.emulator.setChainMode(ChainMode.WITH_ROOT);
    try {
      // Validated; the CA reviews for a while before it issues.
      harness.emulator.completeValidation(instance, Duration.ofSeconds(8));
      AliyunCertificate issuing = awaitFor(g, "shop", Reasons.ISSUING);
      assertThat(issuing.getStatus().condition("Ready").orElseThrow().getStatus())
          .isEqualTo("False");
      assertThat(issuing.getStatus().condition("Ready").orElseThrow().getMessage())
          .contains(instance);
      assertThat(issuing.getStatus().getValidation()).isNull();
      assertThat(secret(g.ns(), "shop-cert")).isNull();
      await()
          .atMost(WAIT)
          .until(
              () -> events(harness.client, g.ns(), "shop", "Normal", Reasons.ISSUING),
              e -> e.size() == 1);

      awaitFor(g, "shop", Reasons.ISSUED);
      Secret secret = secret(g.ns(), "shop-cert");
      assertThat(secret.getData()).containsOnlyKeys("tls.crt", "tls.key", "ca.crt");
      // tls.crt: leaf then intermediate; the root CAS returned is ca.crt, not part of the chain.
      List<X509Certificate> chain = chain(decoded(secret, "tls.crt"));
      assertThat(chain).hasSize(2);
      assertThat(chain.get(1)).isEqualTo(harness.emulator.caIntermediate());
      assertThat(chain(decoded(secret, "ca.crt"))).containsExactly(harness.emulator.caRoot());
      assertThat(chain.get(0).getPublicKey().getEncoded())
          .isEqualTo(g.pki().keyPair().getPublic().getEncoded());
      assertThat(decoded(secret, "tls.key")).isEqualTo(g.pki().pkcs8KeyPem());
      assertThat(harness.emulator.instanceCalls(instance, "ApplyCertificate")).isEqualTo(1);
    } finally {
      harness.emulator.setChainMode(ChainMode.LEAF_AND_INTERMEDIATE);
    }
  }

  @Test
  void aLostAnswerOrA5xxFromApplyCertificateNeverAppliesTwice() {
    // Two certificates at once: one ApplyCertificate's answer is lost after CAS applied (the SDK's
    // re-send meets SignatureNonceUsed), another is answered 503 before CAS did anything. Either
    // may have applied as far as the operator knows: its lease is waited out, then the instance
    // says whether it was applied.
    harness.emulator.loseNextResponses("ApplyCertificate", 1);
    harness.emulator.failNext("ApplyCertificate", 1, 503, "ServiceUnavailable");
    List<Given> given = List.of(given("lost"), given("refused"));
    List<String> instances = new java.util.ArrayList<>();
    for (Given g : given) {
      String instance = harness.emulator.buyInstance(ACCOUNT);
      instances.add(instance);
      create(g, "shop", instance);
    }
    for (Given g : given) {
      AliyunCertificate pending =
          awaitReason(harness.client, g.ns(), "shop", Reasons.AWAITING_VALIDATION, LEASE_WAIT);
      assertThat(pending.getStatus().getApplication().getLease()).isNull();
    }
    int lost = 0;
    int refused = 0;
    for (String instance : instances) {
      Map<String, Integer> outcomes =
          harness.emulator.instanceCallStats(instance).get("ApplyCertificate");
      int performed =
          outcomes.getOrDefault(CasEmulator.LOST_RESPONSE, 0)
              + outcomes.getOrDefault(CasEmulator.OK, 0);
      assertThat(performed).as("applications on " + instance + ": " + outcomes).isEqualTo(1);
      lost += outcomes.getOrDefault(CasEmulator.LOST_RESPONSE, 0);
      refused += outcomes.getOrDefault("ServiceUnavailable", 0);
    }
    assertThat(lost).as("the lost answer happened").isEqualTo(1);
    assertThat(refused).as("the 503 happened").isEqualTo(1);

    // Both issue, each from its one application.
    for (int i = 0; i < 2; i++) {
      harness.emulator.completeValidation(instances.get(i));
      awaitFor(given.get(i), "shop", Reasons.ISSUED);
      int performed =
          harness.emulator.instanceCalls(instances.get(i), "ApplyCertificate", CasEmulator.OK)
              + harness.emulator.instanceCalls(
                  instances.get(i), "ApplyCertificate", CasEmulator.LOST_RESPONSE);
      assertThat(performed).isEqualTo(1);
    }
  }

  // ---- what is checked before any call --------------------------------------------------------

  @Test
  void nothingIsCalledUntilTheAliyunCsrIsReadyAndTheKeyIsThere() {
    String ns = harness.newNamespace();
    String host = "wait-" + UUID.randomUUID().toString().substring(0, 6) + ".example.com";
    TestPki.Material pki = TestPki.ecCsr("secp256r1", host);
    String instance = harness.emulator.buyInstance(ACCOUNT);
    AliyunCertificate resource = certificate(ns, "shop", "shop", instance, "shop-cert");
    resource.getSpec().setPrivateKeySecretRef(new PrivateKeyRef("shop-key", null));
    harness.client.resource(resource).create();

    // No AliyunCsr yet.
    AliyunCertificate waiting = awaitReason(harness.client, ns, "shop", Reasons.AWAITING_CSR, WAIT);
    assertThat(waiting.getStatus().condition("Stalled").orElseThrow().getStatus())
        .isEqualTo("False");
    assertThat(waiting.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains("AliyunCsr shop does not exist");
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, ns, "shop", "Normal", Reasons.AWAITING_CSR),
            e -> e.size() == 1);
    assertThat(callsOn(instance)).as("no call before the AliyunCsr is there").isZero();

    // The AliyunCsr comes (CSR only, no key): its readiness wakes the certificate, which waits
    // for the key it names.
    harness.secret(ns, "shop-csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "shop", "shop-csr", null));
    AliyunCertificate keyless = awaitReason(harness.client, ns, "shop", Reasons.KEY_MISSING, WAIT);
    assertThat(keyless.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains("shop-key");
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, ns, "shop", "Warning", Reasons.KEY_MISSING),
            e -> !e.isEmpty());
    assertThat(callsOn(instance)).as("no call before the key is there").isZero();

    // The key Secret appears: the Secret watch brings the certificate back (a key that is missing
    // is otherwise looked at again only after half an hour).
    harness.secret(ns, "shop-key", Map.of("tls.key", pki.pkcs8KeyPem()));
    awaitReason(harness.client, ns, "shop", Reasons.AWAITING_VALIDATION, WAIT);
    assertThat(harness.emulator.instanceCalls(instance, "ApplyCertificate")).isEqualTo(1);
  }

  @Test
  void aKeyOfAnotherCsrIsAMismatchAndCallsNothing() {
    Given g = given("mismatch");
    TestPki.Material other = TestPki.ecCsr("secp256r1", g.host());
    harness.secret(g.ns(), "other-key", Map.of("tls.key", other.pkcs8KeyPem()));
    String instance = harness.emulator.buyInstance(ACCOUNT);
    AliyunCertificate resource = certificate(g.ns(), "shop", "shop", instance, "shop-cert");
    resource.getSpec().setPrivateKeySecretRef(new PrivateKeyRef("other-key", "tls.key"));
    harness.client.resource(resource).create();

    AliyunCertificate stalled = awaitFor(g, "shop", Reasons.KEY_MISMATCH);
    assertThat(stalled.getStatus().condition("Stalled").orElseThrow().getStatus())
        .isEqualTo("True");
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, g.ns(), "shop", "Warning", Reasons.KEY_MISMATCH),
            e -> !e.isEmpty());
    assertThat(callsOn(instance)).isZero();
  }

  @Test
  void aCsrCasCannotIssueForIsUnsupportedBeforeAnyCall() {
    String ns = harness.newNamespace();
    TestPki.Material p384 =
        TestPki.ecCsr(
            "secp384r1", "p384-" + UUID.randomUUID().toString().substring(0, 6) + ".example.com");
    harness.secret(ns, "tls", Map.of("tls.csr", p384.csrPem(), "tls.key", p384.pkcs8KeyPem()));
    harness.create(aliyunCsr(ns, "shop", "tls", "tls"));
    String instance = harness.emulator.buyInstance(ACCOUNT);
    harness.client.resource(certificate(ns, "shop", "shop", instance, "shop-cert")).create();

    AliyunCertificate stalled =
        awaitReason(harness.client, ns, "shop", Reasons.UNSUPPORTED_CSR, WAIT);
    assertThat(stalled.getStatus().condition("Ready").orElseThrow().getMessage()).contains("P-384");
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, ns, "shop", "Warning", Reasons.UNSUPPORTED_CSR),
            e -> !e.isEmpty());
    assertThat(callsOn(instance)).isZero();
  }

  @Test
  void aSecretThatIsNotThisCertificatesIsNeverOverwritten() {
    Given g = given("conflict");
    Secret theirs =
        harness
            .client
            .resource(
                new SecretBuilder()
                    .withMetadata(
                        new ObjectMetaBuilder().withNamespace(g.ns()).withName("shop-cert").build())
                    .withType("kubernetes.io/tls")
                    .withStringData(Map.of("tls.crt", "theirs", "tls.key", "theirs"))
                    .build())
            .create();
    String instance = harness.emulator.buyInstance(ACCOUNT);
    create(g, "shop", instance);

    AliyunCertificate stalled = awaitFor(g, "shop", Reasons.SECRET_CONFLICT);
    assertThat(stalled.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains("shop-cert", CertificateAnnotations.SECRET_OWNER);
    assertThat(secret(g.ns(), "shop-cert").getMetadata().getResourceVersion())
        .isEqualTo(theirs.getMetadata().getResourceVersion());
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, g.ns(), "shop", "Warning", Reasons.SECRET_CONFLICT),
            e -> !e.isEmpty());
    assertThat(callsOn(instance)).isZero();

    // Once that Secret is gone (its deletion is watched), the certificate goes its way.
    harness.client.resource(theirs).delete();
    awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
  }

  // ---- what CAS says about the instance -------------------------------------------------------

  @Test
  void instancesThatCannotBeUsedSaySoAndTheOthersAreServed() {
    Given g = given("instances");
    // Another account's instance reads as none at all.
    String elsewhere = harness.emulator.buyInstance("2000000000000002");
    // Someone else's application is under way on this one.
    String taken =
        harness.emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.PENDING));
    String free = harness.emulator.buyInstance(ACCOUNT);
    create(g, "elsewhere", elsewhere);
    create(g, "taken", taken);
    create(g, "first", free);

    AliyunCertificate notFound = awaitFor(g, "elsewhere", Reasons.INSTANCE_NOT_FOUND);
    assertThat(notFound.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains(elsewhere);
    AliyunCertificate inUse = awaitFor(g, "taken", Reasons.INSTANCE_IN_USE);
    assertThat(inUse.getStatus().condition("Stalled").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(harness.emulator.instanceCalls(taken, "UpdateInstance")).isZero();
    assertThat(harness.emulator.instanceCalls(taken, "ApplyCertificate")).isZero();
    // The good one is served all the same.
    awaitFor(g, "first", Reasons.AWAITING_VALIDATION);

    // A second certificate naming the applied instance is the later one: it calls nothing.
    int before = callsOn(free);
    create(g, "second", free);
    AliyunCertificate conflict = awaitFor(g, "second", Reasons.INSTANCE_CONFLICT);
    assertThat(conflict.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains(g.ns() + "/first");
    assertThat(harness.emulator.instanceCalls(free, "ApplyCertificate")).isEqualTo(1);

    // A CSR with more names than the instance was bought for: CAS refuses to fill it, and says
    // why in its own words.
    String host = "multi-" + UUID.randomUUID().toString().substring(0, 6) + ".example.com";
    TestPki.Material multi = TestPki.ecCsr("secp256r1", host, "a." + host, "b." + host);
    harness.secret(
        g.ns(), "multi-tls", Map.of("tls.csr", multi.csrPem(), "tls.key", multi.pkcs8KeyPem()));
    harness.create(aliyunCsr(g.ns(), "multi", "multi-tls", "multi-tls"));
    String small = harness.emulator.buyInstance(ACCOUNT);
    harness.client.resource(certificate(g.ns(), "multi", "multi", small, "multi-cert")).create();
    AliyunCertificate unusable = awaitFor(g, "multi", Reasons.INSTANCE_UNUSABLE);
    assertThat(unusable.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains("InvalidParameter.Domain");
    assertThat(harness.emulator.instanceCalls(small, "ApplyCertificate")).isZero();
    // Refused for good: no further call, whatever events its own status writes bring.
    int fills = harness.emulator.instanceCalls(small, "UpdateInstance");
    assertThat(fills).isPositive();
    int settledCalls = callsOn(small);
    await()
        .during(Duration.ofSeconds(5))
        .atMost(Duration.ofSeconds(10))
        .until(() -> callsOn(small) == settledCalls);
    assertThat(harness.emulator.instanceCalls(small, "UpdateInstance")).isEqualTo(fills);
    for (String name : List.of("elsewhere", "taken", "second", "multi")) {
      String reason =
          Certificates.reason(Certificates.get(harness.client, g.ns(), name)).orElseThrow();
      await()
          .atMost(WAIT)
          .until(() -> events(harness.client, g.ns(), name, "Warning", reason), e -> !e.isEmpty());
    }
    assertThat(callsOn(free)).isGreaterThanOrEqualTo(before);
  }

  @Test
  void aCertificateForAnotherKeyIsNeverWritten() {
    Given g = given("wrong-key");
    String instance = harness.emulator.buyInstance(ACCOUNT);
    create(g, "shop", instance);
    awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
    harness.emulator.issueWithWrongKey(instance);
    harness.emulator.completeValidation(instance);

    AliyunCertificate stalled = awaitFor(g, "shop", Reasons.CERTIFICATE_MISMATCH);
    assertThat(stalled.getStatus().condition("Stalled").orElseThrow().getStatus())
        .isEqualTo("True");
    assertThat(stalled.getStatus().getCertificateId()).isNull();
    assertThat(secret(g.ns(), "shop-cert")).isNull();
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, g.ns(), "shop", "Warning", Reasons.CERTIFICATE_MISMATCH),
            e -> !e.isEmpty());
  }

  @Test
  void aFailedValidationIsNeverAppliedAgainButEachNewRetryValueAppliesOnce() {
    Given g = given("retry");
    String instance = harness.emulator.buyInstance(ACCOUNT);
    create(g, "shop", instance);
    awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
    harness.emulator.failValidation(instance, "DNS record not found");

    AliyunCertificate failed = awaitFor(g, "shop", Reasons.VALIDATION_FAILED);
    assertThat(failed.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains("DNS record not found", CertificateAnnotations.RETRY_APPLICATION);
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, g.ns(), "shop", "Warning", Reasons.VALIDATION_FAILED),
            e -> !e.isEmpty());
    // It is paid: not applied again on its own, over several poll intervals.
    await()
        .during(Duration.ofSeconds(5))
        .atMost(Duration.ofSeconds(10))
        .until(() -> harness.emulator.instanceCalls(instance, "ApplyCertificate") == 1);

    retry(g, "shop", "1");
    awaitApplications(instance, 2);
    awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
    harness.emulator.failValidation(instance, "DNS record not found again");
    awaitFor(g, "shop", Reasons.VALIDATION_FAILED);
    // The value "1" is used up: setting it again (an annotation change all the same) applies
    // nothing.
    retry(g, "shop", "1");
    await()
        .during(Duration.ofSeconds(5))
        .atMost(Duration.ofSeconds(10))
        .until(() -> harness.emulator.instanceCalls(instance, "ApplyCertificate") == 2);
    assertThat(
            Certificates.get(harness.client, g.ns(), "shop")
                .getStatus()
                .getApplication()
                .getRetry())
        .isEqualTo("1");

    retry(g, "shop", "2");
    awaitApplications(instance, 3);
    awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
    harness.emulator.completeValidation(instance);
    awaitFor(g, "shop", Reasons.ISSUED);
    assertThat(harness.emulator.instanceCalls(instance, "ApplyCertificate")).isEqualTo(3);
  }

  // ---- the accounts' policies -----------------------------------------------------------------

  @Test
  void anAccountsInstancesZonesAndNamespacesAreHeldBeforeAnyCall() {
    String ns = harness.newNamespace();
    label(ns, Map.of("cert-team", ns));
    String allowed = harness.emulator.buyInstance(ACCOUNT);
    String alsoAllowed = harness.emulator.buyInstance(ACCOUNT);
    String notAllowed = harness.emulator.buyInstance(ACCOUNT);
    String account = "acct-" + ns;
    AccountIssuance issuance = new AccountIssuance();
    issuance.setInstanceIds(List.of(allowed, alsoAllowed));
    issuance.setDnsZones(List.of("example.org"));
    account(account, Map.of("cert-team", ns), issuance);
    harness.awaitAccountReady(account, WAIT);

    String host = "acct-" + UUID.randomUUID().toString().substring(0, 6) + ".example.com";
    TestPki.Material pki = TestPki.ecCsr("secp256r1", host);
    harness.secret(ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    AliyunCsr csr = aliyunCsr(ns, "shop", "tls", "tls");
    csr.getSpec().setAccountRef(new AccountRef(account));
    harness.create(csr);

    harness.client.resource(certificate(ns, "other", "shop", notAllowed, "other-cert")).create();
    AliyunCertificate dns = certificate(ns, "dns", "shop", alsoAllowed, "dns-cert");
    dns.getSpec().setExternalDns(true);
    harness.client.resource(dns).create();
    harness.client.resource(certificate(ns, "shop", "shop", allowed, "shop-cert")).create();

    AliyunCertificate refused =
        awaitReason(harness.client, ns, "other", Reasons.INSTANCE_NOT_ALLOWED, WAIT);
    assertThat(refused.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains(notAllowed, account);
    AliyunCertificate zone =
        awaitReason(harness.client, ns, "dns", Reasons.DNS_ZONE_NOT_ALLOWED, WAIT);
    assertThat(zone.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains(host, "example.org");
    awaitReason(harness.client, ns, "shop", Reasons.AWAITING_VALIDATION, WAIT);
    for (var named :
        Map.of("other", Reasons.INSTANCE_NOT_ALLOWED, "dns", Reasons.DNS_ZONE_NOT_ALLOWED)
            .entrySet()) {
      await()
          .atMost(WAIT)
          .until(
              () -> events(harness.client, ns, named.getKey(), "Warning", named.getValue()),
              e -> !e.isEmpty());
    }
    assertThat(callsOn(notAllowed)).isZero();
    assertThat(callsOn(alsoAllowed)).isZero();

    // The namespace leaves the account's selector: its certificates get nothing, no call at all.
    label(ns, Map.of());
    await()
        .atMost(WAIT)
        .until(
            () -> Certificates.get(harness.client, ns, "shop"),
            r ->
                Certificates.ready(r)
                    .filter(c -> c.getMessage().contains("does not select namespace " + ns))
                    .isPresent());
    await()
        .atMost(WAIT)
        .until(
            () -> events(harness.client, ns, "shop", "Warning", Reasons.ACCOUNT_NOT_PERMITTED),
            e -> !e.isEmpty());
    int calls = callsOn(allowed);
    await()
        .during(Duration.ofSeconds(5))
        .atMost(Duration.ofSeconds(10))
        .until(() -> callsOn(allowed) == calls);
  }

  // ---- renewal, deletion ------------------------------------------------------------------------

  @Test
  void aNewInstanceRenewsWhileTheSecretKeepsTheCurrentCertificateAndDeletionLeavesBoth()
      throws Exception {
    Given g = given("renew");
    String first = harness.emulator.buyInstance(ACCOUNT);
    create(g, "shop", first);
    awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
    harness.emulator.completeValidation(first);
    AliyunCertificate issued = awaitFor(g, "shop", Reasons.ISSUED);
    Secret current = secret(g.ns(), "shop-cert");

    String second = harness.emulator.buyInstance(ACCOUNT);
    OperatorHarness.retryOnConflict(
        () ->
            harness
                .client
                .resources(AliyunCertificate.class)
                .inNamespace(g.ns())
                .withName("shop")
                .edit(
                    r -> {
                      r.getSpec().setInstanceId(second);
                      return r;
                    }));
    AliyunCertificate renewing = awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
    assertThat(harness.emulator.instanceCalls(second, "ApplyCertificate")).isEqualTo(1);
    // Meanwhile the Secret and the record of its certificate stay as they were.
    assertThat(renewing.getStatus().getCertificateInstanceId()).isEqualTo(first);
    assertThat(renewing.getStatus().getSerialNumber())
        .isEqualTo(issued.getStatus().getSerialNumber());
    assertThat(secret(g.ns(), "shop-cert").getMetadata().getResourceVersion())
        .isEqualTo(current.getMetadata().getResourceVersion());

    harness.emulator.completeValidation(second);
    AliyunCertificate renewed = awaitFor(g, "shop", Reasons.ISSUED);
    assertThat(renewed.getStatus().getCertificateInstanceId()).isEqualTo(second);
    assertThat(renewed.getStatus().getCertificateId())
        .isEqualTo(harness.emulator.instance(second).orElseThrow().certificateId());
    X509Certificate leaf = chain(decoded(secret(g.ns(), "shop-cert"), "tls.crt")).get(0);
    assertThat(leaf.getSerialNumber().toString(16))
        .isEqualTo(renewed.getStatus().getSerialNumber())
        .isNotEqualTo(issued.getStatus().getSerialNumber());
    // Never a key that does not match: tls.key is the key of the new leaf.
    assertThat(decoded(secret(g.ns(), "shop-cert"), "tls.key")).isEqualTo(g.pki().pkcs8KeyPem());
    assertThat(leaf.getPublicKey().getEncoded())
        .isEqualTo(g.pki().keyPair().getPublic().getEncoded());
    assertThat(harness.emulator.instanceCalls(first, "ApplyCertificate")).isEqualTo(1);

    // Deleting the certificate leaves the Secret (an Ingress keeps serving) and the instance.
    Secret kept = secret(g.ns(), "shop-cert");
    harness.client.resources(AliyunCertificate.class).inNamespace(g.ns()).withName("shop").delete();
    await().atMost(WAIT).until(() -> Certificates.get(harness.client, g.ns(), "shop") == null);
    int calls = callsOn(second);
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(6))
        .until(() -> callsOn(second) == calls);
    assertThat(secret(g.ns(), "shop-cert").getData()).isEqualTo(kept.getData());
    assertThat(harness.emulator.instance(second).orElseThrow().status()).isEqualTo("normal");
    assertThat(harness.emulator.calls("CancelPendingCertificate")).isZero();
  }

  // ---- external-dns -----------------------------------------------------------------------------

  @Test
  void validationRecordsArePublishedAsADnsEndpointOnceTheKindIsThereAndRemovedOnceIssued() {
    Given g = given("dns");
    String instance = harness.emulator.buyInstance(ACCOUNT);
    AliyunCertificate resource = certificate(g.ns(), "shop", "shop", instance, "shop-cert");
    resource.getSpec().setExternalDns(true);
    harness.client.resource(resource).create();

    // The cluster has no DNSEndpoint kind: said plainly, and nothing is applied.
    AliyunCertificate unavailable = awaitFor(g, "shop", Reasons.DNS_ENDPOINT_UNAVAILABLE);
    assertThat(unavailable.getStatus().condition("Stalled").orElseThrow().getStatus())
        .isEqualTo("True");
    assertThat(callsOn(instance)).isZero();

    // external-dns's CRD is installed; the operator finds it when it starts.
    KubeApiServerFixture.installDnsEndpointCrd(harness.client);
    harness.restartOperator();
    AliyunCertificate pending = awaitFor(g, "shop", Reasons.AWAITING_VALIDATION);
    assertThat(pending.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains("published as a DNSEndpoint");
    String value =
        harness
            .emulator
            .instance(instance)
            .orElseThrow()
            .domainValidations()
            .get(0)
            .validationValue();
    GenericKubernetesResource endpoint =
        await().atMost(WAIT).until(() -> dnsEndpoint(g.ns()), e -> e != null);
    assertThat(endpoint.getMetadata().getName()).isEqualTo(DnsEndpoints.nameFor("shop"));
    assertThat(endpoint.getMetadata().getLabels())
        .containsEntry(DnsEndpoints.MANAGED_BY_LABEL, DnsEndpoints.MANAGED_BY);
    assertThat(endpoint.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("AliyunCertificate");
              assertThat(o.getUid()).isEqualTo(pending.getMetadata().getUid());
              assertThat(o.getController()).isTrue();
            });
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> endpoints =
        (List<Map<String, Object>>)
            ((Map<String, Object>) endpoint.getAdditionalProperties().get("spec")).get("endpoints");
    assertThat(endpoints)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e).containsEntry("dnsName", "_dnsauth." + g.host());
              assertThat(e).containsEntry("recordType", "TXT");
              assertThat(e.get("targets")).isEqualTo(List.of(value));
            });

    // A DNSEndpoint deleted by someone comes back: it is watched.
    harness.client.resource(endpoint).delete();
    await()
        .atMost(WAIT)
        .until(
            () -> dnsEndpoint(g.ns()),
            e -> e != null && !e.getMetadata().getUid().equals(endpoint.getMetadata().getUid()));

    harness.emulator.completeValidation(instance);
    awaitFor(g, "shop", Reasons.ISSUED);
    await().atMost(WAIT).until(() -> dnsEndpoint(g.ns()) == null);
    assertThat(secret(g.ns(), "shop-cert")).isNotNull();
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** Every call that named the instance, any action, any outcome. */
  static int callsOn(String instanceId) {
    return harness.emulator.instanceCallStats(instanceId).values().stream()
        .flatMap(m -> m.values().stream())
        .mapToInt(Integer::intValue)
        .sum();
  }

  static void awaitApplications(String instanceId, int n) {
    await()
        .atMost(WAIT)
        .until(() -> harness.emulator.instanceCalls(instanceId, "ApplyCertificate") >= n);
    assertThat(harness.emulator.instanceCalls(instanceId, "ApplyCertificate")).isEqualTo(n);
  }

  static void retry(Given g, String name, String value) {
    OperatorHarness.retryOnConflict(
        () ->
            harness
                .client
                .resources(AliyunCertificate.class)
                .inNamespace(g.ns())
                .withName(name)
                .edit(
                    r -> {
                      r.getMetadata()
                          .getAnnotations()
                          .put(CertificateAnnotations.RETRY_APPLICATION, value);
                      return r;
                    }));
  }

  static GenericKubernetesResource dnsEndpoint(String ns) {
    return harness
        .client
        .genericKubernetesResources(
            new ResourceDefinitionContext.Builder()
                .withGroup(DnsEndpoints.GROUP)
                .withVersion(DnsEndpoints.VERSION)
                .withKind(DnsEndpoints.KIND)
                .withPlural(DnsEndpoints.PLURAL)
                .withNamespaced(true)
                .build())
        .inNamespace(ns)
        .withName(DnsEndpoints.nameFor("shop"))
        .get();
  }

  static void label(String ns, Map<String, String> labels) {
    OperatorHarness.retryOnConflict(
        () ->
            harness
                .client
                .namespaces()
                .withName(ns)
                .edit(
                    n -> {
                      n.getMetadata().setLabels(new java.util.HashMap<>(labels));
                      return n;
                    }));
  }

  /** An AliyunCasAccount on the harness's emulator and AccessKey, selecting by labels. */
  static void account(String name, Map<String, String> selectLabels, AccountIssuance issuance) {
    String credentials = "creds-" + name;
    harness.secret(
        OPERATOR_NS,
        credentials,
        Map.of(
            "access-key-id",
            OperatorHarness.ACCESS_KEY_ID,
            "access-key-secret",
            OperatorHarness.ACCESS_KEY_SECRET));
    AliyunCasAccount account = new AliyunCasAccount();
    account.setMetadata(new ObjectMetaBuilder().withName(name).build());
    AliyunCasAccountSpec spec = new AliyunCasAccountSpec();
    AccountCredentials creds = new AccountCredentials();
    AccessKeySecretRef ref = new AccessKeySecretRef();
    ref.setName(credentials);
    creds.setAccessKeySecretRef(ref);
    spec.setCredentials(creds);
    spec.setEndpoint(harness.emulator.endpoint());
    spec.setProtocol("HTTP");
    spec.setQps(50.0);
    spec.setMaxConcurrency(4);
    AccountNamespaceSelector selector = new AccountNamespaceSelector();
    selector.setMatchLabels(selectLabels);
    spec.setNamespaceSelector(selector);
    spec.setIssuance(issuance);
    account.setSpec(spec);
    harness.client.resource(account).create();
  }
}
