package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.cloud.CasInstances.InstanceDetail;
import java.util.Locale;
import java.util.Optional;

/**
 * GetInstanceDetail.Status as this kind reads it (cas-instance-api.md §2), and the few facts of an
 * {@link InstanceDetail} its decisions turn on.
 */
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

  static InstanceState of(InstanceDetail instance) {
    String status = instance.status();
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

  /** The CSR the instance holds, when it holds one. */
  static Optional<String> csrPem(InstanceDetail instance) {
    return Optional.ofNullable(instance.csrPem()).filter(p -> !p.isBlank());
  }

  /** The CA said something about the last application: on an inactive instance, why it failed. */
  static boolean hasPendingResult(InstanceDetail instance) {
    return instance.pendingResult() != null && !instance.pendingResult().isBlank();
  }

  static boolean revoked(InstanceDetail instance) {
    return "revoked".equalsIgnoreCase(instance.certificateStatus());
  }
}
