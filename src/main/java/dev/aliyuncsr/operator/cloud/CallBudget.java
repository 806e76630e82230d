package dev.aliyuncsr.operator.cloud;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
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
   * When the last call went (System.nanoTime), and the least gap to the next one. A call that goes
   * late, after its place in the rate, must not go right before the next on-time one: the service
   * counts calls in a sliding second as they arrive. The gap is 2 % above the spacing, so that the
   * jitter between leaving here and arriving there does not put one call too many in a second.
   */
  private long lastCallNanos;

  private final long minGapNanos;

  /** Slots in the rate promised to callers that come back for them ({@link #admit}). */
  private final Map<String, Long> reservations = new HashMap<>();

  /** A reservation not claimed this long after its time is given up: its caller went away. */
  static final Duration RESERVATION_EXPIRY = Duration.ofSeconds(60);

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
    this.minGapNanos = burst == 1 ? nanosPerCall + nanosPerCall / 50 : 0;
    this.lastCallNanos = nextFreeNanos - minGapNanos;
  }

  /** A permit to make one call; close it when the call returns. */
  public interface Permit extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Waits at most {@code maxWait} for a free concurrency slot and a place in the rate; empty when
   * either is further away (nothing is reserved then). A reconcile thread waits for its account's
   * budget only a moment: an account whose calls pile up must not hold threads that other accounts'
   * resources need.
   */
  public java.util.Optional<Permit> tryAcquire(Duration maxWait) throws InterruptedException {
    long deadline = System.nanoTime() + maxWait.toNanos();
    if (!inFlight.tryAcquire(maxWait.toNanos(), TimeUnit.NANOSECONDS)) {
      return java.util.Optional.empty();
    }
    long slotAt;
    synchronized (this) {
      long now = System.nanoTime();
      long earliest = now - (burst - 1) * nanosPerCall;
      long next = Math.max(nextFreeNanos, earliest);
      if (next > deadline) {
        inFlight.release();
        return java.util.Optional.empty();
      }
      nextFreeNanos = next + nanosPerCall;
      slotAt = next;
    }
    Slot slot = reservedSlot(slotAt);
    try {
      slot.awaitRate();
    } catch (InterruptedException | RuntimeException e) {
      slot.close();
      throw e;
    }
    return java.util.Optional.of(slot);
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
        long slotAt = reserve() + System.nanoTime();
        parkUntil(callAt(slotAt));
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

  /** What {@link #admit} answers. */
  public sealed interface Admission permits Granted, Later {}

  /** The call may go: its slot is held, and {@link Slot#awaitRate} waits at most a moment. */
  public record Granted(Slot slot) implements Admission {}

  /**
   * Come back after {@code after}: the caller's place in the rate is kept until then. {@code busy}
   * when it is not the rate but every concurrency slot that is taken (a short wait, usually).
   */
  public record Later(Duration after, boolean busy) implements Admission {
    public Later(Duration after) {
      this(after, false);
    }
  }

  /**
   * Admission without parking a thread for long: the caller named {@code key} gets a place in the
   * rate the first time it asks (after everyone who asked before it), and is told to come back when
   * that place is more than {@code maxPark} away, or when every concurrency slot is busy. Coming
   * back, it keeps its place; a place not claimed within {@link #RESERVATION_EXPIRY} lapses.
   */
  public Admission admit(String key, Duration maxPark) {
    long now = System.nanoTime();
    long slotAt;
    synchronized (this) {
      expireReservations(now);
      Long reserved = reservations.get(key);
      if (reserved == null) {
        reserved = reserve(now) + now;
      }
      if (reserved - now > maxPark.toNanos()) {
        // A place whose caller is late (a busy reconcile pool, a late timer) would go unused:
        // this caller takes it, and the late one gets this caller's later place.
        String late = overdue(now, key);
        if (late != null) {
          long lateAt = reservations.get(late);
          reservations.put(late, reserved);
          reserved = lateAt;
        }
      }
      reservations.put(key, reserved);
      slotAt = reserved;
    }
    long wait = slotAt - now;
    if (wait > maxPark.toNanos()) {
      // Back half a park before the place: the writes that precede the call (the lease, the
      // finalizer) and a late timer then cost no place in the rate.
      return new Later(Duration.ofNanos(wait - maxPark.toNanos() / 2));
    }
    if (!inFlight.tryAcquire()) {
      return new Later(BUSY_RETRY, true);
    }
    synchronized (this) {
      reservations.remove(key);
    }
    return new Granted(reservedSlot(slotAt));
  }

  /** A place this far past its time counts as unclaimed: its caller is late. */
  static final Duration LATE = Duration.ofMillis(50);

  /** The earliest place, other than {@code key}'s, whose caller is late; null when none is. */
  private String overdue(long now, String key) {
    String late = null;
    long lateAt = now - LATE.toNanos();
    for (Map.Entry<String, Long> e : reservations.entrySet()) {
      if (e.getValue() < lateAt && !e.getKey().equals(key)) {
        late = e.getKey();
        lateAt = e.getValue();
      }
    }
    return late;
  }

  /** Gives up {@code key}'s place in the rate, if it has one (the caller no longer needs it). */
  public synchronized void cancel(String key) {
    reservations.remove(key);
  }

  /** How many callers hold a place in the rate without having claimed it. */
  public synchronized int waiting() {
    return reservations.size();
  }

  /** How soon a caller that found every concurrency slot busy asks again. */
  static final Duration BUSY_RETRY = Duration.ofMillis(100);

  private void expireReservations(long now) {
    long expiry = RESERVATION_EXPIRY.toNanos();
    for (Iterator<Long> it = reservations.values().iterator(); it.hasNext(); ) {
      if (now - it.next() > expiry) {
        it.remove();
      }
    }
  }

  /** A concurrency slot already taken, whose call goes at {@code slotAt} (System.nanoTime). */
  private Slot reservedSlot(long slotAt) {
    return new Slot() {
      private boolean closed;

      @Override
      public void awaitRate() throws InterruptedException {
        // Usually at most the admission's maxPark; longer only behind calls that went late.
        parkUntil(callAt(slotAt));
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

  /** When a call whose place in the rate is {@code slotAt} goes: after the last one's gap too. */
  private synchronized long callAt(long slotAt) {
    long at = Math.max(Math.max(slotAt, lastCallNanos + minGapNanos), System.nanoTime());
    lastCallNanos = at;
    return at;
  }

  /** Rate limiting, not synchronisation: the caller must not call before its time. */
  private static void parkUntil(long at) throws InterruptedException {
    long wait;
    while ((wait = at - System.nanoTime()) > 0) {
      LockSupport.parkNanos(wait);
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
  }

  private synchronized long reserve() {
    return reserve(System.nanoTime());
  }

  /** Takes the next place in the rate; returns how far from {@code now} it is. */
  private synchronized long reserve(long now) {
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
