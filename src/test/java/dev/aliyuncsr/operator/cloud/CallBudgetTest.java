package dev.aliyuncsr.operator.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CallBudgetTest {
  static final Duration PARK = Duration.ofMillis(250);

  @Test
  void theFirstCallerGoesAndTheNextAreToldWhenToComeBackInTheOrderTheyAsked() {
    CallBudget budget = new CallBudget(1, 4, 1); // one call per second
    assertThat(budget.admit("a", PARK)).isInstanceOf(CallBudget.Granted.class);
    Duration b = later(budget.admit("b", PARK));
    Duration c = later(budget.admit("c", PARK));
    // Told to come back half a park (125 ms) before the place, so the call can be on time.
    assertThat(b).isBetween(Duration.ofMillis(100), Duration.ofMillis(875));
    assertThat(c).isBetween(b.plusMillis(900), Duration.ofMillis(1875));
    assertThat(budget.waiting()).isEqualTo(2);

    // Coming back early keeps the place: asking again does not move it to the end.
    Duration bAgain = later(budget.admit("b", PARK));
    assertThat(bAgain).isLessThanOrEqualTo(b);
    assertThat(budget.waiting()).isEqualTo(2);

    // A caller that no longer needs its place gives it up; later callers queue after the others.
    budget.cancel("b");
    assertThat(budget.waiting()).isEqualTo(1);
    Duration d = later(budget.admit("d", PARK));
    assertThat(d).isGreaterThan(c);
  }

  @Test
  void aPlaceWhoseCallerIsLateGoesToTheNextCallerAndTheLateOneGetsItsPlace() {
    CallBudget budget = new CallBudget(2, 4, 1); // 500 ms apart
    assertThat(budget.admit("a", Duration.ZERO)).isInstanceOf(CallBudget.Granted.class);
    Duration b = later(budget.admit("b", Duration.ZERO)); // b: in about 500 ms
    // b does not come back in time (a busy reconcile pool): its place passes unclaimed.
    java.util.concurrent.locks.LockSupport.parkNanos(
        b.plus(CallBudget.LATE).plusMillis(30).toNanos());
    assertThat(budget.admit("c", Duration.ZERO))
        .as("c takes the place b left unused")
        .isInstanceOf(CallBudget.Granted.class);
    Duration bLater = later(budget.admit("b", Duration.ZERO));
    assertThat(bLater).as("b has c's place, after the now").isPositive();
    assertThat(budget.waiting()).isEqualTo(1);
  }

  @Test
  void aCallerFindingEveryConcurrencySlotBusyKeepsItsPlaceAndIsToldToRetrySoon() {
    CallBudget budget = new CallBudget(1000, 1, 1);
    var first = (CallBudget.Granted) budget.admit("a", PARK);
    CallBudget.Admission second = budget.admit("b", PARK);
    assertThat(later(second)).isEqualTo(CallBudget.BUSY_RETRY);
    assertThat(budget.waiting()).as("b keeps its place").isEqualTo(1);
    first.slot().close();
    assertThat(budget.admit("b", PARK)).isInstanceOf(CallBudget.Granted.class);
    assertThat(budget.waiting()).isZero();
  }

  @Test
  void callsThatGoLateStillKeepTheirSpacing() throws Exception {
    CallBudget budget = new CallBudget(50, 2, 1); // 20 ms apart
    // Both places are taken now; the calls go later, back to back.
    var a = (CallBudget.Granted) budget.admit("a", Duration.ofSeconds(1));
    var b = (CallBudget.Granted) budget.admit("b", Duration.ofSeconds(1));
    // Both places pass before either call goes (a slow write before the call, say): the scenario
    // under test, not synchronisation.
    java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(60).toNanos());
    // From before a goes: a goes no earlier than this, and b at least a spacing after a.
    long first = System.nanoTime();
    a.slot().awaitRate();
    b.slot().awaitRate();
    long gap = System.nanoTime() - first;
    assertThat(Duration.ofNanos(gap)).isGreaterThanOrEqualTo(Duration.ofMillis(20));
    a.slot().close();
    b.slot().close();
  }

  private static Duration later(CallBudget.Admission admission) {
    assertThat(admission).isInstanceOf(CallBudget.Later.class);
    return ((CallBudget.Later) admission).after();
  }
}
