package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This process's memory of when each open application is to be read next, as the poll schedule set
 * it: a reconcile that an event brings earlier (a Secret, the AliyunCsr, a resync) asks CAS nothing
 * before that time. Only the generation and instance it was set for count; a restart forgets it,
 * and the next reconcile reads at once.
 */
final class PollHolds {
  private record Hold(long generation, String instanceId, Instant due) {}

  /** Stalled reasons that come from CAS's answer about the instance, held as polls are. */
  static final Set<String> HELD_REFUSALS =
      Set.of(Reasons.INSTANCE_UNUSABLE, Reasons.INSTANCE_NOT_FOUND);

  private final Map<String, Hold> holds = new ConcurrentHashMap<>();

  /** When the open application of {@code r}'s spec.instanceId is due to be read, if known. */
  Optional<Instant> due(AliyunCertificate r) {
    Hold hold = holds.get(r.getMetadata().getUid());
    if (hold == null
        || hold.generation() != generation(r)
        || r.getSpec() == null
        || !Objects.equals(hold.instanceId(), r.getSpec().getInstanceId())) {
      return Optional.empty();
    }
    return Optional.of(hold.due());
  }

  /** A pass settled on {@code outcome}: a poll of an open application sets the next due time. */
  void settled(AliyunCertificate r, Outcome outcome, Instant now) {
    String uid = r.getMetadata().getUid();
    boolean polling =
        outcome.state() == Outcome.State.PROGRESSING
            && (Reasons.AWAITING_VALIDATION.equals(outcome.reason())
                || Reasons.ISSUING.equals(outcome.reason()))
            && outcome.requeueAfter().isPresent()
            && r.getSpec() != null;
    // What CAS refused for good (an instance it has not, or cannot use) is not asked again before
    // its recheck, whatever event comes: each ask would write the application lease and its end.
    boolean refused =
        outcome.state() == Outcome.State.STALLED
            && HELD_REFUSALS.contains(outcome.reason())
            && outcome.requeueAfter().isPresent()
            && r.getSpec() != null;
    if (!polling && !refused) {
      holds.remove(uid);
      return;
    }
    Instant due = now.plus(outcome.requeueAfter().get());
    Hold before = holds.get(uid);
    if (before != null
        && before.generation() == generation(r)
        && Objects.equals(before.instanceId(), r.getSpec().getInstanceId())
        && before.due().isAfter(now)) {
      // Settled again on the earlier read: the read it scheduled stays as it was.
      return;
    }
    holds.put(uid, new Hold(generation(r), r.getSpec().getInstanceId(), due));
  }

  void forget(String uid) {
    holds.remove(uid);
  }

  private static long generation(AliyunCertificate r) {
    Long g = r.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }
}
