package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.Certificates.awaitReason;
import static dev.aliyuncsr.operator.testing.Certificates.certificate;
import static dev.aliyuncsr.operator.testing.Certificates.events;
import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.certificate.CertificateAnnotations;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.Certificates;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.Secret;
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
  static final String ACCOUNT = CasEmulator.DEFAULT_ACCOUNT;

  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness =
        OperatorHarness.start(
            Map.of(
                "CERTIFICATE_POLL_MIN", "1s",
                "CERTIFICATE_POLL_MAX", "2s",
                "CAS_CONNECT_TIMEOUT", "2s",
                "CAS_READ_TIMEOUT", "3s",
                "DNS_VALIDATION_ZONES", "example.com"));
  }

  @AfterAll
  static void stop() {
    Certificates.deleteAll(harness.client);
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
}
