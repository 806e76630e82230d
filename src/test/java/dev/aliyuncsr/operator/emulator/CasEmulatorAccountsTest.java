package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.DeleteCsrRequest;
import com.aliyun.cas20200407.models.GetCsrDetailRequest;
import com.aliyun.cas20200407.models.ListCsrRequest;
import com.aliyun.cas20200407.models.UpdateCsrRequest;
import com.aliyun.cas20200407.models.UploadCsrRequest;
import com.aliyun.tea.TeaException;
import com.aliyun.teaopenapi.models.Config;
import dev.aliyuncsr.operator.testing.TestPki;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Several Alibaba Cloud accounts in one emulator, through the real SDK (cas20200407 2.0.1). */
class CasEmulatorAccountsTest {
  private static final String ACCOUNT_A = "1111111111111111";
  private static final String ACCOUNT_B = "2222222222222222";
  private static final String AK_A = "LTAI-account-a";
  private static final String SECRET_A = "secret-a";
  private static final String AK_B = "LTAI-account-b";
  private static final String SECRET_B = "secret-b";

  private static TestPki.Material rsa;

  private CasEmulator emulator;
  private Client clientA;
  private Client clientB;

  @BeforeAll
  static void generateKeys() {
    rsa = TestPki.rsaCsr(2048, "accounts.example.com", "accounts.example.com");
  }

  @BeforeEach
  void startEmulator() throws Exception {
    emulator =
        CasEmulator.builder()
            .accessKey(ACCOUNT_A, AK_A, SECRET_A)
            .accessKey(ACCOUNT_B, AK_B, SECRET_B)
            .seed(7)
            .build()
            .start();
    clientA = client(AK_A, SECRET_A);
    clientB = client(AK_B, SECRET_B);
  }

  @AfterEach
  void stopEmulator() {
    emulator.close();
  }

  private Client client(String accessKeyId, String secret) throws Exception {
    return new Client(
        new Config()
            .setEndpoint(emulator.endpoint())
            .setProtocol("HTTP")
            .setRegionId("cn-hangzhou")
            .setAccessKeyId(accessKeyId)
            .setAccessKeySecret(secret));
  }

  private static long upload(Client client, String name) throws Exception {
    return client
        .uploadCsr(new UploadCsrRequest().setName(name).setCsr(rsa.csrPem()))
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

  @Test
  void accountsDoNotSeeEachOthersCsrs() throws Exception {
    long inA = upload(clientA, "in-a");
    long inB = upload(clientB, "in-b");
    assertThat(inB).as("CsrIds are unique across accounts").isNotEqualTo(inA);

    assertThat(clientA.listCsr(new ListCsrRequest()).getBody().getCsrList())
        .extracting(item -> item.getCsrId())
        .containsExactly(inA);
    assertThat(clientB.listCsr(new ListCsrRequest()).getBody().getTotalCount()).isEqualTo(1L);

    // Every CsrId operation on the other account's CSR answers as for an unknown CsrId.
    TeaException unknown =
        teaError(() -> clientA.getCsrDetail(new GetCsrDetailRequest().setCsrId(123_456_789L)));
    TeaException get =
        teaError(() -> clientA.getCsrDetail(new GetCsrDetailRequest().setCsrId(inB)));
    TeaException update =
        teaError(
            () ->
                clientA.updateCsr(new UpdateCsrRequest().setCsrId(inB).setKey(rsa.pkcs8KeyPem())));
    TeaException delete = teaError(() -> clientA.deleteCsr(new DeleteCsrRequest().setCsrId(inB)));
    for (TeaException foreign : new TeaException[] {get, update, delete}) {
      assertThat(foreign.getCode()).isEqualTo(unknown.getCode()).isEqualTo("NotFound.Csr");
      assertThat(foreign.getStatusCode()).isEqualTo(unknown.getStatusCode());
    }
    assertThat(emulator.csr(inB)).get().matches(csr -> !csr.hasPrivateKey());
    assertThat(emulator.accountOf(inB)).contains(ACCOUNT_B);
    assertThat(emulator.csrs(ACCOUNT_B)).extracting(StoredCsr::csrId).containsExactly(inB);

    clientB.deleteCsr(new DeleteCsrRequest().setCsrId(inB));
    assertThat(emulator.csrs(ACCOUNT_B)).isEmpty();
    assertThat(emulator.csrs(ACCOUNT_A)).extracting(StoredCsr::csrId).containsExactly(inA);
  }

  @Test
  void consoleActsInOneAccount() throws Exception {
    StoredCsr seeded = emulator.putCsr(ACCOUNT_B, "seeded", rsa.csrPem(), null);
    long inA = upload(clientA, "in-a");

    assertThat(clientA.listCsr(new ListCsrRequest()).getBody().getTotalCount()).isEqualTo(1L);
    assertThat(clientB.listCsr(new ListCsrRequest()).getBody().getCsrList().get(0).getCsrId())
        .isEqualTo(seeded.csrId());
    assertThat(emulator.deleteInConsole(ACCOUNT_B, inA)).as("not B's CSR").isFalse();
    assertThat(emulator.deleteInConsole(ACCOUNT_A, inA)).isTrue();
    assertThat(emulator.csrs(ACCOUNT_A)).isEmpty();
    assertThat(emulator.csrs()).extracting(StoredCsr::csrId).containsExactly(seeded.csrId());
    assertThat(emulator.accountCalls(ACCOUNT_B)).as("the console makes no API call").isEqualTo(1);
  }

  @Test
  void existingSingleKeyCallsUseTheDefaultAccount() throws Exception {
    try (CasEmulator single = CasEmulator.builder().accessKey("ak", "sk").build().start()) {
      StoredCsr seeded = single.putCsr("seeded", rsa.csrPem(), null);
      assertThat(single.accountOf(seeded.csrId())).contains(CasEmulator.DEFAULT_ACCOUNT);
      assertThat(single.accountOfAccessKey("ak")).contains(CasEmulator.DEFAULT_ACCOUNT);
      assertThat(single.csrs(CasEmulator.DEFAULT_ACCOUNT)).hasSize(1);
    }
  }

  @Test
  void uploadLimitCountsPerAccount() throws Exception {
    emulator.setRateLimit(ACCOUNT_A, "UploadCsr", 1);
    emulator.setRateLimit(ACCOUNT_B, "UploadCsr", 10);

    int throttledA = 0;
    for (int i = 0; i < 5; i++) {
      try {
        upload(clientA, "a-" + i);
      } catch (TeaException e) {
        assertThat(e.getCode()).isEqualTo("Throttling.User");
        assertThat(e.getStatusCode()).isEqualTo(400);
        throttledA++;
      }
    }
    // Five calls on loopback take far less than the seconds 1/s would need.
    assertThat(throttledA).isPositive();
    assertThat(emulator.accountCalls(ACCOUNT_B)).as("0 calls from account B").isZero();

    // B's 10/s is its own: A's throttling does not touch it (5 calls stay inside any one second).
    for (int i = 0; i < 5; i++) {
      upload(clientB, "b-" + i);
    }
    assertThat(emulator.accountCalls(ACCOUNT_B, "UploadCsr", CasEmulator.OK)).isEqualTo(5);
    assertThat(emulator.accountCalls(ACCOUNT_A, "UploadCsr", "Throttling.User"))
        .isEqualTo(throttledA);
    assertThat(emulator.accountCalls(ACCOUNT_B, "UploadCsr", "Throttling.User")).isZero();
    // The global counters still add up every account.
    assertThat(emulator.calls("UploadCsr")).isEqualTo(10);
    assertThat(emulator.accountCallStats(ACCOUNT_A).get("UploadCsr"))
        .containsEntry("Throttling.User", throttledA);
  }

  @Test
  void defaultLimitAppliesToEachAccountSeparately() throws Exception {
    try (CasEmulator limited =
        CasEmulator.builder()
            .accessKey(ACCOUNT_A, AK_A, SECRET_A)
            .accessKey(ACCOUNT_B, AK_B, SECRET_B)
            .rateLimit("ListCsr", 1)
            .rateLimit(ACCOUNT_B, "ListCsr", 0)
            .build()
            .start()) {
      Client a =
          new Client(
              new Config()
                  .setEndpoint(limited.endpoint())
                  .setProtocol("HTTP")
                  .setRegionId("cn-hangzhou")
                  .setAccessKeyId(AK_A)
                  .setAccessKeySecret(SECRET_A));
      Client b =
          new Client(
              new Config()
                  .setEndpoint(limited.endpoint())
                  .setProtocol("HTTP")
                  .setRegionId("cn-hangzhou")
                  .setAccessKeyId(AK_B)
                  .setAccessKeySecret(SECRET_B));
      a.listCsr(new ListCsrRequest());
      assertThat(teaError(() -> a.listCsr(new ListCsrRequest())).getCode())
          .isEqualTo("Throttling.User");
      for (int i = 0; i < 3; i++) {
        b.listCsr(new ListCsrRequest()); // B is unlimited by its own setting
      }
      limited.reset(); // builder limits survive a reset
      assertThat(limited.accountCalls(ACCOUNT_A)).isZero();
      Thread.sleep(1_050);
      a.listCsr(new ListCsrRequest());
      assertThat(teaError(() -> a.listCsr(new ListCsrRequest())).getCode())
          .isEqualTo("Throttling.User");
    }
  }

  @Test
  void keyRotation_newKeyWorksAndTheOldOneIsRefused() throws Exception {
    long before = upload(clientA, "before-rotation");

    emulator.addAccessKey(ACCOUNT_A, "LTAI-account-a-2", "secret-a-2");
    Client rotated = client("LTAI-account-a-2", "secret-a-2");
    assertThat(rotated.listCsr(new ListCsrRequest()).getBody().getCsrList())
        .as("the same account's CSRs under the new key")
        .extracting(item -> item.getCsrId())
        .containsExactly(before);
    assertThat(emulator.accessKeyIds(ACCOUNT_A))
        .containsExactlyInAnyOrder(AK_A, "LTAI-account-a-2");

    assertThat(emulator.disableAccessKey(AK_A)).isTrue();
    TeaException disabled = teaError(() -> clientA.listCsr(new ListCsrRequest()));
    assertThat(disabled.getCode()).isEqualTo("InvalidAccessKeyId.Inactive");
    assertThat(disabled.getStatusCode()).isEqualTo(400);
    assertThat(emulator.accountCalls(ACCOUNT_A, "ListCsr", "InvalidAccessKeyId.Inactive"))
        .as("counted for the account whose key it names")
        .isEqualTo(1);

    assertThat(emulator.enableAccessKey(AK_A)).isTrue();
    clientA.listCsr(new ListCsrRequest());

    assertThat(emulator.removeAccessKey(AK_A)).isTrue();
    TeaException removed = teaError(() -> clientA.listCsr(new ListCsrRequest()));
    assertThat(removed.getCode()).isEqualTo("InvalidAccessKeyId.NotFound");
    assertThat(removed.getStatusCode()).isEqualTo(404);
    rotated.deleteCsr(new DeleteCsrRequest().setCsrId(before));
    assertThat(emulator.csrs()).isEmpty();
    assertThat(emulator.disableAccessKey("no-such-key")).isFalse();
  }

  @Test
  void mainTakesAccountsLimitsAndRolesFromTheEnvironment() throws Exception {
    java.util.Map<String, String> env =
        java.util.Map.of(
            "CAS_EMULATOR_ACCOUNTS", ACCOUNT_B + ":" + AK_B + ":" + SECRET_B,
            "CAS_EMULATOR_RATE_LIMITS", ACCOUNT_B + "/ListCsr=1",
            "CAS_EMULATOR_ROLES", "acs:ram::" + ACCOUNT_B + ":role/r=" + ACCOUNT_A + "|ext",
            "CAS_EMULATOR_OIDC_PROVIDERS",
                "acs:ram::" + ACCOUNT_B + ":oidc-provider/p|https://issuer|sts.aliyuncs.com",
            "CAS_EMULATOR_OIDC_ROLES",
                "acs:ram::" + ACCOUNT_B + ":role/o|acs:ram::" + ACCOUNT_B + ":oidc-provider/p");
    CasEmulator.Builder builder = CasEmulator.builder().accessKey("ak", "sk");
    CasEmulatorMain.configureFromEnvironment(builder, env::get);
    try (CasEmulator configured = builder.build().start()) {
      assertThat(configured.accountOfAccessKey(AK_B)).contains(ACCOUNT_B);
      Client b =
          new Client(
              new Config()
                  .setEndpoint(configured.endpoint())
                  .setProtocol("HTTP")
                  .setRegionId("cn-hangzhou")
                  .setAccessKeyId(AK_B)
                  .setAccessKeySecret(SECRET_B));
      b.listCsr(new ListCsrRequest());
      assertThat(teaError(() -> b.listCsr(new ListCsrRequest())).getCode())
          .isEqualTo("Throttling.User");
    }
  }
}
