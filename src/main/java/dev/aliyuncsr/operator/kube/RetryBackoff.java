package dev.aliyuncsr.operator.kube;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongUnaryOperator;

/**
 * Exponential backoff with jitter per resource, from about a second up to five minutes, for
 * failures that retrying can fix. JOSDK's default retry gives up after five attempts, too soon for
 * a throttling storm, so the reconciler reschedules itself with this instead.
 */
public final class RetryBackoff {
  private final Duration initial;
  private final Duration max;
  private final Map<String, Integer> attempts = new ConcurrentHashMap<>();

  private final LongUnaryOperator jitter;

  public RetryBackoff(Duration initial, Duration max) {
    this(initial, max, bound -> ThreadLocalRandom.current().nextLong(bound));
  }

  /**
   * @param jitter a random number in [0, bound) for a given bound; seeded in the simulation
   */
  public RetryBackoff(Duration initial, Duration max, LongUnaryOperator jitter) {
    this.initial = initial;
    this.max = max;
    this.jitter = jitter;
  }

  /** The delay before the next attempt for this resource; each call doubles the base. */
  public Duration next(String uid) {
    int attempt = attempts.merge(uid, 1, Integer::sum);
    long base = initial.toMillis() << Math.min(attempt - 1, 20);
    long capped = Math.min(base, max.toMillis());
    // Jitter in [50%, 100%] of the delay spreads retries of resources that failed together.
    long jittered = capped / 2 + jitter.applyAsLong(capped / 2 + 1);
    return Duration.ofMillis(Math.max(jittered, 1));
  }

  public void reset(String uid) {
    attempts.remove(uid);
  }
}
