package dev.aliyuncsr.operator.bench;

import dev.aliyuncsr.operator.emulator.CasEmulator;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * When the emulator's count of one action moved, sampled every 10 ms in-process: the first and the
 * last call since the clock started, as the emulator saw them.
 */
final class CallClock implements AutoCloseable {
  private final CasEmulator emulator;
  private final String action;
  private final int startCount;
  private final ScheduledExecutorService sampler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "bench-call-clock");
            t.setDaemon(true);
            return t;
          });
  private volatile int lastCount;
  private volatile long firstNanos;
  private volatile long lastNanos;

  CallClock(CasEmulator emulator, String action) {
    this.emulator = emulator;
    this.action = action;
    this.startCount = emulator.calls(action);
    this.lastCount = startCount;
    sampler.scheduleAtFixedRate(this::sample, 0, 10, TimeUnit.MILLISECONDS);
  }

  private void sample() {
    int count = emulator.calls(action);
    if (count != lastCount) {
      long now = System.nanoTime();
      if (firstNanos == 0) {
        firstNanos = now;
      }
      lastNanos = now;
      lastCount = count;
    }
  }

  /** Calls since the clock started. */
  int calls() {
    return emulator.calls(action) - startCount;
  }

  /** When the first call since the start was seen; 0 before it. */
  long firstNanos() {
    return firstNanos;
  }

  /** When the latest call was seen; 0 before the first. */
  long lastNanos() {
    return lastNanos;
  }

  @Override
  public void close() {
    sampler.shutdownNow();
  }
}
