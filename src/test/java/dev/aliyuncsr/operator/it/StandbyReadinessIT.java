package dev.aliyuncsr.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.OperatorProcess;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the README promises for /readyz with leader election: a standby whose caches are synced is
 * ready, so a rolling upgrade (new pod Ready before the old leader stops) can proceed.
 */
class StandbyReadinessIT {
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

  @Test
  void aStandbyIsReadyWhileTheLeaderHoldsTheLease() throws Exception {
    String ns = OperatorHarness.newNamespace(client, "standby-");
    int leaderPort = freePort();
    int standbyPort = freePort();
    try (OperatorProcess leader = operator(ns, "leader", leaderPort)) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> holder(ns).filter("leader"::equals).isPresent());
      try (OperatorProcess standby = operator(ns, "standby", standbyPort)) {
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> readyz(standbyPort) == 200);
        assertThat(holder(ns)).as("still the leader's Lease").contains("leader");
        assertThat(readyz(leaderPort)).isEqualTo(200);
        assertThat(standby.isAlive()).isTrue();
      }
    }
  }

  static OperatorProcess operator(String ns, String identity, int port) throws Exception {
    return OperatorProcess.start(
        emulator.endpoint(),
        Map.of(
            "WATCH_NAMESPACES", ns,
            "LEADER_ELECTION", "true",
            "LEADER_ELECTION_NAMESPACE", ns,
            "POD_NAME", identity,
            "HTTP_PORT", Integer.toString(port)),
        Path.of("target", "standby-logs", ns + "-" + identity + ".log"));
  }

  static Optional<String> holder(String ns) {
    Lease lease =
        client.resources(Lease.class).inNamespace(ns).withName("aliyun-csr-operator").get();
    return lease == null || lease.getSpec() == null
        ? Optional.empty()
        : Optional.ofNullable(lease.getSpec().getHolderIdentity()).filter(h -> !h.isEmpty());
  }

  /** The status of GET /readyz, or -1 while nothing listens yet. */
  static int readyz(int port) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (java.io.IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  static int freePort() throws java.io.IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
