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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, "Status that GitOps tools can trust": in a burst at the account's 10/s UploadCsr limit,
 * every object says where it stands within 2 s of its creation (Reconciling=True/Queued, or Ready),
 * which kstatus reads as InProgress, and the wait parks no reconcile thread.
 */
class QueuedStatusIT {
  static final int COUNT = 150;
  static final Duration WITHIN = Duration.ofSeconds(2);

  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness =
        OperatorHarness.start(
            Map.of("CAS_QPS", "10", "CAS_MAX_CONCURRENCY", "4", "RECONCILE_THREADS", "8"));
    harness.emulator.setRateLimit("UploadCsr", 10);
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  /** When each object was first seen Queued or Ready, and what kstatus made of a Queued one. */
  static final class Seen implements Watcher<AliyunCsr> {
    final Map<String, Instant> firstSettled = new ConcurrentHashMap<>();
    final Map<String, String> kstatusWhenQueued = new ConcurrentHashMap<>();

    @Override
    public void eventReceived(Action action, AliyunCsr r) {
      Instant now = Instant.now();
      String name = r.getMetadata().getName();
      if (isQueued(r)) {
        kstatusWhenQueued.putIfAbsent(name, GitOpsIT.kstatus(r));
      }
      if (isQueued(r) || AliyunCsrIT.isReady(r)) {
        firstSettled.putIfAbsent(name, now);
      }
    }

    @Override
    public void onClose(WatcherException cause) {}
  }

  static boolean isQueued(AliyunCsr r) {
    return r.getStatus() != null
        && r.getStatus()
            .condition("Reconciling")
            .map(c -> "True".equals(c.getStatus()) && Reasons.QUEUED.equals(c.getReason()))
            .orElse(false)
        && r.getStatus().getObservedGeneration() != null;
  }

  @Test
  void everyObjectOfABurstAtTheLimitIsQueuedOrReadyWithinTwoSecondsOfItsCreation()
      throws Exception {
    String ns = harness.newNamespace();
    KeyPair key = TestPki.rsa(2048);
    for (int i = 0; i < COUNT; i++) {
      var pki = TestPki.csr(key, "burst-" + i + ".example.com");
      harness.secret(ns, "csr-" + i, Map.of("tls.csr", pki.csrPem()));
    }
    int uploadsBefore = harness.emulator.calls("UploadCsr", "OK");
    Seen seen = new Seen();
    Map<String, Instant> created = new ConcurrentHashMap<>();
    try (Watch watch = harness.client.resources(AliyunCsr.class).inNamespace(ns).watch(seen)) {
      for (int i = 0; i < COUNT; i++) {
        String name = "burst-" + i;
        Instant before = Instant.now();
        harness.create(aliyunCsr(ns, name, "csr-" + i, null));
        created.put(name, before);
      }
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
    }
    Duration worst = Duration.ZERO;
    String worstName = null;
    for (var entry : created.entrySet()) {
      Instant first = seen.firstSettled.get(entry.getKey());
      assertThat(first).as("%s was seen Queued or Ready", entry.getKey()).isNotNull();
      Duration took = Duration.between(entry.getValue(), first);
      if (took.compareTo(worst) > 0) {
        worst = took;
        worstName = entry.getKey();
      }
    }
    int uploads = harness.emulator.calls("UploadCsr", "OK") - uploadsBefore;
    long stored =
        harness.emulator.csrs().stream().filter(c -> c.name().startsWith(ns + "-")).count();
    System.out.printf(
        "queued burst: %d objects, %d seen Queued, slowest to say Queued or Ready: %s (%s);"
            + " UploadCsr %d, throttled %d%n",
        COUNT,
        seen.kstatusWhenQueued.size(),
        worstName,
        worst,
        uploads,
        harness.emulator.calls("UploadCsr", "Throttling.User"));
    assertThat(worst).as("slowest, %s", worstName).isLessThanOrEqualTo(WITHIN);
    assertThat(seen.kstatusWhenQueued)
        .as("a burst of %d at 10/s queues most of them", COUNT)
        .hasSizeGreaterThan(COUNT / 2);
    assertThat(seen.kstatusWhenQueued.values()).containsOnly("InProgress");
    assertThat(uploads).as("each uploaded exactly once").isEqualTo(COUNT);
    assertThat(stored).as("one CSR in CAS per object").isEqualTo(COUNT);
  }
}
