package dev.aliyuncsr.operator.cloud;

import dev.aliyuncsr.operator.cloud.CasInstances.DomainValidation;
import dev.aliyuncsr.operator.cloud.CasInstances.InstanceDetail;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads GetInstanceDetail's JSON body as tea's generic call hands it over (a {@code Map} of {@code
 * String}, {@code Long}, {@code Double}, {@code Map} and {@code List}). No typed model exists in
 * SDK 2.0.1 and the field types are only partly confirmed, so nothing here trusts a type: an absent
 * or odd field becomes null or empty, never an exception.
 */
final class InstanceDetailAnswer {
  /** The longest Duration.ofNanos can hold, in whole seconds. */
  private static final BigDecimal MAX_SECONDS = BigDecimal.valueOf(Long.MAX_VALUE / 1_000_000_000L);

  private InstanceDetailAnswer() {}

  static InstanceDetail read(Map<?, ?> body, String requestedId) {
    String instanceId = text(body.get("InstanceId"));
    return new InstanceDetail(
        instanceId == null ? requestedId : instanceId,
        text(body.get("Status")),
        text(body.get("CertificateStatus")),
        text(body.get("Csr")),
        text(body.get("Domain")),
        text(body.get("KeyAlgorithm")),
        text(body.get("ValidationMethod")),
        text(body.get("GenerateCsrMethod")),
        text(body.get("PendingResult")),
        seconds(body.get("AverageWaitingTime")),
        wholeNumber(body.get("CertificateId")),
        text(body.get("CertIdentifier")),
        validations(body.get("DomainValidationList")),
        wholeNumber(body.get("FullDomainCount")),
        wholeNumber(body.get("WildcardDomainCount")),
        text(body.get("RequestId")));
  }

  private static List<DomainValidation> validations(Object value) {
    if (!(value instanceof List<?> items)) {
      return List.of();
    }
    List<DomainValidation> records = new ArrayList<>();
    for (Object item : items) {
      if (item instanceof Map<?, ?> fields) {
        records.add(
            new DomainValidation(
                text(fields.get("Domain")),
                text(fields.get("RootDomain")),
                text(fields.get("ValidationType")),
                text(fields.get("ValidationKey")),
                text(fields.get("ValidationValue"))));
      }
    }
    return records;
  }

  /** A string, or a number or boolean in its usual text; null for anything else. */
  static String text(Object value) {
    if (value instanceof String s) {
      return s;
    }
    if (value instanceof Long || value instanceof Integer || value instanceof Boolean) {
      return value.toString();
    }
    if (value instanceof Number number) {
      return decimal(number).map(BigDecimal::toPlainString).orElse(null);
    }
    return null;
  }

  /** A whole number given as any JSON number or as a string; empty for anything else. */
  static Optional<Long> wholeNumber(Object value) {
    return decimal(value)
        .flatMap(
            d -> {
              try {
                return Optional.of(d.longValueExact());
              } catch (ArithmeticException notWhole) {
                return Optional.empty();
              }
            });
  }

  /** Seconds (CAS sends AverageWaitingTime as a string) as a duration; empty if not readable. */
  static Optional<Duration> seconds(Object value) {
    return decimal(value)
        .filter(d -> d.signum() >= 0 && d.compareTo(MAX_SECONDS) <= 0)
        .map(d -> Duration.ofNanos(d.movePointRight(9).setScale(0, RoundingMode.DOWN).longValue()));
  }

  private static Optional<BigDecimal> decimal(Object value) {
    try {
      if (value instanceof Long || value instanceof Integer) {
        return Optional.of(BigDecimal.valueOf(((Number) value).longValue()));
      }
      if (value instanceof BigDecimal d) {
        return Optional.of(d);
      }
      if (value instanceof Number number) {
        double d = number.doubleValue();
        return Double.isFinite(d)
            ? Optional.of(new BigDecimal(number.toString()))
            : Optional.empty();
      }
      if (value instanceof String s && !s.isBlank()) {
        return Optional.of(new BigDecimal(s.strip()));
      }
    } catch (NumberFormatException unreadable) {
      // not a number: treated as absent
    }
    return Optional.empty();
  }
}
