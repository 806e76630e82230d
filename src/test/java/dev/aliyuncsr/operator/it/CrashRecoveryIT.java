package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.OperatorProcess;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.upload.CrashPoints;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The operator process is halted at each step around the upload, then started again: every case
 * ends with exactly one CSR in CAS and a correct status.
 */
class CrashRecoveryIT {
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

  @ParameterizedTest
  @EnumSource(CrashPoints.Point.class)
  void crashAtEveryStepEndsWithExactlyOneCsr(CrashPoints.Point point) throws Exception {
    String ns = OperatorHarness.newNamespace(client, "crash-");
    var pki = TestPki.rsaCsr(2048, point.name().toLowerCase() + ".example.com");
    OperatorHarness.secret(
        client, ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    client.resource(aliyunCsr(ns, "crash", "tls", "tls")).create();
    Path log = Path.of("target", "crash-logs", point.name() + ".log");

    try (OperatorProcess crashing =
        OperatorProcess.start(
            emulator.endpoint(), Map.of("WATCH_NAMESPACES", ns, "CRASH_AT", point.name()), log)) {
      assertThat(crashing.awaitExit(Duration.ofSeconds(90)))
          .as("the operator halts at %s", point)
          .isEqualTo(137);
    }
    Path jsonLog = Path.of("target", "crash-logs", point.name() + "-restarted.json.log");
    java.nio.file.Files.deleteIfExists(jsonLog);
    try (OperatorProcess restarted =
        OperatorProcess.start(
            emulator.endpoint(),
            // An upload not found after the crash counts as never made after two lookups this
            // far apart (the default is a minute).
            Map.of("WATCH_NAMESPACES", ns, "LOG_FORMAT", "json", "CAS_MISSING_WINDOW", "3s"),
            jsonLog)) {
      AliyunCsr ready =
          await()
              .atMost(Duration.ofSeconds(90))
              .until(
                  () -> client.resources(AliyunCsr.class).inNamespace(ns).withName("crash").get(),
                  AliyunCsrIT::isReady);
      List<StoredCsr> stored =
          emulator.csrs().stream()
              .filter(c -> c.name().equals(ready.getStatus().getUploadName()))
              .toList();
      assertThat(stored).hasSize(1);
      assertThat(ready.getStatus().getCsrId()).isEqualTo(stored.get(0).csrId());
      assertThat(stored.get(0).hasPrivateKey()).isTrue();
      // Halted after UploadCsr answered but before its result reached status: the upload is
      // found again in CAS once the dead process's lease has ended.
      String expectedReason = point == CrashPoints.Point.AFTER_UPLOAD ? "Recovered" : "Uploaded";
      assertThat(ready.getStatus().condition("Ready").orElseThrow().getReason())
          .isEqualTo(expectedReason);
      // Neither process wrote key material or a request URL to its log.
      String output = restarted.log();
      for (String line : pki.pkcs8KeyPem().split("\n")) {
        if (!line.startsWith("-----")) {
          assertThat(output).doesNotContain(line);
        }
      }
      assertThat(output).doesNotContain("Key=").doesNotContain("/?Csr=");
      // LOG_FORMAT=json: every line is one JSON object, and lines about the resource name it.
      var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> restarted.log().lines().anyMatch(l -> l.contains(ns)));
      for (String line : restarted.log().lines().filter(l -> !l.isBlank()).toList()) {
        var json = mapper.readTree(line);
        assertThat(json.has("formattedMessage") && json.has("level")).as(line).isTrue();
        if (json.get("formattedMessage").asText().contains(" ready: ")) {
          assertThat(json.get("formattedMessage").asText()).startsWith(ns + "/crash ");
        }
      }

      // Leave nothing behind for the next test class: released as Orphan by this process.
      client
          .resources(AliyunCsr.class)
          .inNamespace(ns)
          .withName("crash")
          .edit(
              r -> {
                r.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
                return r;
              });
      client.resources(AliyunCsr.class).inNamespace(ns).withName("crash").delete();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  client.resources(AliyunCsr.class).inNamespace(ns).withName("crash").get()
                      == null);
    }
  }
}
