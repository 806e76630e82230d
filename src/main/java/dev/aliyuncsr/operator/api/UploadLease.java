package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * The record of an upload in progress: who may call UploadCsr for this resource, and until when.
 * Written in status before the call (fenced on resourceVersion), so that two live operator
 * processes never upload for the same resource at once; it outlives the longest an UploadCsr can be
 * in flight, so a holder that was killed blocks others for that long at most.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class UploadLease {
  @JsonPropertyDescription("The operator process holding the lease: pod name and process id.")
  private String holder;

  @JsonPropertyDescription(
      "A token unique to this acquisition; the result is written only with it.")
  private String token;

  @JsonPropertyDescription("When the lease ends, RFC 3339 with milliseconds.")
  private String expiresAt;

  @JsonPropertyDescription("The upload name of the CSR being uploaded.")
  private String uploadName;

  @JsonPropertyDescription("SHA-256 of the DER of the CSR being uploaded.")
  private String csrSha256;

  public UploadLease() {}

  public UploadLease(
      String holder, String token, String expiresAt, String uploadName, String csrSha256) {
    this.holder = holder;
    this.token = token;
    this.expiresAt = expiresAt;
    this.uploadName = uploadName;
    this.csrSha256 = csrSha256;
  }

  public String getHolder() {
    return holder;
  }

  public void setHolder(String holder) {
    this.holder = holder;
  }

  public String getToken() {
    return token;
  }

  public void setToken(String token) {
    this.token = token;
  }

  public String getExpiresAt() {
    return expiresAt;
  }

  public void setExpiresAt(String expiresAt) {
    this.expiresAt = expiresAt;
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

  @Override
  public boolean equals(Object o) {
    return o instanceof UploadLease l
        && Objects.equals(holder, l.holder)
        && Objects.equals(token, l.token)
        && Objects.equals(expiresAt, l.expiresAt)
        && Objects.equals(uploadName, l.uploadName)
        && Objects.equals(csrSha256, l.csrSha256);
  }

  @Override
  public int hashCode() {
    return Objects.hash(holder, token);
  }
}
