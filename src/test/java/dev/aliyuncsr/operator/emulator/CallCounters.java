package dev.aliyuncsr.operator.emulator;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Calls per action and outcome ("OK", an error Code, or "LostResponse"). */
final class CallCounters {
  private final Map<String, Map<String, AtomicInteger>> counts = new ConcurrentHashMap<>();

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

  void clear() {
    counts.clear();
  }
}
