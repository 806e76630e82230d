package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** What the operator observed and did, in the shape kstatus-aware tools read. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AliyunCsrStatus {
  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription(
      "The AliyunCasAccount that holds this resource's CSRs, pending uploads and superseded CSRs;"
          + " absent for the operator's default account. Set before the first upload.")
  private String account;

  @JsonPropertyDescription("ID of the CSR in CAS (UploadCsr's CsrId).")
  private Long csrId;

  @JsonPropertyDescription("RequestId of the CAS call that produced csrId.")
  private String requestId;

  @JsonPropertyDescription("Name under which the CSR was uploaded to CAS.")
  private String uploadName;

  @JsonPropertyDescription("Lower-case hex SHA-256 of the CSR's DER encoding.")
  private String csrSha256;

  @JsonPropertyDescription("Lower-case hex SHA-256 of the CSR's DER SubjectPublicKeyInfo.")
  private String publicKeySha256;

  @JsonPropertyDescription("Common name from the CSR's subject.")
  private String commonName;

  @JsonPropertyDescription("Subject alternative names requested by the CSR.")
  private List<String> sans;

  @JsonPropertyDescription("Public key algorithm of the CSR: RSA or EC.")
  private String keyAlgorithm;

  @JsonPropertyDescription("Key size in bits (RSA modulus, or EC field size).")
  private Integer keySize;

  @JsonPropertyDescription("Whether CAS holds the private key of this CSR.")
  private Boolean privateKeyUploaded;

  @JsonPropertyDescription("When the CSR was uploaded (or adopted), RFC 3339.")
  private String uploadedAt;

  @JsonPropertyDescription(
      "When CAS last confirmed that it holds csrId (RFC 3339): at the upload or adoption, then at"
          + " every observation (CAS_OBSERVE_INTERVAL) and every requested reconcile.")
  private String lastConfirmedAt;

  @JsonPropertyDescription(
      "When CAS first answered NotFound for csrId (RFC 3339). It counts as gone only when CAS"
          + " answers NotFound again a while later (CAS_MISSING_WINDOW): one answer may be a read"
          + " that lags behind a write.")
  private String notFoundAt;

  @JsonPropertyDescription(
      "A CsrId that CAS lost (deleted outside the operator): the CSR was uploaded again, and csrId"
          + " is the new one.")
  private Long missingCsrId;

  @JsonPropertyDescription(
      "The value of the last reconcile request handled: the cas.aliyuncsr.dev/reconcile-requested-at"
          + " annotation, or Flux's reconcile.fluxcd.io/requestedAt.")
  private String lastHandledReconcileAt;

  @JsonPropertyDescription(
      "The upload in progress, if any: only its holder may call UploadCsr until it expires.")
  private UploadLease lease;

  @JsonPropertyDescription(
      "Uploads whose result is unknown (the answer was lost, late or an error that does not prove"
          + " nothing was stored). They are looked up in CAS before any new upload.")
  private List<CasCsrRef> pendingUploads;

  @JsonPropertyDescription(
      "CSRs of this resource that a newer CSR replaced, still to be deleted under deletionPolicy"
          + " Delete.")
  private List<CasCsrRef> supersededCsrs;

  @JsonPropertyDescription(
      "Ready, Reconciling and Stalled, as kstatus reads them; Paused while the paused annotation is set.")
  private List<CsrCondition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public Long getCsrId() {
    return csrId;
  }

  public void setCsrId(Long csrId) {
    this.csrId = csrId;
  }

  public String getRequestId() {
    return requestId;
  }

  public void setRequestId(String requestId) {
    this.requestId = requestId;
  }

  public String getUploadName() {
    return uploadName;
  }

  public void setUploadName(String uploadName) {
    this.uploadName = uploadName;
  }

  public String getCsrSha256() {
    return csrSha256;
  }

  public void setCsrSha256(String csrSha256) {
    this.csrSha256 = csrSha256;
  }

  public String getPublicKeySha256() {
    return publicKeySha256;
  }

  public void setPublicKeySha256(String publicKeySha256) {
    this.publicKeySha256 = publicKeySha256;
  }

  public String getCommonName() {
    return commonName;
  }

  public void setCommonName(String commonName) {
    this.commonName = commonName;
  }

  public List<String> getSans() {
    return sans;
  }

  public void setSans(List<String> sans) {
    this.sans = sans;
  }

  public String getKeyAlgorithm() {
    return keyAlgorithm;
  }

  public void setKeyAlgorithm(String keyAlgorithm) {
    this.keyAlgorithm = keyAlgorithm;
  }

  public Integer getKeySize() {
    return keySize;
  }

  public void setKeySize(Integer keySize) {
    this.keySize = keySize;
  }

  public Boolean getPrivateKeyUploaded() {
    return privateKeyUploaded;
  }

  public void setPrivateKeyUploaded(Boolean privateKeyUploaded) {
    this.privateKeyUploaded = privateKeyUploaded;
  }

  public String getUploadedAt() {
    return uploadedAt;
  }

  public void setUploadedAt(String uploadedAt) {
    this.uploadedAt = uploadedAt;
  }

  public UploadLease getLease() {
    return lease;
  }

  public void setLease(UploadLease lease) {
    this.lease = lease;
  }

  public String getLastConfirmedAt() {
    return lastConfirmedAt;
  }

  public void setLastConfirmedAt(String lastConfirmedAt) {
    this.lastConfirmedAt = lastConfirmedAt;
  }

  public String getAccount() {
    return account;
  }

  public void setAccount(String account) {
    this.account = account;
  }

  public Long getMissingCsrId() {
    return missingCsrId;
  }

  public void setMissingCsrId(Long missingCsrId) {
    this.missingCsrId = missingCsrId;
  }

  public String getNotFoundAt() {
    return notFoundAt;
  }

  public void setNotFoundAt(String notFoundAt) {
    this.notFoundAt = notFoundAt;
  }

  public String getLastHandledReconcileAt() {
    return lastHandledReconcileAt;
  }

  public void setLastHandledReconcileAt(String lastHandledReconcileAt) {
    this.lastHandledReconcileAt = lastHandledReconcileAt;
  }

  public List<CasCsrRef> getPendingUploads() {
    return pendingUploads;
  }

  public void setPendingUploads(List<CasCsrRef> pendingUploads) {
    this.pendingUploads = pendingUploads;
  }

  public List<CasCsrRef> getSupersededCsrs() {
    return supersededCsrs;
  }

  public void setSupersededCsrs(List<CasCsrRef> supersededCsrs) {
    this.supersededCsrs = supersededCsrs;
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

  @Override
  public boolean equals(Object o) {
    return o instanceof AliyunCsrStatus s
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(csrId, s.csrId)
        && Objects.equals(requestId, s.requestId)
        && Objects.equals(uploadName, s.uploadName)
        && Objects.equals(csrSha256, s.csrSha256)
        && Objects.equals(publicKeySha256, s.publicKeySha256)
        && Objects.equals(commonName, s.commonName)
        && Objects.equals(sans, s.sans)
        && Objects.equals(keyAlgorithm, s.keyAlgorithm)
        && Objects.equals(keySize, s.keySize)
        && Objects.equals(privateKeyUploaded, s.privateKeyUploaded)
        && Objects.equals(uploadedAt, s.uploadedAt)
        && Objects.equals(lastConfirmedAt, s.lastConfirmedAt)
        && Objects.equals(lastHandledReconcileAt, s.lastHandledReconcileAt)
        && Objects.equals(missingCsrId, s.missingCsrId)
        && Objects.equals(notFoundAt, s.notFoundAt)
        && Objects.equals(account, s.account)
        && Objects.equals(lease, s.lease)
        && Objects.equals(pendingUploads, s.pendingUploads)
        && Objects.equals(supersededCsrs, s.supersededCsrs)
        && Objects.equals(conditions, s.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, csrId, uploadName, csrSha256);
  }
}
