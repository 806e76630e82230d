package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * The last ApplyCertificate this resource made, or may have made: written before the call, so it
 * exists whenever CAS may hold an application of this resource. The instance itself (read with
 * GetInstanceDetail before any call) says what became of it; this record says which CSR it was for
 * and which retry request it used up, so that a paid application is never repeated on its own.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApplicationRecord {
  @JsonPropertyDescription("The instance applied for.")
  private String instanceId;

  @JsonPropertyDescription("Lower-case hex SHA-256 of the DER of the CSR applied with.")
  private String csrSha256;

  @JsonPropertyDescription(
      "The value of the cas.aliyuncsr.dev/retry-application annotation when this application was"
          + " made: that value is used up, and only a new one starts another application after a"
          + " failed validation.")
  private String retry;

  @JsonPropertyDescription(
      "When CAS answered ApplyCertificate with success, RFC 3339; absent while the result is"
          + " unknown. An accepted application is not made again, whatever the instance shows,"
          + " unless a new retry value asks for it.")
  private String appliedAt;

  @JsonPropertyDescription(
      "Present while ApplyCertificate may be in flight: only its holder calls it, and nobody"
          + " applies again before it ends.")
  private ApplicationLease lease;

  public ApplicationRecord() {}

  public ApplicationRecord(
      String instanceId, String csrSha256, String retry, ApplicationLease lease) {
    this.instanceId = instanceId;
    this.csrSha256 = csrSha256;
    this.retry = retry;
    this.lease = lease;
  }

  public String getInstanceId() {
    return instanceId;
  }

  public void setInstanceId(String instanceId) {
    this.instanceId = instanceId;
  }

  public String getCsrSha256() {
    return csrSha256;
  }

  public void setCsrSha256(String csrSha256) {
    this.csrSha256 = csrSha256;
  }

  public String getRetry() {
    return retry;
  }

  public void setRetry(String retry) {
    this.retry = retry;
  }

  public String getAppliedAt() {
    return appliedAt;
  }

  public void setAppliedAt(String appliedAt) {
    this.appliedAt = appliedAt;
  }

  public ApplicationLease getLease() {
    return lease;
  }

  public void setLease(ApplicationLease lease) {
    this.lease = lease;
  }

  /** A copy without the lease: what stays once the call has ended. */
  public ApplicationRecord withoutLease() {
    ApplicationRecord copy = new ApplicationRecord(instanceId, csrSha256, retry, null);
    copy.setAppliedAt(appliedAt);
    return copy;
  }

  /** A copy. */
  public ApplicationRecord copy() {
    ApplicationRecord copy = new ApplicationRecord(instanceId, csrSha256, retry, lease);
    copy.setAppliedAt(appliedAt);
    return copy;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ApplicationRecord r
        && Objects.equals(instanceId, r.instanceId)
        && Objects.equals(csrSha256, r.csrSha256)
        && Objects.equals(retry, r.retry)
        && Objects.equals(appliedAt, r.appliedAt)
        && Objects.equals(lease, r.lease);
  }

  @Override
  public int hashCode() {
    return Objects.hash(instanceId, csrSha256);
  }

  @Override
  public String toString() {
    return instanceId + "(" + csrSha256 + (lease == null ? "" : ", leased") + ")";
  }
}
