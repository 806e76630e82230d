package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.GetUserCertificateDetailRequest;
import com.aliyun.cas20200407.models.GetUserCertificateDetailResponseBody;
import com.aliyun.tea.TeaException;
import com.aliyun.teaopenapi.models.Config;
import com.aliyun.teaopenapi.models.OpenApiRequest;
import com.aliyun.teaopenapi.models.Params;
import com.aliyun.teautil.models.RuntimeOptions;
import dev.aliyuncsr.operator.testing.TestPki;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CAS V2.0 certificate-instance actions through the real SDK (cas20200407 2.0.1): the untyped
 * actions with tea-openapi's generic {@code callApi}, as the operator calls them, and the download
 * with the typed {@code getUserCertificateDetail}.
 */
class CasEmulatorInstancesTest {
  static final String ACCOUNT = "1111111111111111";
  static final String OTHER_ACCOUNT = "2222222222222222";
  private static final String AK = "LTAI-instances-a";
  private static final String SECRET = "secret-a";
  private static final String OTHER_AK = "LTAI-instances-b";
  private static final String OTHER_SECRET = "secret-b";

  /** Key generation is the slow part, so tests share these. */
  private static TestPki.Material rsa;

  private static TestPki.Material ec;
  private static TestPki.Material ec384;

  private CasEmulator emulator;
  private Client client;

  @BeforeAll
  static void generateKeys() {
    rsa = TestPki.rsaCsr(2048, "example.com", "example.com", "shop.example.com");
    ec = TestPki.ecCsr("secp256r1", "ec.example.org");
    ec384 = TestPki.ecCsr("secp384r1", "p384.example.org");
  }

  @BeforeEach
  void startEmulator() throws Exception {
    emulator =
        CasEmulator.builder()
            .accessKey(ACCOUNT, AK, SECRET)
            .accessKey(OTHER_ACCOUNT, OTHER_AK, OTHER_SECRET)
            .seed(11)
            .build()
            .start();
    client = client(emulator, AK, SECRET);
  }

  @AfterEach
  void stopEmulator() {
    emulator.close();
  }

  static Client client(CasEmulator emulator, String accessKeyId, String secret) throws Exception {
    return new Client(
        new Config()
            .setEndpoint(emulator.endpoint())
            .setProtocol("HTTP")
            .setRegionId("cn-hangzhou")
            .setAccessKeyId(accessKeyId)
            .setAccessKeySecret(secret));
  }

  /** An untyped V2.0 action, exactly as the contract's §1 says the operator calls it. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> call(Client client, String action, Map<String, Object> parameters)
      throws Exception {
    Params params =
        new Params()
            .setAction(action)
            .setVersion("2020-04-07")
            .setProtocol("HTTP")
            .setPathname("/")
            .setMethod("POST")
            .setAuthType("AK")
            .setStyle("RPC")
            .setReqBodyType("formData")
            .setBodyType("json");
    OpenApiRequest request =
        new OpenApiRequest().setQuery(com.aliyun.openapiutil.Client.query(parameters));
    Map<String, ?> result = client.callApi(params, request, new RuntimeOptions());
    return (Map<String, Object>) result.get("body");
  }

  private Map<String, Object> call(String action, Map<String, Object> parameters) throws Exception {
    return call(client, action, parameters);
  }

  private Map<String, Object> detail(String instanceId) throws Exception {
    return call("GetInstanceDetail", Map.of("InstanceId", instanceId));
  }

  private void uploadApplication(String instanceId, TestPki.Material material, String algorithm)
      throws Exception {
    call(
        "UpdateInstance",
        Map.of(
            "InstanceId",
            instanceId,
            "GenerateCsrMethod",
            "upload",
            "Csr",
            material.csrPem(),
            "KeyAlgorithm",
            algorithm));
  }

  private String code(String action, Map<String, Object> parameters) {
    return code(client, action, parameters);
  }

  static String code(Client client, String action, Map<String, Object> parameters) {
    TeaException error = teaError(() -> call(client, action, parameters));
    assertThat(error.getStatusCode()).isEqualTo(400);
    // The CSR travels in the query; an answer never repeats it.
    assertThat(error.getMessage()).doesNotContain("BEGIN");
    return error.getCode();
  }

  static TeaException teaError(ThrowingCall call) {
    Throwable thrown = catchThrowable(call::run);
    assertThat(thrown).isInstanceOf(TeaException.class);
    return (TeaException) thrown;
  }

  @FunctionalInterface
  interface ThrowingCall {
    void run() throws Exception;
  }

  private GetUserCertificateDetailResponseBody download(long certId) throws Exception {
    return client
        .getUserCertificateDetail(new GetUserCertificateDetailRequest().setCertId(certId))
        .getBody();
  }

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

  private static List<String> dnsSans(X509Certificate certificate) throws Exception {
    return certificate.getSubjectAlternativeNames().stream()
        .filter(name -> (Integer) name.get(0) == 2)
        .map(name -> (String) name.get(1))
        .toList();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> validations(Map<String, Object> detail) {
    return (List<Map<String, Object>>) detail.get("DomainValidationList");
  }

  // ---- The happy path ----

  @Test
  void boughtInstanceIsFilledInAppliedValidatedAndItsChainVerifies() throws Exception {
    String id = emulator.buyInstance(ACCOUNT, InstanceOptions.defaults().fullDomainCount(2));
    Map<String, Object> fresh = detail(id);
    assertThat(fresh)
        .containsEntry("InstanceId", id)
        .containsEntry("Status", "inactive")
        .containsEntry("FullDomainCount", 2L)
        .containsEntry("WildcardDomainCount", 0L)
        .doesNotContainKeys("Csr", "CertificateId", "CertificateStatus", "PendingResult");
    assertThat(id).matches("cas_dv-cn-[a-z0-9]{12}");

    uploadApplication(id, rsa, "RSA_2048");
    Map<String, Object> filledIn = detail(id);
    assertThat(filledIn)
        .containsEntry("Status", "inactive")
        .containsEntry("Csr", rsa.csrPem())
        .containsEntry("GenerateCsrMethod", "upload")
        .containsEntry("KeyAlgorithm", "RSA_2048")
        .containsEntry("ValidationMethod", "DNS")
        .containsEntry("Domain", "example.com,shop.example.com");
    assertThat(validations(filledIn)).isEmpty();

    call("ApplyCertificate", Map.of("InstanceId", id));
    Map<String, Object> pending = detail(id);
    assertThat(pending).containsEntry("Status", "pending").doesNotContainKey("PendingResult");
    assertThat(pending.get("AverageWaitingTime")).isInstanceOf(String.class);
    assertThat(pending.get("OrderStartTime")).isInstanceOf(Long.class);
    List<Map<String, Object>> records = validations(pending);
    assertThat(records)
        .extracting(r -> r.get("Domain"), r -> r.get("ValidationKey"), r -> r.get("RootDomain"))
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("example.com", "_dnsauth", "example.com"),
            org.assertj.core.groups.Tuple.tuple(
                "shop.example.com", "_dnsauth.shop", "example.com"));
    assertThat(records).allSatisfy(r -> assertThat(r).containsEntry("ValidationType", "TXT"));
    assertThat(records.get(0).get("ValidationValue"))
        .as("a token per name")
        .isNotEqualTo(records.get(1).get("ValidationValue"));

    emulator.completeValidation(id);
    Map<String, Object> normal = detail(id);
    assertThat(normal)
        .containsEntry("Status", "normal")
        .containsEntry("CertificateStatus", "issued");
    assertThat(validations(normal)).isEmpty();
    Long certId = (Long) normal.get("CertificateId");
    assertThat(normal).containsEntry("CertIdentifier", certId + "-cn-hangzhou");
    long notBefore = (Long) normal.get("CertificateNotBefore");
    long notAfter = (Long) normal.get("CertificateNotAfter");
    assertThat(Duration.ofMillis(notAfter - notBefore)).isEqualTo(Duration.ofDays(90));
    assertThat(Instant.ofEpochMilli(notBefore))
        .as("milliseconds, not seconds")
        .isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(1));

    GetUserCertificateDetailResponseBody download = download(certId);
    assertThat(download.getKey()).as("CAS never had the key").isNull();
    assertThat(download.getId()).isEqualTo(certId);
    assertThat(download.getInstanceId()).isEqualTo(id);
    assertThat(download.getCertIdentifier()).isEqualTo(certId + "-cn-hangzhou");
    assertThat(download.getCommon()).isEqualTo("example.com");
    assertThat(download.getSans()).isEqualTo("example.com,shop.example.com");
    assertThat(download.getAlgorithm()).isEqualTo("RSA");
    assertThat(download.getExpired()).isFalse();
    List<X509Certificate> chain = certificates(download.getCert());
    assertThat(chain).hasSize(2);
    X509Certificate leaf = chain.get(0);
    assertThat(leaf.getPublicKey()).isEqualTo(rsa.keyPair().getPublic());
    assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=example.com");
    assertThat(dnsSans(leaf)).containsExactly("example.com", "shop.example.com");
    assertThat(leaf.getNotBefore().getTime()).isEqualTo(notBefore);
    assertThat(leaf.getSerialNumber().toString(16)).isEqualTo(download.getSerialNo());
    assertThat(chain.get(1)).isEqualTo(emulator.caIntermediate());
    verifyChain(chain, emulator.caRoot());

    assertThat(emulator.instanceCalls(id, "GetInstanceDetail", "OK")).isEqualTo(4);
    assertThat(emulator.instanceCalls(id, "ApplyCertificate")).isEqualTo(1);
    assertThat(emulator.instanceCalls(id, "GetUserCertificateDetail", "OK"))
        .as("a download counts for the certificate's instance")
        .isEqualTo(1);
  }

  @Test
  void eachLeafHasItsOwnRandomSerial() throws Exception {
    String first =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));
    String second =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));

    IssuedCertificate a = emulator.instance(first).orElseThrow().certificate();
    IssuedCertificate b = emulator.instance(second).orElseThrow().certificate();

    assertThat(a.serialHex()).hasSize(32).isNotEqualTo(b.serialHex());
    assertThat(a.certificateId()).isNotEqualTo(b.certificateId());
  }

  @Test
  void theCsrsNamesWinOverDomain() throws Exception {
    String id = emulator.buyInstance(ACCOUNT, InstanceOptions.defaults().fullDomainCount(2));

    call(
        "UpdateInstance",
        Map.of(
            "InstanceId",
            id,
            "GenerateCsrMethod",
            "upload",
            "Csr",
            rsa.csrPem(),
            "Domain",
            "other.example.net"));

    assertThat(detail(id)).containsEntry("Domain", "example.com,shop.example.com");
    assertThat(emulator.instance(id).orElseThrow().keyAlgorithm())
        .as("the default KeyAlgorithm fits an RSA 2048 CSR")
        .isEqualTo("RSA_2048");
  }

  @Test
  void eccCsrIsIssuedForItsKey() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    uploadApplication(id, ec, "ECC_256");
    call("ApplyCertificate", Map.of("InstanceId", id));
    emulator.completeValidation(id);

    GetUserCertificateDetailResponseBody download =
        download(emulator.instance(id).orElseThrow().certificateId());

    assertThat(download.getAlgorithm()).isEqualTo("ECC");
    X509Certificate leaf = certificates(download.getCert()).get(0);
    assertThat(leaf.getPublicKey()).isEqualTo(ec.keyPair().getPublic());
    assertThat(dnsSans(leaf)).containsExactly("ec.example.org");
  }

  @Test
  void onlineApplicationHasACasMadeKeyThatTheDownloadCarries() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    assertThat(
            code(
                "UpdateInstance",
                Map.of("InstanceId", id, "GenerateCsrMethod", "online", "KeyAlgorithm", "ECC_256")))
        .isEqualTo("MissingDomain");

    call(
        "UpdateInstance",
        Map.of("InstanceId", id, "Domain", "online.example.com", "KeyAlgorithm", "ECC_256"));
    Map<String, Object> filledIn = detail(id);
    assertThat(filledIn)
        .containsEntry("GenerateCsrMethod", "online")
        .containsEntry("Domain", "online.example.com");
    assertThat((String) filledIn.get("Csr")).startsWith("-----BEGIN CERTIFICATE REQUEST-----");
    call("ApplyCertificate", Map.of("InstanceId", id));
    emulator.completeValidation(id);

    GetUserCertificateDetailResponseBody download =
        download(emulator.instance(id).orElseThrow().certificateId());
    // The key CAS generated online (at test time, by the emulator) parses as a private key.
    assertThat(
            dev.aliyuncsr.operator.csr.PrivateKeyValidator.validate(
                    download.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .isValid())
        .isTrue();
    assertThat(certificates(download.getCert()).get(0).getSubjectX500Principal().getName())
        .isEqualTo("CN=online.example.com");
  }

  // ---- The validation records ----

  @Test
  void wildcardNeedsDnsAndIsValidatedAtItsBaseName() throws Exception {
    TestPki.Material wildcard = TestPki.ecCsr("secp256r1", "x.example.com", "*.x.example.com");
    String id = emulator.buyInstance(ACCOUNT, InstanceOptions.defaults().wildcardDomainCount(1));
    Map<String, Object> update = new LinkedHashMap<>();
    update.put("InstanceId", id);
    update.put("GenerateCsrMethod", "upload");
    update.put("Csr", wildcard.csrPem());
    update.put("KeyAlgorithm", "ECC_256");
    update.put("ValidationMethod", "HTTP");
    assertThat(code("UpdateInstance", update)).isEqualTo("InvalidParameter.ValidationMethod");
    assertThat(emulator.instance(id).orElseThrow().filledIn()).isFalse();

    update.put("ValidationMethod", "DNS");
    call("UpdateInstance", update);
    call("ApplyCertificate", Map.of("InstanceId", id));

    List<Map<String, Object>> records = validations(detail(id));
    assertThat(records)
        .extracting(r -> r.get("Domain"), r -> r.get("ValidationKey"), r -> r.get("RootDomain"))
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("x.example.com", "_dnsauth.x", "example.com"),
            org.assertj.core.groups.Tuple.tuple("*.x.example.com", "_dnsauth.x", "example.com"));
    assertThat(records.get(0).get("ValidationValue"))
        .isNotEqualTo(records.get(1).get("ValidationValue"));
    emulator.completeValidation(id);
    X509Certificate leaf =
        certificates(download(emulator.instance(id).orElseThrow().certificateId()).getCert())
            .get(0);
    assertThat(dnsSans(leaf)).containsExactly("x.example.com", "*.x.example.com");
  }

  @Test
  void httpValidationPointsAtTheWellKnownFile() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    call(
        "UpdateInstance",
        Map.of(
            "InstanceId", id,
            "GenerateCsrMethod", "upload",
            "Csr", ec.csrPem(),
            "KeyAlgorithm", "ECC_256",
            "ValidationMethod", "HTTP"));
    call("ApplyCertificate", Map.of("InstanceId", id));

    assertThat(validations(detail(id)))
        .singleElement()
        .satisfies(
            record ->
                assertThat(record)
                    .containsEntry("Domain", "ec.example.org")
                    .containsEntry("RootDomain", "example.org")
                    .containsEntry("ValidationType", "HTTP")
                    .containsEntry("ValidationKey", "/.well-known/pki-validation/fileauth.txt"));
    assertThat(detail(id)).containsEntry("ValidationMethod", "HTTP");
  }

  // ---- Failing, cancelling, reviewing, automatic validation ----

  @Test
  void failedValidationLeavesTheInstanceInactiveWithItsDataAndTheMessage() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    uploadApplication(id, ec, "ECC_256");
    call("ApplyCertificate", Map.of("InstanceId", id));

    emulator.failValidation(id, "DNS record _dnsauth.ec.example.org not found");

    Map<String, Object> failed = detail(id);
    assertThat(failed)
        .containsEntry("Status", "inactive")
        .containsEntry("PendingResult", "DNS record _dnsauth.ec.example.org not found")
        .containsEntry("Csr", ec.csrPem())
        .containsEntry("Domain", "ec.example.org")
        .doesNotContainKeys("CertificateId", "OrderStartTime");
    assertThat(validations(failed)).isEmpty();

    // A new UpdateInstance starts a new application: the message goes.
    uploadApplication(id, ec, "ECC_256");
    assertThat(detail(id)).doesNotContainKey("PendingResult");
    call("ApplyCertificate", Map.of("InstanceId", id));
    assertThat(detail(id)).containsEntry("Status", "pending");
  }

  @Test
  void cancelledApplicationKeepsItsDataAndSaysSo() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    uploadApplication(id, ec, "ECC_256");
    call("ApplyCertificate", Map.of("InstanceId", id));

    call("CancelPendingCertificate", Map.of("InstanceId", id));

    assertThat(detail(id))
        .containsEntry("Status", "inactive")
        .containsEntry("PendingResult", InstanceLifecycle.CANCELLED)
        .containsEntry("Csr", ec.csrPem());
  }

  @Test
  void reviewDelayKeepsTheInstancePendingWithoutRecordsUntilTheCaIssues() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    uploadApplication(id, ec, "ECC_256");
    call("ApplyCertificate", Map.of("InstanceId", id));
    Instant validatedAt = Instant.now();

    emulator.completeValidation(id, Duration.ofMinutes(10));
    Map<String, Object> reviewing = detail(id);
    assertThat(reviewing).containsEntry("Status", "pending").doesNotContainKey("CertificateId");
    assertThat(validations(reviewing)).as("validation is no longer open").isEmpty();
    assertThat(emulator.instance(id).orElseThrow().underReview()).isTrue();

    // Within the 15 minutes the signature date check allows.
    emulator.setClock(Clock.offset(Clock.systemUTC(), Duration.ofMinutes(11)));
    Map<String, Object> issued = detail(id);
    assertThat(issued).containsEntry("Status", "normal");
    assertThat(Instant.ofEpochMilli((Long) issued.get("CertificateNotBefore")))
        .as("issued when the review ended, not when it was read")
        .isBetween(
            validatedAt.plus(Duration.ofMinutes(10)).minusSeconds(2),
            validatedAt.plus(Duration.ofMinutes(10)).plusSeconds(60));
  }

  @Test
  void automaticValidationIssuesTheConfiguredTimeAfterApplyCertificate() throws Exception {
    emulator.autoCompleteValidationAfter(Duration.ofMinutes(4));
    String id = emulator.buyInstance(ACCOUNT);
    uploadApplication(id, ec, "ECC_256");
    call("ApplyCertificate", Map.of("InstanceId", id));

    Map<String, Object> pending = detail(id);
    assertThat(pending)
        .containsEntry("Status", "pending")
        .as("the polling hint follows the automatic delay")
        .containsEntry("AverageWaitingTime", "240");
    assertThat(validations(pending)).hasSize(1);

    emulator.setClock(Clock.offset(Clock.systemUTC(), Duration.ofMinutes(3)));
    assertThat(detail(id)).containsEntry("Status", "pending");
    emulator.setClock(Clock.offset(Clock.systemUTC(), Duration.ofMinutes(5)));
    Map<String, Object> issued = detail(id);
    assertThat(issued).containsEntry("Status", "normal");
    assertThat((Long) issued.get("CertificateNotBefore"))
        .as("issued when it came due, 4 minutes after the application")
        .isEqualTo(
            ((Long) pending.get("OrderStartTime") + Duration.ofMinutes(4).toMillis())
                / 1000
                * 1000);
  }

  @Test
  void wrongKeySwitchIssuesALeafForAnotherKey() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    uploadApplication(id, ec, "ECC_256");
    call("ApplyCertificate", Map.of("InstanceId", id));
    emulator.issueWithWrongKey(id);

    emulator.completeValidation(id);

    X509Certificate leaf =
        certificates(download(emulator.instance(id).orElseThrow().certificateId()).getCert())
            .get(0);
    assertThat(leaf.getPublicKey()).isNotEqualTo(ec.keyPair().getPublic());
    assertThat(dnsSans(leaf))
        .as("otherwise the same certificate")
        .containsExactly("ec.example.org");
  }

  // ---- The chain in Cert ----

  @Test
  void chainModesChooseWhatCertHolds() throws Exception {
    String id =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));
    long certId = emulator.instance(id).orElseThrow().certificateId();

    emulator.setChainMode(ChainMode.WITH_ROOT);
    List<X509Certificate> withRoot = certificates(download(certId).getCert());
    assertThat(withRoot).hasSize(3).endsWith(emulator.caRoot());
    verifyChain(withRoot.subList(0, 2), emulator.caRoot());

    emulator.setChainMode(ChainMode.LEAF_ONLY);
    List<X509Certificate> leafOnly = certificates(download(certId).getCert());
    assertThat(leafOnly).containsExactly(withRoot.get(0));

    GetUserCertificateDetailResponseBody filtered =
        client
            .getUserCertificateDetail(
                new GetUserCertificateDetailRequest().setCertId(certId).setCertFilter(true))
            .getBody();
    assertThat(filtered.getCert()).as("CertFilter leaves out the PEM").isNull();
    assertThat(filtered.getId()).isEqualTo(certId);
  }

  // ---- Instances bought in use, listing ----

  @Test
  void instancesBoughtInUseCarrySomeoneElsesCsr() throws Exception {
    String pending =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.PENDING));
    String normal =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));
    String filledWithOurs =
        emulator.buyInstance(
            ACCOUNT,
            InstanceOptions.defaults().stage(InstanceOptions.Stage.FILLED_IN).csr(ec.csrPem()));

    Map<String, Object> pendingDetail = detail(pending);
    assertThat(pendingDetail).containsEntry("Status", "pending");
    assertThat((String) pendingDetail.get("Csr"))
        .startsWith("-----BEGIN CERTIFICATE REQUEST-----")
        .isNotEqualTo(ec.csrPem());
    assertThat(validations(pendingDetail)).hasSize(1);
    assertThat(detail(normal)).containsEntry("Status", "normal").containsKey("CertificateId");
    assertThat(detail(filledWithOurs))
        .containsEntry("Status", "inactive")
        .containsEntry("Csr", ec.csrPem())
        .containsEntry("KeyAlgorithm", "ECC_256");
  }

  @Test
  @SuppressWarnings("unchecked")
  void listInstancesFiltersAndPages() throws Exception {
    String a = emulator.buyInstance(ACCOUNT);
    String b =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));
    String c = emulator.buyInstance(ACCOUNT);
    uploadApplication(c, ec, "ECC_256");
    emulator.buyInstance(OTHER_ACCOUNT);

    Map<String, Object> all = call("ListInstances", Map.of());
    assertThat(all)
        .containsEntry("TotalCount", 3L)
        .containsEntry("CurrentPage", 1L)
        .containsEntry("ShowSize", 10L);
    assertThat((List<Map<String, Object>>) all.get("InstanceList"))
        .extracting(item -> item.get("InstanceId"))
        .containsExactly(a, b, c);

    Map<String, Object> issued = call("ListInstances", Map.of("Status", "normal"));
    List<Map<String, Object>> issuedList = (List<Map<String, Object>>) issued.get("InstanceList");
    assertThat(issuedList)
        .singleElement()
        .satisfies(
            item ->
                assertThat(item)
                    .containsEntry("InstanceId", b)
                    .containsEntry("CertificateStatus", "issued")
                    .containsKey("CertificateDomain"));
    assertThat(call("ListInstances", Map.of("Keyword", "EC.EXAMPLE")))
        .as("a case-insensitive substring of the Domain")
        .containsEntry("TotalCount", 1L);
    Map<String, Object> page2 = call("ListInstances", Map.of("CurrentPage", 2, "ShowSize", 2));
    assertThat((List<Map<String, Object>>) page2.get("InstanceList"))
        .extracting(item -> item.get("InstanceId"))
        .containsExactly(c);
  }

  @Test
  void resetForgetsInstancesButNotTheirIds() throws Exception {
    String id =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));
    long certId = emulator.instance(id).orElseThrow().certificateId();
    emulator.setChainMode(ChainMode.LEAF_ONLY);

    emulator.reset();

    assertThat(emulator.instances()).isEmpty();
    assertThat(code("GetInstanceDetail", Map.of("InstanceId", id))).isEqualTo("NotFound");
    assertThat(teaError(() -> download(certId)).getCode()).isEqualTo("NotFound");
    String next =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));
    long nextCertId = emulator.instance(next).orElseThrow().certificateId();
    assertThat(nextCertId).isGreaterThan(certId);
    assertThat(certificates(download(nextCertId).getCert()))
        .as("the chain mode is reset")
        .hasSize(2);
  }
}
