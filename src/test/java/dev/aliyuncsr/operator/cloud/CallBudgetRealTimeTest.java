package dev.aliyuncsr.operator.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.cloud.CallBudget.Tenant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The budget on the system clock, with real threads waiting in it. */
class CallBudgetRealTimeTest {
  static final Duration PARK = Duration.ofMillis(250);
  static final Tenant A = Tenant.namespace("team-a");
  static final Tenant B = Tenant.namespace("team-b");

  @Test
  void aQuietNamespaceGetsItsCallWhileAnotherFloodsFromManyThreads() throws Exception {
    CallBudget budget = new CallBudget(20, 4, PARK, Map.of(), NanoClock.SYSTEM);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger floodCalls = new AtomicInteger();
    List<Thread> flood = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < 8; i++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  while (!stop.get()) {
                    budget
                        .tryAcquire(A, Duration.ofSeconds(5))
                        .ifPresent(
                            permit -> {
                              floodCalls.incrementAndGet();
                              permit.close();
                            });
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "flood-" + i);
      t.start();
      flood.add(t);
    }
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> floodCalls.get() >= 20);
      long asked = System.nanoTime();
      Optional<CallBudget.Permit> permit = budget.tryAcquire(B, Duration.ofSeconds(5));
      Duration waited = Duration.ofNanos(System.nanoTime() - asked);
      assertThat(permit).isPresent();
      permit.get().close();
      // Two namespaces with calls waiting at 20 calls a second: within 2 / 20 s + 1 s.
      assertThat(waited).isLessThanOrEqualTo(Duration.ofMillis(1100));
    } finally {
      stop.set(true);
      for (Thread t : flood) {
        t.join(TimeUnit.SECONDS.toMillis(10));
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(floodCalls.get() + 1).isLessThanOrEqualTo((int) (20 * seconds) + 1);
  }

  @Test
  void aBlockedCallerGivesUpAfterItsWaitAndKeepsNothing() throws Exception {
    CallBudget budget = new CallBudget(100, 1, PARK, Map.of(), NanoClock.SYSTEM);
    CallBudget.Permit held = budget.tryAcquire(A, Duration.ofSeconds(1)).orElseThrow();
    long asked = System.nanoTime();
    Optional<CallBudget.Permit> none = budget.tryAcquire(B, Duration.ofMillis(600));
    Duration waited = Duration.ofNanos(System.nanoTime() - asked);
    assertThat(none).isEmpty();
    // Every slot stays busy: it gives up at its deadline, not before.
    assertThat(waited).isBetween(Duration.ofMillis(600), Duration.ofMillis(600 + 2000));
    assertThat(budget.waiting()).isZero();
    held.close();
  }

  @Test
  void aFreedSlotGoesToTheUploadHoldingALeaseThenToTheBlockedCaller() throws Exception {
    CallBudget budget = new CallBudget(100, 1, PARK, Map.of(), NanoClock.SYSTEM);
    CallBudget.Permit held = budget.tryAcquire(A, Duration.ofSeconds(1)).orElseThrow();
    CompletableFuture<CallBudget.Slot> leaseHolder = new CompletableFuture<>();
    Thread lease =
        new Thread(
            () -> {
              try {
                leaseHolder.complete(budget.acquireSlot());
              } catch (InterruptedException e) {
                leaseHolder.completeExceptionally(e);
              }
            });
    CompletableFuture<Optional<CallBudget.Permit>> blocked = new CompletableFuture<>();
    Thread lookup =
        new Thread(
            () -> {
              try {
                blocked.complete(budget.tryAcquire(B, Duration.ofSeconds(30)));
              } catch (InterruptedException e) {
                blocked.completeExceptionally(e);
              }
            });
    lease.start();
    lookup.start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> budget.waiting() == 1 && waitsInTheBudget(lease) && waitsInTheBudget(lookup));

    held.close();
    CallBudget.Slot slot = leaseHolder.get(10, TimeUnit.SECONDS);
    assertThat(blocked).as("the lookup still waits for a slot").isNotDone();
    slot.awaitRate();
    slot.close();
    Optional<CallBudget.Permit> permit = blocked.get(10, TimeUnit.SECONDS);
    assertThat(permit).isPresent();
    permit.get().close();
    lease.join();
    lookup.join();
  }

  private static boolean waitsInTheBudget(Thread t) {
    return t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING;
  }
}
