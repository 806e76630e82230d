package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.ValidationRecord;
import dev.aliyuncsr.operator.cloud.CasInstances.InstanceDetail;
import dev.aliyuncsr.operator.cloud.CasInstances.IssuedCertificate;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What one pass sees, read-only, so that {@link Decider} is the only place that branches on it. The
 * observer fills everything but {@code instance} and {@code download} from the cluster (the
 * resource as decided on: its resourceVersion fences the writes that follow); those two hold what
 * CAS answered in this pass, when the decider asked for it. After UpdateInstance or
 * ApplyCertificate the executor forgets them, so nothing is decided on a read older than a write.
 *
 * @param csr the AliyunCsr spec.csrRef names, in the same namespace; empty when it does not exist
 * @param csrInput the CSR in that AliyunCsr's csrSecretRef, validated; null when there is no
 *     AliyunCsr
 * @param key the private key for tls.key (spec.privateKeySecretRef, else the AliyunCsr's
 *     keySecretRef), validated; a missing reference, Secret or key is a KeyMissing problem
 * @param account the AliyunCsr's account: whether it serves this namespace, and its issuance policy
 * @param conflict an AliyunCertificate created earlier in the same account naming the same instance
 * @param secret the Secret spec.secretName names, as far as the decision needs it
 * @param published the records of the DNSEndpoint this resource owns (name, type and value); empty
 *     when there is none
 * @param instance GetInstanceDetail of spec.instanceId in this pass
 * @param download GetUserCertificateDetail in this pass
 * @param heldLeaseToken the application lease this pass took, if any
 * @param pollDue when this process read the open application of spec.instanceId last, the time its
 *     next read is due (process memory, as the poll schedule set it); empty when unknown
 * @param dnsEndpointApi whether the cluster serves external-dns's DNSEndpoint to this operator
 */
public record Observation(
    AliyunCertificate resource,
    Instant now,
    Optional<AliyunCsr> csr,
    Validated<CsrFacts> csrInput,
    Validated<PrivateKeyFacts> key,
    Account account,
    Optional<AliyunCertificate> conflict,
    TargetSecret secret,
    Optional<List<ValidationRecord>> published,
    Optional<InstanceDetail> instance,
    Optional<IssuedCertificate> download,
    Optional<String> heldLeaseToken,
    Optional<Instant> pollDue,
    boolean dnsEndpointApi) {

  /**
   * The account the AliyunCsr uses, as the account code sees it.
   *
   * @param name null for the operator's default account
   * @param refusal set when this resource may call nothing with it (the namespace is not selected,
   *     the account is missing or not ready): the outcome to report
   * @param instanceIds spec.issuance.instanceIds; empty when any instance is allowed
   * @param dnsZones spec.issuance.dnsZones (DNS_VALIDATION_ZONES for the default account)
   */
  public record Account(
      String name,
      Optional<Outcome> refusal,
      Optional<List<String>> instanceIds,
      List<String> dnsZones) {}

  /**
   * The target Secret.
   *
   * @param owner its {@link CertificateAnnotations#SECRET_OWNER} annotation, if any
   * @param serialNumber the serial number of its tls.crt's first certificate, lower-case hex, when
   *     it parses
   */
  public record TargetSecret(
      boolean exists, Optional<String> owner, Optional<String> serialNumber) {
    public static TargetSecret absent() {
      return new TargetSecret(false, Optional.empty(), Optional.empty());
    }
  }
}
