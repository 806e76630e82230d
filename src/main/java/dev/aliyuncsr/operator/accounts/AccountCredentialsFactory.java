package dev.aliyuncsr.operator.accounts;

import com.aliyun.credentials.provider.DefaultCredentialsProvider;
import com.aliyun.credentials.provider.OIDCRoleArnCredentialProvider;
import com.aliyun.credentials.provider.RamRoleArnCredentialProvider;
import dev.aliyuncsr.operator.api.AccessKeySecretRef;
import dev.aliyuncsr.operator.api.AccountCredentials;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.function.Function;

/**
 * Turns an account's {@code spec.credentials} into a credentials-java client (1.0.3): an AccessKey
 * pair from a Secret of the operator's namespace, RRSA (the operator's projected token exchanged by
 * AssumeRoleWithOIDC; the provider re-reads the token file at each refresh), or AssumeRole from the
 * operator's own identity. STS sessions refresh themselves inside the provider.
 *
 * <p>credentials-java always calls STS over HTTPS; {@code stsEndpoint} is only the host.
 */
final class AccountCredentialsFactory {
  /** Where ACK's pod identity webhook projects the RRSA token. */
  static final String ACK_RRSA_TOKEN = "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token";

  /** Why an account's credentials cannot be built; the message names what to fix, no values. */
  static final class Problem extends Exception {
    final String reason;

    Problem(String reason, String message) {
      super(message);
      this.reason = reason;
    }
  }

  private final String operatorNamespace;
  private final String stsEndpoint;
  private final String oidcTokenFile;
  private final Function<String, String> versions;
  private final Function<String, Secret> secrets;

  /**
   * @param versions the resourceVersion of a Secret of the operator's namespace, by name (null when
   *     absent), from a cache that keeps no data
   * @param secrets a Secret of the operator's namespace, by name (null when absent), read when the
   *     credentials are built: Secret data is held no longer than that
   */
  AccountCredentialsFactory(
      String operatorNamespace,
      String stsEndpoint,
      String oidcTokenFile,
      Function<String, String> versions,
      Function<String, Secret> secrets) {
    this.operatorNamespace = operatorNamespace;
    this.stsEndpoint = stsEndpoint;
    this.oidcTokenFile = oidcTokenFile;
    this.versions = versions;
    this.secrets = secrets;
  }

  /** {@link #version} of credentials that come from no Secret (RRSA, assumeRole). */
  static final String NO_SECRET = "";

  /** {@link #version} of credentials whose Secret does not exist. */
  static final String ABSENT = "absent";

  /**
   * What the credentials depend on besides the spec: the Secret's resourceVersion, {@link
   * #NO_SECRET} or {@link #ABSENT}.
   */
  String version(AliyunCasAccount account) {
    AccessKeySecretRef ref = credentials(account).getAccessKeySecretRef();
    if (ref == null) {
      return NO_SECRET;
    }
    String version = versions.apply(ref.getName());
    return version == null ? ABSENT : version;
  }

  /** The Secret's resourceVersion in a {@link #version}; null without a Secret. */
  static String secretVersion(String version) {
    return NO_SECRET.equals(version) || ABSENT.equals(version) ? null : version;
  }

  com.aliyun.credentials.Client create(AliyunCasAccount account) throws Problem {
    AccountCredentials credentials = credentials(account);
    String session =
        "aliyun-csr-operator-"
            + account.getMetadata().getName().replaceAll("[^A-Za-z0-9.@_-]", "-");
    if (credentials.getAccessKeySecretRef() != null) {
      return fromSecret(credentials.getAccessKeySecretRef());
    }
    if (credentials.getRrsa() != null) {
      var rrsa = credentials.getRrsa();
      return new com.aliyun.credentials.Client(
          OIDCRoleArnCredentialProvider.builder()
              .roleArn(rrsa.getRoleArn())
              .oidcProviderArn(rrsa.getOidcProviderArn())
              .oidcTokenFilePath(oidcTokenFile)
              .roleSessionName(rrsa.getSessionName() == null ? session : rrsa.getSessionName())
              .STSEndpoint(stsEndpoint)
              .build());
    }
    if (credentials.getAssumeRole() != null) {
      var role = credentials.getAssumeRole();
      RamRoleArnCredentialProvider.Builder builder =
          RamRoleArnCredentialProvider.builder()
              .credentialsProvider(DefaultCredentialsProvider.builder().build())
              .roleArn(role.getRoleArn())
              .roleSessionName(role.getSessionName() == null ? session : role.getSessionName())
              .STSEndpoint(stsEndpoint);
      if (role.getExternalId() != null) {
        builder.externalId(role.getExternalId());
      }
      return new com.aliyun.credentials.Client(builder.build());
    }
    throw new Problem(
        "InvalidCredentials",
        "spec.credentials names none of accessKeySecretRef, rrsa, assumeRole");
  }

  private com.aliyun.credentials.Client fromSecret(AccessKeySecretRef ref) throws Problem {
    Secret secret = secrets.apply(ref.getName());
    String where = "Secret " + operatorNamespace + "/" + ref.getName();
    if (secret == null) {
      throw new Problem("SecretNotFound", where + " does not exist");
    }
    String id = value(secret, ref.idKey());
    String key = value(secret, ref.secretKey());
    if (id == null || key == null) {
      throw new Problem(
          "SecretKeyMissing",
          where + " has no " + (id == null ? ref.idKey() : ref.secretKey()) + " key");
    }
    String token =
        ref.getSecurityTokenKey() == null ? null : value(secret, ref.getSecurityTokenKey());
    if (ref.getSecurityTokenKey() != null && token == null) {
      throw new Problem(
          "SecretKeyMissing", where + " has no " + ref.getSecurityTokenKey() + " key");
    }
    com.aliyun.credentials.models.Config config =
        new com.aliyun.credentials.models.Config()
            .setType(token == null ? "access_key" : "sts")
            .setAccessKeyId(id)
            .setAccessKeySecret(key);
    if (token != null) {
      config.setSecurityToken(token);
    }
    return new com.aliyun.credentials.Client(config);
  }

  private static String value(Secret secret, String key) {
    Map<String, String> data = secret.getData();
    if (data != null && data.get(key) != null) {
      return new String(Base64.getDecoder().decode(data.get(key)), StandardCharsets.UTF_8).trim();
    }
    Map<String, String> stringData = secret.getStringData();
    return stringData == null ? null : stringData.get(key);
  }

  private static AccountCredentials credentials(AliyunCasAccount account) {
    return account.getSpec() == null || account.getSpec().getCredentials() == null
        ? new AccountCredentials()
        : account.getSpec().getCredentials();
  }
}
