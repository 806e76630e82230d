package dev.aliyuncsr.operator.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aliyuncsr.operator.cloud.CallBudget.Tenant;
import dev.aliyuncsr.operator.testing.CountingCasClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** One budget on a fake clock: places, lateness, limits and blocked callers, step by step. */
class CallBudgetTest {
  static final Duration PARK = Duration.ofMillis(250);
  static final Tenant NS = Tenant.namespace("team-a");

  final FakeNanoClock clock = new FakeNanoClock();

  CallBudget budget(double qps, int maxConcurrentCalls, Duration maxPark) {
    return new CallBudget(qps, maxConcurrentCalls, maxPark, Map.of("observe", 0.2), clock);
  }

  @Test
  void theFirstCallerGoesAndTheNextAreToldWhenToComeBackInTheOrderTheyAsked() {
    CallBudget budget = budget(1, 4, PARK); // one call per second
    assertThat(budget.admit(NS, "a")).isInstanceOf(CallBudget.Granted.class);
    Duration b = later(budget.admit(NS, "b"));
    Duration c = later(budget.admit(NS, "c"));
    // Told to come back half a park (125 ms) before the place, so the call can be on time.
    assertThat(b).isEqualTo(Duration.ofMillis(875));
    assertThat(c).isEqualTo(Duration.ofMillis(1875));
    assertThat(budget.waiting()).isEqualTo(2);

    // Coming back early keeps the place: asking again does not move it to the end.
    clock.advance(Duration.ofMillis(300));
    assertThat(later(budget.admit(NS, "b"))).isEqualTo(b.minusMillis(300));
    assertThat(budget.waiting()).isEqualTo(2);

    // A caller that no longer needs its place gives it up: the one behind it moves up, and a new
    // caller queues after it.
    budget.cancel("b");
    assertThat(budget.waiting()).isEqualTo(1);
    Duration cAgain = later(budget.admit(NS, "c"));
    assertThat(cAgain).isEqualTo(b.minusMillis(300));
    Duration d = later(budget.admit(NS, "d"));
    assertThat(d).isEqualTo(cAgain.plusSeconds(1));
  }

  @Test
  void aPlaceWhoseCallerIsLateGoesToTheNextCallerAndTheLateOneKeepsItsPlace() {
    CallBudget budget = budget(2, 4, Duration.ZERO); // 500 ms apart
    assertThat(budget.admit(NS, "a")).isInstanceOf(CallBudget.Granted.class);
    Duration b = later(budget.admit(NS, "b")); // b: in 500 ms
    // b does not come back in time (a busy reconcile pool): its place passes unclaimed.
    clock.advance(b.plus(CallBudget.LATE).plusMillis(30));
    assertThat(budget.admit(NS, "c"))
        .as("c takes the place b left unused")
        .isInstanceOf(CallBudget.Granted.class);
    Duration bLater = later(budget.admit(NS, "b"));
    assertThat(bLater).as("b goes next, a spacing after c").isEqualTo(Duration.ofMillis(500));
    assertThat(later(budget.admit(NS, "d"))).as("d queues behind b").isGreaterThan(bLater);
    assertThat(budget.waiting()).isEqualTo(2);
  }

  @Test
  void aCallerFindingEveryConcurrencySlotBusyKeepsItsPlaceAndIsToldToRetrySoon() {
    CallBudget budget = budget(1000, 1, PARK);
    var first = (CallBudget.Granted) budget.admit(NS, "a");
    CallBudget.Admission second = budget.admit(NS, "b");
    assertThat(second).isEqualTo(new CallBudget.Later(CallBudget.BUSY_RETRY, true));
    assertThat(budget.waiting()).as("b keeps its place").isEqualTo(1);
    first.slot().close();
    assertThat(budget.admit(NS, "b")).isInstanceOf(CallBudget.Granted.class);
    assertThat(budget.waiting()).isZero();
  }

  @Test
  void anUploadsTurnTakesItsPlaceWithoutASlotAndClaimsOneOnlyForTheCall() throws Exception {
    // Real time: the claim blocks a thread until the slot is free.
    CallBudget budget = new CallBudget(1000, 1, PARK, Map.of("observe", 0.2), NanoClock.SYSTEM);
    // The only slot is taken by another call in flight.
    var inFlight = (CallBudget.Granted) budget.admit(NS, "lookup");
    // An upload's turn still comes: it writes its lease meanwhile, holding no slot.
    var upload = (CallBudget.Placed) budget.admitPlace(NS, "upload-1");
    var next = budget.admitPlace(NS, "upload-2");
    assertThat(next).as("never busy: places, not slots").isNotInstanceOf(CallBudget.Later.class);
    assertThat(budget.waiting()).isZero();

    // Its call claims the slot once the other call returns; lease holders go before any turn.
    var claimed = new java.util.concurrent.CompletableFuture<CallBudget.Slot>();
    Thread claimer =
        new Thread(
            () -> {
              try {
                claimed.complete(upload.place().claim());
              } catch (InterruptedException e) {
                claimed.completeExceptionally(e);
              }
            });
    claimer.start();
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                claimer.getState() == Thread.State.WAITING
                    || claimer.getState() == Thread.State.TIMED_WAITING
                    || claimed.isDone());
    assertThat(claimed).as("waits while the slot is busy").isNotDone();
    assertThat(budget.admit(NS, "lookup-2"))
        .as("a turn with a slot does not pass the lease holder waiting for it")
        .isInstanceOf(CallBudget.Later.class);
    inFlight.slot().close();
    CallBudget.Slot slot = claimed.get(5, java.util.concurrent.TimeUnit.SECONDS);
    slot.awaitRate();
    slot.close();
    claimer.join();
  }

  @Test
  void onTimeCallsGoOneSpacingApartAndACallThatGoesLateKeepsTwoPercentMore() throws Exception {
    CallBudget budget = budget(50, 4, Duration.ofSeconds(1)); // 20 ms apart
    long start = clock.nanoTime();
    var a = (CallBudget.Granted) budget.admit(NS, "a");
    var b = (CallBudget.Granted) budget.admit(NS, "b");
    var c = (CallBudget.Granted) budget.admit(NS, "c");
    a.slot().awaitRate();
    assertThat(clock.parkedUntil()).isEqualTo(start);
    b.slot().awaitRate();
    assertThat(clock.parkedUntil() - start).as("on time: one spacing").isEqualTo(20_000_000L);
    // c's place (40 ms) passes before its caller is back (a slow write before the call, say).
    clock.advance(Duration.ofMillis(60));
    c.slot().awaitRate();
    long late = clock.parkedUntil();
    assertThat(late - start).as("late: it goes now").isEqualTo(60_000_000L);
    var d = (CallBudget.Granted) budget.admit(NS, "d");
    d.slot().awaitRate();
    assertThat(clock.parkedUntil() - late)
        .as("after a late call, 2 % more than the spacing")
        .isEqualTo(20_400_000L);
    List.of(a, b, c, d).forEach(g -> g.slot().close());
  }

  @Test
  void theSpacingIsRoundedUpSoThatNoSlidingSecondHoldsMoreThanQpsCalls() throws Exception {
    CallBudget budget = budget(3, 8, PARK); // 333,333,333.3 ns apart
    List<Long> calls = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Optional<CallBudget.Permit> permit = budget.tryAcquire(NS, Duration.ofSeconds(5));
      assertThat(permit).isPresent();
      calls.add(clock.parkedUntil());
      permit.get().close();
    }
    assertThat(calls.get(3) - calls.get(0)).isGreaterThanOrEqualTo(1_000_000_000L);
  }

  @Test
  void aPlaceNotClaimedWithinAMinuteOfItsTimeLapses() {
    CallBudget budget = budget(1, 4, PARK);
    budget.admit(NS, "a");
    Duration b = later(budget.admit(NS, "b"));
    clock.advance(b.plus(CallBudget.RESERVATION_EXPIRY).plusSeconds(1));
    assertThat(budget.admit(NS, "c")).isInstanceOf(CallBudget.Granted.class);
    assertThat(budget.waiting()).as("b's place lapsed; c went").isZero();
    // b comes back at last: a new place, at the end.
    Duration d = later(budget.admit(NS, "d"));
    assertThat(later(budget.admit(NS, "b"))).isEqualTo(d.plusSeconds(1));
    assertThat(budget.waiting()).isEqualTo(2);
  }

  @Test
  void newLimitsKeepEveryPlaceAndEveryCallInFlight() throws Exception {
    CallBudget budget = budget(1, 2, PARK);
    var a = (CallBudget.Granted) budget.admit(NS, "a");
    later(budget.admit(NS, "b"));
    later(budget.admit(NS, "c"));
    budget.setLimits(10, 1);
    assertThat(budget.interval()).isEqualTo(Duration.ofMillis(100));
    assertThat(budget.waiting()).as("the places stay").isEqualTo(2);
    // a's call is still in flight, and now fills the only slot: b keeps its place and waits.
    clock.advance(Duration.ofSeconds(1));
    assertThat(budget.admit(NS, "b")).isEqualTo(new CallBudget.Later(CallBudget.BUSY_RETRY, true));
    a.slot().close();
    var b = (CallBudget.Granted) budget.admit(NS, "b");
    assertThat(budget.admit(NS, "c")).isEqualTo(new CallBudget.Later(CallBudget.BUSY_RETRY, true));
    b.slot().awaitRate();
    long bGoes = clock.parkedUntil();
    b.slot().close();
    var c = (CallBudget.Granted) budget.admit(NS, "c");
    c.slot().awaitRate();
    assertThat(clock.parkedUntil() - bGoes).as("at the new spacing").isEqualTo(100_000_000L);
    c.slot().close();
  }

  @Test
  void aBlockedCallerWhoseTurnIsFurtherThanItsWaitFailsAtOnceAndKeepsNothing() throws Exception {
    CallBudget budget = budget(1, 4, PARK);
    for (int i = 0; i < 10; i++) {
      budget.admit(NS, "upload-" + i);
    }
    long before = clock.nanoTime();
    assertThat(budget.tryAcquire(NS, Duration.ofSeconds(5)))
        .as("its own namespace's ten places go first")
        .isEmpty();
    assertThat(clock.nanoTime()).as("it did not wait").isEqualTo(before);
    assertThat(budget.waiting()).isEqualTo(9);
    // Another namespace's call has one place before it: its turn comes within the wait.
    Optional<CallBudget.Permit> other = budget.tryAcquire(Tenant.namespace("team-b"), PARK);
    assertThat(other).isEmpty();
    other = budget.tryAcquire(Tenant.namespace("team-b"), Duration.ofSeconds(5));
    assertThat(other).isPresent();
    assertThat(clock.parkedUntil() - before).isLessThanOrEqualTo(2_000_000_000L);
  }

  @Test
  void anUploadHoldingItsLeaseGoesBeforeEveryWaitingTurn() throws Exception {
    CallBudget budget = budget(1, 2, PARK);
    var a = (CallBudget.Granted) budget.admit(NS, "a");
    Duration b = later(budget.admit(NS, "b"));
    CallBudget.Slot leaseHolder = budget.acquireSlot();
    leaseHolder.awaitRate();
    assertThat(clock.parkedUntil() - clock.nanoTime()).isEqualTo(1_000_000_000L);
    assertThat(later(budget.admit(NS, "b"))).isEqualTo(b.plusSeconds(1));
    a.slot().close();
    leaseHolder.close();
  }

  @Test
  void onlyDeclaredBackgroundClassesHaveAShare() {
    CallBudget budget = budget(1, 2, PARK);
    assertThatThrownBy(() -> budget.tryAcquire(Tenant.background("polling"), PARK))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CallBudget(1, 1, PARK, Map.of("observe", 1.5), NanoClock.SYSTEM))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aBudgetedClientFailsRetryableWhenItsTurnIsFurtherThanItsWait() throws Exception {
    CallBudget budget = budget(1, 4, PARK);
    for (int i = 0; i < 10; i++) {
      budget.admit(NS, "upload-" + i);
    }
    CountingCasClient cas = new CountingCasClient();
    BudgetedCasClient budgeted = new BudgetedCasClient(cas, budget, NS);
    assertThatThrownBy(() -> budgeted.getCsrDetail(1))
        .isInstanceOfSatisfying(
            CasException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(CasException.Kind.RETRYABLE);
              assertThat(e.code()).isEqualTo("BudgetExhausted");
            });
    assertThat(cas.calls).isZero();
    budgeted.forTenant(Tenant.namespace("team-b")).getCsrDetail(1);
    assertThat(cas.calls).as("another namespace's turn comes within the wait").isEqualTo(1);
  }

  private static Duration later(CallBudget.Admission admission) {
    assertThat(admission).isInstanceOf(CallBudget.Later.class);
    return ((CallBudget.Later) admission).after();
  }
}
