package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.OperatorProcess;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two operator processes on one Lease: only the leader works, and a standby takes over. */
class LeaderElectionIT {
  static final String LEASE = "aliyun-csr-operator";
  static CasEmulator emulator;
  static KubernetesClient client;

  @BeforeAll
  static void start() {
    emulator = OperatorHarness.newEmulator();
    client = KubeApiServerFixture.newClient();
  }

  @AfterAll
  static void stop() {
    emulator.close();
    client.close();
  }

  @AfterEach
  void noLatency() {
    emulator.setLatency(Duration.ZERO);
  }

  static String namespace() {
    return OperatorHarness.newNamespace(client, "ha-");
  }

  static OperatorProcess operator(String ns, String identity) throws Exception {
    return OperatorProcess.start(
        emulator.endpoint(),
        // A lease the killed leader held without its call going out costs the standby the rest of
        // the lease, then two lookups CAS_MISSING_WINDOW apart (README: the bound after a crash);
        // a short window keeps that within the test's wait.
        Map.of(
            "WATCH_NAMESPACES",
            ns,
            "LEADER_ELECTION",
            "true",
            "LEADER_ELECTION_NAMESPACE",
            ns,
            "POD_NAME",
            identity,
            "HTTP_PORT",
            "0",
            "CAS_MISSING_WINDOW",
            "10s"),
        Path.of("target", "ha-logs", ns + "-" + identity + ".log"));
  }

  static Optional<String> holder(String ns) {
    Lease lease = client.resources(Lease.class).inNamespace(ns).withName(LEASE).get();
    return lease == null || lease.getSpec() == null
        ? Optional.empty()
        : Optional.ofNullable(lease.getSpec().getHolderIdentity()).filter(h -> !h.isEmpty());
  }

  @Test
  void standbyTakesOverWhenTheLeaderIsKilledAndNothingIsUploadedTwice() throws Exception {
    String ns = namespace();
    int count = 30;
    var keyPair = TestPki.rsa(2048);
    for (int i = 0; i < count; i++) {
      var pki = TestPki.csr(keyPair, "ha-" + i + ".example.com");
      OperatorHarness.secret(client, ns, "csr-" + i, Map.of("tls.csr", pki.csrPem()));
      client.resource(aliyunCsr(ns, "ha-" + i, "csr-" + i, null)).create();
    }
    // Slow answers keep the leader busy while it is killed.
    emulator.setLatency(Duration.ofMillis(300));
    try (OperatorProcess a = operator(ns, "replica-a");
        OperatorProcess b = operator(ns, "replica-b")) {
      String leader =
          await().atMost(Duration.ofSeconds(60)).until(() -> holder(ns), Optional::isPresent).get();
      await().atMost(Duration.ofSeconds(60)).until(() -> readyCount(ns) >= 3);
      OperatorProcess leaderProcess = leader.equals("replica-a") ? a : b;
      String standby = leader.equals("replica-a") ? "replica-b" : "replica-a";
      Instant killed = Instant.now();
      leaderProcess.kill();

      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> holder(ns).filter(standby::equals).isPresent());
      Duration takeover = Duration.between(killed, Instant.now());
      System.out.printf(
          "standby took over %d ms after the leader was killed%n", takeover.toMillis());
      assertThat(takeover).isLessThanOrEqualTo(Duration.ofSeconds(20));
      await().atMost(Duration.ofSeconds(90)).until(() -> readyCount(ns) == count);
    }
    List<AliyunCsr> all = client.resources(AliyunCsr.class).inNamespace(ns).list().getItems();
    Map<String, List<StoredCsr>> byName =
        emulator.csrs().stream().collect(Collectors.groupingBy(StoredCsr::name));
    for (AliyunCsr r : all) {
      List<StoredCsr> stored = byName.get(r.getStatus().getUploadName());
      assertThat(stored).as("CSRs uploaded for %s", r.getMetadata().getName()).hasSize(1);
      assertThat(stored.get(0).csrId()).isEqualTo(r.getStatus().getCsrId());
    }
    releaseAll(ns);
  }

  @Test
  void aGracefulStopReleasesTheLease() throws Exception {
    String ns = namespace();
    try (OperatorProcess first = operator(ns, "first")) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> holder(ns).filter("first"::equals).isPresent());
      try (OperatorProcess second = operator(ns, "second")) {
        first.close(); // SIGTERM: the shutdown hook stops the operator and releases the Lease
        assertThat(holder(ns)).isNotEqualTo(Optional.of("first"));
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> holder(ns).filter("second"::equals).isPresent());
      }
    }
  }

  static long readyCount(String ns) {
    return client.resources(AliyunCsr.class).inNamespace(ns).list().getItems().stream()
        .filter(AliyunCsrIT::isReady)
        .count();
  }

  /** Removes the finalizers directly: no operator is running for this namespace any more. */
  static void releaseAll(String ns) {
    for (AliyunCsr r : client.resources(AliyunCsr.class).inNamespace(ns).list().getItems()) {
      client
          .resources(AliyunCsr.class)
          .inNamespace(ns)
          .withName(r.getMetadata().getName())
          .edit(
              x -> {
                x.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
                x.getMetadata().setFinalizers(List.of());
                return x;
              });
    }
    client.resources(AliyunCsr.class).inNamespace(ns).delete();
  }
}
