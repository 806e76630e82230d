package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.Certificates.awaitReason;
import static dev.aliyuncsr.operator.testing.Certificates.certificate;
import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.certificate.CertificateCrashPoints;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.Certificates;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.OperatorProcess;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator jar as a process of its own, for what an in-process operator cannot show: a halt
 * between ApplyCertificate and the write of its result, and settings of its own (the renewal
 * window). Every process watches only its test's namespace and runs at TRACE, and nothing it
 * prints, writes to status or puts in an Event carries the private key.
 */
class CertificateCrashIT {
  static final Duration WAIT = Duration.ofSeconds(90);

  static CasEmulator emulator;
  static KubernetesClient client;

  @BeforeAll
  static void start() {
    emulator = OperatorHarness.newEmulator();
    client = KubeApiServerFixture.newClient();
  }

  @AfterAll
  static void stop() {
    emulator.close();
    client.close();
  }

  /**
   * A namespace with an AliyunCsr "shop", its Secret (CSR and key), a bought instance, and the
   * bearer token (of a ServiceAccount) the operator processes authenticate with.
   */
  record Given(String ns, TestPki.Material pki, String instance, String token) {}

  static Given given(String label) {
    String ns = OperatorHarness.newNamespace(client, label + "-");
    TestPki.Material pki =
        TestPki.ecCsr(
            "secp256r1",
            label + "-" + UUID.randomUUID().toString().substring(0, 6) + ".example.com");
    OperatorHarness.secret(
        client, ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    client.resource(aliyunCsr(ns, "shop", "tls", "tls")).create();
    String instance = emulator.buyInstance(CasEmulator.DEFAULT_ACCOUNT);
    client.resource(certificate(ns, "shop", "shop", instance, "shop-cert")).create();
    return new Given(ns, pki, instance, LogSecrecyIT.bearerToken(client, ns));
  }

  static OperatorProcess operator(Given g, Map<String, String> extra, String log) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("WATCH_NAMESPACES", g.ns());
    env.put("HTTP_PORT", "0");
    env.put("CERTIFICATE_POLL_MIN", "1s");
    env.put("CERTIFICATE_POLL_MAX", "2s");
    // The application lease outlives the longest call: shorter timeouts, a shorter wait after a
    // crash.
    env.put("CAS_CONNECT_TIMEOUT", "1s");
    env.put("CAS_READ_TIMEOUT", "2s");
    env.put("LOG_LEVEL", "TRACE");
    env.put("JOSDK_LOG_LEVEL", "TRACE");
    env.putAll(extra);
    Path file = Path.of("target", "certificate-crash-logs", log + ".log");
    Files.createDirectories(file.getParent());
    Files.deleteIfExists(file);
    return OperatorProcess.start(
        LogSecrecyIT.tokenKubeConfig(g.token()), emulator.endpoint(), env, file);
  }

  @Test
  void aCrashBetweenApplyCertificateAndItsRecordAppliesExactlyOnce() throws Exception {
    Given g = given("crash");
    String crashedLog;
    try (OperatorProcess crashing =
        operator(
            g,
            Map.of("CRASH_AT", CertificateCrashPoints.Point.APPLY_AFTER_CALL.name()),
            "apply-after-call")) {
      assertThat(crashing.awaitExit(WAIT)).as("the operator halts after applying").isEqualTo(137);
      crashedLog = crashing.log();
    }
    // CAS accepted the application; the record of it was lost with the process, its lease kept.
    assertThat(emulator.instanceCalls(g.instance(), "ApplyCertificate", CasEmulator.OK))
        .isEqualTo(1);
    assertThat(emulator.instance(g.instance()).orElseThrow().status()).isEqualTo("pending");
    AliyunCertificate lost = Certificates.get(client, g.ns(), "shop");
    assertThat(lost.getStatus().getApplication().getLease()).isNotNull();
    assertThat(lost.getStatus().getApplication().getAppliedAt()).isNull();

    try (OperatorProcess restarted = operator(g, Map.of(), "apply-after-call-restarted")) {
      // The dead process's lease is waited out; then the instance says it was applied.
      AliyunCertificate pending =
          awaitReason(client, g.ns(), "shop", Reasons.AWAITING_VALIDATION, WAIT);
      assertThat(pending.getStatus().getApplication().getLease()).isNull();
      assertThat(emulator.instanceCalls(g.instance(), "ApplyCertificate"))
          .as("exactly one application, whatever the crash")
          .isEqualTo(1);

      emulator.completeValidation(g.instance());
      AliyunCertificate issued = awaitReason(client, g.ns(), "shop", Reasons.ISSUED, WAIT);
      Secret secret = client.secrets().inNamespace(g.ns()).withName("shop-cert").get();
      assertThat(
              new String(
                  Base64.getDecoder().decode(secret.getData().get("tls.key")),
                  StandardCharsets.UTF_8))
          .isEqualTo(g.pki().pkcs8KeyPem());
      assertThat(issued.getStatus().getCertificateId())
          .isEqualTo(emulator.instance(g.instance()).orElseThrow().certificateId());
      assertThat(emulator.instanceCalls(g.instance(), "ApplyCertificate")).isEqualTo(1);

      // The private key is in the Secret and nowhere else: not in either process's output, the
      // certificate's status, nor its Events.
      assertThat(restarted.log()).contains(" TRACE ");
      assertNoKey(g, crashedLog + restarted.log());
      releaseAndDelete(g);
    }
  }

  @Test
  void withinTheRenewalWindowTheCertificateIsExpiringStaysReadyAndSaysSoOnce() throws Exception {
    Given g = given("expiring");
    // The emulator's certificates last 90 days: a 100-day window puts each one in it at once.
    try (OperatorProcess operator =
        operator(g, Map.of("CERTIFICATE_RENEW_BEFORE", "2400h"), "expiring")) {
      awaitReason(client, g.ns(), "shop", Reasons.AWAITING_VALIDATION, WAIT);
      emulator.completeValidation(g.instance());
      AliyunCertificate expiring = awaitReason(client, g.ns(), "shop", Reasons.EXPIRING, WAIT);
      assertThat(expiring.getStatus().condition("Ready").orElseThrow().getStatus())
          .isEqualTo("True");
      assertThat(expiring.getStatus().condition("Ready").orElseThrow().getMessage())
          .contains(expiring.getStatus().getNotAfter(), "spec.instanceId");
      assertThat(client.secrets().inNamespace(g.ns()).withName("shop-cert").get()).isNotNull();
      await()
          .atMost(WAIT)
          .until(
              () -> Certificates.events(client, g.ns(), "shop", "Warning", Reasons.EXPIRING),
              e -> e.size() == 1);
      assertNoKey(g, operator.log());
      releaseAndDelete(g);
    }
  }

  /**
   * No line of the key, nor its base64 form, in {@code output}, the status or the Events; no bearer
   * token and no Authorization header in {@code output}.
   */
  static void assertNoKey(Given g, String output) {
    assertThat(output).as("bearer token").doesNotContain(g.token());
    assertThat(output).doesNotContainIgnoringCase("Authorization:");
    assertThat(output).doesNotContainIgnoringCase("Bearer ");
    String status = Serialization.asJson(Certificates.get(client, g.ns(), "shop").getStatus());
    String events =
        Certificates.events(client, g.ns(), "shop").stream()
            .map(Event::getMessage)
            .collect(Collectors.joining("\n"));
    String key = g.pki().pkcs8KeyPem();
    String base64 = Base64.getEncoder().encodeToString(key.getBytes(StandardCharsets.UTF_8));
    for (String text : new String[] {output, status, events}) {
      assertThat(text).doesNotContain("PRIVATE KEY").doesNotContain(base64.substring(0, 48));
      for (String line : key.split("\n")) {
        if (!line.startsWith("-----") && line.length() > 16) {
          assertThat(text).as("a line of the private key").doesNotContain(line);
        }
      }
    }
  }

  /** Leaves nothing for the next test: the AliyunCsr released as Orphan, the certificate gone. */
  static void releaseAndDelete(Given g) {
    client.resources(AliyunCertificate.class).inNamespace(g.ns()).withName("shop").delete();
    OperatorHarness.retryOnConflict(
        () ->
            client
                .resources(AliyunCsr.class)
                .inNamespace(g.ns())
                .withName("shop")
                .edit(
                    r -> {
                      r.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
                      return r;
                    }));
    client.resources(AliyunCsr.class).inNamespace(g.ns()).withName("shop").delete();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                client.resources(AliyunCsr.class).inNamespace(g.ns()).withName("shop").get()
                    == null);
  }
}
