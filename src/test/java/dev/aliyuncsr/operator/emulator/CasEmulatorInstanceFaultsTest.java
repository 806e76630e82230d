package dev.aliyuncsr.operator.emulator;

import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.ACCOUNT;
import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.call;
import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.teaError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.GetUserCertificateDetailRequest;
import com.aliyun.tea.TeaException;
import com.aliyun.tea.TeaUnretryableException;
import com.aliyun.teaopenapi.models.Config;
import dev.aliyuncsr.operator.testing.TestPki;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The emulator's faults on the instance actions, each switched per action: lost answers (and
 * OkHttp's silent re-send of one), injected errors, throttling, 503s, empty bodies, latency, RAM
 * denial. The work of a call whose answer is lost is done; a refused call does nothing.
 */
class CasEmulatorInstanceFaultsTest {
  private static final String AK = "LTAI-faults";
  private static final String SECRET = "secret-faults";

  private static TestPki.Material ec;

  private CasEmulator emulator;
  private Client client;

  @BeforeAll
  static void generateKeys() {
    ec = TestPki.ecCsr("secp256r1", "faults.example.org");
  }

  @BeforeEach
  void startEmulator() throws Exception {
    emulator = CasEmulator.builder().accessKey(ACCOUNT, AK, SECRET).seed(5).build().start();
    client = CasEmulatorInstancesTest.client(emulator, AK, SECRET);
  }

  @AfterEach
  void stopEmulator() {
    emulator.close();
  }

  private String filledIn() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
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
    return id;
  }

  private String status(String id) {
    return emulator.instance(id).orElseThrow().status();
  }

  @Test
  void lostApplyAnswerIsResentByOkHttpAndRefusedAsAReplayWhileTheInstanceIsPending()
      throws Exception {
    String id = filledIn(); // also leaves a pooled keep-alive connection for OkHttp to reuse
    emulator.loseNextResponses("ApplyCertificate", 1);

    TeaException resent =
        teaError(() -> call(client, "ApplyCertificate", Map.of("InstanceId", id)));

    // OkHttp re-sends a request whose pooled connection died without an answer (contract §2).
    assertThat(resent.getCode()).isEqualTo("SignatureNonceUsed");
    assertThat(status(id)).as("applied exactly once").isEqualTo("pending");
    assertThat(emulator.calls("ApplyCertificate", CasEmulator.LOST_RESPONSE)).isEqualTo(1);
    assertThat(emulator.calls("ApplyCertificate", "SignatureNonceUsed")).isEqualTo(1);
    assertThat(emulator.instanceCalls(id, "ApplyCertificate", CasEmulator.LOST_RESPONSE))
        .isEqualTo(1);
    assertThat(emulator.instanceCalls(id, "ApplyCertificate", "SignatureNonceUsed")).isEqualTo(1);
    // The caller's way out: read the instance.
    assertThat(call(client, "GetInstanceDetail", Map.of("InstanceId", id)))
        .containsEntry("Status", "pending");
  }

  @Test
  void lostUpdateAnswersStillFillTheInstanceIn() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    emulator.setLostResponseRate("UpdateInstance", 1.0);

    Throwable thrown =
        catchThrowable(
            () ->
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
                        "ECC_256")));

    assertThat(thrown).isInstanceOfAny(TeaException.class, TeaUnretryableException.class);
    assertThat(emulator.instance(id).orElseThrow().csrPem()).isEqualTo(ec.csrPem());
    assertThat(emulator.calls("UpdateInstance", CasEmulator.LOST_RESPONSE)).isEqualTo(1);
    assertThat(emulator.calls("GetInstanceDetail")).as("per action").isZero();
    assertThat(call(client, "GetInstanceDetail", Map.of("InstanceId", id)))
        .containsEntry("Csr", ec.csrPem());
  }

  @Test
  void injectedFailuresComeBeforeAnyChange() throws Exception {
    String id = filledIn();
    emulator.failNext("ApplyCertificate", 1, 503, "ServiceUnavailable");

    TeaException error = teaError(() -> call(client, "ApplyCertificate", Map.of("InstanceId", id)));

    assertThat(error.getCode()).isEqualTo("ServiceUnavailable");
    assertThat(error.getStatusCode()).isEqualTo(503);
    assertThat(status(id)).isEqualTo("inactive");
    call(client, "ApplyCertificate", Map.of("InstanceId", id));
    assertThat(status(id)).isEqualTo("pending");
  }

  @Test
  void rateLimitsCountPerInstanceAction() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    emulator.setRateLimit("GetInstanceDetail", 1);

    int throttled = 0;
    for (int i = 0; i < 5; i++) {
      try {
        call(client, "GetInstanceDetail", Map.of("InstanceId", id));
      } catch (TeaException e) {
        assertThat(e.getCode()).isEqualTo("Throttling.User");
        assertThat(e.getStatusCode()).isEqualTo(400);
        throttled++;
      }
      call(client, "ListInstances", Map.of()); // another action: never throttled
    }

    // Five calls cannot each take a second on loopback, so some must have been refused.
    assertThat(throttled).isPositive();
    assertThat(emulator.calls("GetInstanceDetail", "Throttling.User")).isEqualTo(throttled);
    assertThat(emulator.instanceCalls(id, "GetInstanceDetail", "Throttling.User"))
        .isEqualTo(throttled);
    assertThat(emulator.calls("ListInstances", CasEmulator.OK)).isEqualTo(5);
  }

  @Test
  void serverErrorsReachTheDownloadToo() throws Exception {
    String id =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));
    long certId = emulator.instance(id).orElseThrow().certificateId();
    emulator.setServerErrorRate(1.0);

    TeaException error =
        teaError(
            () ->
                client.getUserCertificateDetail(
                    new GetUserCertificateDetailRequest().setCertId(certId)));

    assertThat(error.getCode()).isEqualTo("ServiceUnavailable");
    assertThat(error.getStatusCode()).isEqualTo(503);
    assertThat(emulator.instanceCalls(id, "GetUserCertificateDetail", "ServiceUnavailable"))
        .isEqualTo(1);
    emulator.setServerErrorRate(0);
    assertThat(
            client
                .getUserCertificateDetail(new GetUserCertificateDetailRequest().setCertId(certId))
                .getBody()
                .getCert())
        .contains("BEGIN CERTIFICATE");
  }

  @Test
  void anEmptyAnswerToApplyCertificateStillApplies() throws Exception {
    String id = filledIn();
    emulator.answerNextWithEmptyBody("ApplyCertificate", 1);

    catchThrowable(() -> call(client, "ApplyCertificate", Map.of("InstanceId", id)));

    assertThat(status(id)).isEqualTo("pending");
    assertThat(emulator.calls("ApplyCertificate", CasEmulator.OK)).isEqualTo(1);
    assertThat(code(() -> call(client, "ApplyCertificate", Map.of("InstanceId", id))))
        .as("a second application is refused")
        .isEqualTo("OperationDenied.InstanceStatus");
  }

  @Test
  void latencyComesAfterTheWorkSoATimedOutApplicationIsPending() throws Exception {
    String id = filledIn();
    Client impatient =
        new Client(
            new Config()
                .setEndpoint(emulator.endpoint())
                .setProtocol("HTTP")
                .setRegionId("cn-hangzhou")
                .setAccessKeyId(AK)
                .setAccessKeySecret(SECRET)
                .setReadTimeout(300));
    emulator.setLatency(Duration.ofSeconds(2));

    Throwable thrown =
        catchThrowable(() -> call(impatient, "ApplyCertificate", Map.of("InstanceId", id)));

    assertThat(thrown).isInstanceOf(TeaUnretryableException.class);
    assertThat(status(id)).isEqualTo("pending");
  }

  @Test
  void aDeniedActionIsForbiddenByRam() throws Exception {
    String id = filledIn();
    emulator.denyAction(AK, "ApplyCertificate");

    TeaException error = teaError(() -> call(client, "ApplyCertificate", Map.of("InstanceId", id)));

    assertThat(error.getCode()).isEqualTo("Forbidden.RAM");
    assertThat(error.getStatusCode()).isEqualTo(403);
    assertThat(status(id)).isEqualTo("inactive");
  }

  private static String code(CasEmulatorInstancesTest.ThrowingCall call) {
    return teaError(call).getCode();
  }
}
