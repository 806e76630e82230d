package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReady;
import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReason;
import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.observability.HealthServer;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** /healthz, /readyz and /metrics of a running operator, and what the metrics say. */
class ObservabilityIT {
  static OperatorHarness harness;
  static HealthServer http;

  @BeforeAll
  static void start() throws Exception {
    harness = OperatorHarness.start();
    AliyunCsrIT.harness = harness;
    var operator = harness.operator();
    http = new HealthServer(0, () -> true, operator::isReady, operator.metrics()::scrape);
  }

  @AfterAll
  static void stop() {
    http.close();
    harness.close();
  }

  static HttpResponse<String> get(String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void probesAnswerAndMetricsCountWhatHappened() throws Exception {
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/readyz").statusCode()).isEqualTo(200);

    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "metrics.example.com");
    harness.secret(ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    harness.secret(ns, "bad", Map.of("tls.csr", "nonsense"));
    harness.create(aliyunCsr(ns, "good", "tls", "tls"));
    harness.create(aliyunCsr(ns, "bad", "bad", null));
    awaitReady(ns, "good");
    awaitReason(ns, "bad", "InvalidCsr");

    HttpResponse<String> metrics = get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    String body = metrics.body();
    assertThat(body)
        .containsPattern(
            "aliyuncsr_cas_calls_seconds_count\\{account=\"default\",action=\"UploadCsr\","
                + "outcome=\"OK\"\\} [1-9]")
        .containsPattern("aliyuncsr_resources\\{state=\"ready\"\\} [1-9]")
        .containsPattern("aliyuncsr_resources\\{state=\"stalled\"\\} [1-9]")
        .containsPattern(
            "aliyuncsr_reconciles_total\\{reason=\"InvalidCsr\",state=\"stalled\"\\} [1-9]")
        .containsPattern("aliyuncsr_time_to_ready_seconds_count [1-9]")
        .contains("operator_sdk_");
    for (String line : pki.pkcs8KeyPem().split("\n")) {
      if (!line.startsWith("-----")) {
        assertThat(body).doesNotContain(line);
      }
    }
    assertThat(body).doesNotContain(ns + "/good");
  }
}
