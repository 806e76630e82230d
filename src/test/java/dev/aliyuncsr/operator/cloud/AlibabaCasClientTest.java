package dev.aliyuncsr.operator.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.config.CasSettings;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
}
