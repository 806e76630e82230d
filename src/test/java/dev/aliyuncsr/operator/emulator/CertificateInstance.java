package dev.aliyuncsr.operator.emulator;

import java.time.Instant;
import java.util.List;

/**
 * A snapshot of a V2.0 certificate instance, as a test reads it ({@link
 * CasEmulator#instance(String)}); GetInstanceDetail shows the same.
 *
 * @param status {@code inactive}, {@code pending} or {@code normal}
 * @param certificateStatus {@code issued} once a certificate exists, else null
 * @param generateCsrMethod null until UpdateInstance filled the instance in; so are csrPem,
 *     keyAlgorithm, validationMethod and certificateName
 * @param domains lower-case, CN first; empty until filled in
 * @param pendingResult null, or the CA's message about the last application (why it failed)
 * @param domainValidations non-empty only while validation is open
 * @param underReview validation is complete and the CA is about to issue
 * @param orderStartTime when ApplyCertificate was accepted; null when no application is open
 * @param certificate null until issued
 */
public record CertificateInstance(
    String instanceId,
    String accountId,
    String status,
    String certificateStatus,
    int fullDomainCount,
    int wildcardDomainCount,
    String generateCsrMethod,
    String csrPem,
    String keyAlgorithm,
    String validationMethod,
    List<String> domains,
    String certificateName,
    String pendingResult,
    List<ValidationRecord> domainValidations,
    boolean underReview,
    Instant instanceStartTime,
    Instant instanceEndTime,
    Instant orderStartTime,
    IssuedCertificate certificate) {

  public CertificateInstance {
    domains = List.copyOf(domains);
    domainValidations = List.copyOf(domainValidations);
  }

  /** Whether UpdateInstance (or the purchase) filled the application data in. */
  public boolean filledIn() {
    return generateCsrMethod != null;
  }

  /** The {@code CertificateId}, or null before issuance. */
  public Long certificateId() {
    return certificate == null ? null : certificate.certificateId();
  }
}
