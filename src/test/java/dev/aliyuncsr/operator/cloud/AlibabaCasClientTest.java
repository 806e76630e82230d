package dev.aliyuncsr.operator.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aliyun.cas20200407.models.ListCsrRequest;
import com.aliyun.cas20200407.models.UploadCsrRequest;
import com.aliyun.tea.TeaException;
import com.aliyun.teaopenapi.models.Config;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The real SDK, through the adapter, against the emulator: answers become the right kinds. */
class AlibabaCasClientTest {
  static final String AK = "LTAI5tAdapterTest";
  static final String SECRET = "adapter-test-secret";
  static CasEmulator emulator;
  static CasClient cas;

  @BeforeAll
  static void start() throws CasException {
    emulator = CasEmulator.builder().accessKey(AK, SECRET).build().start();
    cas = client(SECRET, Duration.ofSeconds(5));
  }

  @AfterAll
  static void stop() {
    emulator.close();
  }

  @AfterEach
  void reset() {
    emulator.reset();
  }

  static CasClient client(String secret, Duration readTimeout) throws CasException {
    var settings =
        new CasSettings(
            emulator.endpoint(), "HTTP", "cn-hangzhou", 100, 4, Duration.ofSeconds(2), readTimeout);
    var credentials = OperatorHarness.accessKeyCredentials(AK, secret);
    return AlibabaCasClient.create(settings, credentials);
  }

  @Test
  void signedCallsAreAcceptedAndRoundTrip() throws CasException {
    var pki = TestPki.rsaCsr(2048, "rt.example.com");
    var uploaded = cas.uploadCsr("round_trip", pki.csrPem(), Optional.empty());
    assertThat(uploaded.requestId()).isNotBlank();
    assertThat(cas.listCsr("round_trip"))
        .singleElement()
        .satisfies(s -> assertThat(s.csrId()).isEqualTo(uploaded.csrId()));
    assertThat(cas.getCsrDetail(uploaded.csrId()).hasPrivateKey()).isFalse();
    cas.updateCsr(uploaded.csrId(), pki.pkcs8KeyPem());
    assertThat(cas.getCsrDetail(uploaded.csrId()).hasPrivateKey()).isTrue();
    cas.deleteCsr(uploaded.csrId());
    assertThatThrownBy(() -> cas.getCsrDetail(uploaded.csrId()))
        .isInstanceOfSatisfying(
            CasException.class, e -> assertThat(e.kind()).isEqualTo(CasException.Kind.NOT_FOUND));
  }

  @Test
  void wrongSecretIsAuthFailedAndTheMessageHoldsNoSecret() throws CasException {
    CasClient wrong = client("wrong-secret-value", Duration.ofSeconds(5));
    var pki = TestPki.rsaCsr(2048, "auth.example.com");
    assertThatThrownBy(() -> wrong.uploadCsr("auth", pki.csrPem(), Optional.of(pki.pkcs8KeyPem())))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.AUTH);
              assertThat(e.reason()).isEqualTo(Reasons.AUTH_FAILED);
              assertThat(e.code()).isEqualTo("SignatureDoesNotMatch");
              assertThat(e.getMessage())
                  .doesNotContain("wrong-secret-value")
                  .doesNotContain("BEGIN")
                  .doesNotContain(pki.pkcs8KeyPem().split("\n")[1]);
            });
  }

  @Test
  void throttlingIsRetryableWithReasonThrottled() {
    emulator.failNext("UploadCsr", 1, 400, "Throttling.User");
    var pki = TestPki.ecCsr("secp256r1", "busy.example.com");
    assertThatThrownBy(() -> cas.uploadCsr("busy", pki.csrPem(), Optional.empty()))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.RETRYABLE);
              assertThat(e.reason()).isEqualTo(Reasons.THROTTLED);
            });
    assertThat(emulator.csrs()).isEmpty();
  }

  @Test
  void serverErrorsAreRetryableCloudErrors() {
    emulator.failNext("ListCsr", 1, 503, "ServiceUnavailable");
    assertThatThrownBy(() -> cas.listCsr("x"))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.RETRYABLE);
              assertThat(e.reason()).isEqualTo(Reasons.CLOUD_ERROR);
            });
  }

  @Test
  void forbiddenIsAnAuthFailureWithItsOwnReason() {
    emulator.denyAction(AK, "DeleteCsr");
    try {
      assertThatThrownBy(() -> cas.deleteCsr(1))
          .isInstanceOfSatisfying(
              CasException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(CasException.Kind.AUTH);
                assertThat(e.reason()).isEqualTo(Reasons.FORBIDDEN);
              });
    } finally {
      emulator.allowAction(AK, "DeleteCsr");
    }
  }

  @Test
  void aLostUploadAnswerIsAmbiguousNeverRetryable() {
    emulator.loseNextResponses("UploadCsr", 1);
    var pki = TestPki.rsaCsr(2048, "lost.example.com");
    assertThatThrownBy(() -> cas.uploadCsr("lost", pki.csrPem(), Optional.of(pki.pkcs8KeyPem())))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.AMBIGUOUS);
              assertThat(e.getMessage()).doesNotContain("Csr=").doesNotContain("127.0.0.1");
            });
    assertThat(emulator.csrs()).hasSize(1);
  }

  @Test
  void aReadTimeoutAfterTheUploadIsAmbiguous() throws CasException {
    CasClient impatient = client(SECRET, Duration.ofMillis(300));
    emulator.setLatency(Duration.ofSeconds(1));
    var pki = TestPki.rsaCsr(2048, "slow.example.com");
    assertThatThrownBy(() -> impatient.uploadCsr("slow", pki.csrPem(), Optional.empty()))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.AMBIGUOUS);
              assertThat(e.code()).isEqualTo("Timeout");
            });
    emulator.setLatency(Duration.ZERO);
    assertThat(emulator.csrs()).hasSize(1);
  }

  @Test
  void aRefusedConnectionWasNeverSentSoItIsRetryable() throws CasException {
    var settings =
        new CasSettings(
            "127.0.0.1:1",
            "HTTP",
            "cn-hangzhou",
            100,
            4,
            Duration.ofSeconds(1),
            Duration.ofSeconds(1));
    var credentials = OperatorHarness.accessKeyCredentials(AK, SECRET);
    CasClient unreachable = AlibabaCasClient.create(settings, credentials);
    var pki = TestPki.rsaCsr(2048, "down.example.com");
    assertThatThrownBy(() -> unreachable.uploadCsr("down", pki.csrPem(), Optional.empty()))
        .isInstanceOfSatisfying(
            CasException.class, e -> assertThat(e.kind()).isEqualTo(CasException.Kind.RETRYABLE));
  }

  @Test
  void missingCredentialsFailAtCreationWithTheChainsExplanation() {
    var settings =
        new CasSettings(
            emulator.endpoint(),
            "HTTP",
            "cn-hangzhou",
            1,
            1,
            Duration.ofSeconds(1),
            Duration.ofSeconds(1));
    var empty =
        new com.aliyun.credentials.Client(
            new com.aliyun.credentials.provider.AlibabaCloudCredentialsProvider() {
              @Override
              public void close() {}

              @Override
              public String getProviderName() {
                return "empty";
              }

              @Override
              public com.aliyun.credentials.models.CredentialModel getCredentials() {
                throw new com.aliyun.credentials.exception.CredentialException(
                    "Unable to load credentials from any of the providers in the chain");
              }
            });
    assertThatThrownBy(() -> AlibabaCasClient.create(settings, empty))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.AUTH);
              assertThat(e.getMessage()).contains("no usable Alibaba Cloud credentials");
            });
  }

  // ---- One HTTP attempt per call (issue 9: the soak's duplicate) ----

  @Test
  void aStoredUploadWhosePooledConnectionDropsIsOneAttemptAndMaybeStored() throws CasException {
    emulator.answerResendsOfLostRequestsWith(503, "ServiceUnavailable");
    cas.listCsr("warm-up"); // leaves a pooled keep-alive connection for the upload to reuse
    emulator.loseNextResponses("UploadCsr", 1);
    var pki = TestPki.rsaCsr(2048, "pooled.example.com");

    assertThatThrownBy(() -> cas.uploadCsr("pooled", pki.csrPem(), Optional.empty()))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.AMBIGUOUS);
              assertThat(e.reason()).isEqualTo(Reasons.RESULT_UNKNOWN);
            });
    assertThat(emulator.calls("UploadCsr")).as("HTTP requests for the one call").isEqualTo(1);
    assertThat(emulator.calls("UploadCsr", CasEmulator.LOST_RESPONSE)).isEqualTo(1);
    assertThat(emulator.csrs()).hasSize(1);
  }

  @Test
  void withoutTheHookTheSdkResendsAndTheCallerSeesA503ForAStoredCsr() throws Exception {
    emulator.answerResendsOfLostRequestsWith(503, "ServiceUnavailable");
    // The SDK as it ships: its own OkHttp client (other options, so another cache entry).
    Config config =
        new Config()
            .setEndpoint(emulator.endpoint())
            .setProtocol("HTTP")
            .setRegionId("cn-hangzhou");
    config.setCredential(OperatorHarness.accessKeyCredentials(AK, SECRET));
    var raw = new com.aliyun.cas20200407.Client(config);
    raw.listCsr(new ListCsrRequest().setKeyWord("warm-up"));
    emulator.loseNextResponses("UploadCsr", 1);
    var pki = TestPki.rsaCsr(2048, "resent.example.com");

    Throwable thrown =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> raw.uploadCsr(new UploadCsrRequest().setName("resent").setCsr(pki.csrPem())));

    assertThat(thrown)
        .isInstanceOfSatisfying(
            TeaException.class,
            tea -> {
              assertThat(tea.getCode()).isEqualTo("ServiceUnavailable");
              assertThat(tea.getStatusCode()).isEqualTo(503);
            });
    assertThat(emulator.calls("UploadCsr")).as("the silent re-send").isEqualTo(2);
    assertThat(emulator.calls("UploadCsr", "ServiceUnavailable")).isEqualTo(1);
    assertThat(emulator.csrs()).as("stored although the caller saw a 503").hasSize(1);
    // Even then, the 503 after an UploadCsr is "maybe stored", never "not stored".
    assertThat(
            AlibabaCasClient.CasErrors.classify(
                    "UploadCsr", AlibabaCasClient.CallEffect.CREATES, (Exception) thrown)
                .kind())
        .isEqualTo(CasException.Kind.AMBIGUOUS);
  }

  @Test
  void theSdkUsesTheOneAttemptClientThatTeaCachesForTheseOptions() throws Exception {
    var settings =
        new CasSettings(
            emulator.endpoint(),
            "HTTP",
            "cn-hangzhou",
            100,
            4,
            Duration.ofMillis(2100),
            Duration.ofMillis(4300));
    CasClient fresh =
        AlibabaCasClient.create(settings, OperatorHarness.accessKeyCredentials(AK, SECRET));
    int cachedClients = com.aliyun.tea.okhttp.ClientHelper.clients.size();

    fresh.listCsr("cache-key");

    assertThat(com.aliyun.tea.okhttp.ClientHelper.clients)
        .as("the call found the hardened client under tea's own key and built no other")
        .hasSize(cachedClients);
    var http =
        new OneAttemptHttpClient(
            "HTTP", emulator.endpoint(), Duration.ofMillis(2100), Duration.ofMillis(4300));
    var used = http.current();
    assertThat(used.retryOnConnectionFailure()).isFalse();
    assertThat(used.followRedirects()).isFalse();
    assertThat(used.callTimeoutMillis()).isEqualTo(6400);
  }

  @Test
  void aHardenedEntryThatIsReplacedIsHardenedAgainBeforeTheNextCall() throws Exception {
    var http =
        new OneAttemptHttpClient(
            "HTTP", emulator.endpoint(), Duration.ofSeconds(2), Duration.ofSeconds(5));
    String key =
        com.aliyun.tea.okhttp.ClientHelper.clients.entrySet().stream()
            .filter(e -> e.getValue() == currentQuietly(http))
            .findFirst()
            .orElseThrow()
            .getKey();
    com.aliyun.tea.okhttp.ClientHelper.clients.put(key, new okhttp3.OkHttpClient());

    cas.listCsr("again");

    assertThat(http.current().retryOnConnectionFailure()).isFalse();
  }

  private static okhttp3.OkHttpClient currentQuietly(OneAttemptHttpClient http) {
    try {
      return http.current();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- "Maybe stored" after UploadCsr ----

  @Test
  void aServerErrorAfterAnUploadIsMaybeStored() {
    emulator.failNext("UploadCsr", 1, 503, "ServiceUnavailable");
    var pki = TestPki.ecCsr("secp256r1", "five.example.com");
    assertThatThrownBy(() -> cas.uploadCsr("five", pki.csrPem(), Optional.empty()))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.AMBIGUOUS);
              assertThat(e.code()).isEqualTo("ServiceUnavailable");
            });
  }

  @Test
  void anUnknownCodeAfterAnUploadIsMaybeStored() {
    emulator.failNext("UploadCsr", 1, 400, "SomethingNew.Unheard");
    var pki = TestPki.ecCsr("secp256r1", "new.example.com");
    assertThatThrownBy(() -> cas.uploadCsr("new", pki.csrPem(), Optional.empty()))
        .isInstanceOfSatisfying(
            CasException.class, e -> assertThat(e.kind()).isEqualTo(CasException.Kind.AMBIGUOUS));
  }

  @ParameterizedTest(name = "UploadCsr answered {0} (HTTP {1}) is {2}")
  @CsvSource({
    "SignatureDoesNotMatch, 400, AUTH",
    "IncompleteSignature, 400, AUTH",
    "InvalidAccessKeyId.NotFound, 404, AUTH",
    "InvalidAccessKeyId.Inactive, 400, AUTH",
    "InvalidSecurityToken.Expired, 400, AUTH",
    "InvalidTimeStamp.Expired, 400, AUTH",
    "Forbidden.RAM, 403, AUTH",
    "NoPermission, 403, AUTH",
    "Throttling, 400, RETRYABLE",
    "Throttling.User, 400, RETRYABLE",
    "Throttling.Api, 400, RETRYABLE",
    "MissingParameter, 400, TERMINAL",
    "MissingCsr, 400, TERMINAL",
    "InvalidParameter, 400, TERMINAL",
    "InvalidParameter.Csr, 400, TERMINAL",
    "InvalidAction.NotFound, 404, TERMINAL",
    "InvalidApi.NotFound, 404, TERMINAL",
    "InvalidVersion, 400, TERMINAL",
    "SignatureNonceUsed, 400, AMBIGUOUS",
    "ServiceUnavailable, 503, AMBIGUOUS",
    "InternalError, 500, AMBIGUOUS",
    "Unknown, 502, AMBIGUOUS",
    "NotFound.Csr, 404, AMBIGUOUS",
    "SomethingNew, 400, AMBIGUOUS",
    "QuotaExceeded.Csr, 400, AMBIGUOUS"
  })
  void afterAnUploadOnlyCodesCheckedBeforeTheActionProveNothingWasStored(
      String code, int status, CasException.Kind kind) {
    assertThat(AlibabaCasClient.CasErrors.kindOf(code, status, AlibabaCasClient.CallEffect.CREATES))
        .isEqualTo(kind);
  }

  @ParameterizedTest(name = "{0} answered {1} (HTTP {2}) is {3}")
  @CsvSource({
    "ListCsr, ServiceUnavailable, 503, RETRYABLE",
    "GetCsrDetail, InternalError, 500, RETRYABLE",
    "DeleteCsr, SignatureNonceUsed, 400, RETRYABLE",
    "UpdateCsr, Throttling.User, 400, RETRYABLE",
    "GetCsrDetail, NotFound.Csr, 404, NOT_FOUND",
    "DeleteCsr, Forbidden.RAM, 403, AUTH",
    "ListCsr, InvalidAction.NotFound, 404, TERMINAL",
    "UpdateCsr, InvalidParameter.Key, 400, TERMINAL",
    "UpdateCsr, SomethingNew, 400, TERMINAL"
  })
  void callsThatCreateNothingKeepTheirClasses(
      String action, String code, int status, CasException.Kind kind) {
    assertThat(
            AlibabaCasClient.CasErrors.kindOf(code, status, AlibabaCasClient.CallEffect.REPEATABLE))
        .as(action)
        .isEqualTo(kind);
  }

  @Test
  void aNonJsonAnswerAfterAnUploadIsMaybeStoredAndElsewhereRetryable() {
    var notJson = new RuntimeException("Error: convert to JSON, response is: <html>");
    assertThat(
            AlibabaCasClient.CasErrors.classify(
                    "UploadCsr", AlibabaCasClient.CallEffect.CREATES, notJson)
                .kind())
        .isEqualTo(CasException.Kind.AMBIGUOUS);
    assertThat(
            AlibabaCasClient.CasErrors.classify(
                    "ListCsr", AlibabaCasClient.CallEffect.REPEATABLE, notJson)
                .kind())
        .isEqualTo(CasException.Kind.RETRYABLE);
  }

  // ---- Empty bodies ----

  @Test
  void getCsrDetailWithAnEmptyBodyIsARetryableEmptyResponse() throws CasException {
    var pki = TestPki.ecCsr("secp256r1", "empty.example.com");
    long id = cas.uploadCsr("empty", pki.csrPem(), Optional.empty()).csrId();
    emulator.answerNextWithEmptyBody("GetCsrDetail", 1);

    assertThatThrownBy(() -> cas.getCsrDetail(id))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.RETRYABLE);
              assertThat(e.code()).isEqualTo("EmptyResponse");
              assertThat(e.action()).isEqualTo("GetCsrDetail");
            });
    assertThat(cas.getCsrDetail(id).csrId()).isEqualTo(id);
  }

  @Test
  void updateAndDeleteWithAnEmptyBodyAreRetryableEmptyResponses() throws CasException {
    var pki = TestPki.ecCsr("secp256r1", "empty2.example.com");
    long id = cas.uploadCsr("empty2", pki.csrPem(), Optional.empty()).csrId();
    emulator.answerNextWithEmptyBody("UpdateCsr", 1);
    emulator.answerNextWithEmptyBody("DeleteCsr", 1);

    assertThatThrownBy(() -> cas.updateCsr(id, pki.pkcs8KeyPem()))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.RETRYABLE);
              assertThat(e.code()).isEqualTo("EmptyResponse");
            });
    assertThatThrownBy(() -> cas.deleteCsr(id))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.RETRYABLE);
              assertThat(e.code()).isEqualTo("EmptyResponse");
            });
  }
}
