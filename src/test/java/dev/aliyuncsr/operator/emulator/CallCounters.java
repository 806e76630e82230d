package dev.aliyuncsr.operator.emulator;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Calls per action and outcome ("OK", an error Code, or "LostResponse"), overall, per account, per
 * certificate instance and per CsrId; and when each of an account's calls arrived.
 */
final class CallCounters {
  private final Map<String, Map<String, AtomicInteger>> counts = new ConcurrentHashMap<>();
  private final Map<String, CallCounters> perAccount = new ConcurrentHashMap<>();
  private final Map<String, CallCounters> perInstance = new ConcurrentHashMap<>();
  private final Map<Long, CallCounters> perCsr = new ConcurrentHashMap<>();
  private final Map<String, java.util.ArrayDeque<java.time.Instant>> arrivals =
      new ConcurrentHashMap<>();

  /** How many arrival times are kept per account: the latest, so a soak's memory stays bounded. */
  static final int ARRIVALS_KEPT = 100_000;

  /** Counts the call overall and, when {@code accountId} is not null, for that account too. */
  void record(String accountId, String action, String outcome) {
    record(action, outcome);
    if (accountId != null) {
      perAccount.computeIfAbsent(accountId, a -> new CallCounters()).record(action, outcome);
    }
  }

  /** Counts the call also for the instance it named. */
  void recordForInstance(String instanceId, String action, String outcome) {
    perInstance.computeIfAbsent(instanceId, i -> new CallCounters()).record(action, outcome);
  }

  /** Counts the call also for the CsrId it named. */
  void recordForCsr(long csrId, String action, String outcome) {
    perCsr.computeIfAbsent(csrId, i -> new CallCounters()).record(action, outcome);
  }

  /** The CsrId's counters; empty ones for a CsrId no call named. */
  CallCounters ofCsr(long csrId) {
    CallCounters counters = perCsr.get(csrId);
    return counters == null ? new CallCounters() : counters;
  }

  /** A call of the account arrived at {@code at}. */
  void arrived(String accountId, java.time.Instant at) {
    java.util.ArrayDeque<java.time.Instant> times =
        arrivals.computeIfAbsent(accountId, a -> new java.util.ArrayDeque<>());
    synchronized (times) {
      if (times.size() == ARRIVALS_KEPT) {
        times.removeFirst();
      }
      times.addLast(at);
    }
  }

  /** When the account's latest calls arrived, in arrival order; a snapshot. */
  java.util.List<java.time.Instant> arrivals(String accountId) {
    java.util.ArrayDeque<java.time.Instant> times = arrivals.get(accountId);
    if (times == null) {
      return java.util.List.of();
    }
    synchronized (times) {
      return times.stream().sorted().toList();
    }
  }

  /** The instance's counters; empty ones for an instance no call named. */
  CallCounters ofInstance(String instanceId) {
    CallCounters counters = perInstance.get(instanceId);
    return counters == null ? new CallCounters() : counters;
  }

  /** The account's counters; empty ones for an account that made no call. */
  CallCounters of(String accountId) {
    CallCounters counters = perAccount.get(accountId);
    return counters == null ? new CallCounters() : counters;
  }

  void record(String action, String outcome) {
    counts
        .computeIfAbsent(action, a -> new ConcurrentHashMap<>())
        .computeIfAbsent(outcome, o -> new AtomicInteger())
        .incrementAndGet();
  }

  int calls(String action) {
    Map<String, AtomicInteger> outcomes = counts.get(action);
    return outcomes == null ? 0 : outcomes.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  int calls(String action, String outcome) {
    Map<String, AtomicInteger> outcomes = counts.get(action);
    AtomicInteger count = outcomes == null ? null : outcomes.get(outcome);
    return count == null ? 0 : count.get();
  }

  /** A sorted, immutable copy. */
  Map<String, Map<String, Integer>> snapshot() {
    Map<String, Map<String, Integer>> copy = new TreeMap<>();
    counts.forEach(
        (action, outcomes) -> {
          Map<String, Integer> perOutcome = new TreeMap<>();
          outcomes.forEach((outcome, count) -> perOutcome.put(outcome, count.get()));
          copy.put(action, Collections.unmodifiableMap(perOutcome));
        });
    return Collections.unmodifiableMap(copy);
  }

  /** All calls of every action. */
  int total() {
    return counts.keySet().stream().mapToInt(this::calls).sum();
  }

  void clear() {
    counts.clear();
    perAccount.clear();
    perInstance.clear();
    perCsr.clear();
    arrivals.clear();
  }
}
