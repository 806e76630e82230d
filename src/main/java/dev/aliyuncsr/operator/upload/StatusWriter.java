package dev.aliyuncsr.operator.upload;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.UploadLease;
import dev.aliyuncsr.operator.kube.EventSink;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi;
import dev.aliyuncsr.operator.kube.Outcome;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of an AliyunCsr: status as a JSON patch of only the fields that change, metadata
 * as small patches, each after a fence ({@code test} operations) on what the protocol saw. Emits
 * the Event for a change of Ready, once per change rather than once per retry.
 */
final class StatusWriter {
  private static final Logger log = LoggerFactory.getLogger(StatusWriter.class);

  private final KubeApi kube;
  private final EventSink events;
  private final Clock clock;

  StatusWriter(KubeApi kube, EventSink events, Clock clock) {
    this.kube = kube;
    this.events = events;
    this.clock = clock;
  }

  /**
   * Writes {@code record} and the outcome's conditions (the old ones when empty) after {@code
   * fence}. Returns the object as written, or {@code r} itself when nothing changed.
   */
  AliyunCsr write(
      AliyunCsr r,
      AliyunCsrStatus record,
      Optional<Outcome> outcome,
      JsonPatch fence,
      UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsrStatus previous = r.getStatus();
    AliyunCsrStatus next;
    if (outcome.isPresent()) {
      next =
          StatusBuilder.withOutcome(
              previous, record, r.getMetadata().getGeneration(), outcome.get(), clock.instant());
    } else {
      next = StatusBuilder.copyRecord(record);
      // A status written by the operator always has an observedGeneration (see statusLost).
      next.setObservedGeneration(
          previous == null || previous.getObservedGeneration() == null
              ? r.getMetadata().getGeneration()
              : previous.getObservedGeneration());
      next.setConditions(previous == null ? new ArrayList<>() : previous.getConditions());
    }
    return patchStatus(r, previous, next, fence, outcome, listener);
  }

  /**
   * Writes only conditions, keeping every other field and no observedGeneration: a status that was
   * lost still reads as lost afterwards. {@code extra} is replaced or added; {@code drop} types
   * removed.
   */
  AliyunCsr writeConditionsOnly(
      AliyunCsr r,
      List<CsrCondition> conditions,
      Optional<Outcome> outcome,
      UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsrStatus status = r.getStatus();
    if (status != null && Objects.equals(status.getConditions(), conditions)) {
      return r;
    }
    JsonPatch patch = fenceOnVersion(r);
    if (status == null || status.equals(new AliyunCsrStatus())) {
      ObjectNode only = Serialization.jsonMapper().createObjectNode();
      only.set("conditions", Serialization.jsonMapper().valueToTree(conditions));
      patch.add("/status", only);
    } else {
      patch.add("/status/conditions", Serialization.jsonMapper().valueToTree(conditions));
    }
    AliyunCsr written = kube.patchStatus(r, patch);
    listener.written(r, written);
    AliyunCsrStatus next = new AliyunCsrStatus();
    next.setConditions(conditions);
    outcome.ifPresent(x -> emitEvent(r, status, next, x));
    return written;
  }

  private AliyunCsr patchStatus(
      AliyunCsr r,
      AliyunCsrStatus previous,
      AliyunCsrStatus next,
      JsonPatch fence,
      Optional<Outcome> outcome,
      UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    int tests = fence.isEmpty() ? 0 : fence.toJson().size();
    JsonPatch patch = fence.statusChanges(previous, next, new AliyunCsrStatus());
    if (patch.toJson().size() == tests) {
      return r;
    }
    AliyunCsr written = kube.patchStatus(r, patch);
    listener.written(r, written);
    outcome.ifPresent(x -> emitEvent(r, previous, next, x));
    return written;
  }

  /** A metadata patch after {@code patch}'s fence. */
  AliyunCsr patch(AliyunCsr r, JsonPatch patch, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsr written = kube.patch(r, patch);
    listener.written(r, written);
    return written;
  }

  void warning(AliyunCsr r, String reason, String message) {
    log.warn("{}: {}", key(r), message);
    events.warning(r, reason, message);
  }

  void normal(AliyunCsr r, String reason, String message) {
    events.normal(r, reason, message);
  }

  private void emitEvent(
      AliyunCsr r, AliyunCsrStatus previous, AliyunCsrStatus next, Outcome outcome) {
    boolean casChanged =
        !Objects.equals(previous == null ? null : previous.getCsrId(), next.getCsrId())
            && next.getCsrId() != null;
    if (!casChanged && !readyChanged(previous, next)) {
      return;
    }
    switch (outcome.state()) {
      case READY -> {
        log.info("{} ready: {} {}", key(r), outcome.reason(), outcome.message());
        events.normal(r, outcome.reason(), outcome.message());
      }
      case STALLED -> {
        log.warn("{} stalled: {} {}", key(r), outcome.reason(), outcome.message());
        events.warning(r, outcome.reason(), outcome.message());
      }
      case PROGRESSING -> {
        log.info("{} not ready: {} {}", key(r), outcome.reason(), outcome.message());
        if (!Reasons.UPLOADING.equals(outcome.reason())) {
          events.warning(r, outcome.reason(), outcome.message());
        }
      }
    }
  }

  private static boolean readyChanged(AliyunCsrStatus previous, AliyunCsrStatus next) {
    Optional<CsrCondition> before =
        previous == null ? Optional.empty() : previous.condition(StatusBuilder.READY);
    Optional<CsrCondition> after = next.condition(StatusBuilder.READY);
    if (after.isEmpty()) {
      return false;
    }
    return before.isEmpty()
        || !Objects.equals(before.get().getStatus(), after.get().getStatus())
        || !Objects.equals(before.get().getReason(), after.get().getReason());
  }

  static JsonPatch fenceOnVersion(AliyunCsr r) {
    return JsonPatch.fencedOn(r);
  }

  /** Only the lease's holder records the result: a process that lost its lease cannot. */
  static JsonPatch fenceOnLease(UploadLease lease) {
    return new JsonPatch()
        .test("/status/lease/holder", lease.getHolder())
        .test("/status/lease/token", lease.getToken());
  }

  /** Sets annotations; the map itself is created when the object has none. */
  static void annotate(AliyunCsr r, JsonPatch patch, Map<String, String> values) {
    // fabric8 shows absent annotations as an empty map; JSON has no such map to add a key to.
    if (r.getMetadata().getAnnotations() == null || r.getMetadata().getAnnotations().isEmpty()) {
      ObjectNode annotations = Serialization.jsonMapper().createObjectNode();
      values.forEach(annotations::put);
      patch.add("/metadata/annotations", annotations);
    } else {
      values.forEach((k, v) -> patch.add(JsonPatch.annotation(k), v));
    }
  }

  static String key(AliyunCsr r) {
    return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }
}
