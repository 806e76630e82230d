package dev.aliyuncsr.operator.emulator;

import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.ACCOUNT;
import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.OTHER_ACCOUNT;
import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.call;
import static dev.aliyuncsr.operator.emulator.CasEmulatorInstancesTest.teaError;
import static org.assertj.core.api.Assertions.assertThat;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.GetUserCertificateDetailRequest;
import com.aliyun.tea.TeaException;
import dev.aliyuncsr.operator.testing.TestPki;
import java.security.KeyPair;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every refusal of cas-instance-api.md: each error code of §5 and each "no" of the when-allowed
 * table in §2, through the real SDK. A refused call must leave the instance as it was.
 */
class CasEmulatorInstanceRefusalsTest {
  private static final String AK = "LTAI-refusals-a";
  private static final String SECRET = "secret-a";
  private static final String OTHER_AK = "LTAI-refusals-b";
  private static final String OTHER_SECRET = "secret-b";
  private static final String UNKNOWN_ID = "cas_dv-cn-000000000000";
  private static final List<String> INSTANCE_ACTIONS =
      List.of(
          "UpdateInstance", "ApplyCertificate", "GetInstanceDetail", "CancelPendingCertificate");

  private static TestPki.Material rsa;
  private static TestPki.Material rsaOneName;
  private static TestPki.Material ec;
  private static TestPki.Material ec384;
  private static TestPki.Material wildcard;

  private CasEmulator emulator;
  private Client client;

  @BeforeAll
  static void generateKeys() {
    rsa = TestPki.rsaCsr(2048, "example.com", "example.com", "shop.example.com");
    rsaOneName = TestPki.csr(rsa.keyPair(), "rsa.example.com");
    ec = TestPki.ecCsr("secp256r1", "ec.example.org");
    ec384 = TestPki.ecCsr("secp384r1", "p384.example.org");
    wildcard = TestPki.csr(ec.keyPair(), "*.example.org");
  }

  @BeforeEach
  void startEmulator() throws Exception {
    emulator =
        CasEmulator.builder()
            .accessKey(ACCOUNT, AK, SECRET)
            .accessKey(OTHER_ACCOUNT, OTHER_AK, OTHER_SECRET)
            .build()
            .start();
    client = CasEmulatorInstancesTest.client(emulator, AK, SECRET);
  }

  @AfterEach
  void stopEmulator() {
    emulator.close();
  }

  private String code(String action, Map<String, Object> parameters) {
    return CasEmulatorInstancesTest.code(client, action, parameters);
  }

  private static Map<String, Object> upload(String instanceId, TestPki.Material csr) {
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("InstanceId", instanceId);
    parameters.put("GenerateCsrMethod", "upload");
    parameters.put("Csr", csr.csrPem());
    return parameters;
  }

  private static Map<String, Object> with(
      Map<String, Object> parameters, String name, Object value) {
    Map<String, Object> copy = new LinkedHashMap<>(parameters);
    if (value == null) {
      copy.remove(name);
    } else {
      copy.put(name, value);
    }
    return copy;
  }

  /**
   * Just the id, plus for UpdateInstance the Domain its default ({@code online}) needs: the request
   * alone is checked before the instance is looked up.
   */
  private static Map<String, Object> naming(String action, String instanceId) {
    return action.equals("UpdateInstance")
        ? Map.of("InstanceId", instanceId, "Domain", "a.example.com", "KeyAlgorithm", "ECC_256")
        : Map.of("InstanceId", instanceId);
  }

  private CertificateInstance instance(String id) {
    return emulator.instance(id).orElseThrow();
  }

  // ---- §5: the parameters ----

  @Test
  void missingIdsAreNamedByEveryAction() {
    for (String action : INSTANCE_ACTIONS) {
      assertThat(code(action, Map.of())).as(action).isEqualTo("MissingInstanceId");
    }
    TeaException noCertId =
        teaError(() -> client.getUserCertificateDetail(new GetUserCertificateDetailRequest()));
    assertThat(noCertId.getCode()).isEqualTo("MissingCertId");
    assertThat(noCertId.getStatusCode()).isEqualTo(400);
  }

  @Test
  void anInstanceIdOffTheShapeIsInvalid() {
    for (String action : INSTANCE_ACTIONS) {
      for (String id : List.of("CAS_DV-CN-1", "dv-cn-123", "cas dv", "cas_dv/../x")) {
        assertThat(code(action, Map.of("InstanceId", id)))
            .as(action + " " + id)
            .isEqualTo("InvalidParameter.InstanceId");
      }
    }
  }

  @Test
  void anUnknownInstanceOrCertificateIsNotFoundAndTheMessageNamesIt() {
    for (String action : INSTANCE_ACTIONS) {
      TeaException error = teaError(() -> call(client, action, naming(action, UNKNOWN_ID)));
      assertThat(error.getCode()).as(action).isEqualTo("NotFound");
      assertThat(error.getStatusCode()).isEqualTo(400);
      assertThat(error.getMessage()).contains(UNKNOWN_ID);
    }
    TeaException noCertificate =
        teaError(
            () ->
                client.getUserCertificateDetail(
                    new GetUserCertificateDetailRequest().setCertId(999L)));
    assertThat(noCertificate.getCode()).isEqualTo("NotFound");
    assertThat(noCertificate.getStatusCode()).isEqualTo(400);
  }

  @Test
  void anotherAccountsInstanceAndCertificateAreNotFound() throws Exception {
    String theirs =
        emulator.buyInstance(
            OTHER_ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));
    long theirCertificate = instance(theirs).certificateId();
    String theirPending =
        emulator.buyInstance(
            OTHER_ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.PENDING));

    for (String action : INSTANCE_ACTIONS) {
      assertThat(code(action, naming(action, theirPending))).as(action).isEqualTo("NotFound");
    }
    assertThat(code("UpdateInstance", with(upload(theirs, ec), "KeyAlgorithm", "ECC_256")))
        .isEqualTo("NotFound");
    assertThat(
            teaError(
                    () ->
                        client.getUserCertificateDetail(
                            new GetUserCertificateDetailRequest().setCertId(theirCertificate)))
                .getCode())
        .isEqualTo("NotFound");
    assertThat(call(client, "ListInstances", Map.of())).containsEntry("TotalCount", 0L);
    assertThat(instance(theirPending).status()).as("untouched").isEqualTo("pending");

    Client owner = CasEmulatorInstancesTest.client(emulator, OTHER_AK, OTHER_SECRET);
    assertThat(call(owner, "GetInstanceDetail", Map.of("InstanceId", theirs)))
        .containsEntry("Status", "normal");
    assertThat(emulator.accountCalls(ACCOUNT, "GetInstanceDetail", "NotFound")).isEqualTo(1);
  }

  @Test
  void applicationDataIsCheckedBeforeAnythingIsStored() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    Map<String, Object> good = with(upload(id, ec), "KeyAlgorithm", "ECC_256");

    assertThat(code("UpdateInstance", with(good, "Csr", null))).isEqualTo("MissingCsr");
    assertThat(code("UpdateInstance", with(good, "Csr", "not a csr")))
        .isEqualTo("InvalidParameter.Csr");
    assertThat(code("UpdateInstance", with(good, "Csr", ec.pkcs8KeyPem())))
        .isEqualTo("InvalidParameter.Csr");
    assertThat(code("UpdateInstance", with(good, "Csr", tamper(ec.csrPem()))))
        .as("the signature does not verify")
        .isEqualTo("InvalidParameter.Csr");
    assertThat(code("UpdateInstance", with(good, "Csr", csrWithoutCommonName(ec.keyPair()))))
        .isEqualTo("InvalidParameter.Csr");
    assertThat(
            code(
                "UpdateInstance",
                Map.of("InstanceId", id, "GenerateCsrMethod", "online", "KeyAlgorithm", "ECC_256")))
        .isEqualTo("MissingDomain");
    assertThat(code("UpdateInstance", with(good, "GenerateCsrMethod", "paste")))
        .isEqualTo("InvalidParameter.GenerateCsrMethod");
    assertThat(code("UpdateInstance", with(good, "ValidationMethod", "EMAIL")))
        .isEqualTo("InvalidParameter.ValidationMethod");
    assertThat(code("UpdateInstance", with(good, "KeyAlgorithm", "RSA_1024")))
        .isEqualTo("InvalidParameter.KeyAlgorithm");
    assertThat(code("UpdateInstance", with(good, "AutoReissue", "sometimes")))
        .isEqualTo("InvalidParameter.AutoReissue");
    assertThat(code("UpdateInstance", with(good, "ContactIdList", List.of("first"))))
        .isEqualTo("InvalidParameter.ContactIdList");

    assertThat(instance(id).filledIn()).as("nothing stored").isFalse();
    call(client, "UpdateInstance", with(good, "ContactIdList", List.of(7L, 8L)));
    assertThat(instance(id).filledIn()).isTrue();
  }

  @Test
  void theCsrsKeyMustBeTheKeyAlgorithm() {
    String id = emulator.buyInstance(ACCOUNT);

    assertThat(code("UpdateInstance", upload(id, ec)))
        .as("the default is RSA_2048")
        .isEqualTo("InvalidParameter.KeyAlgorithm");
    assertThat(code("UpdateInstance", with(upload(id, rsaOneName), "KeyAlgorithm", "ECC_256")))
        .isEqualTo("InvalidParameter.KeyAlgorithm");
    assertThat(code("UpdateInstance", with(upload(id, rsaOneName), "KeyAlgorithm", "RSA_3072")))
        .isEqualTo("InvalidParameter.KeyAlgorithm");
    assertThat(code("UpdateInstance", with(upload(id, ec384), "KeyAlgorithm", "ECC_256")))
        .as("P-384 has no value")
        .isEqualTo("InvalidParameter.KeyAlgorithm");
    assertThat(instance(id).filledIn()).isFalse();
  }

  @Test
  void theNamesMustFitWhatTheInstanceWasBoughtFor() throws Exception {
    String single = emulator.buyInstance(ACCOUNT);

    assertThat(code("UpdateInstance", upload(single, rsa)))
        .as("two exact names on a one-name instance")
        .isEqualTo("InvalidParameter.Domain");
    assertThat(code("UpdateInstance", with(upload(single, wildcard), "KeyAlgorithm", "ECC_256")))
        .as("a wildcard on an instance without wildcards")
        .isEqualTo("InvalidParameter.Domain");
    assertThat(code("UpdateInstance", Map.of("InstanceId", single, "Domain", "bad_name!.example")))
        .isEqualTo("InvalidParameter.Domain");
    assertThat(code("UpdateInstance", Map.of("InstanceId", single, "Domain", "localhost")))
        .isEqualTo("InvalidParameter.Domain");
    assertThat(instance(single).filledIn()).isFalse();

    call(
        client,
        "UpdateInstance",
        Map.of(
            "InstanceId", single,
            "Domain", "example.net,www.example.net",
            "KeyAlgorithm", "ECC_256"));
    assertThat(instance(single).domains())
        .as("a www. twin is free")
        .containsExactly("example.net", "www.example.net");
  }

  @Test
  void listAndDownloadParametersAreChecked() {
    assertThat(code("ListInstances", Map.of("Status", "active")))
        .isEqualTo("InvalidParameter.Status");
    assertThat(code("ListInstances", Map.of("CertificateStatus", "valid")))
        .isEqualTo("InvalidParameter.CertificateStatus");
    assertThat(code("ListInstances", Map.of("InstanceType", "FREE")))
        .isEqualTo("InvalidParameter.InstanceType");
    assertThat(code("ListInstances", Map.of("CertificateType", "XV")))
        .isEqualTo("InvalidParameter.CertificateType");
    assertThat(code("ListInstances", Map.of("ShowSize", 0))).isEqualTo("InvalidParameter.ShowSize");
    assertThat(code("ListInstances", Map.of("ShowSize", 101)))
        .isEqualTo("InvalidParameter.ShowSize");
    assertThat(code("ListInstances", Map.of("CurrentPage", "first")))
        .isEqualTo("InvalidParameter.CurrentPage");
    assertThat(code("GetUserCertificateDetail", Map.of("CertId", "abc")))
        .isEqualTo("InvalidParameter.CertId");
    assertThat(code("GetUserCertificateDetail", Map.of("CertId", 1, "CertFilter", "yes")))
        .isEqualTo("InvalidParameter.CertFilter");
  }

  // ---- §2: when each call is allowed ----

  @Test
  void aNewInstanceCannotBeAppliedForOrCancelled() {
    String id = emulator.buyInstance(ACCOUNT);

    assertThat(code("ApplyCertificate", Map.of("InstanceId", id)))
        .isEqualTo("OperationDenied.ApplicationIncomplete");
    TeaException cancel =
        teaError(() -> call(client, "CancelPendingCertificate", Map.of("InstanceId", id)));
    assertThat(cancel.getCode()).isEqualTo("OperationDenied.InstanceStatus");
    assertThat(cancel.getMessage()).contains("inactive");
    assertThat(instance(id).status()).isEqualTo("inactive");
  }

  @Test
  void aFilledInInstanceCannotBeCancelled() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    call(client, "UpdateInstance", with(upload(id, ec), "KeyAlgorithm", "ECC_256"));

    assertThat(code("CancelPendingCertificate", Map.of("InstanceId", id)))
        .isEqualTo("OperationDenied.InstanceStatus");
    assertThat(instance(id).pendingResult()).isNull();
  }

  @Test
  void aPendingInstanceRefusesUpdateAndASecondApplication() throws Exception {
    String id = emulator.buyInstance(ACCOUNT);
    call(client, "UpdateInstance", with(upload(id, ec), "KeyAlgorithm", "ECC_256"));
    call(client, "ApplyCertificate", Map.of("InstanceId", id));
    List<ValidationRecord> records = instance(id).domainValidations();

    TeaException update =
        teaError(() -> call(client, "UpdateInstance", naming("UpdateInstance", id)));
    assertThat(update.getCode()).isEqualTo("OperationDenied.InstanceStatus");
    assertThat(update.getMessage()).contains("pending");
    assertThat(code("ApplyCertificate", Map.of("InstanceId", id)))
        .isEqualTo("OperationDenied.InstanceStatus");

    CertificateInstance after = instance(id);
    assertThat(after.csrPem()).isEqualTo(ec.csrPem());
    assertThat(after.domainValidations())
        .as("the same validation, not a new one")
        .isEqualTo(records);
  }

  @Test
  void aPendingInstanceUnderReviewStillRefusesUpdate() throws Exception {
    String id =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.PENDING));
    emulator.completeValidation(id, java.time.Duration.ofHours(1));

    assertThat(code("UpdateInstance", naming("UpdateInstance", id)))
        .isEqualTo("OperationDenied.InstanceStatus");
    assertThat(code("ApplyCertificate", Map.of("InstanceId", id)))
        .isEqualTo("OperationDenied.InstanceStatus");
  }

  @Test
  void anIssuedInstanceRefusesUpdateApplyAndCancel() {
    String id =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));
    long certificateId = instance(id).certificateId();

    for (String action : List.of("ApplyCertificate", "CancelPendingCertificate")) {
      TeaException error = teaError(() -> call(client, action, Map.of("InstanceId", id)));
      assertThat(error.getCode()).as(action).isEqualTo("OperationDenied.InstanceStatus");
      assertThat(error.getMessage()).contains("normal");
    }
    assertThat(code("UpdateInstance", with(upload(id, ec), "KeyAlgorithm", "ECC_256")))
        .as("re-issue is not supported")
        .isEqualTo("OperationDenied.InstanceStatus");
    assertThat(instance(id).certificateId()).isEqualTo(certificateId);
  }

  @Test
  void readsAreAllowedInEveryState() throws Exception {
    String inactive = emulator.buyInstance(ACCOUNT);
    String pending =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.PENDING));
    String normal =
        emulator.buyInstance(
            ACCOUNT, InstanceOptions.defaults().stage(InstanceOptions.Stage.NORMAL));

    for (String id : List.of(inactive, pending, normal)) {
      assertThat(call(client, "GetInstanceDetail", Map.of("InstanceId", id)))
          .containsEntry("Status", instance(id).status());
    }
    assertThat(call(client, "ListInstances", Map.of())).containsEntry("TotalCount", 3L);
  }

  // ---- helpers ----

  /** Flips one bit near the end of the DER, inside the signature. */
  private static String tamper(String csrPem) {
    String base64 =
        csrPem
            .replace("-----BEGIN CERTIFICATE REQUEST-----", "")
            .replace("-----END CERTIFICATE REQUEST-----", "")
            .replaceAll("\\s", "");
    byte[] der = Base64.getDecoder().decode(base64);
    der[der.length - 5] ^= 0x01;
    return TestPki.pem("CERTIFICATE REQUEST", der);
  }

  private static String csrWithoutCommonName(KeyPair key) throws Exception {
    var csr =
        new JcaPKCS10CertificationRequestBuilder(new X500Name("O=Test,C=CN"), key.getPublic())
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()));
    return TestPki.pem("CERTIFICATE REQUEST", TestPki.der(csr));
  }
}
