package dev.aliyuncsr.operator.emulator;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Calls per action and outcome ("OK", an error Code, or "LostResponse"), overall, per account and
 * per certificate instance.
 */
final class CallCounters {
  private final Map<String, Map<String, AtomicInteger>> counts = new ConcurrentHashMap<>();
  private final Map<String, CallCounters> perAccount = new ConcurrentHashMap<>();
  private final Map<String, CallCounters> perInstance = new ConcurrentHashMap<>();

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
  }
}
