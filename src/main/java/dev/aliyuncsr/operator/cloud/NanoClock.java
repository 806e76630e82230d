package dev.aliyuncsr.operator.cloud;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The monotonic clock a {@link CallBudget} reads, and how its callers wait on it: a test gives the
 * budget a fake one, so that rates, turns and shares are checked without sleeping.
 */
public interface NanoClock {
  /** Like System.nanoTime: only differences mean anything. */
  long nanoTime();

  /** Parks the calling thread until {@link #nanoTime} reaches {@code deadline}. */
  void parkUntil(long deadline) throws InterruptedException;

  /**
   * Waits on {@code monitor}, whose lock the caller holds, until it is notified or {@link
   * #nanoTime} reaches {@code deadline}; it may also return early (the caller checks again).
   */
  void waitUntil(Object monitor, long deadline) throws InterruptedException;

  /** System.nanoTime, parking and Object.wait. */
  NanoClock SYSTEM =
      new NanoClock() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public void parkUntil(long deadline) throws InterruptedException {
          long wait;
          while ((wait = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
            if (Thread.interrupted()) {
              throw new InterruptedException();
            }
          }
        }

        @Override
        public void waitUntil(Object monitor, long deadline) throws InterruptedException {
          long wait = deadline - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.timedWait(monitor, wait);
          }
        }
      };
}
