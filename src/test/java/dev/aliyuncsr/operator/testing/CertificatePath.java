package dev.aliyuncsr.operator.testing;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.certificate.CertificateAnnotations;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import io.fabric8.kubernetes.api.model.Secret;
import java.time.Duration;
import java.util.Map;

/**
 * The whole AliyunCertificate path, for tests that prove an install serves it (deploy/, the chart):
 * an AliyunCsr on a fresh key, an instance bought in the emulator, the AliyunCertificate,
 * validation completed once CAS asks for it, and the kubernetes.io/tls Secret the operator wrote.
 * Whichever operator runs (under whichever identity) does the work; this only sets up and waits.
 */
public final class CertificatePath {
  private CertificatePath() {}

  /** What the path produced: the issued resource and the Secret it wrote. */
  public record Issued(AliyunCertificate certificate, Secret secret, String instanceId) {}

  /**
   * Creates AliyunCsr {@code name} and AliyunCertificate {@code name} (Secret {@code name}-cert) in
   * {@code namespace} for {@code host}, and waits until the Secret holds the certificate. The
   * operator's CERTIFICATE_POLL_MIN/MAX must be seconds, not the default minutes.
   */
  public static Issued issue(
      OperatorHarness harness, String namespace, String name, String host, Duration wait) {
    TestPki.Material pki = TestPki.ecCsr("secp256r1", host);
    harness.secret(
        namespace, name + "-tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    harness.create(aliyunCsr(namespace, name, name + "-tls", name + "-tls"));
    String instance = harness.emulator.buyInstance(CasEmulator.DEFAULT_ACCOUNT);
    harness
        .client
        .resource(Certificates.certificate(namespace, name, name, instance, name + "-cert"))
        .create();

    AliyunCertificate pending =
        Certificates.awaitReason(
            harness.client, namespace, name, Reasons.AWAITING_VALIDATION, wait);
    assertThat(pending.getStatus().getValidation()).isNotEmpty();
    harness.emulator.completeValidation(instance);
    AliyunCertificate issued =
        Certificates.awaitReason(harness.client, namespace, name, Reasons.ISSUED, wait);

    Secret secret = harness.client.secrets().inNamespace(namespace).withName(name + "-cert").get();
    assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry(CertificateAnnotations.SECRET_OWNER, name);
    assertThat(secret.getData()).containsKeys("tls.crt", "tls.key");
    return new Issued(issued, secret, instance);
  }
}
