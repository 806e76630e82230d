package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** An AccessKey pair (and an optional STS token) in a Secret of the operator's own namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AccessKeySecretRef {
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @JsonPropertyDescription(
      "Name of the Secret, in the operator's own namespace (the only one whose Secrets it reads for credentials).")
  private String name;

  @Default("access-key-id")
  @JsonPropertyDescription("Key of the AccessKey id in the Secret; access-key-id by default.")
  private String accessKeyIdKey;

  @Default("access-key-secret")
  @JsonPropertyDescription(
      "Key of the AccessKey secret in the Secret; access-key-secret by default.")
  private String accessKeySecretKey;

  @JsonPropertyDescription("Optional key of an STS security token in the Secret.")
  private String securityTokenKey;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getAccessKeyIdKey() {
    return accessKeyIdKey;
  }

  public void setAccessKeyIdKey(String accessKeyIdKey) {
    this.accessKeyIdKey = accessKeyIdKey;
  }

  public String getAccessKeySecretKey() {
    return accessKeySecretKey;
  }

  public void setAccessKeySecretKey(String accessKeySecretKey) {
    this.accessKeySecretKey = accessKeySecretKey;
  }

  public String getSecurityTokenKey() {
    return securityTokenKey;
  }

  public void setSecurityTokenKey(String securityTokenKey) {
    this.securityTokenKey = securityTokenKey;
  }

  public String idKey() {
    return accessKeyIdKey == null ? "access-key-id" : accessKeyIdKey;
  }

  public String secretKey() {
    return accessKeySecretKey == null ? "access-key-secret" : accessKeySecretKey;
  }
}
