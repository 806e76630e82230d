package dev.aliyuncsr.operator.cloud;

import dev.aliyuncsr.operator.cloud.CallBudget.Tenant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Callers around one {@link CallBudget} on a fake clock, run as events in time order, every call
 * recorded when it goes. Uploads ask as UploadProtocol does (admit, come back when told, write the
 * lease, then wait for the place); blocked callers as BudgetedCasClient does (the steps of
 * tryAcquire, looked at again after every event, as notifyAll wakes them).
 */
final class BudgetSimulation {
  static final Duration PARK = Duration.ofMillis(250);

  final FakeNanoClock clock = new FakeNanoClock().forbidWaits();
  final long start = clock.nanoTime();
  final CallBudget budget;
  final double qps;
  final List<Call> calls = new ArrayList<>();

  private final PriorityQueue<Event> events =
      new PriorityQueue<>(Comparator.comparingLong(Event::at).thenComparingLong(Event::seq));
  private final List<Blocked> blocked = new ArrayList<>();
  private final Set<String> cancelled = new HashSet<>();
  private long seq;

  /** One call, and when it went. */
  record Call(long at, Tenant tenant) {}

  private record Event(long at, long seq, Runnable action) {}

  /** One request for a call: when it was made, and when its call went (or that it gave up). */
  static final class Request {
    final Tenant tenant;
    long askedAt;
    long calledAt = -1;
    boolean exhausted;

    Request(Tenant tenant) {
      this.tenant = tenant;
    }

    boolean called() {
      return calledAt >= 0;
    }

    Duration waited() {
      return Duration.ofNanos(calledAt - askedAt);
    }
  }

  BudgetSimulation(double qps, int maxConcurrentCalls, Map<String, Double> shares) {
    this.qps = qps;
    this.budget = new CallBudget(qps, maxConcurrentCalls, PARK, shares, clock);
  }

  long at(Duration offset) {
    return start + offset.toNanos();
  }

  /** An UploadCsr of {@code namespace}'s resource {@code key}, first asked at {@code at}. */
  Request upload(Duration at, String namespace, String key, Duration leaseWrite, Duration call) {
    Request request = new Request(Tenant.namespace(namespace));
    schedule(
        at(at),
        () -> {
          request.askedAt = clock.nanoTime();
          admit(request, key, leaseWrite, call);
        });
    return request;
  }

  /** The resource {@code key} is gone at {@code at}: its place is given up, its caller stops. */
  void cancel(Duration at, String key) {
    schedule(
        at(at),
        () -> {
          cancelled.add(key);
          budget.cancel(key);
        });
  }

  private void admit(Request request, String key, Duration leaseWrite, Duration call) {
    if (cancelled.contains(key)) {
      return;
    }
    CallBudget.Admission answer = budget.admit(request.tenant, key);
    if (answer instanceof CallBudget.Later later) {
      schedule(now() + later.after().toNanos(), () -> admit(request, key, leaseWrite, call));
      return;
    }
    CallBudget.Slot slot = ((CallBudget.Granted) answer).slot();
    schedule(now() + leaseWrite.toNanos(), () -> go(request, slot, call, null));
  }

  /** A call blocked in tryAcquire (a lookup, say) for {@code tenant}, from {@code at}. */
  Request lookup(Duration at, Tenant tenant, Duration call) {
    return lookup(at(at), tenant, call, null);
  }

  private Request lookup(long at, Tenant tenant, Duration call, Runnable then) {
    Request request = new Request(tenant);
    schedule(
        at,
        () -> {
          request.askedAt = clock.nanoTime();
          long deadline = now() + BudgetedCasClient.MAX_WAIT.toNanos();
          blocked.add(new Blocked(request, budget.join(tenant), deadline, call, then));
        });
    return request;
  }

  /**
   * A caller that makes blocking calls for {@code tenant} one after the other, from {@code from}
   * until {@code until}; after a call that gave up, it tries again a second later (its back-off).
   */
  List<Request> loop(Duration from, Duration until, Tenant tenant, Duration call) {
    List<Request> made = new ArrayList<>();
    Runnable[] next = new Runnable[1];
    next[0] =
        () -> {
          long at = now();
          if (!made.isEmpty() && made.get(made.size() - 1).exhausted) {
            at += Duration.ofSeconds(1).toNanos();
          }
          if (at < at(until)) {
            made.add(lookup(at, tenant, call, next[0]));
          }
        };
    schedule(at(from), () -> made.add(lookup(now(), tenant, call, next[0])));
    return made;
  }

  /** An upload whose lease is already held: a slot whatever waits, its place when it goes. */
  void leaseHolder(Duration at, String namespace, Duration call) {
    schedule(
        at(at),
        () -> {
          try {
            go(new Request(Tenant.namespace(namespace)), budget.acquireSlot(), call, null);
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private final class Blocked {
    final Request request;
    final CallBudget.Ticket ticket;
    final long deadline;
    final Duration call;
    final Runnable then;
    long wakeAt = Long.MIN_VALUE;

    Blocked(
        Request request, CallBudget.Ticket ticket, long deadline, Duration call, Runnable then) {
      this.request = request;
      this.ticket = ticket;
      this.deadline = deadline;
      this.call = call;
      this.then = then;
    }

    /** One look, as tryAcquire's loop takes it; true when it is done (granted or given up). */
    boolean look() {
      CallBudget.Step step = budget.step(ticket, deadline);
      if (step instanceof CallBudget.Go go) {
        go(request, go.slot(), call, then);
        return true;
      }
      if (step instanceof CallBudget.WaitUntil wait) {
        if (wakeAt <= now() || wait.at() < wakeAt) {
          wakeAt = wait.at();
          schedule(wakeAt, () -> {});
        }
        return false;
      }
      request.exhausted = true;
      if (then != null) {
        schedule(now(), then);
      }
      return true;
    }
  }

  private void go(Request request, CallBudget.Slot slot, Duration call, Runnable then) {
    try {
      slot.awaitRate();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    long at = clock.parkedUntil();
    request.calledAt = at;
    calls.add(new Call(at, request.tenant));
    schedule(
        at + call.toNanos(),
        () -> {
          slot.close();
          if (then != null) {
            then.run();
          }
        });
  }

  /** At {@code at}, the account's limits change. */
  void setLimits(Duration at, double qps, int maxConcurrentCalls) {
    schedule(at(at), () -> budget.setLimits(qps, maxConcurrentCalls));
  }

  /** Runs every event up to {@code until}. */
  void run(Duration until) {
    long end = at(until);
    while (!events.isEmpty() && events.peek().at() <= end) {
      Event event = events.poll();
      clock.set(Math.max(event.at(), now()));
      event.action().run();
      lookAtBlocked();
    }
  }

  /** Every blocked caller looks again, as notifyAll wakes them, until none is granted. */
  private void lookAtBlocked() {
    boolean changed = true;
    while (changed) {
      changed = false;
      for (Blocked b : List.copyOf(blocked)) {
        if (b.look()) {
          blocked.remove(b);
          changed = true;
        }
      }
    }
  }

  private void schedule(long at, Runnable action) {
    events.add(new Event(at, seq++, action));
  }

  long now() {
    return clock.nanoTime();
  }

  /** The calls of {@code tenant}, or all of them (null), in the order they went. */
  List<Long> callTimes(Tenant tenant) {
    return calls.stream()
        .filter(c -> tenant == null || c.tenant().equals(tenant))
        .map(Call::at)
        .sorted()
        .toList();
  }

  /** The most calls any sliding second [t, t + 1 s) holds. */
  static int busiestSecond(List<Long> times) {
    int most = 0;
    int from = 0;
    for (int to = 0; to < times.size(); to++) {
      while (times.get(to) - times.get(from) >= 1_000_000_000L) {
        from++;
      }
      most = Math.max(most, to - from + 1);
    }
    return most;
  }
}
