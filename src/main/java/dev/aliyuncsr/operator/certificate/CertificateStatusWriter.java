package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCertificateStatus;
import dev.aliyuncsr.operator.api.ApplicationLease;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.kube.Conditions;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi.WriteRefused;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.kube.ResourceEvents;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of an AliyunCertificate's status: a JSON patch of only the fields that change,
 * after a fence ({@code test} operations) on what the pass saw. Emits the Event of a change, once
 * per change rather than once per pass: Normal when validation records appear and when the
 * certificate is issued, Warning for a stall, an expiring certificate and anything else in the way.
 */
final class CertificateStatusWriter {
  private static final Logger log = LoggerFactory.getLogger(CertificateStatusWriter.class);

  /** Progress that needs no Event: a step of a moment (the application, the deletion). */
  private static final Set<String> QUIET = Set.of(Reasons.APPLYING, Reasons.DELETING);

  /**
   * Waits a person may want to know of, said once each as a Normal Event: for the AliyunCsr, for
   * validation records, for the CA's review.
   */
  private static final Set<String> NORMAL_WAITS =
      Set.of(Reasons.AWAITING_CSR, Reasons.AWAITING_VALIDATION, Reasons.ISSUING);

  private final CertificateKube kube;
  private final ResourceEvents events;
  private final Clock clock;

  CertificateStatusWriter(CertificateKube kube, ResourceEvents events, Clock clock) {
    this.kube = kube;
    this.events = events;
    this.clock = clock;
  }

  /**
   * Writes {@code record} with the conditions of {@code outcome} after {@code fence}. Returns the
   * object as written, or {@code r} itself when nothing changed.
   */
  AliyunCertificate write(
      AliyunCertificate r,
      AliyunCertificateStatus record,
      Outcome outcome,
      JsonPatch fence,
      CertificateProtocol.WriteListener listener)
      throws WriteRefused {
    AliyunCertificateStatus previous = r.getStatus();
    AliyunCertificateStatus next =
        StatusBuilder.withOutcome(previous, record, generation(r), outcome, clock.instant());
    int tests = fence.toJson().size();
    JsonPatch patch = fence.statusChanges(previous, next, new AliyunCertificateStatus());
    if (patch.toJson().size() == tests) {
      return r;
    }
    AliyunCertificate written = kube.patchStatus(r, patch);
    listener.written(r, written);
    emitEvent(r, previous, next, outcome);
    return written;
  }

  private void emitEvent(
      AliyunCertificate r,
      AliyunCertificateStatus previous,
      AliyunCertificateStatus next,
      Outcome outcome) {
    boolean recordsAppeared =
        Reasons.AWAITING_VALIDATION.equals(outcome.reason())
            && next.getValidation() != null
            && !Objects.equals(
                previous == null ? null : previous.getValidation(), next.getValidation());
    if (!readyChanged(previous, next) && !recordsAppeared) {
      return;
    }
    String key = key(r);
    switch (outcome.state()) {
      case READY -> {
        if (Reasons.EXPIRING.equals(outcome.reason())) {
          log.warn("{} expiring: {}", key, outcome.message());
          events.warning(r, outcome.reason(), outcome.message());
        } else {
          log.info("{} ready: {} {}", key, outcome.reason(), outcome.message());
          events.normal(r, outcome.reason(), outcome.message());
        }
      }
      case STALLED -> {
        log.warn("{} stalled: {} {}", key, outcome.reason(), outcome.message());
        events.warning(r, outcome.reason(), outcome.message());
      }
      case PROGRESSING -> {
        log.info("{} not ready: {} {}", key, outcome.reason(), outcome.message());
        if (NORMAL_WAITS.contains(outcome.reason())) {
          events.normal(r, outcome.reason(), outcome.message());
        } else if (!QUIET.contains(outcome.reason())) {
          events.warning(r, outcome.reason(), outcome.message());
        }
      }
    }
  }

  private static boolean readyChanged(
      AliyunCertificateStatus previous, AliyunCertificateStatus next) {
    Optional<CsrCondition> before =
        previous == null ? Optional.empty() : previous.condition(Conditions.READY);
    Optional<CsrCondition> after = next.condition(Conditions.READY);
    if (after.isEmpty()) {
      return false;
    }
    return before.isEmpty()
        || !Objects.equals(before.get().getStatus(), after.get().getStatus())
        || !Objects.equals(before.get().getReason(), after.get().getReason());
  }

  static JsonPatch fenceOnVersion(AliyunCertificate r) {
    return JsonPatch.fencedOn(r);
  }

  /** Only the lease's holder records the application's result: a process that lost it cannot. */
  static JsonPatch fenceOnLease(ApplicationLease lease) {
    return new JsonPatch()
        .test("/status/application/lease/holder", lease.getHolder())
        .test("/status/application/lease/token", lease.getToken());
  }

  static String key(AliyunCertificate r) {
    return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }

  private static long generation(AliyunCertificate r) {
    Long g = r.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }
}
