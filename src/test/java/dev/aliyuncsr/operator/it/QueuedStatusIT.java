package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issues 10 and 19, "an honest status for every object while it waits": 150 objects created at once
 * (16 clients in parallel, as a GitOps sync or the outside check sends them, not one after the
 * other) against CAS_QPS=9 and the operator's default threads and concurrency. Whatever each one
 * waits for (its place in the rate, a concurrency slot, a reconcile thread), it carries
 * Reconciling=True with a reason and observedGeneration (kstatus: InProgress), or is Ready, within
 * 2 s of its creation: none reads as Current while its work has not started.
 *
 * <p>An earlier version of this test created the objects one by one with 8 threads and looked only
 * for Queued: the burst then arrived over about 1.5 s and the test passed while a burst that
 * arrives at once left 105 of 150 objects without a status 3 s later (a wait for a busy concurrency
 * slot was requeued without a write).
 */
class QueuedStatusIT {
  static final int COUNT = 150;
  static final Duration WITHIN = Duration.ofSeconds(2);

  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    // The operator's defaults for threads (48) and concurrency (4), which the harness lowers for
    // other tests; 9/s as the outside check.
    harness =
        OperatorHarness.start(
            Map.of("CAS_QPS", "9", "RECONCILE_THREADS", "48", "CAS_MAX_CONCURRENCY", "4"));
    harness.emulator.setRateLimit("UploadCsr", 10);
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  /** When each object first said where it stands, and what kstatus made of a waiting one. */
  static final class Seen implements Watcher<AliyunCsr> {
    final Map<String, Instant> firstStatus = new ConcurrentHashMap<>();
    final Map<String, String> kstatusWhenWaiting = new ConcurrentHashMap<>();
    final Map<String, String> reasonWhenWaiting = new ConcurrentHashMap<>();

    @Override
    public void eventReceived(Action action, AliyunCsr r) {
      Instant now = Instant.now();
      String name = r.getMetadata().getName();
      if (isWaiting(r)) {
        kstatusWhenWaiting.putIfAbsent(name, GitOpsIT.kstatus(r));
        reasonWhenWaiting.putIfAbsent(name, reconcilingReason(r));
      }
      if (isWaiting(r) || AliyunCsrIT.isReady(r)) {
        firstStatus.putIfAbsent(name, now);
      }
    }

    @Override
    public void onClose(WatcherException cause) {}
  }

  static boolean isWaiting(AliyunCsr r) {
    return r.getStatus() != null
        && r.getStatus().getObservedGeneration() != null
        && r.getStatus()
            .condition("Reconciling")
            .map(c -> "True".equals(c.getStatus()) && c.getReason() != null)
            .orElse(false);
  }

  static String reconcilingReason(AliyunCsr r) {
    return r.getStatus().condition("Reconciling").orElseThrow().getReason();
  }

  @Test
  void everyObjectOfABurstSaysWhereItStandsWithinTwoSecondsOfItsCreation() throws Exception {
    String ns = harness.newNamespace();
    KeyPair key = TestPki.rsa(2048);
    for (int i = 0; i < COUNT; i++) {
      var pki = TestPki.csr(key, "burst-" + i + ".example.com");
      harness.secret(ns, "csr-" + i, Map.of("tls.csr", pki.csrPem()));
    }
    int uploadsBefore = harness.emulator.calls("UploadCsr", "OK");
    Seen seen = new Seen();
    Map<String, Instant> created = new ConcurrentHashMap<>();
    ExecutorService clients = Executors.newFixedThreadPool(16);
    try (Watch watch = harness.client.resources(AliyunCsr.class).inNamespace(ns).watch(seen)) {
      List<Future<?>> creates = new ArrayList<>();
      for (int i = 0; i < COUNT; i++) {
        String name = "burst-" + i;
        String secret = "csr-" + i;
        creates.add(
            clients.submit(
                () -> {
                  Instant before = Instant.now();
                  harness.create(aliyunCsr(ns, name, secret, null));
                  created.put(name, before);
                }));
      }
      for (Future<?> create : creates) {
        create.get();
      }
      Instant lastCreated = created.values().stream().max(Instant::compareTo).orElseThrow();
      Instant firstCreated = created.values().stream().min(Instant::compareTo).orElseThrow();
      // The outside check's figure: objects with no status 3 s after the burst.
      await().until(() -> Instant.now().isAfter(lastCreated.plusSeconds(3)));
      long silent =
          harness.client.resources(AliyunCsr.class).inNamespace(ns).list().getItems().stream()
              .filter(r -> r.getStatus() == null || r.getStatus().getObservedGeneration() == null)
              .count();
      System.out.printf(
          "queued burst: %d created in %s; without a status 3 s after the last: %d%n",
          COUNT, Duration.between(firstCreated, lastCreated), silent);
      assertThat(silent).as("objects without a status 3 s after the burst").isZero();
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  harness
                          .client
                          .resources(AliyunCsr.class)
                          .inNamespace(ns)
                          .list()
                          .getItems()
                          .stream()
                          .filter(AliyunCsrIT::isReady)
                          .count()
                      == COUNT);
    } finally {
      clients.shutdownNow();
    }
    Duration worst = Duration.ZERO;
    String worstName = null;
    for (var entry : created.entrySet()) {
      Instant first = seen.firstStatus.get(entry.getKey());
      assertThat(first).as("%s said where it stands", entry.getKey()).isNotNull();
      Duration took = Duration.between(entry.getValue(), first);
      if (took.compareTo(worst) > 0) {
        worst = took;
        worstName = entry.getKey();
      }
    }
    int uploads = harness.emulator.calls("UploadCsr", "OK") - uploadsBefore;
    long stored =
        harness.emulator.csrs().stream().filter(c -> c.name().startsWith(ns + "-")).count();
    Map<String, Long> reasons = new java.util.TreeMap<>();
    seen.reasonWhenWaiting.values().forEach(r -> reasons.merge(r, 1L, Long::sum));
    System.out.printf(
        "queued burst: %d objects, waiting reasons %s, slowest to say where it stands: %s (%s);"
            + " UploadCsr %d, throttled %d%n",
        COUNT,
        reasons,
        worstName,
        worst,
        uploads,
        harness.emulator.calls("UploadCsr", "Throttling.User"));
    assertThat(worst).as("slowest, %s", worstName).isLessThanOrEqualTo(WITHIN);
    assertThat(seen.reasonWhenWaiting.values())
        .as("a burst of %d at 9/s queues most of them", COUNT)
        .filteredOn(Reasons.QUEUED::equals)
        .hasSizeGreaterThan(COUNT / 2);
    assertThat(seen.kstatusWhenWaiting.values()).containsOnly("InProgress");
    assertThat(uploads).as("each uploaded exactly once").isEqualTo(COUNT);
    assertThat(stored).as("one CSR in CAS per object").isEqualTo(COUNT);
  }
}
