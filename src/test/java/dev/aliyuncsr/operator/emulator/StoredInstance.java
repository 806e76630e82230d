package dev.aliyuncsr.operator.emulator;

import java.time.Instant;
import java.util.List;

/**
 * An instance as the emulator holds it; mutable, and touched only under {@link InstanceLifecycle}'s
 * lock. {@link CertificateInstance} is the snapshot tests see.
 */
final class StoredInstance {
  static final String INACTIVE = "inactive";
  static final String PENDING = "pending";
  static final String NORMAL = "normal";

  final String instanceId;
  final String accountId;
  final int fullDomainCount;
  final int wildcardDomainCount;
  final Instant instanceStartTime;
  final Instant instanceEndTime;

  String status = INACTIVE;
  InstanceApplication application;
  String pendingResult;
  List<ValidationRecord> validations = List.of();

  /** When ApplyCertificate was accepted (OrderStartTime); null when no application is open. */
  Instant appliedAt;

  /** Set once validation is complete: the CA issues at this time. */
  Instant issuesAt;

  /** The next certificate is issued for a key other than the CSR's. */
  boolean wrongKey;

  IssuedCertificate certificate;

  StoredInstance(
      String instanceId,
      String accountId,
      int fullDomainCount,
      int wildcardDomainCount,
      Instant boughtAt,
      Instant expiresAt) {
    this.instanceId = instanceId;
    this.accountId = accountId;
    this.fullDomainCount = fullDomainCount;
    this.wildcardDomainCount = wildcardDomainCount;
    this.instanceStartTime = boughtAt;
    this.instanceEndTime = expiresAt;
  }

  CertificateInstance snapshot() {
    InstanceApplication app = application;
    return new CertificateInstance(
        instanceId,
        accountId,
        status,
        certificate == null ? null : "issued",
        fullDomainCount,
        wildcardDomainCount,
        app == null ? null : app.generateCsrMethod(),
        app == null ? null : app.csrPem(),
        app == null ? null : app.keyAlgorithm().name(),
        app == null ? null : app.validationMethod(),
        app == null ? List.of() : app.names(),
        app == null ? null : app.certificateName(),
        pendingResult,
        validations,
        issuesAt != null,
        instanceStartTime,
        instanceEndTime,
        appliedAt,
        certificate);
  }
}
