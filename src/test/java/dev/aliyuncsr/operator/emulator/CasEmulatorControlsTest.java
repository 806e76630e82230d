package dev.aliyuncsr.operator.emulator;

import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.ACCOUNT;
import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.call;
import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.certificates;
import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.verifyChain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.GetUserCertificateDetailRequest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aliyuncsr.operator.testing.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The test controls over HTTP ({@code /_emulator/...}), as a test in another process drives them:
 * plain JSON, no signature, on the emulator's own port.
 */
class CasEmulatorControlsTest {
  private static final String AK = "LTAI-controls";
  private static final String SECRET = "secret-controls";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static TestPki.Material ec;

  private final HttpClient http = HttpClient.newHttpClient();
  private CasEmulator emulator;
  private Client client;

  @BeforeAll
  static void generateKeys() {
    ec = TestPki.ecCsr("secp256r1", "controls.example.org");
  }

  @BeforeEach
  void startEmulator() throws Exception {
    emulator = CasEmulator.builder().accessKey(ACCOUNT, AK, SECRET).build().start();
    client = CasEmulatorInstancesTest.client(emulator, AK, SECRET);
  }

  @AfterEach
  void stopEmulator() {
    emulator.close();
  }

  private record Reply(int status, JsonNode body) {}

  private Reply send(String method, String path, Object body) throws Exception {
    HttpRequest.BodyPublisher publisher =
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(
                body instanceof String text ? text : JSON.writeValueAsString(body));
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://" + emulator.endpoint() + path))
                .method(method, publisher)
                .header("content-type", "application/json")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return new Reply(response.statusCode(), JSON.readTree(response.body()));
  }

  private Reply post(String path, Object body) throws Exception {
    return send("POST", path, body);
  }

  private Reply get(String path) throws Exception {
    return send("GET", path, null);
  }

  private String buy(Map<String, Object> options) throws Exception {
    Reply bought = post("/_emulator/instances", options);
    assertThat(bought.status()).isEqualTo(200);
    return bought.body().get("InstanceId").asText();
  }

  private void fillInAndApply(String id) throws Exception {
    call(
        client,
        "UpdateInstance",
        Map.of(
            "InstanceId",
            id,
            "GenerateCsrMethod",
            "upload",
            "Csr",
            ec.csrPem(),
            "KeyAlgorithm",
            "ECC_256"));
    call(client, "ApplyCertificate", Map.of("InstanceId", id));
  }

  private String downloadedChain(long certId) throws Exception {
    return client
        .getUserCertificateDetail(new GetUserCertificateDetailRequest().setCertId(certId))
        .getBody()
        .getCert();
  }

  @Test
  void anInstanceIsBoughtValidatedAndIssuedOverHttp() throws Exception {
    String id = buy(Map.of("accountId", ACCOUNT, "fullDomainCount", 2, "wildcardDomainCount", 1));
    fillInAndApply(id);

    Reply pending = get("/_emulator/instances/" + id);
    assertThat(pending.status()).isEqualTo(200);
    assertThat(pending.body().get("Status").asText()).isEqualTo("pending");
    assertThat(pending.body().get("AccountId").asText()).isEqualTo(ACCOUNT);
    assertThat(pending.body().get("FullDomainCount").asInt()).isEqualTo(2);
    assertThat(pending.body().get("DomainValidationList").get(0).get("ValidationKey").asText())
        .isEqualTo("_dnsauth.controls");

    Reply issued = post("/_emulator/instances/" + id + "/complete-validation", null);
    assertThat(issued.status()).isEqualTo(200);
    assertThat(issued.body().get("Status").asText()).isEqualTo("normal");
    long certId = issued.body().get("CertificateId").asLong();
    assertThat(issued.body().get("CertIdentifier").asText()).isEqualTo(certId + "-cn-hangzhou");

    Reply ca = get("/_emulator/ca");
    X509Certificate root = certificates(ca.body().get("Root").asText()).get(0);
    assertThat(root).isEqualTo(emulator.caRoot());
    List<X509Certificate> chain = certificates(downloadedChain(certId));
    assertThat(chain.get(0).getPublicKey()).isEqualTo(ec.keyPair().getPublic());
    verifyChain(chain, root);
    assertThat(chain.get(0)).isEqualTo(certificates(issued.body().get("Leaf").asText()).get(0));
  }

  @Test
  void aReviewDelayOverHttpLeavesTheInstancePendingWithoutRecords() throws Exception {
    String id = buy(Map.of("stage", "pending"));

    Reply reviewing =
        post(
            "/_emulator/instances/" + id + "/complete-validation",
            Map.of("reviewDelaySeconds", 3600));

    assertThat(reviewing.body().get("Status").asText()).isEqualTo("pending");
    assertThat(reviewing.body().get("UnderReview").asBoolean()).isTrue();
    assertThat(reviewing.body().get("DomainValidationList")).isEmpty();
    assertThat(emulator.instance(id).orElseThrow().accountId())
        .as("the default account")
        .isEqualTo(CasEmulator.DEFAULT_ACCOUNT);
  }

  @Test
  void failedValidationOverHttpPutsTheMessageInPendingResult() throws Exception {
    String id = buy(Map.of("accountId", ACCOUNT));
    fillInAndApply(id);

    Reply failed =
        post(
            "/_emulator/instances/" + id + "/fail-validation",
            Map.of("message", "TXT record not found"));

    assertThat(failed.status()).isEqualTo(200);
    assertThat(call(client, "GetInstanceDetail", Map.of("InstanceId", id)))
        .containsEntry("Status", "inactive")
        .containsEntry("PendingResult", "TXT record not found")
        .containsEntry("Csr", ec.csrPem());
  }

  @Test
  void automaticValidationOverHttpIssuesWithoutAnyFurtherControl() throws Exception {
    assertThat(post("/_emulator/auto-complete-validation", Map.of("afterSeconds", 0.2)).status())
        .isEqualTo(200);
    String id = buy(Map.of("accountId", ACCOUNT));
    fillInAndApply(id);

    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                "normal"
                    .equals(
                        call(client, "GetInstanceDetail", Map.of("InstanceId", id)).get("Status")));

    post("/_emulator/auto-complete-validation", "{\"afterSeconds\": null}");
    String later = buy(Map.of("accountId", ACCOUNT));
    assertThat(call(client, "GetInstanceDetail", Map.of("InstanceId", later)))
        .as("switched off: back to the default polling hint")
        .containsEntry("AverageWaitingTime", "300");
  }

  @Test
  void chainModeAndWrongKeyOverHttp() throws Exception {
    String id = buy(Map.of("accountId", ACCOUNT, "stage", "filledIn", "csr", ec.csrPem()));
    call(client, "ApplyCertificate", Map.of("InstanceId", id));
    assertThat(post("/_emulator/instances/" + id + "/issue-with-wrong-key", null).status())
        .isEqualTo(200);
    assertThat(post("/_emulator/chain-mode", Map.of("mode", "LEAF_ONLY")).status()).isEqualTo(200);

    long certId =
        post("/_emulator/instances/" + id + "/complete-validation", null)
            .body()
            .get("CertificateId")
            .asLong();

    List<X509Certificate> chain = certificates(downloadedChain(certId));
    assertThat(chain).hasSize(1);
    assertThat(chain.get(0).getPublicKey()).isNotEqualTo(ec.keyPair().getPublic());
  }

  @Test
  void refusalsSayWhyWithTheirStatus() throws Exception {
    String inactive = buy(Map.of());

    assertThat(get("/_emulator/instances/cas_dv-cn-unknown").status()).isEqualTo(404);
    assertThat(post("/_emulator/instances/cas_dv-cn-unknown/complete-validation", null).status())
        .isEqualTo(404);
    Reply wrongState = post("/_emulator/instances/" + inactive + "/complete-validation", null);
    assertThat(wrongState.status()).isEqualTo(409);
    assertThat(wrongState.body().get("Error").asText()).contains("inactive");
    assertThat(post("/_emulator/instances/" + inactive + "/fail-validation", Map.of()).status())
        .as("a message is required")
        .isEqualTo(400);
    assertThat(post("/_emulator/instances", "{not json").status()).isEqualTo(400);
    assertThat(post("/_emulator/instances", Map.of("stage", "done")).status()).isEqualTo(400);
    assertThat(
            post("/_emulator/instances", Map.of("stage", "filledIn", "csr", "not a csr")).status())
        .isEqualTo(400);
    assertThat(post("/_emulator/chain-mode", Map.of("mode", "ROOT_ONLY")).status()).isEqualTo(400);
    assertThat(get("/_emulator/instances/" + inactive + "/complete-validation").status())
        .isEqualTo(405);
    assertThat(get("/_emulator/no-such-control").status()).isEqualTo(404);
    assertThat(emulator.instances()).hasSize(1);
  }

  @Test
  void controlsAreNotCasCallsAndResetClearsEverything() throws Exception {
    emulator.setServerErrorRate(1.0);
    String id = buy(Map.of("accountId", ACCOUNT, "stage", "normal"));
    assertThat(emulator.callStats()).as("no fault, no count for a control").isEmpty();
    emulator.setServerErrorRate(0);
    call(client, "GetInstanceDetail", Map.of("InstanceId", id));

    assertThat(get("/_emulator/calls").body().get("GetInstanceDetail").get("OK").asInt())
        .isEqualTo(1);
    assertThat(
            get("/_emulator/instances/" + id + "/calls")
                .body()
                .get("GetInstanceDetail")
                .get("OK")
                .asInt())
        .isEqualTo(1);
    assertThat(get("/_emulator/instances").body()).hasSize(1);

    assertThat(post("/_emulator/reset", null).status()).isEqualTo(200);

    assertThat(get("/_emulator/instances").body()).isEmpty();
    assertThat(emulator.callStats()).isEmpty();
  }
}
