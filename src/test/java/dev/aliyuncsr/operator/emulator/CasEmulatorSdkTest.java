package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.DeleteCsrRequest;
import com.aliyun.cas20200407.models.GetCsrDetailRequest;
import com.aliyun.cas20200407.models.GetCsrDetailResponseBody;
import com.aliyun.cas20200407.models.ListCsrRequest;
import com.aliyun.cas20200407.models.ListCsrResponseBody;
import com.aliyun.cas20200407.models.ListCsrResponseBody.ListCsrResponseBodyCsrList;
import com.aliyun.cas20200407.models.UpdateCsrRequest;
import com.aliyun.cas20200407.models.UploadCsrRequest;
import com.aliyun.tea.TeaException;
import com.aliyun.tea.TeaUnretryableException;
import com.aliyun.teaopenapi.models.Config;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.testing.TestPkiVariants;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.PBEParameterSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real Alibaba SDK (cas20200407 2.0.1) against the emulator, unchanged. */
class CasEmulatorSdkTest {
  private static final String AK = "testAccessKeyId";
  private static final String SECRET = "testAccessKeySecret";
  private static final String STS_AK = "STS.testStsKeyId";
  private static final String STS_SECRET = "testStsSecret";
  private static final String STS_TOKEN = "testSecurityToken/+=";

  /** Key generation is the slow part, so tests share a few CSRs. */
  private static TestPki.Material rsa;

  private static TestPki.Material ec;

  private CasEmulator emulator;
  private Client client;

  @BeforeAll
  static void generateKeys() {
    rsa = TestPki.rsaCsr(2048, "example.com", "example.com", "www.example.com");
    ec = TestPki.ecCsr("secp256r1", "ec.example.org");
  }

  @BeforeEach
  void startEmulator() throws Exception {
    emulator =
        CasEmulator.builder()
            .accessKey(AK, SECRET)
            .stsCredential(STS_AK, STS_SECRET, STS_TOKEN)
            .seed(42)
            .build()
            .start();
    client = client(config(AK, SECRET));
  }

  @AfterEach
  void stopEmulator() {
    emulator.close();
  }

  private Config config(String accessKeyId, String secret) {
    return new Config()
        .setEndpoint(emulator.endpoint())
        .setProtocol("HTTP")
        .setRegionId("cn-hangzhou")
        .setAccessKeyId(accessKeyId)
        .setAccessKeySecret(secret);
  }

  private static Client client(Config config) throws Exception {
    return new Client(config);
  }

  private long upload(String name, String csrPem, String keyPem) throws Exception {
    return client
        .uploadCsr(new UploadCsrRequest().setName(name).setCsr(csrPem).setKey(keyPem))
        .getBody()
        .getCsrId();
  }

  private static TeaException teaError(ThrowingCall call) {
    Throwable thrown = catchThrowable(call::run);
    assertThat(thrown).isInstanceOf(TeaException.class);
    return (TeaException) thrown;
  }

  @FunctionalInterface
  private interface ThrowingCall {
    void run() throws Exception;
  }

  private static String sha256Hex(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void uploadListGetUpdateDelete() throws Exception {
    var uploaded =
        client.uploadCsr(new UploadCsrRequest().setName("lifecycle-1").setCsr(rsa.csrPem()));
    long csrId = uploaded.getBody().getCsrId();
    assertThat(csrId).isGreaterThanOrEqualTo(2000);
    assertThat(uploaded.getStatusCode()).isEqualTo(200);
    assertThat(uploaded.getBody().getRequestId())
        .matches("[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}");

    ListCsrResponseBody list =
        client.listCsr(new ListCsrRequest().setKeyWord("lifecycle")).getBody();
    assertThat(list.getTotalCount()).isEqualTo(1L);
    assertThat(list.getCurrentPage()).as("not echoed when not sent").isNull();
    assertThat(list.getShowSize()).isNull();
    ListCsrResponseBodyCsrList item = list.getCsrList().get(0);
    assertThat(item.getCsrId()).isEqualTo(csrId);
    assertThat(item.getName()).isEqualTo("lifecycle-1");
    assertThat(item.getCommonName()).isEqualTo("example.com");
    assertThat(item.getSans()).isEqualTo("example.com,www.example.com");
    assertThat(item.getAlgorithm()).isEqualTo("RSA");
    assertThat(item.getKeySize()).isEqualTo(2048);
    assertThat(item.getKeySha2()).isEqualTo(sha256Hex(rsa.keyPair().getPublic().getEncoded()));
    assertThat(item.getHasPrivateKey()).isFalse();
    assertThat(item.getCountryCode()).isEqualTo("CN");
    assertThat(item.getCorpName()).isEqualTo("Test");

    GetCsrDetailResponseBody detail =
        client.getCsrDetail(new GetCsrDetailRequest().setCsrId(csrId)).getBody();
    assertThat(detail.getCsr()).isEqualTo(rsa.csrPem());
    assertThat(detail.getPrivateKey()).isNull();

    client.updateCsr(new UpdateCsrRequest().setCsrId(csrId).setKey(rsa.pkcs8KeyPem()));
    assertThat(
            client
                .getCsrDetail(new GetCsrDetailRequest().setCsrId(csrId))
                .getBody()
                .getPrivateKey())
        .isEqualTo(rsa.pkcs8KeyPem());
    assertThat(
            client.listCsr(new ListCsrRequest()).getBody().getCsrList().get(0).getHasPrivateKey())
        .isTrue();

    client.deleteCsr(new DeleteCsrRequest().setCsrId(csrId));
    TeaException gone =
        teaError(() -> client.getCsrDetail(new GetCsrDetailRequest().setCsrId(csrId)));
    assertThat(gone.getCode()).isEqualTo("NotFound.Csr");
    assertThat(gone.getStatusCode()).isEqualTo(404);
    assertThat(gone.getData()).containsKeys("RequestId", "HostId", "Recommend");
    assertThat(teaError(() -> client.deleteCsr(new DeleteCsrRequest().setCsrId(csrId))).getCode())
        .isEqualTo("NotFound.Csr");
    assertThat(emulator.csrs()).isEmpty();
    assertThat(emulator.callStats())
        .containsKeys("UploadCsr", "ListCsr", "GetCsrDetail", "UpdateCsr", "DeleteCsr");
  }

  @Test
  void uploadWithEcKeyInSec1Form() throws Exception {
    long csrId = upload("ec-1", ec.csrPem(), ec.traditionalKeyPem());

    StoredCsr stored = emulator.csr(csrId).orElseThrow();
    assertThat(stored.algorithm()).isEqualTo("ECC");
    assertThat(stored.keySize()).isEqualTo(256);
    assertThat(stored.commonName()).isEqualTo("ec.example.org");
    assertThat(stored.sans()).isEmpty();
    assertThat(stored.privateKeyPem()).isEqualTo(ec.traditionalKeyPem());
    assertThat(
            client
                .getCsrDetail(new GetCsrDetailRequest().setCsrId(csrId))
                .getBody()
                .getPrivateKey())
        .isEqualTo(ec.traditionalKeyPem());
  }

  @Test
  void uploadWithRsaKeyInPkcs1Form() throws Exception {
    long csrId = upload(null, rsa.csrPem(), rsa.traditionalKeyPem());

    assertThat(emulator.csr(csrId).orElseThrow().hasPrivateKey()).isTrue();
    assertThat(emulator.csr(csrId).orElseThrow().name()).isNull();
  }

  @Test
  void listFiltersByAlgorithmAndKeyWordAndPages() throws Exception {
    for (int i = 0; i < 5; i++) {
      upload("rsa-" + i, rsa.csrPem(), null);
    }
    upload("ecc-0", ec.csrPem(), null);

    assertThat(client.listCsr(new ListCsrRequest().setAlgorithm("ECC")).getBody().getTotalCount())
        .isEqualTo(1L);
    assertThat(
            client.listCsr(new ListCsrRequest().setKeyWord("ec.example")).getBody().getTotalCount())
        .as("KeyWord also matches the common name")
        .isEqualTo(1L);
    assertThat(client.listCsr(new ListCsrRequest().setKeyWord("RSA-")).getBody().getTotalCount())
        .as("case-sensitive")
        .isZero();

    ListCsrResponseBody page2 =
        client
            .listCsr(new ListCsrRequest().setKeyWord("rsa-").setCurrentPage(2L).setShowSize(2L))
            .getBody();
    assertThat(page2.getTotalCount()).isEqualTo(5L);
    assertThat(page2.getCurrentPage()).isEqualTo(2L);
    assertThat(page2.getShowSize()).isEqualTo(2L);
    assertThat(page2.getCsrList())
        .extracting(ListCsrResponseBodyCsrList::getName)
        .containsExactly("rsa-2", "rsa-3");

    assertThat(teaError(() -> client.listCsr(new ListCsrRequest().setAlgorithm("DSA"))).getCode())
        .isEqualTo("InvalidParameter.Algorithm");
  }

  @Test
  void stsCredentialWorksAndItsTokenIsChecked() throws Exception {
    Client sts = client(config(STS_AK, STS_SECRET).setSecurityToken(STS_TOKEN));
    assertThat(sts.listCsr(new ListCsrRequest()).getBody().getTotalCount()).isZero();

    Client wrongToken = client(config(STS_AK, STS_SECRET).setSecurityToken("other-token"));
    TeaException error = teaError(() -> wrongToken.listCsr(new ListCsrRequest()));
    assertThat(error.getCode()).isEqualTo("InvalidSecurityToken.MismatchWithAccessKey");
    assertThat(error.getStatusCode()).isEqualTo(400);

    Client noToken = client(config(STS_AK, STS_SECRET));
    assertThat(teaError(() -> noToken.listCsr(new ListCsrRequest())).getCode())
        .isEqualTo("InvalidSecurityToken.MismatchWithAccessKey");
  }

  @Test
  void wrongSecretIsASignatureMismatch() throws Exception {
    Client wrong = client(config(AK, "not-the-secret"));

    TeaException error =
        teaError(() -> wrong.uploadCsr(new UploadCsrRequest().setCsr(rsa.csrPem())));

    assertThat(error.getCode()).isEqualTo("SignatureDoesNotMatch");
    assertThat(error.getStatusCode()).isEqualTo(400);
    assertThat(error.getMessage()).doesNotContain("CERTIFICATE");
    assertThat(emulator.csrs()).isEmpty();
    assertThat(emulator.calls("UploadCsr", "SignatureDoesNotMatch")).isEqualTo(1);
  }

  @Test
  void unknownAccessKeyIsNotFound() throws Exception {
    Client unknown = client(config("noSuchKey", SECRET));

    TeaException error = teaError(() -> unknown.listCsr(new ListCsrRequest()));

    assertThat(error.getCode()).isEqualTo("InvalidAccessKeyId.NotFound");
    assertThat(error.getStatusCode()).isEqualTo(404);
  }

  @Test
  void staleDateIsRefused() {
    emulator.setClock(Clock.offset(Clock.systemUTC(), Duration.ofMinutes(20)));

    TeaException error = teaError(() -> client.listCsr(new ListCsrRequest()));

    assertThat(error.getCode()).isEqualTo("InvalidTimeStamp.Expired");
    assertThat(error.getStatusCode()).isEqualTo(400);
  }

  @Test
  void emulatorBuiltWithAShiftedClockRefusesCurrentRequests() throws Exception {
    try (CasEmulator behind =
        CasEmulator.builder()
            .accessKey(AK, SECRET)
            .clock(Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-16)))
            .build()
            .start()) {
      Client stale = client(config(AK, SECRET).setEndpoint(behind.endpoint()));
      assertThat(teaError(() -> stale.listCsr(new ListCsrRequest())).getCode())
          .isEqualTo("InvalidTimeStamp.Expired");
    }
  }

  @Test
  void rateLimitThrottlesAndIsCounted() throws Exception {
    emulator.setRateLimit("ListCsr", 1);
    int ok = 0;
    int throttled = 0;
    for (int i = 0; i < 10; i++) {
      try {
        client.listCsr(new ListCsrRequest());
        ok++;
      } catch (TeaException e) {
        assertThat(e.getCode()).isEqualTo("Throttling.User");
        assertThat(e.getStatusCode()).isEqualTo(400);
        throttled++;
      }
    }

    // Ten calls cannot each take a second on loopback, so some must have been refused.
    assertThat(throttled).isPositive();
    assertThat(emulator.calls("ListCsr", "Throttling.User")).isEqualTo(throttled);
    assertThat(emulator.calls("ListCsr", "OK")).isEqualTo(ok);
    assertThat(emulator.calls("ListCsr")).isEqualTo(10);
    assertThat(emulator.callStats().get("ListCsr")).containsEntry("Throttling.User", throttled);

    emulator.setRateLimit("ListCsr", 0);
    client.listCsr(new ListCsrRequest());
    client.listCsr(new ListCsrRequest());
    assertThat(emulator.calls("ListCsr", "OK")).isEqualTo(ok + 2);
  }

  @Test
  void serverErrorsComeBeforeAnyStateChange() throws Exception {
    emulator.setServerErrorRate(1.0);

    TeaException error =
        teaError(() -> client.uploadCsr(new UploadCsrRequest().setCsr(rsa.csrPem())));

    assertThat(error.getCode()).isEqualTo("ServiceUnavailable");
    assertThat(error.getStatusCode()).isEqualTo(503);
    assertThat(emulator.csrs()).isEmpty();

    emulator.setServerErrorRate(0);
    upload("after", rsa.csrPem(), null);
    assertThat(emulator.csrs()).hasSize(1);
    assertThat(emulator.calls("UploadCsr", "ServiceUnavailable")).isEqualTo(1);
    assertThat(emulator.calls("UploadCsr", "OK")).isEqualTo(1);
  }

  @Test
  void randomServerErrorsRepeatWithTheSameSeed() throws Exception {
    List<List<String>> runs = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      try (CasEmulator seeded =
          CasEmulator.builder().accessKey(AK, SECRET).seed(7).build().start()) {
        seeded.setServerErrorRate(0.5);
        Client seededClient = client(config(AK, SECRET).setEndpoint(seeded.endpoint()));
        List<String> outcomes = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
          try {
            seededClient.listCsr(new ListCsrRequest());
            outcomes.add("OK");
          } catch (TeaException e) {
            outcomes.add(e.getCode());
          }
        }
        runs.add(outcomes);
      }
    }

    assertThat(runs.get(0)).isEqualTo(runs.get(1)).contains("OK", "ServiceUnavailable");
  }

  @Test
  void failNextAnswersTheGivenErrorThenRecovers() throws Exception {
    emulator.failNext("UploadCsr", 2, 500, "InternalError");

    for (int i = 0; i < 2; i++) {
      TeaException error =
          teaError(() -> client.uploadCsr(new UploadCsrRequest().setCsr(rsa.csrPem())));
      assertThat(error.getCode()).isEqualTo("InternalError");
      assertThat(error.getStatusCode()).isEqualTo(500);
    }
    assertThat(emulator.csrs()).isEmpty();

    upload("third", rsa.csrPem(), null);
    assertThat(emulator.csrs()).hasSize(1);
    assertThat(emulator.calls("UploadCsr", "InternalError")).isEqualTo(2);
  }

  @Test
  void deniedActionIsForbiddenByRam() throws Exception {
    long csrId = upload("keep", rsa.csrPem(), null);
    emulator.denyAction(AK, "DeleteCsr");

    TeaException error = teaError(() -> client.deleteCsr(new DeleteCsrRequest().setCsrId(csrId)));

    assertThat(error.getCode()).isEqualTo("Forbidden.RAM");
    assertThat(error.getStatusCode()).isEqualTo(403);
    assertThat(emulator.csr(csrId)).isPresent();
    assertThat(client.listCsr(new ListCsrRequest()).getBody().getTotalCount()).isEqualTo(1L);

    Client sts = client(config(STS_AK, STS_SECRET).setSecurityToken(STS_TOKEN));
    sts.deleteCsr(new DeleteCsrRequest().setCsrId(csrId));
    assertThat(emulator.csrs()).isEmpty();
  }

  @Test
  void invalidInputsAreRejectedAndNothingIsStored() throws Exception {
    String other = TestPki.ecCsr("secp256r1", "other.example.org").pkcs8KeyPem();
    String tamperedCsr = tamper(rsa.csrPem());

    assertThat(uploadError("bad name!", rsa.csrPem(), null)).isEqualTo("InvalidParameter.Name");
    assertThat(uploadError("n".repeat(51), rsa.csrPem(), null)).isEqualTo("InvalidParameter.Name");
    assertThat(uploadError("x", "not a csr", null)).isEqualTo("InvalidParameter.Csr");
    assertThat(uploadError("x", rsa.pkcs8KeyPem(), null)).isEqualTo("InvalidParameter.Csr");
    assertThat(uploadError("x", tamperedCsr, null)).isEqualTo("InvalidParameter.Csr");
    assertThat(uploadError("x", null, null)).isEqualTo("MissingCsr");
    assertThat(uploadError("x", ec.csrPem(), other)).isEqualTo("InvalidParameter.Key");
    assertThat(uploadError("x", ec.csrPem(), rsa.pkcs8KeyPem())).isEqualTo("InvalidParameter.Key");
    assertThat(uploadError("x", ec.csrPem(), encryptedPkcs8(ec))).isEqualTo("InvalidParameter.Key");
    assertThat(
            uploadError(
                "x", ec.csrPem(), TestPkiVariants.legacyEncryptedKeyPem(ec.keyPair(), "pw")))
        .isEqualTo("InvalidParameter.Key");
    assertThat(uploadError("x", ec.csrPem(), "garbage")).isEqualTo("InvalidParameter.Key");
    assertThat(emulator.csrs()).isEmpty();

    long csrId = upload("n".repeat(50), ec.csrPem(), null);
    TeaException mismatch =
        teaError(() -> client.updateCsr(new UpdateCsrRequest().setCsrId(csrId).setKey(other)));
    assertThat(mismatch.getCode()).isEqualTo("InvalidParameter.Key");
    assertThat(emulator.csr(csrId).orElseThrow().hasPrivateKey()).isFalse();
    assertThat(teaError(() -> client.updateCsr(new UpdateCsrRequest().setCsrId(csrId))).getCode())
        .isEqualTo("MissingKey");
    assertThat(teaError(() -> client.getCsrDetail(new GetCsrDetailRequest())).getCode())
        .isEqualTo("MissingCsrId");
  }

  private String uploadError(String name, String csrPem, String keyPem) {
    TeaException error =
        teaError(
            () ->
                client.uploadCsr(
                    new UploadCsrRequest().setName(name).setCsr(csrPem).setKey(keyPem)));
    assertThat(error.getStatusCode()).isEqualTo(400);
    // The CSR and key travel in the query; the answer must not repeat them.
    assertThat(error.getMessage()).doesNotContain("BEGIN").doesNotContain("PRIVATE");
    return error.getCode();
  }

  /**
   * "ENCRYPTED PRIVATE KEY" built with the JDK: TestPki's encryptor needs the BouncyCastle provider
   * registered, which these tests leave alone.
   */
  private static String encryptedPkcs8(TestPki.Material material) throws Exception {
    // An old PBE scheme, but one whose OID the JDK's EncryptedPrivateKeyInfo knows.
    String algorithm = "PBEWithSHA1AndDESede";
    SecretKey key =
        SecretKeyFactory.getInstance(algorithm).generateSecret(new PBEKeySpec("pw".toCharArray()));
    Cipher cipher = Cipher.getInstance(algorithm);
    cipher.init(Cipher.ENCRYPT_MODE, key, new PBEParameterSpec(new byte[8], 1000));
    byte[] encrypted = cipher.doFinal(material.keyPair().getPrivate().getEncoded());
    return TestPki.pem(
        "ENCRYPTED PRIVATE KEY",
        new EncryptedPrivateKeyInfo(cipher.getParameters(), encrypted).getEncoded());
  }

  /** Flips one bit near the end of the DER, inside the signature. */
  private static String tamper(String csrPem) {
    String base64 =
        csrPem
            .replace("-----BEGIN CERTIFICATE REQUEST-----", "")
            .replace("-----END CERTIFICATE REQUEST-----", "")
            .replaceAll("\\s", "");
    byte[] der = java.util.Base64.getDecoder().decode(base64);
    der[der.length - 5] ^= 0x01;
    return TestPki.pem("CERTIFICATE REQUEST", der);
  }

  @Test
  void lostResponseOnAFreshConnection_csrIsStoredAndTheSdkThrows() {
    emulator.loseNextResponses("UploadCsr", 1);

    Throwable thrown =
        catchThrowable(() -> client.uploadCsr(new UploadCsrRequest().setCsr(rsa.csrPem())));

    assertMaybeStoredFailure(thrown);
    assertThat(emulator.csrs()).hasSize(1);
    assertThat(emulator.calls("UploadCsr", "LostResponse")).isEqualTo(1);
    assertThat(emulator.calls("UploadCsr", "OK")).isZero();
  }

  @Test
  void lostResponseOnAReusedConnection_okHttpResendIsRefusedAsAReplayedNonce() throws Exception {
    client.listCsr(new ListCsrRequest()); // leaves a pooled keep-alive connection
    emulator.loseNextResponses("UploadCsr", 1);

    Throwable thrown =
        catchThrowable(() -> client.uploadCsr(new UploadCsrRequest().setCsr(rsa.csrPem())));

    assertMaybeStoredFailure(thrown);
    assertThat(emulator.csrs()).as("exactly one CSR, whatever OkHttp did").hasSize(1);
    assertThat(emulator.calls("UploadCsr", "LostResponse")).isEqualTo(1);
    assertThat(emulator.calls("UploadCsr", "SignatureNonceUsed")).isLessThanOrEqualTo(1);
  }

  @Test
  void lostResponseRateOneLosesEveryProcessedCall() {
    emulator.setLostResponseRate("UploadCsr", 1.0);

    for (int i = 0; i < 3; i++) {
      assertMaybeStoredFailure(
          catchThrowable(() -> client.uploadCsr(new UploadCsrRequest().setCsr(ec.csrPem()))));
    }

    assertThat(emulator.csrs()).hasSize(3);
    assertThat(emulator.calls("UploadCsr", "LostResponse")).isEqualTo(3);
  }

  /** The two ways a lost UploadCsr answer reaches the caller (reference §5.2). */
  private static void assertMaybeStoredFailure(Throwable thrown) {
    assertThat(thrown).isNotNull();
    if (thrown instanceof TeaException tea) {
      assertThat(tea.getCode()).isEqualTo("SignatureNonceUsed");
    } else {
      assertThat(thrown).isInstanceOf(TeaUnretryableException.class);
      assertThat(thrown).hasStackTraceContaining("unexpected end of stream");
    }
  }

  @Test
  void readTimeoutAfterTheCsrIsStored() throws Exception {
    Client impatient = client(config(AK, SECRET).setReadTimeout(300));
    impatient.uploadCsr(new UploadCsrRequest().setCsr(rsa.csrPem())); // warm: classes loaded
    emulator.setLatency(Duration.ofSeconds(5));

    assertThatThrownBy(() -> impatient.uploadCsr(new UploadCsrRequest().setCsr(rsa.csrPem())))
        .isInstanceOf(TeaUnretryableException.class)
        .satisfies(
            thrown ->
                assertThat(causes(thrown))
                    .hasAtLeastOneElementOfType(SocketTimeoutException.class));

    // The emulator stores before it waits, so this holds at once; polling only guards a slow box.
    await().atMost(Duration.ofSeconds(5)).until(() -> emulator.csrs().size() == 2);
    assertThat(emulator.calls("UploadCsr", "OK")).isEqualTo(2);
  }

  private static List<Throwable> causes(Throwable thrown) {
    List<Throwable> chain = new ArrayList<>();
    for (Throwable t = thrown; t != null && !chain.contains(t); t = t.getCause()) {
      chain.add(t);
    }
    return chain;
  }

  @Test
  void concurrentUploadsAreAllStoredWithDistinctIds() throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(8);
    Set<Long> ids = ConcurrentHashMap.newKeySet();
    try {
      List<Future<?>> results = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        String name = "parallel-" + i;
        TestPki.Material material = i % 2 == 0 ? rsa : ec;
        results.add(threads.submit(() -> ids.add(upload(name, material.csrPem(), null))));
      }
      for (Future<?> result : results) {
        result.get();
      }
    } finally {
      threads.shutdownNow();
    }

    assertThat(ids).hasSize(200);
    assertThat(emulator.csrs()).hasSize(200);
    assertThat(emulator.calls("UploadCsr", "OK")).isEqualTo(200);
    assertThat(emulator.csrs()).extracting(StoredCsr::csrId).doesNotHaveDuplicates();
  }

  @Test
  void preSeededCsrIsListedAndAdoptable() throws Exception {
    StoredCsr seeded = emulator.putCsr("seeded-1", ec.csrPem(), null);

    ListCsrResponseBody list =
        client.listCsr(new ListCsrRequest().setKeyWord("seeded-1")).getBody();

    assertThat(list.getCsrList())
        .extracting(ListCsrResponseBodyCsrList::getCsrId)
        .containsExactly(seeded.csrId());
    client.updateCsr(new UpdateCsrRequest().setCsrId(seeded.csrId()).setKey(ec.pkcs8KeyPem()));
    assertThat(emulator.csr(seeded.csrId()).orElseThrow().hasPrivateKey()).isTrue();
    long next = upload("next", ec.csrPem(), null);
    assertThat(next).isGreaterThan(seeded.csrId());
  }

  @Test
  void resetForgetsCsrsCountersAndFaults() throws Exception {
    upload("before", rsa.csrPem(), null);
    emulator.setServerErrorRate(1.0);

    emulator.reset();

    assertThat(emulator.csrs()).isEmpty();
    assertThat(emulator.callStats()).isEmpty();
    upload("after", rsa.csrPem(), null);
    assertThat(emulator.calls("UploadCsr")).isEqualTo(1);
  }
}
