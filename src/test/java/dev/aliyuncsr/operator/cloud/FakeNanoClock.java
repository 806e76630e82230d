package dev.aliyuncsr.operator.cloud;

import java.time.Duration;

/**
 * A {@link NanoClock} for one test thread: time moves only when told. A park does not sleep: it
 * records until when the caller would have parked ({@link #parkedUntil}), which is when its call
 * goes. A wait lets time pass to its deadline: the test thread is the only one, so nothing could
 * happen meanwhile; a simulation, where other callers could, forbids waits ({@link #forbidWaits}).
 */
final class FakeNanoClock implements NanoClock {
  /** Not zero: the budget must only ever use differences. */
  private long now = 7_000_000_000L;

  private long parkedUntil;
  private boolean waitsForbidden;

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public synchronized void parkUntil(long deadline) {
    parkedUntil = Math.max(deadline, now);
  }

  @Override
  public synchronized void waitUntil(Object monitor, long deadline) {
    if (waitsForbidden) {
      throw new IllegalStateException("a simulated caller would block the simulation");
    }
    if (deadline == Long.MAX_VALUE) {
      throw new IllegalStateException("the only thread would wait for ever");
    }
    now = Math.max(now, deadline);
  }

  synchronized FakeNanoClock forbidWaits() {
    waitsForbidden = true;
    return this;
  }

  synchronized void advance(Duration by) {
    now += by.toNanos();
  }

  synchronized void set(long nanos) {
    if (nanos < now) {
      throw new IllegalArgumentException("time does not go back");
    }
    now = nanos;
  }

  /** When the last park ended: the time the parked call went. */
  synchronized long parkedUntil() {
    return parkedUntil;
  }
}
