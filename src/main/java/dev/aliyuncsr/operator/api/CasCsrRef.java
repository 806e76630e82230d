package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * A CSR in CAS, or one that may be there, named by what proves it is this resource's: the upload
 * name and the SHA-256 of the CSR. {@code csrId} is empty for an upload whose result is unknown.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CasCsrRef {
  @JsonPropertyDescription("The CsrId, when known.")
  private Long csrId;

  @JsonPropertyDescription("The name the CSR was uploaded under.")
  private String uploadName;

  @JsonPropertyDescription("SHA-256 of the DER of the CSR.")
  private String csrSha256;

  @JsonPropertyDescription(
      "SHA-256 of the CSR's public key; what proves an adopted CSR, whose name is not ours.")
  private String publicKeySha256;

  @JsonPropertyDescription(
      "For an upload of unknown result: when a lookup in CAS first found nothing (RFC 3339). It"
          + " counts as never stored only once a second lookup, a while later, finds nothing too:"
          + " CAS may not list a CSR at once.")
  private String notFoundAt;

  public CasCsrRef() {}

  public CasCsrRef(Long csrId, String uploadName, String csrSha256) {
    this.csrId = csrId;
    this.uploadName = uploadName;
    this.csrSha256 = csrSha256;
  }

  public Long getCsrId() {
    return csrId;
  }

  public void setCsrId(Long csrId) {
    this.csrId = csrId;
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

  public String getNotFoundAt() {
    return notFoundAt;
  }

  public void setNotFoundAt(String notFoundAt) {
    this.notFoundAt = notFoundAt;
  }

  /** Identity: the CSR it names, not what the lookups have seen of it so far. */
  @Override
  public boolean equals(Object o) {
    return o instanceof CasCsrRef r
        && Objects.equals(publicKeySha256, r.publicKeySha256)
        && Objects.equals(csrId, r.csrId)
        && Objects.equals(uploadName, r.uploadName)
        && Objects.equals(csrSha256, r.csrSha256);
  }

  @Override
  public int hashCode() {
    return Objects.hash(csrId, uploadName, csrSha256);
  }

  @Override
  public String toString() {
    return (csrId == null ? "?" : csrId.toString()) + "(" + uploadName + ")";
  }
}
