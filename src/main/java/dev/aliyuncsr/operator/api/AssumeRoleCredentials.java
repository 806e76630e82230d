package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** A RAM role assumed (STS AssumeRole) from the operator's own identity. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AssumeRoleCredentials {
  @Required
  @JsonPropertyDescription("ARN of the RAM role, acs:ram::<uid>:role/<name>.")
  private String roleArn;

  @JsonPropertyDescription("Optional external ID the role's trust policy requires.")
  private String externalId;

  @JsonPropertyDescription("Optional STS session name; the account's name by default.")
  private String sessionName;

  public String getRoleArn() {
    return roleArn;
  }

  public void setRoleArn(String roleArn) {
    this.roleArn = roleArn;
  }

  public String getExternalId() {
    return externalId;
  }

  public void setExternalId(String externalId) {
    this.externalId = externalId;
  }

  public String getSessionName() {
    return sessionName;
  }

  public void setSessionName(String sessionName) {
    this.sessionName = sessionName;
  }
}
