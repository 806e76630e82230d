package dev.aliyuncsr.operator.cloud;

import static dev.aliyuncsr.operator.cloud.BudgetSimulation.busiestSecond;
import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.cloud.BudgetSimulation.Request;
import dev.aliyuncsr.operator.cloud.CallBudget.Tenant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One account's budget under many callers, on a fake clock: turns between namespaces, the rate over
 * every sliding second, and the shares of the background classes.
 */
class CallBudgetFairnessTest {
  static final Duration LEASE_WRITE = Duration.ofMillis(20);
  static final Duration CALL = Duration.ofMillis(100);
  static final Map<String, Double> SHARES = Map.of("observe", 0.2, "certificates", 0.2);
  static final Tenant A = Tenant.namespace("team-a");
  static final Tenant B = Tenant.namespace("team-b");
  static final Tenant OBSERVE = Tenant.background("observe");
  static final Tenant CERTIFICATES = Tenant.background("certificates");

  /** The guarantee: a call within (tenants with calls waiting) / qps + 1 s. */
  static Duration guarantee(int waitingTenants, double qps) {
    return Duration.ofNanos((long) (waitingTenants / qps * 1e9)).plusSeconds(1);
  }

  /** What the turns give: one call of each tenant waiting, a park, and the lease write. */
  static Duration oneRound(int waitingTenants, double qps) {
    return Duration.ofNanos((long) (waitingTenants / qps * 1e9))
        .plus(BudgetSimulation.PARK)
        .plus(LEASE_WRITE);
  }

  @Test
  void aQuietNamespaceGoesWithinOneRoundWhileAnotherHasAThousandUploadsQueued() {
    var sim = new BudgetSimulation(5, 4, SHARES);
    for (int i = 0; i < 1000; i++) {
      sim.upload(Duration.ofMillis(i), "team-a", "a-" + i, LEASE_WRITE, CALL);
    }
    Request upload = sim.upload(Duration.ofSeconds(30), "team-b", "b-0", LEASE_WRITE, CALL);
    Request lookup = sim.lookup(Duration.ofSeconds(60), B, CALL);
    sim.run(Duration.ofSeconds(70));

    assertThat(upload.called()).isTrue();
    assertThat(upload.waited()).isLessThanOrEqualTo(guarantee(2, 5));
    assertThat(upload.waited()).isLessThanOrEqualTo(oneRound(2, 5));
    assertThat(lookup.called()).isTrue();
    assertThat(lookup.waited()).isLessThanOrEqualTo(oneRound(2, 5));
    // Nothing was lost meanwhile: A used the whole rate while alone.
    assertThat(countBefore(sim.callTimes(A), sim.at(Duration.ofSeconds(30))))
        .isGreaterThanOrEqualTo(5 * 30 - 1);
    assertThat(busiestSecond(sim.callTimes(null))).isLessThanOrEqualTo(5);
  }

  @Test
  void aQuietNamespaceIsNotHeldUpByAnotherNamespacesFloodOfBlockingLookups() {
    var sim = new BudgetSimulation(5, 4, SHARES);
    List<List<Request>> flood = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      flood.add(sim.loop(Duration.ofMillis(i), Duration.ofSeconds(60), A, Duration.ofMillis(50)));
    }
    Request lookup = sim.lookup(Duration.ofSeconds(20), B, CALL);
    Request upload = sim.upload(Duration.ofSeconds(40), "team-b", "b-0", LEASE_WRITE, CALL);
    sim.run(Duration.ofSeconds(60));

    assertThat(lookup.called()).isTrue();
    assertThat(lookup.waited()).isLessThanOrEqualTo(guarantee(2, 5));
    assertThat(lookup.waited()).isLessThanOrEqualTo(oneRound(2, 5));
    assertThat(upload.called()).isTrue();
    assertThat(upload.waited()).isLessThanOrEqualTo(oneRound(2, 5));
    assertThat(flood.stream().flatMap(List::stream).filter(r -> r.exhausted))
        .as("A's own flood delays A: some of its lookups give up after their wait")
        .isNotEmpty();
    assertThat(countBefore(sim.callTimes(A), sim.at(Duration.ofSeconds(60))))
        .as("and A has the rest of the rate")
        .isGreaterThanOrEqualTo(5 * 60 - 4);
    assertThat(busiestSecond(sim.callTimes(null))).isLessThanOrEqualTo(5);
  }

  @Test
  void aQuietNamespaceIsNotStarvedOfCallSlotsWhenTheyAreWhatLimits() {
    // 2 slots and 300 ms calls: the slots, not the 10 calls a second, are what limits.
    var sim = new BudgetSimulation(10, 2, SHARES);
    Duration slow = Duration.ofMillis(300);
    for (int i = 0; i < 300; i++) {
      sim.upload(Duration.ofMillis(i), "team-a", "a-" + i, LEASE_WRITE, slow);
    }
    Tenant c = Tenant.namespace("team-c");
    for (int i = 0; i < 4; i++) {
      sim.loop(Duration.ofMillis(i), Duration.ofSeconds(60), c, slow);
    }
    List<Request> uploads = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      uploads.add(
          sim.upload(Duration.ofSeconds(10 + 10 * i), "team-b", "b-" + i, LEASE_WRITE, slow));
    }
    sim.run(Duration.ofSeconds(60));

    // A caller told that every slot is busy keeps its turn for the next free one: the blocked
    // callers, always there when a slot frees, do not take it from under it.
    for (Request upload : uploads) {
      assertThat(upload.called()).isTrue();
      assertThat(upload.waited()).isLessThanOrEqualTo(guarantee(3, 10));
    }
  }

  @Test
  void theWholeRateIsUsedWhenItIsHigh() {
    var sim = new BudgetSimulation(50, 64, SHARES);
    for (int n = 0; n < 3; n++) {
      for (int i = 0; i < 1000; i++) {
        sim.upload(Duration.ofMillis(i), "team-" + n, n + "-" + i, LEASE_WRITE, CALL);
      }
    }
    for (int i = 0; i < 4; i++) {
      sim.loop(Duration.ZERO, Duration.ofSeconds(40), A, Duration.ofMillis(30));
    }
    sim.run(Duration.ofSeconds(40));

    // Callers behind others come back just before their places, not after them.
    assertThat(sim.calls).hasSizeGreaterThanOrEqualTo(50 * 40 - 5);
    assertThat(busiestSecond(sim.callTimes(null))).isLessThanOrEqualTo(50);
  }

  @Test
  void twoBurstingNamespacesTakeTurns() {
    var sim = new BudgetSimulation(5, 4, SHARES);
    for (int i = 0; i < 100; i++) {
      sim.upload(Duration.ofMillis(i), "team-a", "a-" + i, LEASE_WRITE, CALL);
      sim.upload(Duration.ofMillis(1000 + i), "team-b", "b-" + i, LEASE_WRITE, CALL);
    }
    sim.run(Duration.ofSeconds(60));

    List<Tenant> order =
        sim.calls.stream()
            .sorted(Comparator.comparingLong(BudgetSimulation.Call::at))
            .map(BudgetSimulation.Call::tenant)
            .toList();
    assertThat(order).hasSize(200);
    int firstOfB = order.indexOf(B);
    assertThat(firstOfB).as("A alone for a second").isBetween(4, 7);
    int lastOfA = order.lastIndexOf(A);
    for (int i = firstOfB + 1; i <= lastOfA; i++) {
      assertThat(order.get(i)).as("call %d", i).isNotEqualTo(order.get(i - 1));
    }
  }

  @Test
  void aNewNamespaceWaitsAtMostOneCallOfEachTenantWithCallsWaiting() {
    var sim = new BudgetSimulation(5, 4, SHARES);
    for (int n = 1; n <= 5; n++) {
      for (int i = 0; i < 200; i++) {
        sim.upload(Duration.ofMillis(i), "team-" + n, "t" + n + "-" + i, LEASE_WRITE, CALL);
      }
    }
    sim.loop(Duration.ZERO, Duration.ofSeconds(60), OBSERVE, CALL);
    sim.loop(Duration.ZERO, Duration.ofSeconds(60), CERTIFICATES, CALL);
    Request upload = sim.upload(Duration.ofSeconds(30), "team-new", "new-0", LEASE_WRITE, CALL);
    Request lookup = sim.lookup(Duration.ofSeconds(45), Tenant.namespace("team-other"), CALL);
    sim.run(Duration.ofSeconds(60));

    // Five namespaces, two background classes and the newcomer.
    assertThat(upload.waited()).isLessThanOrEqualTo(guarantee(8, 5));
    assertThat(upload.waited()).isLessThanOrEqualTo(oneRound(8, 5));
    assertThat(lookup.waited()).isLessThanOrEqualTo(oneRound(8, 5));
    assertThat(busiestSecond(sim.callTimes(null))).isLessThanOrEqualTo(5);
  }

  @Test
  void backgroundClassesKeepToTheirShareWhileForegroundIsBusy() {
    var sim = new BudgetSimulation(5, 4, SHARES);
    for (int i = 0; i < 1000; i++) {
      sim.upload(Duration.ofMillis(i), "team-a", "a-" + i, LEASE_WRITE, CALL);
    }
    sim.loop(Duration.ZERO, Duration.ofSeconds(100), OBSERVE, CALL);
    sim.loop(Duration.ZERO, Duration.ofSeconds(100), CERTIFICATES, CALL);
    sim.run(Duration.ofSeconds(100));

    for (Tenant background : List.of(OBSERVE, CERTIFICATES)) {
      List<Long> calls = sim.callTimes(background);
      assertThat(busiestSecond(calls)).as("%s in a second", background).isEqualTo(1);
      assertThat(calls).as("%s in 100 s", background).hasSizeBetween(98, 101);
    }
    assertThat(sim.callTimes(A))
        .as("foreground has the rest of the rate")
        .hasSizeGreaterThanOrEqualTo(300 - 3);
    assertThat(busiestSecond(sim.callTimes(null))).isLessThanOrEqualTo(5);
  }

  @Test
  void aBackgroundClassUsesIdleCapacityOnlyUpToItsShare() {
    var sim = new BudgetSimulation(5, 4, SHARES);
    sim.loop(Duration.ZERO, Duration.ofSeconds(100), OBSERVE, Duration.ofMillis(10));
    sim.run(Duration.ofSeconds(100));

    List<Long> calls = sim.callTimes(OBSERVE);
    assertThat(calls).hasSizeBetween(99, 101);
    assertThat(busiestSecond(calls)).isEqualTo(1);
  }

  /** Mixed traffic, late uploads, cancellations: no sliding second holds more calls than qps. */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6})
  void noSlidingSecondHoldsMoreCallsThanQps(long seed) {
    Random random = new Random(seed);
    int qps = new int[] {2, 3, 5, 7, 10, 4}[(int) seed - 1];
    var sim = new BudgetSimulation(qps, 16, SHARES);
    for (int n = 0; n < 3; n++) {
      for (int i = 0; i < 150; i++) {
        String key = "u" + n + "-" + i;
        sim.upload(
            Duration.ofMillis(random.nextInt(60_000)),
            "team-" + n,
            key,
            // Up to 600 ms between the grant and the call: some calls go late.
            Duration.ofMillis(random.nextInt(600)),
            Duration.ofMillis(50 + random.nextInt(250)));
        if (random.nextInt(10) == 0) {
          sim.cancel(Duration.ofMillis(random.nextInt(90_000)), key);
        }
      }
    }
    for (int n = 3; n < 5; n++) {
      for (int i = 0; i < 4; i++) {
        sim.loop(
            Duration.ofMillis(random.nextInt(30_000)),
            Duration.ofSeconds(90),
            Tenant.namespace("team-" + n),
            Duration.ofMillis(20 + random.nextInt(180)));
      }
    }
    sim.loop(Duration.ZERO, Duration.ofSeconds(120), OBSERVE, CALL);
    sim.loop(Duration.ZERO, Duration.ofSeconds(120), CERTIFICATES, CALL);
    for (int i = 0; i < 10; i++) {
      sim.leaseHolder(Duration.ofMillis(random.nextInt(90_000)), "team-0", CALL);
    }
    sim.run(Duration.ofSeconds(120));

    List<Long> all = sim.callTimes(null);
    assertThat(all).hasSizeGreaterThan(qps * 60);
    assertThat(busiestSecond(all)).isLessThanOrEqualTo(qps);
    long spacing = (long) Math.ceil(1e9 / qps);
    for (int i = 1; i < all.size(); i++) {
      assertThat(all.get(i) - all.get(i - 1)).isGreaterThanOrEqualTo(spacing);
    }
    for (Tenant background : List.of(OBSERVE, CERTIFICATES)) {
      long classSpacing = (long) Math.ceil(1e9 / (qps * 0.2));
      assertThat(busiestSecond(sim.callTimes(background)))
          .isLessThanOrEqualTo((int) ((1_000_000_000L - 1) / classSpacing) + 1);
    }
  }

  @Test
  void newLimitsTakeEffectAtOnceWithoutLosingAPlace() {
    var sim = new BudgetSimulation(10, 4, SHARES);
    List<Request> uploads = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      uploads.add(sim.upload(Duration.ofMillis(i), "team-a", "a-" + i, LEASE_WRITE, CALL));
    }
    sim.setLimits(Duration.ofSeconds(10), 4, 2);
    sim.run(Duration.ofSeconds(100));

    List<Long> all = sim.callTimes(null);
    assertThat(busiestSecond(all)).isLessThanOrEqualTo(10);
    List<Long> after = all.stream().filter(t -> t >= sim.at(Duration.ofMillis(10_250))).toList();
    assertThat(busiestSecond(after)).isLessThanOrEqualTo(4);
    assertThat(uploads).allMatch(Request::called);
  }

  private static long countBefore(List<Long> times, long end) {
    return times.stream().filter(t -> t < end).count();
  }
}
