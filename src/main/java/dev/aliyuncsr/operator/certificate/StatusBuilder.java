package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificateStatus;
import dev.aliyuncsr.operator.api.ApplicationRecord;
import dev.aliyuncsr.operator.kube.Conditions;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Instant;
import java.util.ArrayList;

/**
 * Derives the next status from the previous one, the record the decision wrote, the generation, the
 * outcome and the clock. Pure: no I/O. The record (everything but the conditions and the
 * generation) comes from the decider; the conditions from {@link Conditions}, so lastTransitionTime
 * moves only on a flip.
 */
public final class StatusBuilder {
  private StatusBuilder() {}

  /** {@code record} with the conditions and observedGeneration of {@code outcome}. */
  public static AliyunCertificateStatus withOutcome(
      AliyunCertificateStatus previous,
      AliyunCertificateStatus record,
      long generation,
      Outcome outcome,
      Instant now) {
    AliyunCertificateStatus next = copyRecord(record);
    next.setObservedGeneration(generation);
    next.setConditions(
        new ArrayList<>(
            Conditions.of(
                previous == null ? null : previous.getConditions(), generation, outcome, now)));
    return next;
  }

  /** A copy of everything but the conditions and the generation. */
  public static AliyunCertificateStatus copyRecord(AliyunCertificateStatus from) {
    AliyunCertificateStatus to = new AliyunCertificateStatus();
    if (from == null) {
      return to;
    }
    to.setInstanceStatus(from.getInstanceStatus());
    to.setInstanceChangedAt(from.getInstanceChangedAt());
    to.setValidation(from.getValidation() == null ? null : new ArrayList<>(from.getValidation()));
    ApplicationRecord a = from.getApplication();
    to.setApplication(a == null ? null : a.copy());
    to.setCertificateId(from.getCertificateId());
    to.setCertificateInstanceId(from.getCertificateInstanceId());
    to.setSerialNumber(from.getSerialNumber());
    to.setNotBefore(from.getNotBefore());
    to.setNotAfter(from.getNotAfter());
    return to;
  }
}
