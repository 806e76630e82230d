package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** An operator whose CAS credentials are wrong stalls with AuthFailed and uploads nothing. */
class CredentialsIT {
  static final String WRONG_SECRET = "not-the-secret-7c1d";
  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start(Map.of(), WRONG_SECRET);
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void wrongSecretStallsWithAuthFailed() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "auth.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "auth", "csr", null));
    AliyunCsr stalled =
        await()
            .atMost(OperatorHarness.timeout())
            .until(
                () -> harness.get(ns, "auth"),
                r ->
                    r.getStatus() != null
                        && r.getStatus()
                            .condition("Stalled")
                            .map(c -> "True".equals(c.getStatus()))
                            .orElse(false));
    var ready = stalled.getStatus().condition("Ready").orElseThrow();
    assertThat(ready.getReason()).isEqualTo("AuthFailed");
    assertThat(ready.getMessage()).contains("SignatureDoesNotMatch").doesNotContain(WRONG_SECRET);
    assertThat(harness.emulator.csrs()).isEmpty();
    assertThat(harness.emulator.calls("UploadCsr", "SignatureDoesNotMatch")).isEqualTo(1);
  }
}
