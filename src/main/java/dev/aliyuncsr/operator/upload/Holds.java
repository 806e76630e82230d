package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this process remembers of each resource's failed CAS calls: a failed call is not made again
 * before its back-off ends, whatever event comes meanwhile (the echo of the failure's own write,
 * say). A change that is worth a new try at once (the spec, the Secret's CSR, a reconcile request)
 * ends the hold early, but at most once a minute per resource: each of those is something a
 * namespace user can write, and the budget of an account is shared by every tenant.
 */
final class Holds {
  /** How often a tenant's edit may cut a resource's back-off short. */
  static final Duration BYPASS_INTERVAL = Duration.ofMinutes(1);

  private record Hold(Instant until, long generation, String inputs, Outcome outcome) {}

  private final Map<String, Hold> holds = new ConcurrentHashMap<>();
  private final Map<String, Instant> lastBypass = new ConcurrentHashMap<>();

  /** A failed call: hold the resource until {@code until}, repeating {@code outcome}. */
  void hold(String uid, Instant until, long generation, String inputs, Outcome outcome) {
    holds.put(uid, new Hold(until, generation, inputs, outcome));
  }

  /**
   * The outcome to repeat, with the time left, while the resource is held; empty when it may try
   * now. {@code request} is a reconcile request not handled yet.
   */
  Optional<Outcome> held(String uid, Instant now, long generation, String inputs, boolean request) {
    Hold hold = holds.get(uid);
    if (hold == null) {
      return Optional.empty();
    }
    if (!now.isBefore(hold.until())) {
      holds.remove(uid);
      return Optional.empty();
    }
    boolean changed =
        request || hold.generation() != generation || !Objects.equals(hold.inputs(), inputs);
    Instant last = lastBypass.get(uid);
    if (changed && (last == null || !now.isBefore(last.plus(BYPASS_INTERVAL)))) {
      lastBypass.put(uid, now);
      holds.remove(uid);
      return Optional.empty();
    }
    return Optional.of(hold.outcome().withRequeue(Duration.between(now, hold.until())));
  }

  /** The call succeeded: no hold. The bypass memory stays, so edits cannot cut the next short. */
  void clear(String uid) {
    holds.remove(uid);
  }

  /** The resource is gone. */
  void forget(String uid) {
    holds.remove(uid);
    lastBypass.remove(uid);
  }
}
