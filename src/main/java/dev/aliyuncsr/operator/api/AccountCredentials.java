package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;

/** How the operator signs in to an account: exactly one of the three. */
@ValidationRule(
    value =
        "(has(self.accessKeySecretRef) ? 1 : 0) + (has(self.rrsa) ? 1 : 0) + (has(self.assumeRole) ? 1 : 0) == 1",
    message = "set exactly one of accessKeySecretRef, rrsa and assumeRole")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AccountCredentials {
  @JsonPropertyDescription(
      "An AccessKey pair (and optional STS token) in a Secret of the operator's namespace.")
  private AccessKeySecretRef accessKeySecretRef;

  @JsonPropertyDescription("RRSA: the operator's projected token exchanged through STS for a role.")
  private RrsaCredentials rrsa;

  @JsonPropertyDescription("A role assumed from the operator's own identity.")
  private AssumeRoleCredentials assumeRole;

  public AccessKeySecretRef getAccessKeySecretRef() {
    return accessKeySecretRef;
  }

  public void setAccessKeySecretRef(AccessKeySecretRef accessKeySecretRef) {
    this.accessKeySecretRef = accessKeySecretRef;
  }

  public RrsaCredentials getRrsa() {
    return rrsa;
  }

  public void setRrsa(RrsaCredentials rrsa) {
    this.rrsa = rrsa;
  }

  public AssumeRoleCredentials getAssumeRole() {
    return assumeRole;
  }

  public void setAssumeRole(AssumeRoleCredentials assumeRole) {
    this.assumeRole = assumeRole;
  }
}
