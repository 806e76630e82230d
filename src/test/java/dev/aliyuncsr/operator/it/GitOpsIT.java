package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReady;
import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReason;
import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.ArgoHealthScript;
import dev.aliyuncsr.operator.testing.Certificates;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What GitOps tools see: kstatus readings (Flux, helm --wait, kubectl wait), the Argo CD health
 * scripts (AliyunCsr, AliyunCertificate) on real statuses, and server-side apply that finds nothing
 * to change the second time.
 */
class GitOpsIT {
  /**
   * The emulator's leaves last 90 days from the second they are made: renewing one minute less than
   * that before the end makes a certificate Issued for about its first minute and Expiring from
   * then on, both for real.
   */
  static final String RENEW_BEFORE = (90 * 24 * 60 - 1) + "m";

  static final Duration WAIT = Duration.ofSeconds(60);

  static OperatorHarness harness;
  static ArgoHealthScript argo;
  static ArgoHealthScript certificateArgo;

  @BeforeAll
  static void start() throws Exception {
    harness =
        OperatorHarness.start(
            Map.of(
                "CERTIFICATE_POLL_MIN", "1s",
                "CERTIFICATE_POLL_MAX", "2s",
                "CERTIFICATE_RENEW_BEFORE", RENEW_BEFORE));
    AliyunCsrIT.harness = harness;
    argo = new ArgoHealthScript();
    certificateArgo = new ArgoHealthScript("aliyuncertificate-health.lua");
  }

  @AfterAll
  static void stop() {
    Certificates.deleteAll(harness.client);
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

  /** The same rules for an AliyunCertificate. */
  static String kstatus(AliyunCertificate r) {
    var status = r.getStatus();
    if (status == null
        || status.getObservedGeneration() == null
        || !status.getObservedGeneration().equals(r.getMetadata().getGeneration())
        || isTrue(r, "Reconciling")) {
      return "InProgress";
    }
    if (isTrue(r, "Stalled")) {
      return "Failed";
    }
    return isTrue(r, "Ready") ? "Current" : "InProgress";
  }

  static boolean isTrue(AliyunCertificate r, String type) {
    return r.getStatus().condition(type).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  static AliyunCertificate awaitCertificate(String ns, String name, String reason) {
    return Certificates.awaitReason(harness.client, ns, name, reason, WAIT);
  }

  @Test
  void aCertificateIsProgressingThenHealthyWhileExpiringAndDegradedWhenStalled() {
    String ns = harness.newNamespace();
    String instance = harness.emulator.buyInstance(CasEmulator.DEFAULT_ACCOUNT);
    harness
        .client
        .resource(Certificates.certificate(ns, "web", "web", instance, "web-cert"))
        .create();

    // Before its AliyunCsr exists: in progress, for kstatus and Argo CD alike.
    AliyunCertificate awaitingCsr = awaitCertificate(ns, "web", Reasons.AWAITING_CSR);
    assertThat(kstatus(awaitingCsr)).isEqualTo("InProgress");
    assertThat(certificateArgo.evaluate(awaitingCsr))
        .satisfies(h -> assertThat(h.status()).isEqualTo("Progressing"))
        .satisfies(h -> assertThat(h.message()).startsWith("AwaitingCsr: "));

    var pki = TestPki.ecCsr("secp256r1", "web.example.com");
    harness.secret(ns, "web-tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    harness.create(OperatorHarness.aliyunCsr(ns, "web", "web-tls", "web-tls"));
    AliyunCertificate validating = awaitCertificate(ns, "web", Reasons.AWAITING_VALIDATION);
    assertThat(kstatus(validating)).isEqualTo("InProgress");
    assertThat(certificateArgo.evaluate(validating))
        .satisfies(h -> assertThat(h.status()).isEqualTo("Progressing"))
        .satisfies(h -> assertThat(h.message()).startsWith("AwaitingValidation: "));

    harness.emulator.completeValidation(instance);
    AliyunCertificate issued = awaitCertificate(ns, "web", Reasons.ISSUED);
    assertThat(kstatus(issued)).isEqualTo("Current");
    assertThat(certificateArgo.evaluate(issued))
        .satisfies(h -> assertThat(h.status()).isEqualTo("Healthy"))
        .satisfies(h -> assertThat(h.message()).contains(issued.getStatus().getNotAfter()));

    // Inside the renewal window (a minute after issue here): still serving, so still Healthy.
    AliyunCertificate expiring =
        Certificates.awaitReason(
            harness.client, ns, "web", Reasons.EXPIRING, Duration.ofSeconds(120));
    assertThat(isTrue(expiring, "Ready")).isTrue();
    assertThat(kstatus(expiring)).isEqualTo("Current");
    assertThat(certificateArgo.evaluate(expiring))
        .satisfies(h -> assertThat(h.status()).isEqualTo("Healthy"))
        .satisfies(h -> assertThat(h.message()).startsWith("Expiring: "));

    // A new generation the operator has not seen yet, and no status at all: in progress.
    AliyunCertificate unobserved = Serialization.clone(expiring);
    unobserved.getMetadata().setGeneration(expiring.getMetadata().getGeneration() + 1);
    assertThat(kstatus(unobserved)).isEqualTo("InProgress");
    assertThat(certificateArgo.evaluate(unobserved).status()).isEqualTo("Progressing");
    AliyunCertificate fresh = new AliyunCertificate();
    fresh.setMetadata(expiring.getMetadata());
    assertThat(certificateArgo.evaluate(fresh).status()).isEqualTo("Progressing");

    // A Secret of that name that is not this resource's: stalled, nothing will change by itself.
    harness.secret(ns, "taken", Map.of("tls.crt", "someone else's"));
    harness
        .client
        .resource(
            Certificates.certificate(
                ns,
                "taken",
                "web",
                harness.emulator.buyInstance(CasEmulator.DEFAULT_ACCOUNT),
                "taken"))
        .create();
    AliyunCertificate conflict = awaitCertificate(ns, "taken", Reasons.SECRET_CONFLICT);
    assertThat(kstatus(conflict)).isEqualTo("Failed");
    assertThat(certificateArgo.evaluate(conflict))
        .satisfies(h -> assertThat(h.status()).isEqualTo("Degraded"))
        .satisfies(h -> assertThat(h.message()).startsWith("SecretConflict: "));
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
