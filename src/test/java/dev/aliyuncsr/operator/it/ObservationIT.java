package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 10 on the real API server with the real SDK against the emulator: the operator keeps
 * looking at CAS after the upload (a short CAS_OBSERVE_INTERVAL here), and people can pause a
 * resource or ask for a reconcile now.
 */
class ObservationIT {
  static final Duration WAIT = Duration.ofSeconds(90);

  /** Short, so that a test sees several passes; the default is 6h. */
  static final Duration INTERVAL = Duration.ofSeconds(4);

  /** Two NotFound answers this far apart make a CSR gone; the default is a minute. */
  static final Duration MISSING_WINDOW = Duration.ofSeconds(3);

  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness =
        OperatorHarness.start(
            Map.of(
                "CAS_OBSERVE_INTERVAL",
                INTERVAL.toSeconds() + "s",
                "CAS_OBSERVE_SHARE",
                "1",
                "CAS_MISSING_WINDOW",
                MISSING_WINDOW.toSeconds() + "s"));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void aCsrDeletedInCasBehindTheOperatorsBackIsUploadedAgainOnceWithinTheInterval() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "drift.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "drift", "csr", null));
    AliyunCsr ready = awaitReady(ns, "drift");
    long original = ready.getStatus().getCsrId();
    String uploadName = ready.getStatus().getUploadName();
    int uploadsBefore = harness.emulator.calls("UploadCsr");

    Instant deleted = Instant.now();
    assertThat(harness.emulator.deleteInConsole(original)).isTrue();
    AliyunCsr again =
        await()
            .atMost(INTERVAL.multipliedBy(3).plus(MISSING_WINDOW).plusSeconds(10))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> harness.get(ns, "drift"),
                r ->
                    AliyunCsrIT.isReady(r)
                        && r.getStatus().getCsrId() != null
                        && r.getStatus().getCsrId() != original);
    Duration detected = Duration.between(deleted, Instant.now());
    System.out.printf("drift: CsrId %d deleted in CAS, re-uploaded in %s%n", original, detected);
    // Missing means missing: two NotFound answers a window apart, never one.
    assertThat(detected).isGreaterThanOrEqualTo(MISSING_WINDOW);

    assertThat(reason(again)).isEqualTo(Reasons.REUPLOADED);
    assertThat(again.getStatus().getMissingCsrId()).isEqualTo(original);
    assertThat(again.getStatus().getLastConfirmedAt()).isNotNull();
    assertThat(harness.emulator.calls("UploadCsr") - uploadsBefore)
        .as("one new upload, not more")
        .isEqualTo(1);
    List<StoredCsr> stored =
        harness.emulator.csrs().stream().filter(c -> uploadName.equals(c.name())).toList();
    assertThat(stored).extracting(StoredCsr::csrId).containsExactly(again.getStatus().getCsrId());
    assertThat(warnings(ns, "drift")).contains(Reasons.CSR_MISSING_IN_CAS);
    assertThat(harness.operator().metrics().scrape())
        .containsPattern("aliyuncsr_observations_total\\{result=\"missing\"} [1-9]");

    // And it stays that way: further passes confirm the new CSR and upload nothing.
    String confirmed = again.getStatus().getLastConfirmedAt();
    await()
        .atMost(INTERVAL.multipliedBy(3).plusSeconds(10))
        .until(() -> !confirmed.equals(harness.get(ns, "drift").getStatus().getLastConfirmedAt()));
    assertThat(harness.emulator.calls("UploadCsr") - uploadsBefore).isEqualTo(1);
    assertThat(harness.operator().metrics().scrape())
        .containsPattern("aliyuncsr_observation_cas_calls_total\\{action=\"ListCsr\"} [1-9]");
  }

  @Test
  void anAdoptedCsrDeletedInCasStallsAndNothingIsUploaded() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "adopted-gone.example.com");
    StoredCsr existing = harness.emulator.putCsr("made-elsewhere", pki.csrPem(), null);
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    AliyunCsr resource = aliyunCsr(ns, "adopt", "csr", null);
    resource.getSpec().setCsrId(existing.csrId());
    harness.create(resource);
    AliyunCsr adopted = awaitReady(ns, "adopt");
    assertThat(reason(adopted)).isEqualTo(Reasons.ADOPTED);
    int uploadsBefore = harness.emulator.calls("UploadCsr");

    assertThat(harness.emulator.deleteInConsole(existing.csrId())).isTrue();
    AliyunCsr stalled =
        await()
            .atMost(INTERVAL.multipliedBy(3).plus(MISSING_WINDOW).plusSeconds(10))
            .until(() -> harness.get(ns, "adopt"), r -> isTrue(r, "Stalled"));
    assertThat(stalled.getStatus().condition("Stalled").orElseThrow().getReason())
        .isEqualTo(Reasons.ADOPTED_CSR_GONE);
    assertThat(isTrue(stalled, "Ready")).isFalse();
    assertThat(stalled.getStatus().getCsrId()).as("status no longer names it").isNull();
    assertThat(warnings(ns, "adopt")).contains(Reasons.ADOPTED_CSR_GONE);
    OperatorHarness.retryOnConflict(
        () ->
            // More passes and reconciles later: still stalled, still no upload.
            harness
                .client
                .resources(AliyunCsr.class)
                .inNamespace(ns)
                .withName("adopt")
                .edit(
                    r -> {
                      annotations(r).put(CasAnnotations.RECONCILE_REQUESTED_AT, "1");
                      return r;
                    }));
    AliyunCsr later =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "adopt"),
                r -> "1".equals(r.getStatus().getLastHandledReconcileAt()));
    assertThat(later.getStatus().condition("Stalled").orElseThrow().getReason())
        .isEqualTo(Reasons.ADOPTED_CSR_GONE);
    assertThat(harness.emulator.calls("UploadCsr")).isEqualTo(uploadsBefore);
  }

  @Test
  void aPrivateKeyCasNoLongerHoldsIsSentAgainAfterProof() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "key-lost.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.secret(ns, "key", Map.of("tls.key", pki.pkcs8KeyPem()));
    harness.create(aliyunCsr(ns, "keyed", "csr", "key"));
    AliyunCsr ready = awaitReady(ns, "keyed");
    long id = ready.getStatus().getCsrId();
    assertThat(ready.getStatus().getPrivateKeyUploaded()).isTrue();
    int updatesBefore = harness.emulator.calls("UpdateCsr");

    assertThat(harness.emulator.dropPrivateKeyInConsole(id)).isTrue();
    await()
        .atMost(INTERVAL.multipliedBy(3).plusSeconds(10))
        .until(() -> harness.emulator.csr(id).orElseThrow().privateKeyPem() != null);
    assertThat(harness.emulator.calls("UpdateCsr") - updatesBefore).isEqualTo(1);
    AliyunCsr after =
        await().atMost(WAIT).until(() -> harness.get(ns, "keyed"), AliyunCsrIT::isReady);
    assertThat(after.getStatus().getCsrId()).as("the same CSR, nothing uploaded").isEqualTo(id);
    assertThat(after.getStatus().getPrivateKeyUploaded()).isTrue();
    assertThat(warnings(ns, "keyed")).contains(Reasons.CSR_CHANGED_IN_CAS);
  }

  @Test
  void aPausedResourceCallsNothingUntilTheAnnotationGoesAndAPausedDeletionWaits() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "paused.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    Map<String, Map<String, Integer>> before = harness.emulator.callStats();
    AliyunCsr resource = aliyunCsr(ns, "paused", "csr", null);
    resource.getMetadata().setAnnotations(Map.of(CasAnnotations.PAUSED, "true"));
    harness.create(resource);

    AliyunCsr paused =
        await().atMost(WAIT).until(() -> harness.get(ns, "paused"), r -> isTrue(r, "Paused"));
    assertThat(paused.getStatus().getCsrId()).isNull();
    assertThat(paused.getStatus().condition("Ready")).as("Ready left as it was").isEmpty();
    assertThat(paused.getMetadata().getFinalizers()).doesNotContain(CasAnnotations.FINALIZER);
    // A change while paused reaches the reconciler and still calls nothing.
    double pausedReconciles = pausedReconciles();
    annotate(ns, "paused", CasAnnotations.RECONCILE_REQUESTED_AT, "while-paused");
    await().atMost(WAIT).until(() -> pausedReconciles() > pausedReconciles);
    assertThat(harness.emulator.callStats()).as("no CAS call while paused").isEqualTo(before);
    assertThat(harness.get(ns, "paused").getStatus().getLastHandledReconcileAt())
        .as("handled only once resumed")
        .isNull();

    removeAnnotation(ns, "paused", CasAnnotations.PAUSED);
    AliyunCsr ready =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "paused"),
                r ->
                    AliyunCsrIT.isReady(r)
                        && "while-paused".equals(r.getStatus().getLastHandledReconcileAt()));
    assertThat(ready.getStatus().condition("Paused")).as("gone once resumed").isEmpty();
    long csrId = ready.getStatus().getCsrId();

    // Paused again, then deleted under Delete: the deletion waits and says so.
    annotate(ns, "paused", CasAnnotations.PAUSED, "true");
    await().atMost(WAIT).until(() -> isTrue(harness.get(ns, "paused"), "Paused"));
    int deletesBefore = harness.emulator.calls("DeleteCsr");
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("paused").delete();
    AliyunCsr waiting =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "paused"),
                r ->
                    r.getStatus()
                        .condition("Paused")
                        .map(c -> Reasons.DELETION_PAUSED.equals(c.getReason()))
                        .orElse(false));
    assertThat(waiting.getStatus().condition("Paused").orElseThrow().getMessage())
        .contains("Orphan");
    assertThat(harness.emulator.csr(csrId)).isPresent();
    assertThat(harness.emulator.calls("DeleteCsr")).isEqualTo(deletesBefore);

    OperatorHarness.retryOnConflict(
        () ->
            // Switched to Orphan: released at once, the CSR stays in CAS.
            harness
                .client
                .resources(AliyunCsr.class)
                .inNamespace(ns)
                .withName("paused")
                .edit(
                    r -> {
                      r.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
                      return r;
                    }));
    await().atMost(WAIT).until(() -> harness.get(ns, "paused") == null);
    assertThat(harness.emulator.csr(csrId)).isPresent();
    assertThat(harness.emulator.calls("DeleteCsr")).isEqualTo(deletesBefore);
  }

  @Test
  void aReconcileRequestIsHandledAndConfirmsTheCsrInCas() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "reconcile-now.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "now", "csr", null));
    AliyunCsr ready = awaitReady(ns, "now");
    int detailsBefore = harness.emulator.calls("GetCsrDetail");

    annotate(ns, "now", CasAnnotations.RECONCILE_REQUESTED_AT, "2026-12-01T10:00:00Z");
    AliyunCsr handled =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "now"),
                r -> "2026-12-01T10:00:00Z".equals(r.getStatus().getLastHandledReconcileAt()));
    assertThat(harness.emulator.calls("GetCsrDetail") - detailsBefore)
        .as("confirmed in CAS")
        .isGreaterThanOrEqualTo(1);
    assertThat(handled.getStatus().getLastConfirmedAt()).isNotNull();
    assertThat(AliyunCsrIT.isReady(handled)).isTrue();
    assertThat(handled.getStatus().getCsrId()).isEqualTo(ready.getStatus().getCsrId());

    // Flux's annotation alone is a request too.
    String ns2 = harness.newNamespace();
    harness.secret(ns2, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns2, "flux", "csr", null));
    awaitReady(ns2, "flux");
    annotate(ns2, "flux", CasAnnotations.FLUX_REQUESTED_AT, "flux-1");
    await()
        .atMost(WAIT)
        .until(
            () ->
                "flux-1".equals(harness.get(ns2, "flux").getStatus().getLastHandledReconcileAt()));
  }

  // ---- helpers ---------------------------------------------------------------------------------

  static AliyunCsr awaitReady(String ns, String name) {
    return await().atMost(WAIT).until(() -> harness.get(ns, name), AliyunCsrIT::isReady);
  }

  /** Reconciles that ended paused, as the operator counts them. */
  static double pausedReconciles() {
    return harness
        .operator()
        .metrics()
        .registry()
        .find("aliyuncsr_reconciles")
        .tag("reason", Reasons.PAUSED)
        .counters()
        .stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  static Map<String, String> annotations(AliyunCsr r) {
    if (r.getMetadata().getAnnotations() == null) {
      r.getMetadata().setAnnotations(new java.util.HashMap<>());
    }
    return r.getMetadata().getAnnotations();
  }

  static String reason(AliyunCsr r) {
    return r.getStatus().condition("Ready").orElseThrow().getReason();
  }

  static boolean isTrue(AliyunCsr r, String type) {
    return r != null
        && r.getStatus() != null
        && r.getStatus().condition(type).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  static List<String> warnings(String ns, String name) {
    return harness.client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> "Warning".equals(e.getType()))
        .map(Event::getReason)
        .toList();
  }

  static void annotate(String ns, String name, String key, String value) {
    OperatorHarness.retryOnConflict(
        () ->
            harness
                .client
                .resources(AliyunCsr.class)
                .inNamespace(ns)
                .withName(name)
                .edit(
                    r -> {
                      annotations(r).put(key, value);
                      return r;
                    }));
  }

  static void removeAnnotation(String ns, String name, String key) {
    OperatorHarness.retryOnConflict(
        () ->
            harness
                .client
                .resources(AliyunCsr.class)
                .inNamespace(ns)
                .withName(name)
                .edit(
                    r -> {
                      annotations(r).remove(key);
                      return r;
                    }));
  }
}
