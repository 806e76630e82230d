package dev.aliyuncsr.operator.emulator;

import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * A sliding one-second rate limit: admits a call when fewer than {@code perSecond} calls were
 * admitted in the preceding second. Runs on the monotonic clock, not the emulator's (possibly fixed
 * or shifted) wall clock. Refused calls do not use up the allowance.
 */
final class OneSecondWindow {
  private static final long ONE_SECOND_NANOS = 1_000_000_000L;

  private final int perSecond;
  private final LongSupplier nanoTime;
  private final ArrayDeque<Long> admitted = new ArrayDeque<>();

  OneSecondWindow(int perSecond, LongSupplier nanoTime) {
    if (perSecond <= 0) {
      throw new IllegalArgumentException("perSecond must be positive");
    }
    this.perSecond = perSecond;
    this.nanoTime = nanoTime;
  }

  int perSecond() {
    return perSecond;
  }

  synchronized boolean tryAdmit() {
    long now = nanoTime.getAsLong();
    while (!admitted.isEmpty() && now - admitted.peekFirst() >= ONE_SECOND_NANOS) {
      admitted.pollFirst();
    }
    if (admitted.size() >= perSecond) {
      return false;
    }
    admitted.addLast(now);
    return true;
  }
}
