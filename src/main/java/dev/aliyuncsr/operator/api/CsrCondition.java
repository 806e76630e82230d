package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * A status condition in the standard Kubernetes shape (metav1.Condition), with descriptions so that
 * {@code kubectl explain aliyuncsr.status.conditions} explains each field.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CsrCondition {
  @JsonPropertyDescription("Ready, Reconciling or Stalled.")
  private String type;

  @JsonPropertyDescription("True, False or Unknown.")
  private String status;

  @JsonPropertyDescription(
      "A stable CamelCase reason, listed in the README: such as Uploaded or InvalidCsr for an"
          + " AliyunCsr, Issued or AwaitingValidation for an AliyunCertificate.")
  private String reason;

  @JsonPropertyDescription("What happened, in words a person can act on.")
  private String message;

  @JsonPropertyDescription("The metadata.generation this condition describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("When status last changed, RFC 3339.")
  private String lastTransitionTime;

  public CsrCondition() {}

  public CsrCondition(
      String type,
      String status,
      String reason,
      String message,
      Long observedGeneration,
      String lastTransitionTime) {
    this.type = type;
    this.status = status;
    this.reason = reason;
    this.message = message;
    this.observedGeneration = observedGeneration;
    this.lastTransitionTime = lastTransitionTime;
  }

  public String getType() {
    return type;
  }

  public void setType(String type) {
    this.type = type;
  }

  public String getStatus() {
    return status;
  }

  public void setStatus(String status) {
    this.status = status;
  }

  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public String getLastTransitionTime() {
    return lastTransitionTime;
  }

  public void setLastTransitionTime(String lastTransitionTime) {
    this.lastTransitionTime = lastTransitionTime;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CsrCondition c
        && Objects.equals(type, c.type)
        && Objects.equals(status, c.status)
        && Objects.equals(reason, c.reason)
        && Objects.equals(message, c.message)
        && Objects.equals(observedGeneration, c.observedGeneration)
        && Objects.equals(lastTransitionTime, c.lastTransitionTime);
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, status, reason, observedGeneration);
  }

  @Override
  public String toString() {
    return type + "=" + status + " (" + reason + ")";
  }
}
