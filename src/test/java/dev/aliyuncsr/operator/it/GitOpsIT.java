package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReady;
import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReason;
import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.testing.ArgoHealthScript;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What GitOps tools see: kstatus readings (Flux, helm --wait, kubectl wait), the Argo CD health
 * script on real statuses, and server-side apply that finds nothing to change the second time.
 */
class GitOpsIT {
  static OperatorHarness harness;
  static ArgoHealthScript argo;

  @BeforeAll
  static void start() throws Exception {
    harness = OperatorHarness.start();
    AliyunCsrIT.harness = harness;
    argo = new ArgoHealthScript();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  /** kstatus's generic rules for a resource with conditions, as cli-utils computes them. */
  static String kstatus(AliyunCsr r) {
    if (r.getStatus() == null || r.getStatus().getObservedGeneration() == null) {
      return "InProgress";
    }
    if (!r.getStatus().getObservedGeneration().equals(r.getMetadata().getGeneration())) {
      return "InProgress";
    }
    if (isTrue(r, "Reconciling")) {
      return "InProgress";
    }
    if (isTrue(r, "Stalled")) {
      return "Failed";
    }
    return isTrue(r, "Ready") ? "Current" : "InProgress";
  }

  static boolean isTrue(AliyunCsr r, String type) {
    return r.getStatus().condition(type).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  @Test
  void inProgressThenCurrentThenFailedAsKstatusAndArgoReadThem() {
    String ns = harness.newNamespace();
    harness.create(OperatorHarness.aliyunCsr(ns, "app", "app-csr", null));

    AliyunCsr waiting = awaitReason(ns, "app", "SecretNotFound");
    assertThat(kstatus(waiting)).isEqualTo("InProgress");
    assertThat(argo.evaluate(waiting).status()).isEqualTo("Progressing");

    var pki = TestPki.rsaCsr(2048, "app.example.com");
    harness.secret(ns, "app-csr", Map.of("tls.csr", pki.csrPem()));
    AliyunCsr ready = awaitReady(ns, "app");
    assertThat(kstatus(ready)).isEqualTo("Current");
    assertThat(ready.getStatus().getObservedGeneration())
        .isEqualTo(ready.getMetadata().getGeneration());
    assertThat(argo.evaluate(ready))
        .satisfies(h -> assertThat(h.status()).isEqualTo("Healthy"))
        .satisfies(h -> assertThat(h.message()).contains("CsrId"));

    harness.secret(ns, "broken-csr", Map.of("tls.csr", "not a csr"));
    harness.create(OperatorHarness.aliyunCsr(ns, "broken", "broken-csr", null));
    AliyunCsr failed = awaitReason(ns, "broken", "InvalidCsr");
    assertThat(kstatus(failed)).isEqualTo("Failed");
    assertThat(argo.evaluate(failed))
        .satisfies(h -> assertThat(h.status()).isEqualTo("Degraded"))
        .satisfies(h -> assertThat(h.message()).startsWith("InvalidCsr: "));

    // A new generation that the operator has not seen yet reads as in progress.
    AliyunCsr unobserved = Serialization.clone(ready);
    unobserved.getMetadata().setGeneration(ready.getMetadata().getGeneration() + 1);
    assertThat(kstatus(unobserved)).isEqualTo("InProgress");
    assertThat(argo.evaluate(unobserved).status()).isEqualTo("Progressing");
    AliyunCsr fresh = new AliyunCsr();
    fresh.setMetadata(ready.getMetadata());
    assertThat(argo.evaluate(fresh).status()).isEqualTo("Progressing");
  }

  @Test
  void serverSideApplyTwiceChangesNothingAndTheOperatorNeverOwnsSpec() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "ssa.example.com");
    harness.secret(ns, "ssa-csr", Map.of("tls.csr", pki.csrPem()));
    AliyunCsr desired = OperatorHarness.aliyunCsr(ns, "ssa", "ssa-csr", null);
    PatchContext apply =
        new PatchContext.Builder()
            .withPatchType(PatchType.SERVER_SIDE_APPLY)
            .withFieldManager("gitops")
            .withForce(true)
            .build();
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("ssa").patch(apply, desired);
    AliyunCsr ready = awaitReady(ns, "ssa");

    HasMetadata again =
        harness
            .client
            .resources(AliyunCsr.class)
            .inNamespace(ns)
            .withName("ssa")
            .patch(apply, desired);
    assertThat(again.getMetadata().getResourceVersion())
        .isEqualTo(ready.getMetadata().getResourceVersion());
    for (ManagedFieldsEntry entry : again.getMetadata().getManagedFields()) {
      if (!"gitops".equals(entry.getManager())) {
        assertThat(Serialization.asJson(entry.getFieldsV1())).doesNotContain("f:spec");
      }
    }
  }
}
