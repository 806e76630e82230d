package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many resources at once against a CAS that allows 10 UploadCsr per second: the process-wide call
 * budget keeps throttled answers at or under 1% and every resource ends Ready with one CSR.
 */
class ThrottlingIT {
  /** 200 in the default build; {@code -Dthrottling.resources=1000} for the full-size check. */
  static final int RESOURCES = Integer.getInteger("throttling.resources", 200);

  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start(Map.of("CAS_QPS", "9", "CAS_MAX_CONCURRENCY", "4"));
    harness.emulator.setRateLimit("UploadCsr", 10);
  }

  @AfterAll
  static void stop() {
    harness.emulator.setRateLimit("UploadCsr", 0);
    harness.close();
  }

  @Test
  void aBurstStaysWithinTheServiceLimit() {
    String ns = harness.newNamespace();
    // One key signs every CSR: RSA key generation would dominate the test's time otherwise.
    var keyPair = TestPki.rsa(2048);
    for (int i = 0; i < RESOURCES; i++) {
      var pki = TestPki.csr(keyPair, "burst-" + i + ".example.com");
      harness.secret(ns, "csr-" + i, Map.of("tls.csr", pki.csrPem()));
    }
    for (int i = 0; i < RESOURCES; i++) {
      harness.create(aliyunCsr(ns, "burst-" + i, "csr-" + i, null));
    }
    await()
        .atMost(Duration.ofSeconds(RESOURCES / 9 + 60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                harness.client.resources(AliyunCsr.class).inNamespace(ns).list().getItems().stream()
                        .filter(AliyunCsrIT::isReady)
                        .count()
                    == RESOURCES);
    int uploads = harness.emulator.calls("UploadCsr");
    int throttled = harness.emulator.calls("UploadCsr", "Throttling.User");
    assertThat(harness.emulator.csrs()).hasSize(RESOURCES);
    assertThat(throttled).isLessThanOrEqualTo(uploads / 100);
    assertThat(harness.emulator.csrs().stream().map(c -> c.name()).distinct().count())
        .isEqualTo(RESOURCES);
  }
}
