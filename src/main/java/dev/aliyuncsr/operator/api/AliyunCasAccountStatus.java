package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** What the operator knows of an account. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AliyunCasAccountStatus {
  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription(
      "How many AliyunCsrs hold a CSR in this account (the account keeps its finalizer while any does).")
  private Integer csrCount;

  @JsonPropertyDescription("How many namespaces the selector selects now.")
  private Integer namespaceCount;

  @JsonPropertyDescription("CAS calls per second made with this account over the last minute.")
  private Double callRate;

  @JsonPropertyDescription(
      "When the credentials were last checked with a harmless ListCsr, RFC 3339.")
  private String lastProbeAt;

  @JsonPropertyDescription(
      "The metadata.resourceVersion of the spec.credentials.accessKeySecretRef Secret the"
          + " account was last built from: once it is the Secret's own, the status is about the"
          + " key it holds (probed and, if it works, checked against the recorded CSRs). Absent"
          + " for credentials from no Secret.")
  // Written as null when there is none (the status is merge-patched): a value left over from a
  // Secret the spec no longer names would say the wrong thing.
  @JsonInclude(JsonInclude.Include.ALWAYS)
  private String credentialsSecretVersion;

  @JsonPropertyDescription("Ready: the credentials resolve and a harmless ListCsr succeeds.")
  private List<CsrCondition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public Integer getCsrCount() {
    return csrCount;
  }

  public void setCsrCount(Integer csrCount) {
    this.csrCount = csrCount;
  }

  public Integer getNamespaceCount() {
    return namespaceCount;
  }

  public void setNamespaceCount(Integer namespaceCount) {
    this.namespaceCount = namespaceCount;
  }

  public Double getCallRate() {
    return callRate;
  }

  public void setCallRate(Double callRate) {
    this.callRate = callRate;
  }

  public String getLastProbeAt() {
    return lastProbeAt;
  }

  public void setLastProbeAt(String lastProbeAt) {
    this.lastProbeAt = lastProbeAt;
  }

  public String getCredentialsSecretVersion() {
    return credentialsSecretVersion;
  }

  public void setCredentialsSecretVersion(String credentialsSecretVersion) {
    this.credentialsSecretVersion = credentialsSecretVersion;
  }

  public List<CsrCondition> getConditions() {
    return conditions;
  }

  public void setConditions(List<CsrCondition> conditions) {
    this.conditions = conditions;
  }

  @JsonIgnore
  public Optional<CsrCondition> condition(String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> Objects.equals(type, c.getType())).findFirst();
  }
}
