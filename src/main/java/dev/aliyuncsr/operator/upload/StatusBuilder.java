package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Derives the next status from the previous one, the generation, the outcome and the clock. Pure:
 * no I/O, so it is unit-tested without a cluster. A condition's lastTransitionTime moves only when
 * its status flips.
 */
public final class StatusBuilder {
  public static final String READY = "Ready";
  public static final String RECONCILING = "Reconciling";
  public static final String STALLED = "Stalled";
  public static final String PAUSED = "Paused";

  private StatusBuilder() {}

  /**
   * @param uploaded the CSR CAS holds now, or empty to keep what the previous status recorded
   */
  public static AliyunCsrStatus build(
      AliyunCsrStatus previous,
      long generation,
      Outcome outcome,
      Optional<UploadedCsr> uploaded,
      Instant now) {
    AliyunCsrStatus prev = previous == null ? new AliyunCsrStatus() : previous;
    AliyunCsrStatus next = copyUploadFields(prev);
    uploaded.ifPresent(u -> setUploadFields(next, u));
    next.setObservedGeneration(generation);

    boolean ready = outcome.state() == Outcome.State.READY;
    boolean progressing = outcome.state() == Outcome.State.PROGRESSING;
    boolean stalled = outcome.state() == Outcome.State.STALLED;
    List<CsrCondition> conditions = new ArrayList<>();
    conditions.add(
        condition(prev, READY, ready, outcome.reason(), outcome.message(), generation, now));
    conditions.add(
        condition(
            prev,
            RECONCILING,
            progressing,
            outcome.reason(),
            progressing ? outcome.message() : "No work in progress",
            generation,
            now));
    conditions.add(
        condition(
            prev,
            STALLED,
            stalled,
            outcome.reason(),
            stalled ? outcome.message() : "Not stalled",
            generation,
            now));
    next.setConditions(conditions);
    return next;
  }

  private static CsrCondition condition(
      AliyunCsrStatus previous,
      String type,
      boolean isTrue,
      String reason,
      String message,
      long generation,
      Instant now) {
    String status = isTrue ? "True" : "False";
    String transition =
        previous
            .condition(type)
            .filter(c -> status.equals(c.getStatus()) && c.getLastTransitionTime() != null)
            .map(CsrCondition::getLastTransitionTime)
            .orElse(rfc3339(now));
    return new CsrCondition(type, status, reason, message, generation, transition);
  }

  public static String rfc3339(Instant instant) {
    return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
  }

  /** A copy of the record (the CSR, lease, pending and superseded uploads) without conditions. */
  public static AliyunCsrStatus copyRecord(AliyunCsrStatus from) {
    return copyUploadFields(from == null ? new AliyunCsrStatus() : from);
  }

  /**
   * Whether the status records anything in CAS: a CSR, an upload whose result is unknown, a
   * superseded CSR, or a lease. Its calls then go to the account it names.
   */
  public static boolean holdsRecord(AliyunCsrStatus status) {
    return status != null
        && (status.getCsrId() != null
            || (status.getPendingUploads() != null && !status.getPendingUploads().isEmpty())
            || (status.getSupersededCsrs() != null && !status.getSupersededCsrs().isEmpty())
            || status.getLease() != null);
  }

  /** Forgets the current CSR (it was superseded or deleted). */
  public static void clearCurrent(AliyunCsrStatus status) {
    status.setCsrId(null);
    status.setRequestId(null);
    status.setUploadName(null);
    status.setCsrSha256(null);
    status.setPublicKeySha256(null);
    status.setCommonName(null);
    status.setSans(null);
    status.setKeyAlgorithm(null);
    status.setKeySize(null);
    status.setPrivateKeyUploaded(null);
    status.setUploadedAt(null);
    status.setLastConfirmedAt(null);
    status.setMissingCsrId(null);
    status.setNotFoundAt(null);
  }

  /** Sets the current CSR. */
  public static void setCurrent(AliyunCsrStatus status, UploadedCsr uploaded) {
    setUploadFields(status, uploaded);
  }

  /**
   * The record {@code next} with the conditions and observedGeneration of {@code outcome}, derived
   * from {@code previous} (whose lastTransitionTimes are kept where the status did not flip).
   */
  public static AliyunCsrStatus withOutcome(
      AliyunCsrStatus previous,
      AliyunCsrStatus next,
      long generation,
      Outcome outcome,
      Instant now) {
    AliyunCsrStatus built = build(previous, generation, outcome, Optional.empty(), now);
    AliyunCsrStatus result = copyRecord(next);
    result.setObservedGeneration(built.getObservedGeneration());
    result.setConditions(built.getConditions());
    return result;
  }

  private static AliyunCsrStatus copyUploadFields(AliyunCsrStatus from) {
    AliyunCsrStatus to = new AliyunCsrStatus();
    to.setCsrId(from.getCsrId());
    to.setRequestId(from.getRequestId());
    to.setUploadName(from.getUploadName());
    to.setCsrSha256(from.getCsrSha256());
    to.setPublicKeySha256(from.getPublicKeySha256());
    to.setCommonName(from.getCommonName());
    to.setSans(from.getSans());
    to.setKeyAlgorithm(from.getKeyAlgorithm());
    to.setKeySize(from.getKeySize());
    to.setPrivateKeyUploaded(from.getPrivateKeyUploaded());
    to.setUploadedAt(from.getUploadedAt());
    to.setLastConfirmedAt(from.getLastConfirmedAt());
    to.setLastHandledReconcileAt(from.getLastHandledReconcileAt());
    to.setMissingCsrId(from.getMissingCsrId());
    to.setNotFoundAt(from.getNotFoundAt());
    to.setAccount(from.getAccount());
    to.setLease(from.getLease());
    to.setPendingUploads(
        from.getPendingUploads() == null
            ? null
            : new ArrayList<>(from.getPendingUploads().stream().map(StatusBuilder::copy).toList()));
    to.setSupersededCsrs(
        from.getSupersededCsrs() == null ? null : new ArrayList<>(from.getSupersededCsrs()));
    return to;
  }

  static CasCsrRef copy(CasCsrRef from) {
    CasCsrRef to = new CasCsrRef(from.getCsrId(), from.getUploadName(), from.getCsrSha256());
    to.setPublicKeySha256(from.getPublicKeySha256());
    to.setNotFoundAt(from.getNotFoundAt());
    return to;
  }

  private static void setUploadFields(AliyunCsrStatus status, UploadedCsr u) {
    status.setCsrId(u.csrId());
    status.setRequestId(u.requestId());
    status.setUploadName(u.uploadName());
    status.setCsrSha256(u.facts().csrSha256());
    status.setPublicKeySha256(u.facts().publicKeySha256());
    status.setCommonName(u.facts().commonName());
    status.setSans(List.copyOf(u.facts().sans()));
    status.setKeyAlgorithm(u.facts().keyAlgorithm());
    status.setKeySize(u.facts().keySize());
    status.setPrivateKeyUploaded(u.privateKeyUploaded());
    status.setUploadedAt(u.uploadedAt());
    // CAS has just answered with (or described) this CSR.
    status.setLastConfirmedAt(u.uploadedAt());
  }
}
