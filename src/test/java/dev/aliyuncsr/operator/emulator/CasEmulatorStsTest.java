package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.ListCsrRequest;
import com.aliyun.cas20200407.models.UploadCsrRequest;
import com.aliyun.credentials.models.CredentialModel;
import com.aliyun.credentials.provider.OIDCRoleArnCredentialProvider;
import com.aliyun.credentials.provider.RamRoleArnCredentialProvider;
import com.aliyun.tea.TeaException;
import com.aliyun.teaopenapi.models.Config;
import dev.aliyuncsr.operator.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STS AssumeRole and AssumeRoleWithOIDC through the real credentials-java 1.0.3 providers, and the
 * temporary keys they get used by the real CAS SDK in the role's account.
 *
 * <p>credentials-java always calls {@code https://<STSEndpoint>} with the JVM's default trust store
 * and host-name check, so the emulator serves a TLS port too and each test trusts its certificate
 * through {@code javax.net.ssl.trustStore} ({@link CasEmulator#trustForJvmClients()}) for as long
 * as it runs. The providers are otherwise unchanged: the requests, their v1 signatures (AssumeRole)
 * and form bodies (AssumeRoleWithOIDC), and the parsing of the answers are the library's own.
 */
class CasEmulatorStsTest {
  private static final String OPERATOR_ACCOUNT = "1111111111111111";
  private static final String TENANT_ACCOUNT = "2222222222222222";
  private static final String AK = "LTAI-operator";
  private static final String SECRET = "operator-secret";
  private static final String TENANT_AK = "LTAI-tenant";
  private static final String TENANT_SECRET = "tenant-secret";
  private static final String ROLE = "acs:ram::" + TENANT_ACCOUNT + ":role/cas-writer";
  private static final String OIDC_ROLE = "acs:ram::" + TENANT_ACCOUNT + ":role/rrsa-cas";
  private static final String PROVIDER =
      "acs:ram::" + TENANT_ACCOUNT + ":oidc-provider/ack-rrsa-c0ffee";
  private static final String ISSUER =
      "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0ffee";
  private static final String AUDIENCE = "sts.aliyuncs.com";
  private static final String SUBJECT = "system:serviceaccount:ops:aliyun-csr-operator";

  private static TestPki.Material rsa;
  private static KeyPair oidcSigner;

  @TempDir Path tempDir;

  private CasEmulator emulator;
  private AutoCloseable trust;

  @BeforeAll
  static void generateKeys() {
    rsa = TestPki.rsaCsr(2048, "sts.example.com", "sts.example.com");
    oidcSigner = TestPki.rsa(2048);
  }

  @BeforeEach
  void startEmulator() {
    emulator =
        CasEmulator.builder()
            .accessKey(OPERATOR_ACCOUNT, AK, SECRET)
            .accessKey(TENANT_ACCOUNT, TENANT_AK, TENANT_SECRET)
            .role(ROLE, OPERATOR_ACCOUNT)
            .roleExternalId(ROLE, "ext-42")
            .oidcProvider(PROVIDER, ISSUER, AUDIENCE)
            .oidcProviderSigningKey(PROVIDER, oidcSigner.getPublic())
            .oidcRole(OIDC_ROLE, PROVIDER, SUBJECT)
            .https()
            .build()
            .start();
    trust = emulator.trustForJvmClients();
  }

  @AfterEach
  void stopEmulator() throws Exception {
    trust.close();
    emulator.close();
  }

  private RamRoleArnCredentialProvider.Builder assumeRole() {
    return RamRoleArnCredentialProvider.builder()
        .accessKeyId(AK)
        .accessKeySecret(SECRET)
        .roleArn(ROLE)
        .roleSessionName("aliyun-csr-operator")
        .externalId("ext-42")
        .durationSeconds(900)
        .STSEndpoint(emulator.stsEndpoint());
  }

  private OIDCRoleArnCredentialProvider oidc(String roleArn, String token) throws Exception {
    Path tokenFile = Files.writeString(tempDir.resolve("token-" + System.nanoTime()), token);
    return OIDCRoleArnCredentialProvider.builder()
        .roleArn(roleArn)
        .oidcProviderArn(PROVIDER)
        .oidcTokenFilePath(tokenFile.toString())
        .roleSessionName("rrsa-session")
        .STSEndpoint(emulator.stsEndpoint())
        .build();
  }

  private Client cas(com.aliyun.credentials.Client credentials) throws Exception {
    return new Client(
        new Config()
            .setEndpoint(emulator.endpoint())
            .setProtocol("HTTP")
            .setRegionId("cn-hangzhou")
            .setCredential(credentials));
  }

  private Client cas(CredentialModel sts) throws Exception {
    return new Client(
        new Config()
            .setEndpoint(emulator.endpoint())
            .setProtocol("HTTP")
            .setRegionId("cn-hangzhou")
            .setAccessKeyId(sts.getAccessKeyId())
            .setAccessKeySecret(sts.getAccessKeySecret())
            .setSecurityToken(sts.getSecurityToken()));
  }

  private static String jwt(String issuer, String audience, String subject, Instant expiry)
      throws Exception {
    return jwt(issuer, audience, subject, expiry, oidcSigner.getPrivate());
  }

  private static String jwt(
      String issuer, String audience, String subject, Instant expiry, PrivateKey signer)
      throws Exception {
    return TestPki.jwt(issuer, audience, subject, expiry, signer);
  }

  private static String failure(Runnable call) {
    Throwable thrown = catchThrowable(call::run);
    assertThat(thrown).as("the provider refuses").isNotNull();
    return String.valueOf(thrown.getMessage());
  }

  @Test
  void assumeRoleGivesKeysOfTheRolesAccount() throws Exception {
    RamRoleArnCredentialProvider provider = assumeRole().build();

    CredentialModel credentials = provider.getCredentials();

    assertThat(credentials.getAccessKeyId()).startsWith("STS.");
    assertThat(credentials.getSecurityToken()).isNotBlank();
    assertThat(credentials.getExpiration())
        .isBetween(
            Instant.now().plusSeconds(890).toEpochMilli(),
            Instant.now().plusSeconds(901).toEpochMilli());
    assertThat(emulator.accountOfAccessKey(credentials.getAccessKeyId())).contains(TENANT_ACCOUNT);
    assertThat(emulator.accountCalls(OPERATOR_ACCOUNT, "AssumeRole", CasEmulator.OK)).isEqualTo(1);

    // The provider itself as the SDK's credential: the CSR lands in the role's account.
    Client tenant = cas(new com.aliyun.credentials.Client(provider));
    long csrId = tenant.uploadCsr(new UploadCsrRequest().setCsr(rsa.csrPem())).getBody().getCsrId();
    assertThat(emulator.accountOf(csrId)).contains(TENANT_ACCOUNT);
    assertThat(emulator.csrs(OPERATOR_ACCOUNT)).isEmpty();
    assertThat(emulator.accountCalls(TENANT_ACCOUNT, "UploadCsr", CasEmulator.OK)).isEqualTo(1);

    // The temporary key pins its token.
    Client noToken =
        new Client(
            new Config()
                .setEndpoint(emulator.endpoint())
                .setProtocol("HTTP")
                .setRegionId("cn-hangzhou")
                .setAccessKeyId(credentials.getAccessKeyId())
                .setAccessKeySecret(credentials.getAccessKeySecret()));
    Throwable refused = catchThrowable(() -> noToken.listCsr(new ListCsrRequest()));
    assertThat(((TeaException) refused).getCode())
        .isEqualTo("InvalidSecurityToken.MismatchWithAccessKey");
  }

  @Test
  void assumeRoleChecksItsInputsAsStsDoes() {
    assertThat(failure(() -> assumeRole().externalId("wrong").build().getCredentials()))
        .contains("HttpCode: 403")
        .contains("NoPermission");
    assertThat(failure(() -> assumeRole().externalId(null).build().getCredentials()))
        .contains("NoPermission");
    // The tenant's own key: the role trusts only the operator's account.
    assertThat(
            failure(
                () ->
                    assumeRole()
                        .accessKeyId(TENANT_AK)
                        .accessKeySecret(TENANT_SECRET)
                        .build()
                        .getCredentials()))
        .contains("NoPermission");
    assertThat(
            failure(
                () ->
                    assumeRole()
                        .roleArn("acs:ram::" + TENANT_ACCOUNT + ":role/nope")
                        .build()
                        .getCredentials()))
        .contains("HttpCode: 404")
        .contains("EntityNotExist.Role");
    assertThat(failure(() -> assumeRole().roleSessionName("a").build().getCredentials()))
        .contains("InvalidParameter.RoleSessionName");
    assertThat(failure(() -> assumeRole().durationSeconds(7200).build().getCredentials()))
        .contains("InvalidParameter.DurationSeconds");
    assertThat(failure(() -> assumeRole().accessKeySecret("bad").build().getCredentials()))
        .contains("SignatureDoesNotMatch");
    assertThat(failure(() -> assumeRole().accessKeyId("LTAI-nobody").build().getCredentials()))
        .contains("InvalidAccessKeyId.NotFound");
    emulator.disableAccessKey(AK);
    assertThat(failure(() -> assumeRole().build().getCredentials()))
        .contains("InvalidAccessKeyId.Inactive");

    assertThat(emulator.calls("AssumeRole", CasEmulator.OK)).isZero();
    assertThat(emulator.accountCalls(OPERATOR_ACCOUNT, "AssumeRole", "NoPermission")).isEqualTo(2);
    assertThat(emulator.accountCalls(TENANT_ACCOUNT, "AssumeRole", "NoPermission")).isEqualTo(1);
  }

  @Test
  void stsKeysExpireOnTheEmulatorsClock() throws Exception {
    CredentialModel credentials = assumeRole().build().getCredentials();
    Client tenant = cas(credentials);
    tenant.listCsr(new ListCsrRequest());

    emulator.setClock(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(901)));

    Throwable expired = catchThrowable(() -> tenant.listCsr(new ListCsrRequest()));
    assertThat(((TeaException) expired).getCode()).isEqualTo("InvalidSecurityToken.Expired");
    assertThat(((TeaException) expired).getStatusCode()).isEqualTo(400);
  }

  @Test
  void assumeRoleWithOidcGivesKeysOfTheRolesAccount() throws Exception {
    String token = jwt(ISSUER, AUDIENCE, SUBJECT, Instant.now().plusSeconds(3600));
    OIDCRoleArnCredentialProvider provider = oidc(OIDC_ROLE, token);

    CredentialModel credentials = provider.getCredentials();

    assertThat(credentials.getType()).isEqualTo("oidc_role_arn");
    assertThat(emulator.accountOfAccessKey(credentials.getAccessKeyId())).contains(TENANT_ACCOUNT);
    Client tenant = cas(new com.aliyun.credentials.Client(provider));
    long csrId = tenant.uploadCsr(new UploadCsrRequest().setCsr(rsa.csrPem())).getBody().getCsrId();
    assertThat(emulator.csrs(TENANT_ACCOUNT)).extracting(StoredCsr::csrId).containsExactly(csrId);
    assertThat(emulator.accountCalls(TENANT_ACCOUNT, "AssumeRoleWithOIDC", CasEmulator.OK))
        .isEqualTo(1);
  }

  @Test
  void assumeRoleWithOidcChecksTheToken() throws Exception {
    Instant later = Instant.now().plusSeconds(3600);
    assertThat(
            failure(
                () ->
                    uncheck(() -> oidc(OIDC_ROLE, jwt(ISSUER, "other", SUBJECT, later)))
                        .getCredentials()))
        .contains("HttpCode: 401")
        .contains("AuthenticationFail.OIDCToken.AudienceNotMatch");
    assertThat(
            failure(
                () ->
                    uncheck(() -> oidc(OIDC_ROLE, jwt("https://evil", AUDIENCE, SUBJECT, later)))
                        .getCredentials()))
        .contains("AuthenticationFail.OIDCToken.IssuerNotMatch");
    assertThat(
            failure(
                () ->
                    uncheck(
                            () ->
                                oidc(
                                    OIDC_ROLE,
                                    jwt(ISSUER, AUDIENCE, "system:serviceaccount:x:y", later)))
                        .getCredentials()))
        .contains("AuthenticationFail.NoPermission");
    assertThat(
            failure(
                () ->
                    uncheck(
                            () ->
                                oidc(
                                    OIDC_ROLE,
                                    jwt(ISSUER, AUDIENCE, SUBJECT, Instant.now().minusSeconds(5))))
                        .getCredentials()))
        .contains("AuthenticationFail.OIDCToken.Expired");
    PrivateKey otherSigner = TestPki.rsa(2048).getPrivate();
    assertThat(
            failure(
                () ->
                    uncheck(
                            () ->
                                oidc(OIDC_ROLE, jwt(ISSUER, AUDIENCE, SUBJECT, later, otherSigner)))
                        .getCredentials()))
        .contains("AuthenticationFail.OIDCToken.InvalidSignature");
    assertThat(failure(() -> uncheck(() -> oidc(OIDC_ROLE, "not-a-jwt")).getCredentials()))
        .contains("AuthenticationFail.OIDCToken.Invalid");
    // A role that trusts no OIDC provider.
    assertThat(
            failure(
                () ->
                    uncheck(() -> oidc(ROLE, jwt(ISSUER, AUDIENCE, SUBJECT, later)))
                        .getCredentials()))
        .contains("AuthenticationFail.NoPermission");
    assertThat(emulator.calls("AssumeRoleWithOIDC", CasEmulator.OK)).isZero();
  }

  @Test
  void stsAnswersOnThePlainPortToo() throws Exception {
    // The emulator routes on the API version, so a plain-HTTP STS client would work as well;
    // credentials-java cannot be one (its scheme is fixed), hence the TLS port above.
    java.net.http.HttpResponse<String> answer =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            "http://"
                                + emulator.endpoint()
                                + "/?Action=AssumeRoleWithOIDC&Version=2015-04-01&Format=JSON"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(
                        java.net.http.HttpRequest.BodyPublishers.ofString(
                            "RoleArn="
                                + java.net.URLEncoder.encode(OIDC_ROLE, StandardCharsets.UTF_8)
                                + "&OIDCProviderArn="
                                + java.net.URLEncoder.encode(PROVIDER, StandardCharsets.UTF_8)
                                + "&OIDCToken="
                                + jwt(ISSUER, AUDIENCE, SUBJECT, Instant.now().plusSeconds(60))
                                + "&DurationSeconds=900"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body())
        .contains("\"AssumedRoleUser\"")
        .contains("\"Arn\":\"" + OIDC_ROLE + "/oidc-session\"")
        .contains("\"SecurityToken\"")
        .contains("\"Expiration\"")
        .contains("\"Subject\":\"" + SUBJECT + "\"")
        .contains("\"RequestId\"");
  }

  @FunctionalInterface
  private interface ThrowingSupplier<T> {
    T get() throws Exception;
  }

  private static <T> T uncheck(ThrowingSupplier<T> supplier) {
    try {
      return supplier.get();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
