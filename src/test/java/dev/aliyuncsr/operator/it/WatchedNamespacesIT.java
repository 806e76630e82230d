package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReady;
import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WATCH_NAMESPACES with several namespaces: one informer per namespace. Resources that exist before
 * the operator starts are served in every namespace (each namespace's informer keeps a store of its
 * own, so one namespace's initial list cannot empty another's), and a Secret created later is seen
 * in every namespace.
 */
class WatchedNamespacesIT {
  static OperatorHarness harness;
  static String first;
  static String second;
  static String unwatched;

  @BeforeAll
  static void start() {
    KubernetesClient client = KubeApiServerFixture.newClient();
    first = OperatorHarness.newNamespace(client, "wa-");
    second = OperatorHarness.newNamespace(client, "wb-");
    unwatched = OperatorHarness.newNamespace(client, "wc-");
    for (String ns : List.of(first, second, unwatched)) {
      var pki = TestPki.rsaCsr(2048, "early." + ns + ".example.com");
      OperatorHarness.secret(client, ns, "early", Map.of("tls.csr", pki.csrPem()));
      client.resource(aliyunCsr(ns, "early", "early", null)).create();
    }
    harness = OperatorHarness.start(Map.of("WATCH_NAMESPACES", first + "," + second));
    AliyunCsrIT.harness = harness;
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void resourcesThatExistedBeforeTheStartAreServedInEveryWatchedNamespace() {
    assertThat(awaitReady(first, "early").getStatus().getCsrId()).isNotNull();
    assertThat(awaitReady(second, "early").getStatus().getCsrId()).isNotNull();
  }

  @Test
  void secretsCreatedLaterAreSeenInEveryWatchedNamespaceAndOthersAreLeftAlone() {
    for (String ns : List.of(first, second, unwatched)) {
      harness.create(aliyunCsr(ns, "late", "late", null));
    }
    for (String ns : List.of(second, first, unwatched)) {
      harness.secret(
          ns, "late", Map.of("tls.csr", TestPki.rsaCsr(2048, "late." + ns + ".com").csrPem()));
    }
    awaitReady(first, "late");
    awaitReady(second, "late");
    for (String name : List.of("early", "late")) {
      AliyunCsr untouched = harness.get(unwatched, name);
      assertThat(untouched.getStatus() == null ? null : untouched.getStatus().getConditions())
          .isNullOrEmpty();
      assertThat(untouched.getMetadata().getFinalizers()).isNullOrEmpty();
    }
  }
}
