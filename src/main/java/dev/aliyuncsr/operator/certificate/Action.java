package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificateStatus;
import dev.aliyuncsr.operator.api.ValidationRecord;
import dev.aliyuncsr.operator.kube.Outcome;
import java.util.List;

/**
 * The one next step, as {@link Decider} decides it from an {@link Observation}. Each is a single
 * effect; after it the executor observes again, until a {@link Settle}.
 */
public sealed interface Action {

  /** GetInstanceDetail of the instance; its answer is the next observation's {@code instance}. */
  record ReadInstance(String instanceId) implements Action {}

  /** UpdateInstance (upload) with the CSR; then the instance is read again. */
  record UpdateInstance(InstanceFill fill) implements Action {}

  /**
   * Write status.application with a new lease (this process, a fresh token, now + the lease
   * duration), fenced on the resourceVersion observed, with the Applying outcome.
   *
   * @param retry the retry-application value this application uses up, or null
   */
  record TakeApplicationLease(String instanceId, String csrSha256, String retry)
      implements Action {}

  /**
   * ApplyCertificate under the lease this pass holds (not with less of it left than the longest
   * call), then the answer written fenced on the lease token: accepted ({@code appliedAt}, lease
   * dropped), refused (lease dropped), or unknown (lease kept until it ends); see {@link
   * Failures#ofApply}.
   */
  record Apply(String instanceId) implements Action {}

  /** GetUserCertificateDetail; its answer is the next observation's {@code download}. */
  record Download(long certificateId) implements Action {}

  /**
   * Write the kubernetes.io/tls Secret (create, or update the one carrying this resource's
   * annotation, fenced on its resourceVersion), then {@code record} with {@code outcome}.
   */
  record WriteSecret(
      String secretName, SecretContent content, AliyunCertificateStatus record, Outcome outcome)
      implements Action {}

  /** Create or update the DNSEndpoint owned by this resource with these TXT records. */
  record PublishDnsEndpoint(List<ValidationRecord> records) implements Action {}

  /** Delete the DNSEndpoint owned by this resource. */
  record RemoveDnsEndpoint() implements Action {}

  /** Write {@code record} with {@code outcome}, fenced on the resourceVersion, and go on. */
  record WriteRecord(AliyunCertificateStatus record, Outcome outcome, String why)
      implements Action {}

  /** Write {@code record} with {@code outcome} if anything changed, and end the pass. */
  record Settle(AliyunCertificateStatus record, Outcome outcome) implements Action {}
}
