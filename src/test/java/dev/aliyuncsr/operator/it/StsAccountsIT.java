package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AccountCredentials;
import dev.aliyuncsr.operator.api.AccountNamespaceSelector;
import dev.aliyuncsr.operator.api.AccountRef;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCasAccountSpec;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AssumeRoleCredentials;
import dev.aliyuncsr.operator.api.RrsaCredentials;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11: AliyunCasAccounts whose credentials come from STS reach Ready against the emulator's
 * STS, through the real credentials-java 1.0.3 providers (which always call STS over HTTPS; the
 * emulator's TLS listener is trusted for this JVM): AssumeRole from the operator's own identity,
 * and RRSA (AssumeRoleWithOIDC with a projected token file). Their uploads land in the role's
 * account.
 */
class StsAccountsIT {
  static final Duration WAIT = Duration.ofSeconds(90);
  static final String OPERATOR_ACCOUNT = "1111111111111111";
  static final String TENANT_ACCOUNT = "2222222222222222";
  static final String ROLE = "acs:ram::" + TENANT_ACCOUNT + ":role/cas-writer";
  static final String OIDC_ROLE = "acs:ram::" + TENANT_ACCOUNT + ":role/rrsa-cas";
  static final String PROVIDER = "acs:ram::" + TENANT_ACCOUNT + ":oidc-provider/ack-rrsa-test";
  static final String ISSUER = "https://oidc-ack.example.com/test";
  static final String SUBJECT = "system:serviceaccount:ops:aliyun-csr-operator";

  static CasEmulator sts;
  static AutoCloseable trust;
  static OperatorHarness harness;
  static Path tokenFile;
  static final String[] OWN_IDENTITY = {"alibabacloud.accessKeyId", "alibabacloud.accessKeySecret"};

  @BeforeAll
  static void start() throws Exception {
    KeyPair signer = TestPki.rsa(2048);
    sts =
        CasEmulator.builder()
            .accessKey(
                OPERATOR_ACCOUNT, OperatorHarness.ACCESS_KEY_ID, OperatorHarness.ACCESS_KEY_SECRET)
            .role(ROLE, OPERATOR_ACCOUNT)
            .roleExternalId(ROLE, "ext-42")
            .oidcProvider(PROVIDER, ISSUER, "sts.aliyuncs.com")
            .oidcProviderSigningKey(PROVIDER, signer.getPublic())
            .oidcRole(OIDC_ROLE, PROVIDER, SUBJECT)
            .https()
            .build()
            .start();
    trust = sts.trustForJvmClients();
    // The operator's own identity, as the default chain finds it (system properties first).
    System.setProperty(OWN_IDENTITY[0], OperatorHarness.ACCESS_KEY_ID);
    System.setProperty(OWN_IDENTITY[1], OperatorHarness.ACCESS_KEY_SECRET);
    tokenFile = Files.createTempFile("rrsa-token", ".jwt");
    Files.writeString(
        tokenFile,
        TestPki.jwt(
            ISSUER,
            "sts.aliyuncs.com",
            SUBJECT,
            Instant.now().plusSeconds(3600),
            signer.getPrivate()));
    harness =
        OperatorHarness.start(
            Map.of(
                "STS_ENDPOINT", sts.stsEndpoint(),
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE", tokenFile.toString()));
  }

  @AfterAll
  static void stop() throws Exception {
    harness.deleteAllAsOrphans();
    harness.deleteAllAccounts();
    harness.close();
    trust.close();
    for (String p : OWN_IDENTITY) {
      System.clearProperty(p);
    }
    sts.close();
    Files.deleteIfExists(tokenFile);
  }

  @Test
  void anAssumeRoleAccountReachesReadyAndUploadsIntoTheRolesAccount() {
    String ns = harness.newNamespace();
    AccountCredentials credentials = new AccountCredentials();
    AssumeRoleCredentials role = new AssumeRoleCredentials();
    role.setRoleArn(ROLE);
    role.setExternalId("ext-42");
    credentials.setAssumeRole(role);
    String name = "assumed-" + ns;
    account(name, credentials, ns);
    awaitAccountReady(name);
    AliyunCsr ready = upload(ns, "via-role", name);
    assertThat(uploadNames(TENANT_ACCOUNT)).contains(ready.getStatus().getUploadName());
    assertThat(uploadNames(OPERATOR_ACCOUNT)).doesNotContain(ready.getStatus().getUploadName());
    assertThat(sts.accountCalls(TENANT_ACCOUNT, "UploadCsr", CasEmulator.OK)).isPositive();
  }

  @Test
  void anRrsaAccountReachesReadyAndUploadsIntoTheRolesAccount() {
    String ns = harness.newNamespace();
    AccountCredentials credentials = new AccountCredentials();
    RrsaCredentials rrsa = new RrsaCredentials();
    rrsa.setRoleArn(OIDC_ROLE);
    rrsa.setOidcProviderArn(PROVIDER);
    credentials.setRrsa(rrsa);
    String name = "rrsa-" + ns;
    account(name, credentials, ns);
    awaitAccountReady(name);
    AliyunCsr ready = upload(ns, "via-rrsa", name);
    assertThat(uploadNames(TENANT_ACCOUNT)).contains(ready.getStatus().getUploadName());
  }

  @Test
  void aRoleThatRefusesTheOperatorLeavesTheAccountNotReadyAndItsResourcesWaiting() {
    String ns = harness.newNamespace();
    AccountCredentials credentials = new AccountCredentials();
    AssumeRoleCredentials role = new AssumeRoleCredentials();
    role.setRoleArn(ROLE);
    role.setExternalId("wrong");
    credentials.setAssumeRole(role);
    String name = "refused-" + ns;
    account(name, credentials, ns);
    AliyunCasAccount account =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.client.resources(AliyunCasAccount.class).withName(name).get(),
                a ->
                    a.getStatus() != null
                        && a.getStatus()
                            .condition("Ready")
                            .map(c -> "False".equals(c.getStatus()))
                            .orElse(false));
    String message = account.getStatus().condition("Ready").orElseThrow().getMessage();
    assertThat(message).doesNotContain(OperatorHarness.ACCESS_KEY_SECRET);
    var pki = TestPki.rsaCsr(2048, "refused.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    AliyunCsr r = aliyunCsr(ns, "waits", "csr", null);
    r.getSpec().setAccountRef(new AccountRef(name));
    harness.create(r);
    await()
        .atMost(WAIT)
        .until(
            () -> harness.get(ns, "waits"),
            x ->
                x.getStatus() != null
                    && x.getStatus()
                        .condition("Ready")
                        .map(c -> "AccountNotReady".equals(c.getReason()))
                        .orElse(false));
  }

  // ---- helpers ---------------------------------------------------------------------------------

  static void account(String name, AccountCredentials credentials, String namespace) {
    AliyunCasAccount account = new AliyunCasAccount();
    account.setMetadata(new ObjectMetaBuilder().withName(name).build());
    AliyunCasAccountSpec spec = new AliyunCasAccountSpec();
    spec.setCredentials(credentials);
    spec.setEndpoint(sts.endpoint());
    spec.setProtocol("HTTP");
    spec.setQps(20.0);
    AccountNamespaceSelector selector = new AccountNamespaceSelector();
    selector.setNames(List.of(namespace));
    spec.setNamespaceSelector(selector);
    account.setSpec(spec);
    harness.client.resource(account).create();
  }

  static void awaitAccountReady(String name) {
    harness.awaitAccountReady(name, WAIT);
  }

  static AliyunCsr upload(String ns, String name, String account) {
    var pki = TestPki.rsaCsr(2048, name + ".example.com");
    harness.secret(ns, name, Map.of("tls.csr", pki.csrPem()));
    AliyunCsr r = aliyunCsr(ns, name, name, null);
    r.getSpec().setAccountRef(new AccountRef(account));
    harness.create(r);
    return await().atMost(WAIT).until(() -> harness.get(ns, name), AliyunCsrIT::isReady);
  }

  static List<String> uploadNames(String account) {
    return sts.csrs(account).stream().map(StoredCsr::name).toList();
  }
}
