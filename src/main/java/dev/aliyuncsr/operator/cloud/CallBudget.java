package dev.aliyuncsr.operator.cloud;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
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
 * A ticket's call goes, taking the next free place, when it is first (position 0), its time is
 * within {@code maxPark} (a blocked caller: within a moment, so that it holds a concurrency slot
 * only for its call) and a concurrency slot is free. A caller that is not there for its turn holds
 * nobody up: a kept place whose caller is late ({@link #LATE}), or comes back only after another's
 * time, counts in no one's position until it is back, and then goes first. A ticket told that every
 * slot is busy keeps its turn for the next free one (until it is late), so that callers blocked
 * here, who are always there when a slot frees, do not take every slot from callers who come back.
 *
 * <p>The bound this gives. A tenant with nothing waiting joins at the back of the ring, so at most
 * one ticket per other tenant with calls waiting goes before it, and no tenant behind it ever gets
 * ahead (a tenant whose call goes moves behind it). A place is given only within {@code maxPark},
 * so the next free place is at most {@code maxPark} plus a spacing away. While the rate, not the
 * concurrency, is what limits, its call goes within (tenants with calls waiting, itself included) /
 * qps + maxPark; later only behind an upload holding a lease, which goes first, or a call that went
 * late. A blocked caller gives up when its place is beyond its deadline: with many tenants waiting
 * and a low rate, its resource is looked at again after its back-off.
 */
public final class CallBudget {
  /** A kept place this far past its time, its caller not back, is late: it holds up no one. */
  static final Duration LATE = Duration.ofMillis(50);

  private static final long LATE_NANOS = LATE.toNanos();

  /** A kept place not claimed this long after its time is given up: its caller went away. */
  static final Duration RESERVATION_EXPIRY = Duration.ofSeconds(60);

  /** How soon a caller that found every concurrency slot busy asks again. */
  static final Duration BUSY_RETRY = Duration.ofMillis(100);

  /** The least a caller is told to wait before it comes back. */
  private static final long MOMENT_NANOS = Duration.ofMillis(5).toNanos();

  /** How long before its place a blocked caller is given its turn: its wake-up's jitter. */
  private static final long BLOCKED_LEAD_NANOS = Duration.ofMillis(20).toNanos();

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

  /**
   * The calls that have gone in the last moment or are about to (clock nanos), and whether each
   * went late, after its place in the rate.
   */
  private final TreeMap<Long, Boolean> calls = new TreeMap<>();

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

  /** What {@link #admit} and {@link #admitPlace} answer. */
  public sealed interface Admission permits Granted, Placed, Later {}

  /** The call may go: its slot is held, and {@link Slot#awaitRate} waits at most a moment. */
  public record Granted(Slot slot) implements Admission {}

  /**
   * An upload's turn: its place in the rate is taken (its call goes there or, later, right after
   * it), but no concurrency slot yet. The upload writes its lease first, then claims a slot for the
   * call alone ({@link Place#claim}): a slot is never held across the Kubernetes writes that come
   * before a call.
   */
  public record Placed(Place place) implements Admission {}

  /** A place in the rate whose call still needs a concurrency slot. */
  public interface Place {
    /**
     * A concurrency slot for the call at this place, waiting as long as it takes: calls in flight
     * are bounded by the longest call, and uploads holding a lease go before any waiting turn.
     */
    Slot claim() throws InterruptedException;
  }

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
   * {@code tenant}'s the first time it asks, and is granted its call once it is first, its place is
   * within maxPark and a concurrency slot is free; else it is told when to come back. Coming back,
   * it keeps its place (and its tenant); a place not claimed within {@link #RESERVATION_EXPIRY} of
   * its time lapses.
   */
  public Admission admit(Tenant tenant, String key) {
    return admit(tenant, key, true);
  }

  /**
   * As {@link #admit}, but the turn takes a place in the rate only, no concurrency slot: for an
   * upload, which writes its lease between its turn and its call. Never answers busy.
   */
  public Admission admitPlace(Tenant tenant, String key) {
    return admit(tenant, key, false);
  }

  private Admission admit(Tenant tenant, String key, boolean withSlot) {
    synchronized (this) {
      long now = clock.nanoTime();
      dropLapsedPlaces(now);
      Ticket ticket = places.get(key);
      if (ticket == null) {
        ticket = enqueue(tenant, key);
        places.put(key, ticket);
      }
      ticket.withSlot = withSlot;
      Turn turn = turnOf(ticket, now);
      if (turn.granted() != null) {
        return turn.granted();
      }
      if (turn.placed() != null) {
        return turn.placed();
      }
      // Back half a park before its time: the writes that precede the call (the lease, the
      // finalizer) and a late timer then cost no turn.
      ticket.backAt = turn.comeBack(now, maxPark);
      return new Later(Duration.ofNanos(ticket.backAt - now), turn.busy());
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
      long deadline = clock.nanoTime() + maxWait.toNanos();
      Ticket ticket = join(tenant);
      try {
        while (slot == null) {
          Step step = step(ticket, deadline);
          if (step instanceof Go go) {
            slot = go.slot();
          } else if (step instanceof WaitUntil wait) {
            clock.waitUntil(this, wait.at());
          } else {
            return Optional.empty();
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
    return claimSlot(null);
  }

  /** A slot for a lease holder's call at {@code placeAt} (null: the next free place). */
  private Slot claimSlot(Long placeAt) throws InterruptedException {
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
    return new RateSlot(placeAt, null);
  }

  // ---- the steps a blocked caller repeats (tryAcquire; simulations drive them one by one) -------

  /** A caller that waits here for {@code tenant}'s turn: its ticket, always there to be granted. */
  synchronized Ticket join(Tenant tenant) {
    return enqueue(tenant, null);
  }

  /** What a blocked caller does next. */
  sealed interface Step permits Go, WaitUntil, GiveUp {}

  /** Its turn: the call goes at its place. */
  record Go(Slot slot) implements Step {}

  /** Look again at {@code at} (clock nanos), or when woken: a call before it went, say. */
  record WaitUntil(long at) implements Step {}

  /** Its call could not go by its deadline: its ticket is gone. */
  record GiveUp() implements Step {}

  /** One look at a blocked caller's turn, whose call must go by {@code deadline}. */
  synchronized Step step(Ticket ticket, long deadline) {
    long now = clock.nanoTime();
    dropLapsedPlaces(now);
    Turn turn = turnOf(ticket, now);
    if (turn.granted() != null) {
      return new Go(turn.granted().slot());
    }
    if (now >= deadline || turn.at() > deadline) {
      remove(ticket, false);
      return new GiveUp();
    }
    long again;
    if (turn.busy()) {
      again = now + BUSY_RETRY.toNanos();
    } else if (turn.readyAt() > now) {
      again = turn.readyAt();
    } else {
      again = now + LATE_NANOS; // behind calls that go first; woken when they do
    }
    return new WaitUntil(Math.min(again, deadline));
  }

  /** The blocked caller gives up its turn. */
  synchronized void leave(Ticket ticket) {
    remove(ticket, false);
  }

  // ---- turns -----------------------------------------------------------------------------------

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

    /**
     * Told that every slot is busy when its turn had come: it keeps its turn for the next free slot
     * until it is late, whenever it said it would be back.
     */
    boolean due;

    /** Its turn takes a concurrency slot too; false for an upload's place ({@link #admitPlace}). */
    boolean withSlot = true;

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

  /**
   * A ticket's turn: granted now; or every slot is busy; or its time ({@code at}) is not within a
   * park yet, until {@code readyAt}; or calls before it go first (readyAt now).
   */
  private record Turn(Granted granted, boolean busy, long readyAt, long at, Placed placed) {
    Turn(Granted granted, boolean busy, long readyAt, long at) {
      this(granted, busy, readyAt, at, null);
    }

    /** When a caller that comes back for its place should: half a park before its time. */
    long comeBack(long now, long maxPark) {
      if (busy) {
        return now + BUSY_RETRY.toNanos();
      }
      if (readyAt > now) {
        return readyAt + maxPark / 2;
      }
      // Calls before it go first: back just before its place, once they have gone.
      return Math.max(at - LATE_NANOS, now + MOMENT_NANOS);
    }
  }

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
    Position place = position(ticket, now, base);
    long position = place.position();
    long at = base + position * spacing;
    // A caller blocked here is here: given its turn just before its place, it holds a concurrency
    // slot only a moment before its call. A caller that comes back needs the whole park.
    boolean blocked = ticket.key == null;
    long readyAt = at - (blocked ? Math.min(maxPark, BLOCKED_LEAD_NANOS) : maxPark);
    if (share != null && share.nextFree > base) {
      // Its class has used its share for now: it waits for the class's next place.
      readyAt = Math.max(readyAt, share.nextFree);
      at = Math.max(at, share.nextFree);
    }
    ticket.due = false;
    if (readyAt > now) {
      if (blocked && place.firstLate() < readyAt) {
        // It looks again when a place before it turns late: its turn may then be now.
        return new Turn(null, false, place.firstLate() + 1, at);
      }
      return new Turn(null, false, readyAt, at);
    }
    if (ticket.withSlot && !callSlotFree(share)) {
      // It keeps its turn for a slot: a call behind it does not take the next free one.
      ticket.due = true;
      return new Turn(null, true, now, at);
    }
    if (position > 0) {
      // Calls before it that are there for their turn go first: a moment.
      return new Turn(null, false, now, at);
    }
    remove(ticket, true);
    long placeAt = takePlace(base, share);
    if (!ticket.withSlot) {
      return new Turn(null, false, now, at, new Placed(() -> claimSlot(placeAt)));
    }
    takeCallSlot(share);
    return new Turn(new Granted(new RateSlot(placeAt, share)), false, now, at);
  }

  /**
   * How many waiting calls go before {@code ticket}: round robin over the ring, one call per tenant
   * per round. A call that cannot go soon counts for no one: a kept place whose caller is late, or
   * a background class that has used its share or its concurrency for now. Nor does a kept place
   * whose caller comes back only after this call's time: it keeps its place, and goes next once
   * back.
   */
  private Position position(Ticket ticket, long now, long base) {
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
      long late = t.key == null || t.due ? 0 : t.backAt - base;
      backFrom[late <= 0 ? 0 : (int) Math.min(before.size(), (late + spacing - 1) / spacing)]++;
    }
    int position = 0;
    for (int back = backFrom[0]; back > position; back += backFrom[position]) {
      position++;
    }
    long firstLate = Long.MAX_VALUE;
    for (Ticket t : before) {
      if (t.key != null && (t.due || t.backAt - base <= position * spacing)) {
        firstLate = Math.min(firstLate, lateAt(t));
      }
    }
    return new Position(position, firstLate);
  }

  /**
   * A ticket's position, and when the first kept place counted in it turns late, if its caller is
   * not back by then: the position may then be less.
   */
  private record Position(long position, long firstLate) {}

  private long lateAt(Ticket ticket) {
    return ticket.backAt + maxPark / 2 + LATE_NANOS;
  }

  private boolean mayGo(Ticket ticket, long now, long base) {
    if (ticket.key != null && now > lateAt(ticket)) {
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
   * passed, a spacing away from every other call, whatever order their callers come in. After a
   * call that went late, after its place, the gap is 2 % more: the late call must not go right
   * before the next on-time one, because the service counts calls in a sliding second as they
   * arrive, and the 2 % covers the jitter between leaving here and arriving there. The places given
   * out next start after a late call, so that the times waiting callers are told stay true.
   */
  private long scheduleCall(long placeAt) {
    long now = clock.nanoTime();
    calls.headMap(now - lateGap()).clear();
    long at = Math.max(placeAt, now);
    while (true) {
      Map.Entry<Long, Boolean> before = calls.floorEntry(at);
      if (before != null && at - before.getKey() < gapAfter(before.getValue())) {
        at = before.getKey() + gapAfter(before.getValue());
        continue;
      }
      Map.Entry<Long, Boolean> after = calls.higherEntry(at);
      if (after != null && after.getKey() - at < gapAfter(at > placeAt)) {
        at = after.getKey() + gapAfter(after.getValue());
        continue;
      }
      break;
    }
    boolean late = at > placeAt;
    calls.put(at, late);
    if (late) {
      nextFree = Math.max(nextFree, at + lateGap());
    }
    return at;
  }

  private long gapAfter(boolean late) {
    return late ? lateGap() : spacing;
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
