package dev.aliyuncsr.operator.reconcile;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.observability.OperatorMetrics;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place an {@link Outcome} becomes conditions, an Event and a requeue decision. Status is
 * patched only when it changed, on a fresh object carrying identity and status alone; an Event is
 * written when the Ready condition's status or reason changes, or when the CSR in CAS changed.
 */
public final class OutcomeRecorder {
  private static final Logger log = LoggerFactory.getLogger(OutcomeRecorder.class);

  private final KubernetesClient client;
  private final EventRecorder events;
  private final OperatorMetrics metrics;
  private final Clock clock;

  public OutcomeRecorder(
      KubernetesClient client, EventRecorder events, OperatorMetrics metrics, Clock clock) {
    this.client = client;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
  }

  public UpdateControl<AliyunCsr> record(
      AliyunCsr resource, Outcome outcome, Optional<UploadedCsr> uploaded, boolean casChanged) {
    AliyunCsrStatus previous = resource.getStatus();
    AliyunCsrStatus next =
        StatusBuilder.build(
            previous, resource.getMetadata().getGeneration(), outcome, uploaded, clock.instant());
    if (!next.equals(previous)) {
      patchStatus(resource, next);
    }
    if (casChanged || readyChanged(previous, next)) {
      emitEvent(resource, outcome, next);
    }
    metrics.reconciled(resource.getMetadata().getUid(), outcome.state(), outcome.reason());
    if (outcome.state() == Outcome.State.READY
        && (previous == null || previous.getCsrId() == null)
        && resource.getMetadata().getCreationTimestamp() != null) {
      Instant created = Instant.parse(resource.getMetadata().getCreationTimestamp());
      metrics.becameReady(Duration.between(created, clock.instant()));
    }
    UpdateControl<AliyunCsr> control = UpdateControl.noUpdate();
    outcome.requeueAfter().ifPresent(control::rescheduleAfter);
    return control;
  }

  private void patchStatus(AliyunCsr resource, AliyunCsrStatus status) {
    AliyunCsr patch = new AliyunCsr();
    patch.setMetadata(
        new ObjectMetaBuilder()
            .withName(resource.getMetadata().getName())
            .withNamespace(resource.getMetadata().getNamespace())
            .build());
    patch.setStatus(status);
    client.resource(patch).patchStatus();
  }

  private void emitEvent(AliyunCsr resource, Outcome outcome, AliyunCsrStatus status) {
    String ns = resource.getMetadata().getNamespace();
    String name = resource.getMetadata().getName();
    switch (outcome.state()) {
      case READY -> {
        log.info("{}/{} ready: {} {}", ns, name, outcome.reason(), outcome.message());
        events.normal(resource, outcome.reason(), outcome.message());
      }
      case STALLED -> {
        log.warn("{}/{} stalled: {} {}", ns, name, outcome.reason(), outcome.message());
        events.warning(resource, outcome.reason(), outcome.message());
      }
      case PROGRESSING -> {
        log.info("{}/{} not ready: {} {}", ns, name, outcome.reason(), outcome.message());
        events.warning(resource, outcome.reason(), outcome.message());
      }
    }
  }

  private static boolean readyChanged(AliyunCsrStatus previous, AliyunCsrStatus next) {
    Optional<CsrCondition> before =
        previous == null ? Optional.empty() : previous.condition(StatusBuilder.READY);
    CsrCondition after = next.condition(StatusBuilder.READY).orElseThrow();
    return before.isEmpty()
        || !Objects.equals(before.get().getStatus(), after.getStatus())
        || !Objects.equals(before.get().getReason(), after.getReason());
  }
}
