package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/**
 * RRSA: the operator's projected ServiceAccount token is exchanged through STS (AssumeRoleWithOIDC)
 * for this role.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RrsaCredentials {
  @Required
  @JsonPropertyDescription("ARN of the RAM role, acs:ram::<uid>:role/<name>.")
  private String roleArn;

  @Required
  @JsonPropertyDescription(
      "ARN of the cluster's OIDC provider, acs:ram::<uid>:oidc-provider/<name>.")
  private String oidcProviderArn;

  @JsonPropertyDescription("Optional STS session name; the account's name by default.")
  private String sessionName;

  public String getRoleArn() {
    return roleArn;
  }

  public void setRoleArn(String roleArn) {
    this.roleArn = roleArn;
  }

  public String getOidcProviderArn() {
    return oidcProviderArn;
  }

  public void setOidcProviderArn(String oidcProviderArn) {
    this.oidcProviderArn = oidcProviderArn;
  }

  public String getSessionName() {
    return sessionName;
  }

  public void setSessionName(String sessionName) {
    this.sessionName = sessionName;
  }
}
