package dev.aliyuncsr.operator.cloud;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One process-wide budget for CAS calls: a token bucket that spreads calls to at most {@code qps}
 * per second (Alibaba counts UploadCsr per account, shared by every caller) and a cap on calls in
 * flight. JOSDK runs many reconciles at once and nothing else limits them.
 */
public final class CallBudget {
  private final long nanosPerCall;
  private final long burst;
  private final Semaphore inFlight;
  private long nextFreeNanos;

  /**
   * @param burst how many calls may go at once after an idle spell; 1 keeps the spacing strict,
   *     which matters when the service counts calls in one-second windows
   */
  public CallBudget(double qps, int maxConcurrentCalls, int burst) {
    if (qps <= 0 || maxConcurrentCalls <= 0 || burst <= 0) {
      throw new IllegalArgumentException("qps, concurrency and burst must be positive");
    }
    this.nanosPerCall = (long) (TimeUnit.SECONDS.toNanos(1) / qps);
    this.burst = burst;
    this.inFlight = new Semaphore(maxConcurrentCalls, true);
    this.nextFreeNanos = System.nanoTime();
  }

  /** A permit to make one call; close it when the call returns. */
  public interface Permit extends AutoCloseable {
    @Override
    void close();
  }

  /** Waits for a slot in the rate and a free concurrency slot. */
  public Permit acquire() throws InterruptedException {
    Slot slot = acquireSlot();
    try {
      slot.awaitRate();
    } catch (InterruptedException | RuntimeException e) {
      slot.close();
      throw e;
    }
    return slot;
  }

  /**
   * A concurrency slot held for a call that is made a little later: the call waits for its place in
   * the rate ({@link #awaitRate}) just before it goes, because the service counts calls when they
   * arrive, not when their slot was taken.
   */
  public interface Slot extends Permit {
    void awaitRate() throws InterruptedException;
  }

  /** Waits for a free concurrency slot only. */
  public Slot acquireSlot() throws InterruptedException {
    inFlight.acquire();
    return new Slot() {
      private boolean closed;

      @Override
      public void awaitRate() throws InterruptedException {
        long wait = reserve();
        if (wait > 0) {
          // Rate limiting, not synchronisation: the caller must not call before its slot.
          LockSupport.parkNanos(wait);
          if (Thread.interrupted()) {
            throw new InterruptedException();
          }
        }
      }

      @Override
      public synchronized void close() {
        if (!closed) {
          closed = true;
          inFlight.release();
        }
      }
    };
  }

  private synchronized long reserve() {
    long now = System.nanoTime();
    long earliest = now - (burst - 1) * nanosPerCall;
    long slot = Math.max(nextFreeNanos, earliest);
    nextFreeNanos = slot + nanosPerCall;
    return slot - now;
  }

  /** The spacing between calls. */
  public Duration interval() {
    return Duration.ofNanos(nanosPerCall);
  }
}
