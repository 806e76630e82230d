package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the operator observed and did, in the shape kstatus-aware tools read. The certificate fields
 * describe the certificate in the Secret; instanceStatus and validation describe spec.instanceId,
 * which differs from certificateInstanceId while a renewal is under way.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AliyunCertificateStatus {
  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription(
      "Ready, Reconciling and Stalled, as kstatus reads them. The Ready reason says where the"
          + " certificate stands: AwaitingCsr, Applying, AwaitingValidation, Issuing, Issued,"
          + " Expiring, or why it cannot go on.")
  private List<CsrCondition> conditions = new ArrayList<>();

  @JsonPropertyDescription(
      "The status of spec.instanceId as CAS last returned it (GetInstanceDetail.Status):"
          + " inactive, pending, normal, willExpire, expired, refund or closed.")
  private String instanceStatus;

  @JsonPropertyDescription(
      "When instanceStatus or validation last changed, RFC 3339; polling slows down from here"
          + " while nothing changes.")
  private String instanceChangedAt;

  @JsonPropertyDescription(
      "The domain validation records CAS waits for (GetInstanceDetail.DomainValidationList);"
          + " present only while validation is open.")
  private List<ValidationRecord> validation;

  @JsonPropertyDescription(
      "The application this resource made, or may have made, on an instance (the last one).")
  private ApplicationRecord application;

  @JsonPropertyDescription("CAS's CertificateId of the certificate in the Secret.")
  private Long certificateId;

  @JsonPropertyDescription("The instance the certificate in the Secret was issued on.")
  private String certificateInstanceId;

  @JsonPropertyDescription(
      "Serial number of the certificate in the Secret, lower-case hex, as parsed from it.")
  private String serialNumber;

  @JsonPropertyDescription("Start of the certificate's validity, RFC 3339, as parsed from it.")
  private String notBefore;

  @JsonPropertyDescription(
      "End of the certificate's validity, RFC 3339, as parsed from it. The Ready reason becomes"
          + " Expiring some time before (CERTIFICATE_RENEW_BEFORE, 30 days by default).")
  private String notAfter;

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public List<CsrCondition> getConditions() {
    return conditions;
  }

  public void setConditions(List<CsrCondition> conditions) {
    this.conditions = conditions;
  }

  public String getInstanceStatus() {
    return instanceStatus;
  }

  public void setInstanceStatus(String instanceStatus) {
    this.instanceStatus = instanceStatus;
  }

  public String getInstanceChangedAt() {
    return instanceChangedAt;
  }

  public void setInstanceChangedAt(String instanceChangedAt) {
    this.instanceChangedAt = instanceChangedAt;
  }

  public List<ValidationRecord> getValidation() {
    return validation;
  }

  public void setValidation(List<ValidationRecord> validation) {
    this.validation = validation;
  }

  public ApplicationRecord getApplication() {
    return application;
  }

  public void setApplication(ApplicationRecord application) {
    this.application = application;
  }

  public Long getCertificateId() {
    return certificateId;
  }

  public void setCertificateId(Long certificateId) {
    this.certificateId = certificateId;
  }

  public String getCertificateInstanceId() {
    return certificateInstanceId;
  }

  public void setCertificateInstanceId(String certificateInstanceId) {
    this.certificateInstanceId = certificateInstanceId;
  }

  public String getSerialNumber() {
    return serialNumber;
  }

  public void setSerialNumber(String serialNumber) {
    this.serialNumber = serialNumber;
  }

  public String getNotBefore() {
    return notBefore;
  }

  public void setNotBefore(String notBefore) {
    this.notBefore = notBefore;
  }

  public String getNotAfter() {
    return notAfter;
  }

  public void setNotAfter(String notAfter) {
    this.notAfter = notAfter;
  }

  @JsonIgnore
  public Optional<CsrCondition> condition(String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> Objects.equals(type, c.getType())).findFirst();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AliyunCertificateStatus s
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(conditions, s.conditions)
        && Objects.equals(instanceStatus, s.instanceStatus)
        && Objects.equals(instanceChangedAt, s.instanceChangedAt)
        && Objects.equals(validation, s.validation)
        && Objects.equals(application, s.application)
        && Objects.equals(certificateId, s.certificateId)
        && Objects.equals(certificateInstanceId, s.certificateInstanceId)
        && Objects.equals(serialNumber, s.serialNumber)
        && Objects.equals(notBefore, s.notBefore)
        && Objects.equals(notAfter, s.notAfter);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, instanceStatus, certificateId, serialNumber);
  }
}
