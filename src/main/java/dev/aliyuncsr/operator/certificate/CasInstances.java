package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.cloud.CasException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The V2.0 certificate-instance actions of CAS (API 2020-04-07) this kind needs, in the project's
 * own types (the wire contract: shared/reference/cas-instance-api.md). Every failure is a {@link
 * CasException} whose kind says what the caller may do; ApplyCertificate's result can be unknown
 * ({@link CasException.Kind#AMBIGUOUS}), and then GetInstanceDetail decides. It belongs in cloud/
 * beside CasClient, where its SDK adapter will live; it is here until cloud/ is open for it.
 */
public interface CasInstances {

  /** GetInstanceDetail; NOT_FOUND when the account has no such instance. */
  InstanceDetail getInstanceDetail(String instanceId) throws CasException;

  /**
   * UpdateInstance with GenerateCsrMethod=upload: fills an inactive instance with the CSR (and
   * clears its PendingResult). Free, and harmless to repeat with the same data. Returns the
   * RequestId.
   */
  String updateInstance(InstanceFill fill) throws CasException;

  /** ApplyCertificate: paid and not idempotent; call it only under the application lease. */
  String applyCertificate(String instanceId) throws CasException;

  /** GetUserCertificateDetail(CertId): the PEM chain CAS holds for an issued certificate. */
  IssuedPem getUserCertificateDetail(long certificateId) throws CasException;

  /** What UpdateInstance sends. */
  record InstanceFill(
      String instanceId,
      String csrPem,
      List<String> domains,
      String keyAlgorithm,
      String validationMethod) {
    @Override
    public String toString() {
      return "InstanceFill[" + instanceId + ", " + domains + ", " + keyAlgorithm + "]";
    }
  }

  /**
   * GetInstanceDetail's answer, the fields the operator reads. Epoch fields are left out: their
   * unit is unconfirmed, and validity is read from the certificate itself.
   *
   * @param status as CAS sent it (see {@link InstanceState})
   * @param csrPem the CSR the instance holds, empty when none
   * @param pendingResult the CA's message about the last application, empty when none
   * @param certificateId set once a certificate is issued
   * @param averageWaitingTime CAS's hint of the typical time to issuance, when it sent one
   */
  record InstanceDetail(
      String instanceId,
      String status,
      String certificateStatus,
      Optional<String> csrPem,
      Optional<String> validationMethod,
      String pendingResult,
      List<DomainValidation> domainValidations,
      Optional<Long> certificateId,
      Optional<Duration> averageWaitingTime,
      String requestId) {

    public InstanceState state() {
      return InstanceState.of(status);
    }

    public boolean hasPendingResult() {
      return pendingResult != null && !pendingResult.isBlank();
    }

    public boolean revoked() {
      return "revoked".equalsIgnoreCase(certificateStatus);
    }
  }

  /** One item of DomainValidationList, as CAS sent it. */
  record DomainValidation(
      String domain,
      String rootDomain,
      String validationType,
      String validationKey,
      String validationValue) {}

  /** GetUserCertificateDetail's answer: the certificate and its chain, PEM. Key is never read. */
  record IssuedPem(long certificateId, String certPem) {}

  /** GetInstanceDetail.Status. */
  enum InstanceState {
    /** Waiting to be used: free, filled in, or back from a failed application. */
    INACTIVE,
    /** An application is being validated or reviewed. */
    PENDING,
    /** A certificate is issued. */
    NORMAL,
    /** Issued, close to its end. */
    WILL_EXPIRE,
    EXPIRED,
    REFUND,
    CLOSED,
    /** A status this operator does not know: it acts on nothing it cannot name. */
    UNKNOWN;

    static InstanceState of(String status) {
      if (status == null) {
        return UNKNOWN;
      }
      return switch (status.toLowerCase(Locale.ROOT)) {
        case "inactive" -> INACTIVE;
        case "pending" -> PENDING;
        case "normal" -> NORMAL;
        case "willexpire" -> WILL_EXPIRE;
        case "expired" -> EXPIRED;
        case "refund" -> REFUND;
        case "closed" -> CLOSED;
        default -> UNKNOWN;
      };
    }

    /** A certificate exists on the instance. */
    boolean issued() {
      return this == NORMAL || this == WILL_EXPIRE;
    }
  }
}
