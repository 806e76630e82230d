package dev.aliyuncsr.operator.cloud;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The CAS call budget of one account, shared by every call made with it (Alibaba counts calls per
 * account): at most {@code qps} calls per second, strictly spaced, and at most {@code
 * maxConcurrentCalls} in flight. JOSDK runs many reconciles at once and nothing else limits them.
 *
 * <p>Callers take turns. Each call is made for a {@link Tenant}: the namespace of its resource, or
 * a background class (observation, certificate polling). The tenants with calls waiting are served
 * round robin, one call each per round, so that one namespace's burst delays that namespace only; a
 * background class takes its turns like a namespace, and never more than its share of the rate and
 * of the concurrency.
 *
 * <p>No thread waits here long. An upload asks for its turn without blocking ({@link #admit}): it
 * is told when to come back and keeps its place meanwhile. Any other call waits at most the time it
 * is given ({@link #tryAcquire}); further away, it fails and its resource is looked at again later.
 *
 * <p>How the turns work. A waiting call holds a ticket in its tenant's queue; the tenants with
 * tickets form a ring. A tenant whose call goes moves to the back of the ring; a tenant that had
 * nothing waiting joins at the back. A ticket's position is the number of tickets that go before it
 * in this order: one per tenant ahead of it in the ring, and one per tenant for each round its own
 * earlier tickets take. Its time is the next free place in the rate plus one spacing per position.
 * A ticket goes as soon as its time is within {@code maxPark} and a concurrency slot is free,
 * taking the next free place; so a caller that is late for its turn holds nobody up, and a kept
 * place whose caller is late ({@link #LATE}) counts in no one's position until it is back. A tenant
 * with nothing waiting thus has at most one ticket per other waiting tenant before it, and the next
 * free place is at most {@code maxPark} plus a spacing away: its call goes within (tenants waiting)
 * / qps + maxPark.
 */
public final class CallBudget {
  /** A kept place this far past its time, its caller not back, is late: it holds up no one. */
  static final Duration LATE = Duration.ofMillis(50);

  private static final long LATE_NANOS = LATE.toNanos();

  /** A kept place not claimed this long after its time is given up: its caller went away. */
  static final Duration RESERVATION_EXPIRY = Duration.ofSeconds(60);

  /** How soon a caller that found every concurrency slot busy asks again. */
  static final Duration BUSY_RETRY = Duration.ofMillis(100);

  /** How often kept places are looked through for lapsed ones. */
  private static final Duration LAPSE_CHECK = Duration.ofSeconds(1);

  /**
   * Whom a call is made for: the namespace of its resource, or a background class, which has a
   * share of the rate ({@code background}).
   */
  public record Tenant(String name, boolean background) {
    /** The operator's own calls, such as the credential probe: no namespace has an empty name. */
    public static final Tenant OPERATOR = new Tenant("", false);

    public static Tenant namespace(String namespace) {
      return new Tenant(namespace == null ? "" : namespace, false);
    }

    public static Tenant background(String backgroundClass) {
      return new Tenant(backgroundClass, true);
    }
  }

  private final NanoClock clock;
  private final long maxPark;
  private long spacing;
  private int maxInFlight;
  private int inFlight;

  /** Uploads holding a lease that wait for a concurrency slot: they go before any turn. */
  private int leaseHoldersWaiting;

  /** The next free place in the rate (clock nanos): a call given a turn goes there or later. */
  private long nextFree;

  /** When the last call went, and whether it went late, after its place in the rate. */
  private long lastCallAt;

  private boolean lastCallLate;

  private final Map<String, Share> shares = new HashMap<>();
  private final Map<Tenant, Turns> turns = new HashMap<>();

  /** The tenants with calls waiting, in the order their turns come: round robin. */
  private final List<Turns> ring = new ArrayList<>();

  /** The places kept for callers that come back for them ({@link #admit}), by key. */
  private final Map<String, Ticket> places = new HashMap<>();

  private long lapsesCheckedAt;

  /**
   * @param maxPark the longest a caller given its turn parks before its call goes (longer only
   *     behind a call that went late)
   * @param backgroundShares each background class, and the part of {@code qps} and of the
   *     concurrency it may use, in (0, 1]
   */
  public CallBudget(
      double qps,
      int maxConcurrentCalls,
      Duration maxPark,
      Map<String, Double> backgroundShares,
      NanoClock clock) {
    this.clock = clock;
    this.maxPark = maxPark.toNanos();
    long now = clock.nanoTime();
    backgroundShares.forEach(
        (name, share) -> {
          if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException(
                "the share of background class " + name + " must be in (0, 1], not " + share);
          }
          shares.put(name, new Share(share, now));
        });
    setLimits(qps, maxConcurrentCalls);
    this.nextFree = now;
    this.lastCallAt = now - 2 * spacing;
    this.lapsesCheckedAt = now;
  }

  /**
   * Changes the rate and the concurrency in place: every kept place, waiting caller and call in
   * flight stays as it is (an account's spec changed; its callers must not start over).
   */
  public synchronized void setLimits(double qps, int maxConcurrentCalls) {
    if (!(qps > 0) || maxConcurrentCalls <= 0) {
      throw new IllegalArgumentException("qps and concurrency must be positive");
    }
    spacing = nanosBetween(qps);
    maxInFlight = maxConcurrentCalls;
    for (Share share : shares.values()) {
      share.limit(qps, maxConcurrentCalls);
    }
    notifyAll();
  }

  /**
   * Rounded up: rounded down, qps + 1 calls would fit in less than a second, and the service counts
   * them in a sliding second.
   */
  private static long nanosBetween(double perSecond) {
    return (long) Math.ceil(TimeUnit.SECONDS.toNanos(1) / perSecond);
  }

  /** A permit to make one call; close it when the call returns. */
  public interface Permit extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * A concurrency slot held for a call that is made a little later: the call waits for its place in
   * the rate ({@link #awaitRate}) just before it goes, because the service counts calls when they
   * arrive, not when their slot was taken.
   */
  public interface Slot extends Permit {
    void awaitRate() throws InterruptedException;
  }

  /** What {@link #admit} answers. */
  public sealed interface Admission permits Granted, Later {}

  /** The call may go: its slot is held, and {@link Slot#awaitRate} waits at most a moment. */
  public record Granted(Slot slot) implements Admission {}

  /**
   * Come back after {@code after}: the caller's place is kept until then. {@code busy} when it is
   * not the rate but every concurrency slot that is taken (a short wait, usually).
   */
  public record Later(Duration after, boolean busy) implements Admission {
    public Later(Duration after) {
      this(after, false);
    }
  }

  /**
   * A turn without parking a thread for long: the caller named {@code key} gets a place among
   * {@code tenant}'s the first time it asks, and is granted its call once its turn is within
   * maxPark and a concurrency slot is free; else it is told when to come back. Coming back, it
   * keeps its place (and its tenant); a place not claimed within {@link #RESERVATION_EXPIRY} of its
   * time lapses.
   */
  public Admission admit(Tenant tenant, String key) {
    synchronized (this) {
      long now = clock.nanoTime();
      dropLapsedPlaces(now);
      Ticket ticket = places.get(key);
      if (ticket == null) {
        ticket = enqueue(tenant, key);
        places.put(key, ticket);
      }
      Turn turn = turnOf(ticket, now);
      if (turn.granted() != null) {
        return turn.granted();
      }
      // Back half a park before its time: the writes that precede the call (the lease, the
      // finalizer) and a late timer then cost no turn.
      Later later =
          turn.busy()
              ? new Later(BUSY_RETRY, true)
              : new Later(Duration.ofNanos(turn.readyAt() - now + maxPark / 2));
      ticket.backAt = now + later.after().toNanos();
      return later;
    }
  }

  /** Gives up {@code key}'s place, if it has one (the caller no longer needs it). */
  public synchronized void cancel(String key) {
    Ticket ticket = places.get(key);
    if (ticket != null) {
      remove(ticket, false);
    }
  }

  /** How many calls wait for their turn: kept places and blocked callers. */
  public synchronized int waiting() {
    int waiting = 0;
    for (Turns t : ring) {
      waiting += t.tickets.size();
    }
    return waiting;
  }

  /** The spacing between calls. */
  public synchronized Duration interval() {
    return Duration.ofNanos(spacing);
  }

  /**
   * Waits at most {@code maxWait} for {@code tenant}'s turn and a free concurrency slot, then for
   * the call's place in the rate; empty when the turn is further away (nothing is kept then). A
   * reconcile thread waits for its account's budget only a moment: an account whose calls pile up
   * must not hold threads that other accounts' resources need.
   */
  public Optional<Permit> tryAcquire(Tenant tenant, Duration maxWait) throws InterruptedException {
    Slot slot = null;
    synchronized (this) {
      // Granted a park before the deadline at the latest, so that the call goes by then.
      long grantBy = clock.nanoTime() + maxWait.toNanos() - maxPark;
      Ticket ticket = join(tenant);
      try {
        while (slot == null) {
          Admission answer = poll(ticket);
          if (answer instanceof Granted granted) {
            slot = granted.slot();
          } else {
            Later later = (Later) answer;
            long now = clock.nanoTime();
            long again = now + later.after().toNanos();
            if (now >= grantBy || (!later.busy() && again > grantBy)) {
              return Optional.empty();
            }
            clock.waitUntil(this, Math.min(again, grantBy));
          }
        }
      } finally {
        if (slot == null) {
          leave(ticket);
        }
      }
    }
    try {
      slot.awaitRate();
    } catch (InterruptedException | RuntimeException e) {
      slot.close();
      throw e;
    }
    return Optional.of(slot);
  }

  /**
   * A concurrency slot for an upload whose lease is already held, waiting as long as it takes. Its
   * call takes the next free place in the rate when it goes, before every waiting turn: the lease
   * runs out.
   */
  public Slot acquireSlot() throws InterruptedException {
    synchronized (this) {
      leaseHoldersWaiting++;
      try {
        while (inFlight >= maxInFlight) {
          clock.waitUntil(this, Long.MAX_VALUE);
        }
      } finally {
        leaseHoldersWaiting--;
      }
      takeCallSlot(null);
    }
    return new RateSlot(null, null);
  }

  // ---- the steps a blocked caller repeats (tryAcquire; simulations drive them one by one) -------

  /** A caller that waits here for {@code tenant}'s turn: its ticket, always there to be granted. */
  synchronized Ticket join(Tenant tenant) {
    return enqueue(tenant, null);
  }

  /** One look at a blocked caller's turn: granted, or when to look again. */
  synchronized Admission poll(Ticket ticket) {
    long now = clock.nanoTime();
    dropLapsedPlaces(now);
    Turn turn = turnOf(ticket, now);
    if (turn.granted() != null) {
      return turn.granted();
    }
    return turn.busy()
        ? new Later(BUSY_RETRY, true)
        : new Later(Duration.ofNanos(turn.readyAt() - now));
  }

  /** The blocked caller gives up its turn. */
  synchronized void leave(Ticket ticket) {
    remove(ticket, false);
  }

  // ---- turns
  // -------------------------------------------------------------------------------------

  /** One call waiting for its turn. */
  static final class Ticket {
    final Tenant tenant;

    /** The caller's key for a kept place ({@link #admit}); null for a caller blocked here. */
    final String key;

    /**
     * When the caller of a kept place was told to come back; a caller blocked here is always back.
     * Half a park and {@link #LATE} after it, the caller is late.
     */
    long backAt;

    private Ticket(Tenant tenant, String key, long backAt) {
      this.tenant = tenant;
      this.key = key;
      this.backAt = backAt;
    }
  }

  /** One tenant's waiting calls, in the order they came. */
  private static final class Turns {
    final Tenant tenant;
    final ArrayDeque<Ticket> tickets = new ArrayDeque<>();

    Turns(Tenant tenant) {
      this.tenant = tenant;
    }
  }

  /** A background class's part of the rate and of the concurrency, and its own next place. */
  private static final class Share {
    final double share;
    long spacing;
    int maxInFlight;
    int inFlight;
    long nextFree;

    Share(double share, long now) {
      this.share = share;
      this.nextFree = now;
    }

    void limit(double qps, int maxConcurrentCalls) {
      spacing = nanosBetween(qps * share);
      maxInFlight = Math.max(1, (int) Math.floor(maxConcurrentCalls * share));
    }
  }

  /** A ticket's turn: granted now; or when it could be ({@code readyAt}), or busy. */
  private record Turn(Granted granted, long readyAt, boolean busy) {}

  private Ticket enqueue(Tenant tenant, String key) {
    if (tenant.background() && !shares.containsKey(tenant.name())) {
      throw new IllegalArgumentException("no background class " + tenant.name());
    }
    Ticket ticket = new Ticket(tenant, key, key == null ? Long.MIN_VALUE : clock.nanoTime());
    turns
        .computeIfAbsent(
            tenant,
            t -> {
              Turns joining = new Turns(t);
              ring.add(joining);
              return joining;
            })
        .tickets
        .add(ticket);
    return ticket;
  }

  private Turn turnOf(Ticket ticket, long now) {
    Share share = shareOf(ticket.tenant);
    long base = Math.max(nextFree, now);
    long at = base + position(ticket, now, base) * spacing;
    long readyAt = at - maxPark;
    if (share != null && share.nextFree > base) {
      // Its class has used its share for now: it waits for the class's next place.
      readyAt = Math.max(readyAt, share.nextFree);
    }
    if (readyAt > now) {
      return new Turn(null, readyAt, false);
    }
    if (!callSlotFree(share)) {
      return new Turn(null, now, true);
    }
    remove(ticket, true);
    long placeAt = takePlace(base, share);
    takeCallSlot(share);
    return new Turn(new Granted(new RateSlot(placeAt, share)), now, false);
  }

  /**
   * How many waiting calls go before {@code ticket}: round robin over the ring, one call per tenant
   * per round. A call that cannot go soon counts for no one: a kept place whose caller is late, or
   * a background class that has used its share or its concurrency for now. Nor does a kept place
   * whose caller comes back only after this call's time: it keeps its place, and goes next once
   * back.
   */
  private long position(Ticket ticket, long now, long base) {
    Turns own = turns.get(ticket.tenant);
    int ownIndex = ring.indexOf(own);
    List<Ticket> before = new ArrayList<>();
    for (Ticket earlier : own.tickets) {
      if (earlier == ticket) {
        break;
      }
      if (mayGo(earlier, now, base)) {
        before.add(earlier);
      }
    }
    int rounds = before.size();
    for (int i = 0; i < ring.size(); i++) {
      Turns other = ring.get(i);
      if (other == own) {
        continue;
      }
      int limit = rounds + (i < ownIndex ? 1 : 0);
      int taken = 0;
      for (Iterator<Ticket> it = other.tickets.iterator(); taken < limit && it.hasNext(); ) {
        Ticket next = it.next();
        if (mayGo(next, now, base)) {
          before.add(next);
          taken++;
        }
      }
    }
    // The least position p at which the callers of p of these are back: the call at position p
    // goes at base + p spacings, and a caller back later does not go before it. By counting, not
    // sorting: a thousand places of one namespace are looked at on every admission.
    int[] backFrom = new int[before.size() + 1];
    for (Ticket t : before) {
      long late = t.key == null ? 0 : t.backAt - base;
      backFrom[late <= 0 ? 0 : (int) Math.min(before.size(), (late + spacing - 1) / spacing)]++;
    }
    int back = 0;
    for (int position = 0; ; position++) {
      back += backFrom[position];
      if (back <= position) {
        return position;
      }
    }
  }

  private boolean mayGo(Ticket ticket, long now, long base) {
    if (ticket.key != null && now > ticket.backAt + maxPark / 2 + LATE_NANOS) {
      return false;
    }
    Share share = shareOf(ticket.tenant);
    return share == null || (share.nextFree <= base && share.inFlight < share.maxInFlight);
  }

  private Share shareOf(Tenant tenant) {
    return tenant.background() ? shares.get(tenant.name()) : null;
  }

  /** Takes the ticket out of its queue; a tenant whose call goes moves to the back of the ring. */
  private void remove(Ticket ticket, boolean served) {
    Turns own = turns.get(ticket.tenant);
    if (own == null || !own.tickets.remove(ticket)) {
      return;
    }
    if (ticket.key != null) {
      places.remove(ticket.key, ticket);
    }
    if (own.tickets.isEmpty()) {
      turns.remove(ticket.tenant);
      ring.remove(own);
    } else if (served) {
      ring.remove(own);
      ring.add(own);
    }
    notifyAll();
  }

  private void dropLapsedPlaces(long now) {
    if (now - lapsesCheckedAt < LAPSE_CHECK.toNanos()) {
      return;
    }
    lapsesCheckedAt = now;
    long expiry = RESERVATION_EXPIRY.toNanos();
    List<Ticket> lapsed = new ArrayList<>();
    for (Ticket ticket : places.values()) {
      if (now - ticket.backAt > expiry) {
        lapsed.add(ticket);
      }
    }
    lapsed.forEach(ticket -> remove(ticket, false));
  }

  // ---- the rate and the concurrency: two steps of a grant ---------------------------------------

  /** Takes the place in the rate at {@code at}, and a place in the share of a background class. */
  private long takePlace(long at, Share share) {
    nextFree = at + spacing;
    if (share != null) {
      share.nextFree = at + share.spacing;
    }
    return at;
  }

  private boolean callSlotFree(Share share) {
    return inFlight + leaseHoldersWaiting < maxInFlight
        && (share == null || share.inFlight < share.maxInFlight);
  }

  private void takeCallSlot(Share share) {
    inFlight++;
    if (share != null) {
      share.inFlight++;
    }
  }

  /**
   * When a call whose place in the rate is {@code placeAt} goes: at its place, or now if that has
   * passed, and a spacing after the last call. After a call that went late, after its place, the
   * gap is 2 % more: the late call must not go right before the next on-time one, because the
   * service counts calls in a sliding second as they arrive, and the 2 % covers the jitter between
   * leaving here and arriving there. The places given out next start after it, so that the times
   * waiting callers are told stay true.
   */
  private long scheduleCall(long placeAt) {
    long now = clock.nanoTime();
    long gap = lastCallLate ? lateGap() : spacing;
    long at = Math.max(Math.max(placeAt, now), lastCallAt + gap);
    lastCallLate = at > placeAt;
    lastCallAt = at;
    if (lastCallLate) {
      nextFree = Math.max(nextFree, at + lateGap());
    }
    return at;
  }

  private long lateGap() {
    return spacing + spacing / 50;
  }

  /** A concurrency slot taken, and the place in the rate its call goes at. */
  private final class RateSlot implements Slot {
    private final Share share;
    private Long placeAt;
    private boolean closed;

    /**
     * @param placeAt null: the place is taken when the call goes (an upload holding a lease)
     */
    private RateSlot(Long placeAt, Share share) {
      this.placeAt = placeAt;
      this.share = share;
    }

    @Override
    public void awaitRate() throws InterruptedException {
      long callAt;
      synchronized (CallBudget.this) {
        if (placeAt == null) {
          placeAt = takePlace(Math.max(nextFree, clock.nanoTime()), share);
        }
        callAt = scheduleCall(placeAt);
      }
      // Usually at most maxPark; longer only behind a call that went late.
      clock.parkUntil(callAt);
    }

    @Override
    public void close() {
      synchronized (CallBudget.this) {
        if (closed) {
          return;
        }
        closed = true;
        inFlight--;
        if (share != null) {
          share.inFlight--;
        }
        CallBudget.this.notifyAll();
      }
    }
  }
}
