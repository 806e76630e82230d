package dev.aliyuncsr.operator.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.aliyun.tea.TeaException;
import com.aliyun.teaopenapi.models.Config;
import com.aliyun.teaopenapi.models.OpenApiRequest;
import com.aliyun.teaopenapi.models.Params;
import com.aliyun.teautil.models.RuntimeOptions;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.cloud.CasException.Kind;
import dev.aliyuncsr.operator.cloud.CasInstances.DomainValidation;
import dev.aliyuncsr.operator.cloud.CasInstances.InstanceDetail;
import dev.aliyuncsr.operator.cloud.CasInstances.IssuedCertificate;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.InstanceOptions;
import dev.aliyuncsr.operator.emulator.InstanceOptions.Stage;
import dev.aliyuncsr.operator.observability.MeteredCasInstances;
import dev.aliyuncsr.operator.observability.OperatorMetrics;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The certificate-instance actions of {@link AlibabaCasClient}: the real SDK (tea-openapi's generic
 * call, and the typed download) against the emulator, every answer in the project's types and every
 * failure of the right kind.
 */
class AlibabaCasInstancesTest {
  static final String ACCOUNT = "3333333333333333";
  static final String OTHER_ACCOUNT = "4444444444444444";
  static final String AK = "LTAI5tInstancesTest";
  static final String SECRET = "instances-test-secret";
  static final String OTHER_AK = "LTAI5tInstancesOther";
  static final String OTHER_SECRET = "instances-other-secret";
  static final String EC_NAME = "ec.instances.example.org";

  static CasEmulator emulator;
  static CasInstances cas;

  /** Key generation is the slow part, so tests share these. */
  static TestPki.Material rsa;

  static TestPki.Material ec;

  @BeforeAll
  static void start() throws CasException {
    rsa = TestPki.rsaCsr(2048, "example.com", "example.com", "shop.example.com");
    ec = TestPki.ecCsr("secp256r1", EC_NAME, EC_NAME);
    emulator =
        CasEmulator.builder()
            .accessKey(ACCOUNT, AK, SECRET)
            .accessKey(OTHER_ACCOUNT, OTHER_AK, OTHER_SECRET)
            .seed(17)
            .build()
            .start();
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

  static AlibabaCasClient client(String secret, Duration readTimeout) throws CasException {
    var settings =
        new CasSettings(
            emulator.endpoint(), "HTTP", "cn-hangzhou", 100, 4, Duration.ofSeconds(2), readTimeout);
    return AlibabaCasClient.create(settings, OperatorHarness.accessKeyCredentials(AK, secret));
  }

  private static String filledIn() {
    return emulator.buyInstance(
        ACCOUNT, InstanceOptions.defaults().stage(Stage.FILLED_IN).csr(ec.csrPem()));
  }

  private static String status(String instanceId) {
    return emulator.instance(instanceId).orElseThrow().status();
  }

  private static CasException failure(ThrowingCall call) {
    return catchThrowableOfType(call::run, CasException.class);
  }

  @FunctionalInterface
  interface ThrowingCall {
    void run() throws Exception;
  }

  // ---- The whole path ----

  @Test
  void anInstanceIsFilledInAppliedForValidatedAndItsChainDownloaded() throws Exception {
    String id = emulator.buyInstance(ACCOUNT, InstanceOptions.defaults().fullDomainCount(2));

    InstanceDetail fresh = cas.getInstanceDetail(id);
    assertThat(fresh.instanceId()).isEqualTo(id);
    assertThat(fresh.status()).isEqualTo("inactive");
    assertThat(fresh.csrPem()).isNull();
    assertThat(fresh.pendingResult()).isNull();
    assertThat(fresh.certificateId()).isEmpty();
    assertThat(fresh.validation()).isEmpty();
    assertThat(fresh.fullDomainCount()).contains(2L);
    assertThat(fresh.wildcardDomainCount()).contains(0L);
    assertThat(fresh.requestId()).isNotBlank();

    String updated =
        cas.updateInstance(
            id, rsa.csrPem(), List.of("example.com", "shop.example.com"), "RSA_2048", "DNS");
    assertThat(updated).isNotBlank();
    InstanceDetail filled = cas.getInstanceDetail(id);
    assertThat(filled.status()).isEqualTo("inactive");
    assertThat(filled.csrPem()).isEqualTo(rsa.csrPem());
    assertThat(filled.generateCsrMethod()).isEqualTo("upload");
    assertThat(filled.domain()).isEqualTo("example.com,shop.example.com");
    assertThat(filled.keyAlgorithm()).isEqualTo("RSA_2048");
    assertThat(filled.validationMethod()).isEqualTo("DNS");

    assertThat(cas.applyCertificate(id)).isNotBlank();
    InstanceDetail pending = cas.getInstanceDetail(id);
    assertThat(pending.status()).isEqualTo("pending");
    assertThat(pending.pendingResult()).isNull();
    assertThat(pending.averageWaitingTime()).contains(Duration.ofSeconds(300));
    assertThat(pending.certificateId()).isEmpty();
    assertThat(pending.validation())
        .extracting(DomainValidation::domain)
        .containsExactlyInAnyOrder("example.com", "shop.example.com");
    assertThat(pending.validation())
        .allSatisfy(
            record -> {
              assertThat(record.rootDomain()).isEqualTo("example.com");
              assertThat(record.validationType()).isEqualTo("TXT");
              assertThat(record.validationKey()).startsWith("_dnsauth");
              assertThat(record.validationValue()).isNotBlank().isNotEqualTo("_dnsauth");
            });

    emulator.completeValidation(id);
    InstanceDetail issued = cas.getInstanceDetail(id);
    assertThat(issued.status()).isEqualTo("normal");
    assertThat(issued.certificateStatus()).isEqualTo("issued");
    assertThat(issued.validation()).isEmpty();
    long certId = issued.certificateId().orElseThrow();
    assertThat(issued.certIdentifier()).isEqualTo(certId + "-cn-hangzhou");

    IssuedCertificate certificate = cas.getUserCertificateDetail(certId);
    assertThat(certificate.id()).isEqualTo(certId);
    assertThat(certificate.instanceId()).isEqualTo(id);
    assertThat(certificate.commonName()).isEqualTo("example.com");
    assertThat(certificate.sans()).contains("shop.example.com");
    assertThat(certificate.startDate()).matches("\\d{4}-\\d{2}-\\d{2}");
    assertThat(certificate.endDate()).matches("\\d{4}-\\d{2}-\\d{2}");
    assertThat(certificate.requestId()).isNotBlank();
    List<X509Certificate> chain = certificates(certificate.certPem());
    assertThat(chain).as("leaf, then the intermediate").hasSize(2);
    assertThat(chain.get(0).getPublicKey().getEncoded())
        .as("the leaf carries the CSR's key")
        .isEqualTo(rsa.keyPair().getPublic().getEncoded());
    assertThat(certificate.serialNo()).isNotBlank();
    verifyChain(chain, emulator.caRoot());
  }

  @Test
  void aFailedValidationShowsTheCasMessageAndKeepsTheApplication() throws CasException {
    String id = filledIn();
    cas.applyCertificate(id);
    emulator.failValidation(id, "The DNS record was not found.");

    InstanceDetail failed = cas.getInstanceDetail(id);

    assertThat(failed.status()).isEqualTo("inactive");
    assertThat(failed.pendingResult()).isEqualTo("The DNS record was not found.");
    assertThat(failed.csrPem()).isEqualTo(ec.csrPem());
    assertThat(failed.validation()).isEmpty();
  }

  @Test
  void aDownloadThatCarriesAKeyNeverHandsItOn() throws Exception {
    // An online application: CAS made the key and answers it as Key in the download.
    String id = emulator.buyInstance(ACCOUNT);
    Config config =
        new Config()
            .setEndpoint(emulator.endpoint())
            .setProtocol("HTTP")
            .setRegionId("cn-hangzhou");
    config.setCredential(OperatorHarness.accessKeyCredentials(AK, SECRET));
    new com.aliyun.cas20200407.Client(config)
        .callApi(
            new Params()
                .setAction("UpdateInstance")
                .setVersion("2020-04-07")
                .setProtocol("HTTP")
                .setPathname("/")
                .setMethod("POST")
                .setAuthType("AK")
                .setStyle("RPC")
                .setReqBodyType("formData")
                .setBodyType("json"),
            new OpenApiRequest()
                .setQuery(
                    com.aliyun.openapiutil.Client.query(
                        Map.of(
                            "InstanceId", id, "GenerateCsrMethod", "online", "Domain", EC_NAME))),
            new RuntimeOptions());
    cas.applyCertificate(id);
    emulator.completeValidation(id);
    long certId = cas.getInstanceDetail(id).certificateId().orElseThrow();
    assertThat(emulator.certificate(certId).orElseThrow().privateKeyPem()).isNotNull();

    IssuedCertificate certificate = cas.getUserCertificateDetail(certId);

    assertThat(certificate.certPem()).contains("BEGIN CERTIFICATE");
    assertThat(certificate.toString()).doesNotContain("PRIVATE KEY");
  }

  // ---- Refusals: each of the right kind, with CAS's code and message ----

  @Test
  void anotherAccountsInstanceAndCertificateAreNotFound() throws CasException {
    String theirs =
        emulator.buyInstance(OTHER_ACCOUNT, InstanceOptions.defaults().stage(Stage.NORMAL));
    long theirCertificate = emulator.instance(theirs).orElseThrow().certificateId();
    String theirsInactive = emulator.buyInstance(OTHER_ACCOUNT);

    List<CasException> failures =
        List.of(
            failure(() -> cas.getInstanceDetail(theirs)),
            failure(
                () ->
                    cas.updateInstance(
                        theirsInactive, ec.csrPem(), List.of(EC_NAME), "ECC_256", "DNS")),
            failure(() -> cas.applyCertificate(theirsInactive)),
            failure(() -> cas.getUserCertificateDetail(theirCertificate)));

    assertThat(failures)
        .extracting(CasException::action)
        .containsExactly(
            "GetInstanceDetail", "UpdateInstance", "ApplyCertificate", "GetUserCertificateDetail");
    assertThat(failures)
        .allSatisfy(
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
              assertThat(e.code()).isEqualTo("NotFound");
              assertThat(e.getMessage()).contains("NotFound").contains("not found");
            });
    assertThat(emulator.instance(theirsInactive).orElseThrow().filledIn()).isFalse();
  }

  @Test
  void aSecondApplicationIsRefusedTerminallyWithCasCodeAndMessage() throws CasException {
    String id = filledIn();
    cas.applyCertificate(id);

    CasException e = failure(() -> cas.applyCertificate(id));

    assertThat(e.kind()).isEqualTo(Kind.TERMINAL);
    assertThat(e.reason()).isEqualTo(Reasons.CLOUD_REJECTED);
    assertThat(e.action()).isEqualTo("ApplyCertificate");
    assertThat(e.code()).isEqualTo("OperationDenied.InstanceStatus");
    assertThat(e.requestId()).isNotBlank();
    assertThat(e.getMessage())
        .contains("OperationDenied.InstanceStatus")
        .contains("not allowed while the instance is pending");
    assertThat(emulator.instanceCalls(id, "ApplyCertificate")).isEqualTo(2);
  }

  @Test
  void applyingBeforeTheInstanceIsFilledInIsRefusedTerminally() {
    String id = emulator.buyInstance(ACCOUNT);

    CasException e = failure(() -> cas.applyCertificate(id));

    assertThat(e.kind()).isEqualTo(Kind.TERMINAL);
    assertThat(e.code()).isEqualTo("OperationDenied.ApplicationIncomplete");
    assertThat(e.getMessage()).contains("call UpdateInstance first");
  }

  @Test
  void aCsrWhoseKeyIsNotTheKeyAlgorithmIsRefusedTerminally() {
    String id = emulator.buyInstance(ACCOUNT);

    CasException e =
        failure(() -> cas.updateInstance(id, ec.csrPem(), List.of(EC_NAME), "RSA_2048", "DNS"));

    assertThat(e.kind()).isEqualTo(Kind.TERMINAL);
    assertThat(e.action()).isEqualTo("UpdateInstance");
    assertThat(e.code()).isEqualTo("InvalidParameter.KeyAlgorithm");
    assertThat(e.getMessage()).contains("InvalidParameter.KeyAlgorithm").contains("RSA_2048");
    assertThat(emulator.instance(id).orElseThrow().filledIn()).isFalse();
  }

  // ---- Throttling, server errors, lost and empty answers ----

  @Test
  void throttlingIsRetryableWithReasonThrottledAndAppliesNothing() {
    String id = filledIn();
    emulator.failNext("ApplyCertificate", 1, 400, "Throttling.User");

    CasException e = failure(() -> cas.applyCertificate(id));

    assertThat(e.kind()).isEqualTo(Kind.RETRYABLE);
    assertThat(e.reason()).isEqualTo(Reasons.THROTTLED);
    assertThat(status(id)).isEqualTo("inactive");
  }

  @Test
  void throttlingByTheServicesRateIsRetryable() throws CasException {
    String id = filledIn();
    emulator.setRateLimit("GetInstanceDetail", 1);

    // Five calls cannot each take a second on loopback, so the rate refuses some of them.
    List<CasException> throttled = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      try {
        cas.getInstanceDetail(id);
      } catch (CasException e) {
        throttled.add(e);
      }
    }

    assertThat(throttled)
        .isNotEmpty()
        .allSatisfy(
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.RETRYABLE);
              assertThat(e.code()).isEqualTo("Throttling.User");
              assertThat(e.isThrottling()).isTrue();
            });
  }

  @Test
  void aServerErrorOnApplyIsAmbiguousAndTheInstanceTellsWhatHappened() throws CasException {
    String id = filledIn();
    emulator.failNext("ApplyCertificate", 1, 503, "ServiceUnavailable");

    CasException e = failure(() -> cas.applyCertificate(id));

    assertThat(e.kind()).isEqualTo(Kind.AMBIGUOUS);
    assertThat(e.reason()).isEqualTo(Reasons.RESULT_UNKNOWN);
    assertThat(e.code()).isEqualTo("ServiceUnavailable");
    assertThat(cas.getInstanceDetail(id).status()).isEqualTo("inactive");
  }

  @Test
  void aServerErrorOnAReadIsRetryable() throws CasException {
    String id = filledIn();
    emulator.failNext("GetInstanceDetail", 1, 503, "ServiceUnavailable");

    CasException e = failure(() -> cas.getInstanceDetail(id));

    assertThat(e.kind()).isEqualTo(Kind.RETRYABLE);
    assertThat(e.reason()).isEqualTo(Reasons.CLOUD_ERROR);
    assertThat(cas.getInstanceDetail(id).status()).isEqualTo("inactive");
  }

  @Test
  void aLostApplyAnswerIsAmbiguousOneAttemptAndTheInstanceIsPending() throws CasException {
    String id = filledIn();
    cas.getInstanceDetail(id); // leaves a pooled keep-alive connection for the application
    emulator.loseNextResponses("ApplyCertificate", 1);

    CasException e = failure(() -> cas.applyCertificate(id));

    assertThat(e.kind()).isEqualTo(Kind.AMBIGUOUS);
    assertThat(e.reason()).isEqualTo(Reasons.RESULT_UNKNOWN);
    assertThat(e.action()).isEqualTo("ApplyCertificate");
    assertThat(e.code()).isEqualTo("TransportError");
    assertThat(emulator.calls("ApplyCertificate")).as("no silent re-send").isEqualTo(1);
    assertThat(emulator.calls("ApplyCertificate", CasEmulator.LOST_RESPONSE)).isEqualTo(1);
    InstanceDetail after = cas.getInstanceDetail(id);
    assertThat(after.status()).isEqualTo("pending");
    assertThat(after.csrPem()).isEqualTo(ec.csrPem());
  }

  @Test
  void aLostUpdateAnswerIsAmbiguousAndTheInstanceHoldsTheCsr() throws CasException {
    String id = emulator.buyInstance(ACCOUNT);
    emulator.loseNextResponses("UpdateInstance", 1);

    CasException e =
        failure(() -> cas.updateInstance(id, ec.csrPem(), List.of(EC_NAME), "ECC_256", "DNS"));

    assertThat(e.kind()).isEqualTo(Kind.AMBIGUOUS);
    assertThat(emulator.calls("UpdateInstance")).isEqualTo(1);
    assertThat(cas.getInstanceDetail(id).csrPem()).isEqualTo(ec.csrPem());
  }

  @Test
  void aReadTimeoutOnApplyIsAmbiguousAndOnAReadRetryable() throws CasException {
    String id = filledIn();
    CasInstances impatient = client(SECRET, Duration.ofMillis(300));
    emulator.setLatency(Duration.ofSeconds(1));

    CasException apply = failure(() -> impatient.applyCertificate(id));
    CasException read = failure(() -> impatient.getInstanceDetail(id));

    emulator.setLatency(Duration.ZERO);
    assertThat(apply.kind()).isEqualTo(Kind.AMBIGUOUS);
    assertThat(apply.code()).isEqualTo("Timeout");
    assertThat(read.kind()).isEqualTo(Kind.RETRYABLE);
    assertThat(read.code()).isEqualTo("Timeout");
    assertThat(status(id)).as("the answer came after the work").isEqualTo("pending");
  }

  @Test
  void anEmptyApplyAnswerIsAmbiguousAndAnEmptyReadRetryable() throws CasException {
    String id = filledIn();
    emulator.answerNextWithEmptyBody("ApplyCertificate", 1);
    emulator.answerNextWithEmptyBody("GetInstanceDetail", 1);

    CasException apply = failure(() -> cas.applyCertificate(id));
    CasException read = failure(() -> cas.getInstanceDetail(id));

    assertThat(apply.kind()).isEqualTo(Kind.AMBIGUOUS);
    assertThat(apply.code()).isEqualTo("EmptyResponse");
    assertThat(read.kind()).isEqualTo(Kind.RETRYABLE);
    assertThat(read.code()).isEqualTo("EmptyResponse");
    assertThat(cas.getInstanceDetail(id).status()).isEqualTo("pending");
  }

  @Test
  void anEmptyDownloadIsRetryable() throws CasException {
    String id = emulator.buyInstance(ACCOUNT, InstanceOptions.defaults().stage(Stage.NORMAL));
    long certId = emulator.instance(id).orElseThrow().certificateId();
    emulator.answerNextWithEmptyBody("GetUserCertificateDetail", 1);

    CasException e = failure(() -> cas.getUserCertificateDetail(certId));

    assertThat(e.kind()).isEqualTo(Kind.RETRYABLE);
    assertThat(e.code()).isEqualTo("EmptyResponse");
    assertThat(cas.getUserCertificateDetail(certId).certPem()).contains("BEGIN CERTIFICATE");
  }

  // ---- The classification, answer by answer, through the SDK ----

  @ParameterizedTest(name = "{0} answered {2} (HTTP {1}) is {3}")
  @CsvSource({
    "ApplyCertificate, 503, ServiceUnavailable, AMBIGUOUS",
    "ApplyCertificate, 500, InternalError, AMBIGUOUS",
    "ApplyCertificate, 502, Unknown, AMBIGUOUS",
    "ApplyCertificate, 400, SignatureNonceUsed, AMBIGUOUS",
    "ApplyCertificate, 400, DeductQuotaFailed, AMBIGUOUS",
    "ApplyCertificate, 400, Throttling.User, RETRYABLE",
    "ApplyCertificate, 400, SignatureDoesNotMatch, AUTH",
    "ApplyCertificate, 400, InvalidAccessKeyId.Inactive, AUTH",
    "ApplyCertificate, 403, Forbidden.RAM, AUTH",
    "ApplyCertificate, 400, NotFound, NOT_FOUND",
    "ApplyCertificate, 400, OperationDenied.InstanceStatus, TERMINAL",
    "ApplyCertificate, 400, OperationDenied.ApplicationIncomplete, TERMINAL",
    "ApplyCertificate, 400, InvalidParameter.InstanceId, TERMINAL",
    "ApplyCertificate, 400, MissingInstanceId, TERMINAL",
    "UpdateInstance, 503, ServiceUnavailable, AMBIGUOUS",
    "UpdateInstance, 400, SignatureNonceUsed, AMBIGUOUS",
    "UpdateInstance, 400, SomethingNew, AMBIGUOUS",
    "UpdateInstance, 400, Throttling.User, RETRYABLE",
    "UpdateInstance, 404, InvalidAccessKeyId.NotFound, AUTH",
    "UpdateInstance, 400, NotFound, NOT_FOUND",
    "UpdateInstance, 400, OperationDenied.InstanceStatus, TERMINAL",
    "UpdateInstance, 400, InvalidParameter.KeyAlgorithm, TERMINAL",
    "UpdateInstance, 400, InvalidParameter.Domain, TERMINAL",
    "UpdateInstance, 400, MissingCsr, TERMINAL",
    "GetInstanceDetail, 503, ServiceUnavailable, RETRYABLE",
    "GetInstanceDetail, 500, InternalError, RETRYABLE",
    "GetInstanceDetail, 400, SignatureNonceUsed, RETRYABLE",
    "GetInstanceDetail, 400, Throttling.User, RETRYABLE",
    "GetInstanceDetail, 403, Forbidden.RAM, AUTH",
    "GetInstanceDetail, 400, NotFound, NOT_FOUND",
    "GetInstanceDetail, 400, InvalidParameter.InstanceId, TERMINAL",
    "GetUserCertificateDetail, 503, ServiceUnavailable, RETRYABLE",
    "GetUserCertificateDetail, 400, Throttling.User, RETRYABLE",
    "GetUserCertificateDetail, 400, NotFound, NOT_FOUND",
    "GetUserCertificateDetail, 400, MissingCertId, TERMINAL"
  })
  void eachAnswerIsSortedIntoItsKind(String action, int status, String code, Kind kind) {
    String id = filledIn();
    String issued = emulator.buyInstance(ACCOUNT, InstanceOptions.defaults().stage(Stage.NORMAL));
    long certId = emulator.instance(issued).orElseThrow().certificateId();
    emulator.failNext(action, 1, status, code);

    CasException e =
        failure(
            () -> {
              switch (action) {
                case "ApplyCertificate" -> cas.applyCertificate(id);
                case "UpdateInstance" ->
                    cas.updateInstance(id, ec.csrPem(), List.of(EC_NAME), "ECC_256", "DNS");
                case "GetInstanceDetail" -> cas.getInstanceDetail(id);
                case "GetUserCertificateDetail" -> cas.getUserCertificateDetail(certId);
                default -> throw new IllegalArgumentException(action);
              }
            });

    assertThat(e.kind()).isEqualTo(kind);
    assertThat(e.action()).isEqualTo(action);
    assertThat(e.code()).isEqualTo(code);
    assertThat(e.getMessage()).startsWith(action + " failed with " + code + " (HTTP " + status);
  }

  // ---- What messages never hold ----

  @Test
  void noMessageHoldsTheQueryTheCsrOrTheEndpoint() throws CasException {
    String inactive = emulator.buyInstance(ACCOUNT);
    String theirs = emulator.buyInstance(OTHER_ACCOUNT);
    CasInstances wrongSecret = client("wrong-secret-value", Duration.ofSeconds(5));
    ThrowingCall update =
        () -> cas.updateInstance(inactive, ec.csrPem(), List.of(EC_NAME), "ECC_256", "DNS");
    List<CasException> failures = new ArrayList<>();

    failures.add(
        failure(
            () -> cas.updateInstance(inactive, ec.csrPem(), List.of(EC_NAME), "RSA_2048", "DNS")));
    failures.add(
        failure(() -> cas.updateInstance(theirs, ec.csrPem(), List.of(EC_NAME), "ECC_256", "DNS")));
    failures.add(
        failure(
            () ->
                wrongSecret.updateInstance(
                    inactive, ec.csrPem(), List.of(EC_NAME), "ECC_256", "DNS")));
    emulator.failNext("UpdateInstance", 1, 503, "ServiceUnavailable");
    failures.add(failure(update));
    emulator.failNext("UpdateInstance", 1, 400, "SignatureNonceUsed");
    failures.add(failure(update));
    emulator.loseNextResponses("UpdateInstance", 1);
    failures.add(failure(update));
    emulator.answerNextWithEmptyBody("UpdateInstance", 1);
    failures.add(failure(update));

    String csrLine = ec.csrPem().split("\n")[1];
    assertThat(failures)
        .hasSize(7)
        .allSatisfy(
            e ->
                assertThat(e.getMessage())
                    .startsWith("UpdateInstance ")
                    .doesNotContain("BEGIN")
                    .doesNotContain(csrLine)
                    .doesNotContain("Csr=")
                    .doesNotContain("GenerateCsrMethod")
                    .doesNotContain("InstanceId=")
                    .doesNotContain(emulator.endpoint())
                    .doesNotContain("wrong-secret-value"));
    assertThat(failures)
        .extracting(CasException::kind)
        .containsExactly(
            Kind.TERMINAL,
            Kind.NOT_FOUND,
            Kind.AUTH,
            Kind.AMBIGUOUS,
            Kind.AMBIGUOUS,
            Kind.AMBIGUOUS,
            Kind.AMBIGUOUS);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "The CSR is invalid: InstanceId=cas-cn-1&GenerateCsrMethod=upload&Csr=-----BEGIN"
            + "%20CERTIFICATE%20REQUEST-----%0AMIIB",
        "The CSR is invalid: Csr=MIIBxzCCAW0CAQAw",
        "Specified parameter Key=MIIEvQIBADANBgkqhkiG9w0B is invalid"
      })
  void aCasMessageThatMayQuoteTheRequestIsNotRepeated(String casMessage) {
    TeaException tea = new TeaException();
    tea.setCode("InvalidParameter.Csr");
    tea.setStatusCode(400);
    tea.setData(Map.of("Code", "InvalidParameter.Csr", "Message", casMessage, "RequestId", "R-1"));

    CasException e =
        AlibabaCasClient.CasErrors.classify(
            "UpdateInstance", AlibabaCasClient.CallEffect.CHANGES_INSTANCE, tea);

    assertThat(e.kind()).isEqualTo(Kind.TERMINAL);
    assertThat(e.getMessage())
        .isEqualTo("UpdateInstance failed with InvalidParameter.Csr (HTTP 400), request id R-1");
  }

  // ---- Metrics ----

  @Test
  void meteredCallsAreCountedPerActionWithOkOrTheCasCode() throws CasException {
    OperatorMetrics metrics = new OperatorMetrics();
    CasInstances metered = new MeteredCasInstances(cas, metrics, "team-a");
    String id = filledIn();
    String theirs = emulator.buyInstance(OTHER_ACCOUNT);
    emulator.failNext("GetInstanceDetail", 1, 400, "Throttling.User");

    failure(() -> metered.getInstanceDetail(id));
    metered.getInstanceDetail(id);
    metered.applyCertificate(id);
    failure(() -> metered.applyCertificate(theirs));

    assertThat(count(metrics, "GetInstanceDetail", "OK")).isEqualTo(1);
    assertThat(count(metrics, "GetInstanceDetail", "Throttling.User")).isEqualTo(1);
    assertThat(count(metrics, "ApplyCertificate", "OK")).isEqualTo(1);
    assertThat(count(metrics, "ApplyCertificate", "NotFound")).isEqualTo(1);
    assertThat(
            metrics
                .registry()
                .find("aliyuncsr_cas_throttled")
                .tags("account", "team-a", "action", "GetInstanceDetail")
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  private static long count(OperatorMetrics metrics, String action, String outcome) {
    var timer =
        metrics
            .registry()
            .find("aliyuncsr_cas_calls")
            .tags("account", "team-a", "action", action, "outcome", outcome)
            .timer();
    return timer == null ? 0 : timer.count();
  }

  // ---- Helpers ----

  static List<X509Certificate> certificates(String pem) throws Exception {
    return CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
        .stream()
        .map(X509Certificate.class::cast)
        .toList();
  }

  /** PKIX from the leaf up to the emulator's root; throws if the chain does not verify. */
  static void verifyChain(List<X509Certificate> chain, X509Certificate root) throws Exception {
    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
    parameters.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX")
        .validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), parameters);
  }
}
