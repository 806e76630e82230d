package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.OperatorProcess;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.core.instrument.Counter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 9, one test per case at its top, on the real API server with the real SDK talking to the
 * emulator: each case that broke exactly-once before the upload protocol was rewritten.
 *
 * <p>The emulator answers every transparent re-send of a lost request with 503 for the whole class
 * (the soak's trace), so any silent re-send by the transport would show up in every test.
 */
class ExactlyOnceProtocolIT {
  /** Generous: the machine is small and shared. */
  static final Duration WAIT = Duration.ofSeconds(120);

  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    // Short CAS timeouts keep the upload lease (connect + read + margin) and the restore lease
    // (connect + read) short, so the waits they impose fit the test's deadlines.
    harness = OperatorHarness.start(Map.of("CAS_CONNECT_TIMEOUT", "2s", "CAS_READ_TIMEOUT", "3s"));
    harness.emulator.answerResendsOfLostRequestsWith(503, "ServiceUnavailable");
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @AfterEach
  void clearFaults() {
    harness.emulator.allowAction(OperatorHarness.ACCESS_KEY_ID, "ListCsr");
    harness.emulator.setLatency(Duration.ZERO);
  }

  // ---- 1. The soak's trace ---------------------------------------------------------------------

  @Test
  void anUploadStoredWhoseAnswerIsLostOnAPooledConnectionIsOneAttemptAndIsRecoveredNotRepeated() {
    String ns = harness.newNamespace();
    // A first resource leaves the operator's CAS client with pooled keep-alive connections.
    var warm = TestPki.rsaCsr(2048, "warm.example.com");
    harness.secret(ns, "warm", Map.of("tls.csr", warm.csrPem()));
    harness.create(aliyunCsr(ns, "warm", "warm", null));
    awaitReady(ns, "warm");

    Calls before = Calls.now();
    var pki = TestPki.rsaCsr(2048, "soak.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.emulator.loseNextResponses("UploadCsr", 1);
    harness.create(aliyunCsr(ns, "soak", "csr", null));

    AliyunCsr ready = awaitReady(ns, "soak");
    Calls after = Calls.now();
    System.out.printf("soak trace: CAS calls %s%n", after.minus(before));
    assertThat(reason(ready)).isEqualTo("Recovered");
    List<StoredCsr> stored = storedFor(ready.getStatus().getUploadName());
    assertThat(stored).extracting(StoredCsr::csrId).containsExactly(ready.getStatus().getCsrId());
    assertThat(after.delta(before, "UploadCsr"))
        .as("HTTP attempts of UploadCsr: the lost one and no re-send, no second upload")
        .isEqualTo(1);
    assertThat(after.delta(before, "UploadCsr", CasEmulator.LOST_RESPONSE)).isEqualTo(1);
    assertThat(after.delta(before, "UploadCsr", "ServiceUnavailable"))
        .as("a transparent re-send would have been answered 503")
        .isZero();
    assertThat(after.delta(before, "ListCsr")).as("the lookup that found it").isPositive();
  }

  // ---- 2. Two live operator processes ----------------------------------------------------------

  @Test
  void twoOperatorProcessesAliveAtOnceWithoutLeaderElectionUploadEachOfThirtyCsrsExactlyOnce()
      throws Exception {
    int count = 30;
    // The in-process operator watches every namespace: it stands aside while the two processes
    // (a rolling upgrade of the one-replica Deployment) share this namespace and their own CAS.
    harness.stopOperator();
    String ns = harness.newNamespace();
    try (CasEmulator cas = OperatorHarness.newEmulator()) {
      cas.answerResendsOfLostRequestsWith(503, "ServiceUnavailable");
      // Slow answers widen every window between taking a lease and recording the result.
      cas.setLatency(Duration.ofMillis(150));
      KeyPair key = TestPki.rsa(2048);
      for (int i = 0; i < count; i++) {
        var pki = TestPki.csr(key, "two-" + i + ".example.com");
        harness.secret(ns, "csr-" + i, Map.of("tls.csr", pki.csrPem()));
        harness.create(aliyunCsr(ns, "two-" + i, "csr-" + i, null));
      }
      Map<String, OperatorProcess> processes = new HashMap<>();
      try (OperatorProcess a = process(cas, ns, "rolling-old");
          OperatorProcess b = process(cas, ns, "rolling-new")) {
        processes.put("rolling-old", a);
        processes.put("rolling-new", b);
        await()
            .atMost(Duration.ofSeconds(240))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> readyCount(ns) == count);
        assertThat(a.isAlive()).as("the old process was alive throughout").isTrue();
        assertThat(b.isAlive()).as("the new process was alive throughout").isTrue();
        long met = 0;
        for (var p : processes.entrySet()) {
          String log = p.getValue().log();
          long uploads = log.lines().filter(l -> l.contains("uploaded CSR")).count();
          long waited = log.lines().filter(l -> l.contains("not ready: UploadInProgress")).count();
          System.out.printf(
              "two processes: %s uploaded %d CSRs, waited for a lease %d times%n",
              p.getKey(), uploads, waited);
          met += waited;
        }
        assertThat(met).as("the two processes met on at least one resource").isPositive();
      }
      System.out.printf("two processes: CAS calls %s, CSRs in CAS %d%n", cas.callStats(), count);
      List<AliyunCsr> all =
          harness.client.resources(AliyunCsr.class).inNamespace(ns).list().getItems();
      assertThat(all).hasSize(count).allMatch(AliyunCsrIT::isReady);
      assertThat(cas.csrs()).as("CSRs in CAS").hasSize(count);
      Map<String, List<StoredCsr>> byName =
          cas.csrs().stream().collect(Collectors.groupingBy(StoredCsr::name));
      for (AliyunCsr r : all) {
        assertThat(byName.get(r.getStatus().getUploadName()))
            .as("CSRs in CAS for %s", r.getMetadata().getName())
            .extracting(StoredCsr::csrId)
            .containsExactly(r.getStatus().getCsrId());
      }
      assertThat(cas.calls("UploadCsr")).as("UploadCsr calls").isEqualTo(count);
    } finally {
      releaseWithoutOperator(ns);
      harness.startOperator();
    }
  }

  private static OperatorProcess process(CasEmulator cas, String ns, String pod) throws Exception {
    return OperatorProcess.start(
        cas.endpoint(),
        Map.of(
            "WATCH_NAMESPACES", ns,
            "LEADER_ELECTION", "false",
            "POD_NAME", pod,
            "HTTP_PORT", "0",
            "CAS_QPS", "2",
            "CAS_CONNECT_TIMEOUT", "2s",
            "CAS_READ_TIMEOUT", "3s"),
        Path.of("target", "exactly-once-logs", ns + "-" + pod + ".log"));
  }

  // ---- 3. Adoption and a regenerated CSR -------------------------------------------------------

  @Test
  void anAdoptedCsrSurvivesACsrRegeneratedFromTheSameKeyAndAnotherKeyStallsWithoutTouchingIt() {
    String ns = harness.newNamespace();
    KeyPair key = TestPki.rsa(2048);
    var original = TestPki.csr(key, "adopt.example.com");
    StoredCsr existing = harness.emulator.putCsr("adopted_" + suffix(ns), original.csrPem(), null);
    harness.secret(ns, "csr", Map.of("tls.csr", original.csrPem()));
    AliyunCsr resource = aliyunCsr(ns, "adopt", "csr", null);
    resource.getSpec().setCsrId(existing.csrId());
    harness.create(resource);
    AliyunCsr adopted = awaitReady(ns, "adopt");
    assertThat(reason(adopted)).isEqualTo("Adopted");
    assertThat(adopted.getStatus().getCsrId()).isEqualTo(existing.csrId());
    Calls before = Calls.now();
    double adoptedReconciles = reconciles("ready", "Adopted");

    // The same key, a new SAN: the Secret watch reconciles it, and it stays bound to its CSR.
    var regenerated =
        TestPki.csr(key, "adopt.example.com", "adopt.example.com", "www.adopt.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", regenerated.csrPem()));
    await().atMost(WAIT).until(() -> reconciles("ready", "Adopted") > adoptedReconciles);
    AliyunCsr still = harness.get(ns, "adopt");
    assertThat(AliyunCsrIT.isReady(still)).isTrue();
    assertThat(reason(still)).isEqualTo("Adopted");
    assertThat(still.getStatus().getCsrId()).isEqualTo(existing.csrId());
    assertThat(harness.emulator.csr(existing.csrId())).as("the adopted CSR").isPresent();
    Calls regeneratedCalls = Calls.now();
    assertThat(regeneratedCalls.delta(before, "UploadCsr")).isZero();
    assertThat(regeneratedCalls.delta(before, "DeleteCsr")).isZero();
    assertThat(regeneratedCalls.delta(before, "UpdateCsr")).isZero();

    // Another key: the adoption no longer holds; the CSR in CAS is kept as it is.
    var otherKey = TestPki.rsaCsr(2048, "adopt.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", otherKey.csrPem()));
    AliyunCsr mismatch = awaitReason(ns, "adopt", "AdoptionKeyMismatch");
    assertThat(mismatch.getStatus().condition("Stalled").orElseThrow().getStatus())
        .isEqualTo("True");
    assertThat(harness.emulator.csr(existing.csrId())).as("the adopted CSR").isPresent();
    assertThat(harness.emulator.csr(existing.csrId()).orElseThrow().csrPem())
        .isEqualTo(original.csrPem());
    Calls after = Calls.now();
    System.out.printf("adoption: CAS calls %s%n", after.minus(before));
    assertThat(after.delta(before, "UploadCsr")).isZero();
    assertThat(after.delta(before, "DeleteCsr")).isZero();
    assertThat(after.delta(before, "UpdateCsr")).isZero();
  }

  // ---- 4. Annotations a namespace user can edit ------------------------------------------------

  @Test
  void forgedCsrIdAnnotationsNeverDeleteOrSendTheKeyToAForeignCsr() {
    String ns = harness.newNamespace();
    var foreignA = TestPki.rsaCsr(2048, "foreign-a.example.com");
    var foreignB = TestPki.rsaCsr(2048, "foreign-b.example.com");
    StoredCsr supersededVictim =
        harness.emulator.putCsr("foreign_a_" + suffix(ns), foreignA.csrPem(), null);
    StoredCsr csrIdVictim =
        harness.emulator.putCsr("foreign_b_" + suffix(ns), foreignB.csrPem(), null);
    var pki = TestPki.rsaCsr(2048, "mine.example.com");
    harness.secret(ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    harness.create(aliyunCsr(ns, "mine", "tls", "tls"));
    AliyunCsr ready = awaitReady(ns, "mine");
    long own = ready.getStatus().getCsrId();
    String uploadName = ready.getStatus().getUploadName();
    Calls before = Calls.now();

    // A namespace user points the annotations at other CSRs.
    harness
        .client
        .resources(AliyunCsr.class)
        .inNamespace(ns)
        .withName("mine")
        .edit(
            r -> {
              r.getMetadata()
                  .getAnnotations()
                  .put(CasAnnotations.SUPERSEDED_CSR_IDS, Long.toString(supersededVictim.csrId()));
              r.getMetadata()
                  .getAnnotations()
                  .put(CasAnnotations.CSR_ID, Long.toString(csrIdVictim.csrId()));
              // In the same edit: a reconcile request, whose handling status records.
              r.getMetadata().getAnnotations().put(CasAnnotations.RECONCILE_REQUESTED_AT, "forged");
              return r;
            });
    // An annotation edit does not change the generation; it reaches the reconciler all the same.
    AliyunCsr after =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "mine"),
                r -> "forged".equals(r.getStatus().getLastHandledReconcileAt()));
    assertThat(AliyunCsrIT.isReady(after)).isTrue();
    assertThat(after.getStatus().getCsrId()).isEqualTo(own);
    Calls edited = Calls.now();
    System.out.printf("forged annotations: CAS calls %s%n", edited.minus(before));
    assertThat(edited.delta(before, "DeleteCsr")).isZero();
    assertThat(edited.delta(before, "UpdateCsr")).isZero();
    assertThat(edited.delta(before, "UploadCsr")).isZero();
    assertUntouched(supersededVictim);
    assertUntouched(csrIdVictim);

    // Deleting the resource deletes its own CSR, and only that.
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("mine").delete();
    await().atMost(WAIT).until(() -> harness.get(ns, "mine") == null);
    Calls deleted = Calls.now();
    assertThat(harness.emulator.csr(own)).as("its own CSR").isEmpty();
    assertThat(storedFor(uploadName)).isEmpty();
    assertThat(deleted.delta(before, "DeleteCsr", CasEmulator.OK)).isEqualTo(1);
    assertThat(deleted.delta(before, "UpdateCsr")).isZero();
    assertUntouched(supersededVictim);
    assertUntouched(csrIdVictim);
  }

  @Test
  void aForgedCsrIdAnnotationOnAResourceWhoseStatusWasLostIsNotClaimed() {
    String ns = harness.newNamespace();
    var foreign = TestPki.rsaCsr(2048, "foreign-c.example.com");
    StoredCsr victim = harness.emulator.putCsr("foreign_c_" + suffix(ns), foreign.csrPem(), null);
    var pki = TestPki.rsaCsr(2048, "lostmine.example.com");
    harness.secret(ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    harness.create(aliyunCsr(ns, "lostmine", "tls", "tls"));
    long own = awaitReady(ns, "lostmine").getStatus().getCsrId();
    Calls before = Calls.now();

    // The status is gone and the annotation, the only record left, names someone else's CSR. The
    // operator is stopped meanwhile: it would put the mirror annotation back between the edits.
    harness.stopOperator();
    var resource = harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("lostmine");
    resource.edit(
        r -> {
          r.getMetadata()
              .getAnnotations()
              .put(CasAnnotations.CSR_ID, Long.toString(victim.csrId()));
          r.getMetadata()
              .getAnnotations()
              .put(CasAnnotations.SUPERSEDED_CSR_IDS, Long.toString(victim.csrId()));
          return r;
        });
    resource.editStatus(
        r -> {
          r.setStatus(new AliyunCsrStatus());
          return r;
        });
    harness.startOperator();
    AliyunCsr rebuilt =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "lostmine"),
                r ->
                    AliyunCsrIT.isReady(r)
                        && Long.valueOf(own).equals(r.getStatus().getCsrId())
                        && Boolean.TRUE.equals(r.getStatus().getPrivateKeyUploaded()));
    Calls after = Calls.now();
    System.out.printf("forged annotation, status lost: CAS calls %s%n", after.minus(before));
    assertThat(rebuilt.getStatus().getCsrId()).isEqualTo(own);
    assertThat(after.delta(before, "UploadCsr")).isZero();
    assertThat(after.delta(before, "UpdateCsr")).isZero();
    assertThat(after.delta(before, "DeleteCsr")).isZero();
    assertUntouched(victim);
  }

  private static void assertUntouched(StoredCsr foreign) {
    Optional<StoredCsr> now = harness.emulator.csr(foreign.csrId());
    assertThat(now).as("foreign CsrId %d", foreign.csrId()).isPresent();
    assertThat(now.get().hasPrivateKey()).as("foreign CSR got a private key").isFalse();
    assertThat(now.get().csrPem()).isEqualTo(foreign.csrPem());
  }

  // ---- 5. Lost answer, new CSR, deletion -------------------------------------------------------

  @Test
  void aCsrReplacedWhileItsUploadIsUnresolvedLeavesNothingInCasAfterDeletion() throws Exception {
    String ns = harness.newNamespace();
    var first = TestPki.rsaCsr(2048, "first.example.com");
    var second = TestPki.rsaCsr(2048, "second.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", first.csrPem()));
    Calls before = Calls.now();
    // Stored, answer lost; and lookups refused, so the upload stays unresolved for now.
    harness.emulator.denyAction(OperatorHarness.ACCESS_KEY_ID, "ListCsr");
    harness.emulator.loseNextResponses("UploadCsr", 1);
    harness.create(aliyunCsr(ns, "replaced", "csr", null));
    AliyunCsr unresolved =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "replaced"),
                r ->
                    r.getStatus() != null
                        && !list(r.getStatus().getPendingUploads()).isEmpty()
                        && Calls.now().delta(before, "ListCsr", "Forbidden.RAM") > 0);
    CasCsrRef pending = unresolved.getStatus().getPendingUploads().get(0);
    String uploadName = pending.getUploadName();
    assertThat(pending.getCsrSha256()).isEqualTo(AliyunCsrIT.sha256(TestPki.der(first.csr())));
    assertThat(storedFor(uploadName)).as("the lost upload was stored").hasSize(1);
    long lost = storedFor(uploadName).get(0).csrId();

    // The new CSR comes while the first upload's result is still unknown.
    int refused = Calls.now().count("ListCsr", "Forbidden.RAM");
    harness.secret(ns, "csr", Map.of("tls.csr", second.csrPem()));
    await().atMost(WAIT).until(() -> Calls.now().count("ListCsr", "Forbidden.RAM") > refused);
    assertThat(Calls.now().delta(before, "UploadCsr"))
        .as("nothing is uploaded before the first upload is looked up")
        .isEqualTo(1);
    assertThat(list(harness.get(ns, "replaced").getStatus().getPendingUploads())).contains(pending);

    // Lookups work again: the first upload is found, superseded and deleted, the second goes up.
    harness.emulator.allowAction(OperatorHarness.ACCESS_KEY_ID, "ListCsr");
    harness.restartOperator(); // the Forbidden stall is otherwise looked at again in 5 minutes
    String secondSha = AliyunCsrIT.sha256(TestPki.der(second.csr()));
    AliyunCsr ready =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "replaced"),
                r -> AliyunCsrIT.isReady(r) && secondSha.equals(r.getStatus().getCsrSha256()));
    await().atMost(WAIT).until(() -> harness.emulator.csr(lost).isEmpty());
    assertThat(storedFor(uploadName))
        .extracting(StoredCsr::csrId)
        .containsExactly(ready.getStatus().getCsrId());

    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("replaced").delete();
    await().atMost(WAIT).until(() -> harness.get(ns, "replaced") == null);
    Calls after = Calls.now();
    System.out.printf("replaced while unresolved: CAS calls %s%n", after.minus(before));
    assertThat(storedFor(uploadName)).as("CSRs of this resource left in CAS").isEmpty();
    assertThat(after.delta(before, "UploadCsr")).isEqualTo(2);
    assertThat(after.delta(before, "DeleteCsr", CasEmulator.OK)).isEqualTo(2);
  }

  @Test
  void aResourceDeletedWhileItsLostUploadIsUnresolvedFindsAndDeletesThatUpload() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "gone.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    Calls before = Calls.now();
    harness.emulator.denyAction(OperatorHarness.ACCESS_KEY_ID, "ListCsr");
    harness.emulator.loseNextResponses("UploadCsr", 1);
    harness.create(aliyunCsr(ns, "gone", "csr", null));
    AliyunCsr unresolved =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "gone"),
                r ->
                    r.getStatus() != null
                        && !list(r.getStatus().getPendingUploads()).isEmpty()
                        && Calls.now().delta(before, "ListCsr", "Forbidden.RAM") > 0);
    String uploadName = unresolved.getStatus().getPendingUploads().get(0).getUploadName();
    assertThat(storedFor(uploadName)).as("the lost upload was stored").hasSize(1);

    // Deleted before anything is known: the deletion waits for the lookup, it does not forget.
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("gone").delete();
    AliyunCsr deleting = awaitReason(ns, "gone", "Deleting");
    assertThat(deleting.getMetadata().getFinalizers()).contains(CasAnnotations.FINALIZER);
    assertThat(storedFor(uploadName)).hasSize(1);

    harness.emulator.allowAction(OperatorHarness.ACCESS_KEY_ID, "ListCsr");
    await().atMost(WAIT).until(() -> harness.get(ns, "gone") == null);
    Calls after = Calls.now();
    System.out.printf("deleted while unresolved: CAS calls %s%n", after.minus(before));
    assertThat(storedFor(uploadName)).as("CSRs of this resource left in CAS").isEmpty();
    assertThat(after.delta(before, "UploadCsr")).isEqualTo(1);
    assertThat(after.delta(before, "DeleteCsr", CasEmulator.OK)).isEqualTo(1);
  }

  // ---- 6. kubectl replace without the operator's metadata --------------------------------------

  @Test
  void aReplaceWithoutTheOperatorsAnnotationsAndFinalizerRestoresThemWithoutASecondUpload() {
    String ns = harness.newNamespace();
    var pki = TestPki.ecCsr("secp256r1", "replace.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "replace", "csr", null));
    AliyunCsr ready = awaitReady(ns, "replace");
    long csrId = ready.getStatus().getCsrId();
    assertThat(ready.getMetadata().getFinalizers()).contains(CasAnnotations.FINALIZER);
    Calls before = Calls.now();

    // What `kubectl replace -f manifest.yaml` (Argo CD's Replace=true) sends: the manifest's
    // metadata and spec, nothing of what the operator wrote; status is not replaced.
    AliyunCsr manifest = aliyunCsr(ns, "replace", "csr", null);
    manifest.getMetadata().setLabels(Map.of("app", "from-git"));
    AliyunCsr replaced = harness.client.resource(manifest).update();
    assertThat(replaced.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(replaced.getMetadata().getAnnotations()).isNullOrEmpty();
    assertThat(replaced.getStatus().getCsrId()).as("status intact").isEqualTo(csrId);

    // The generation is unchanged; the replace reaches the reconciler all the same.
    AliyunCsr restored =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "replace"),
                r ->
                    AliyunCsrIT.isReady(r)
                        && r.hasFinalizer(CasAnnotations.FINALIZER)
                        && annotation(r, CasAnnotations.UPLOAD_INTENT) != null);
    assertThat(restored.getStatus().getCsrId()).isEqualTo(csrId);
    assertThat(annotation(restored, CasAnnotations.UPLOAD_INTENT)).isNotBlank();
    assertThat(restored.getMetadata().getLabels()).containsEntry("app", "from-git");
    Calls after = Calls.now();
    System.out.printf("replace: CAS calls %s%n", after.minus(before));
    assertThat(after.delta(before, "UploadCsr")).isZero();
    assertThat(storedFor(restored.getStatus().getUploadName()))
        .extracting(StoredCsr::csrId)
        .containsExactly(csrId);
  }

  // ---- 7. A copied manifest: the same spec.name and CSR, two marks ------------------------------

  @Test
  void aCopiedManifestUploadsUnderItsOwnMarkAndNeitherTouchesTheOthersCsr() {
    String ns = harness.newNamespace();
    String prefix = "copied_" + suffix(ns);
    var pki = TestPki.rsaCsr(2048, "copied.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    AliyunCsr original = aliyunCsr(ns, "original", "csr", null);
    original.getSpec().setName(prefix);
    harness.create(original);
    AliyunCsr originalReady = awaitReady(ns, "original");
    long csrId = originalReady.getStatus().getCsrId();

    // The same spec.name and the same (public) CSR: another object, so another name in CAS.
    AliyunCsr copy = aliyunCsr(ns, "copy", "csr", null);
    copy.getSpec().setName(prefix);
    harness.create(copy);
    AliyunCsr copyReady = awaitReady(ns, "copy");
    long copyId = copyReady.getStatus().getCsrId();
    assertThat(copyId).isNotEqualTo(csrId);
    assertThat(copyReady.getStatus().getUploadName())
        .startsWith(prefix + "-")
        .isNotEqualTo(originalReady.getStatus().getUploadName());
    assertThat(storedFor(originalReady.getStatus().getUploadName()))
        .extracting(StoredCsr::csrId)
        .containsExactly(csrId);

    // Deleting the copy deletes its own CSR only; the original's stays, and it stays Ready.
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("copy").delete();
    await().atMost(WAIT).until(() -> harness.get(ns, "copy") == null);
    assertThat(harness.emulator.csr(copyId)).isEmpty();
    assertThat(harness.emulator.csr(csrId)).as("the original's CSR").isPresent();
    assertThat(AliyunCsrIT.isReady(harness.get(ns, "original"))).isTrue();

    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("original").delete();
    await().atMost(WAIT).until(() -> harness.get(ns, "original") == null);
    assertThat(harness.emulator.csr(csrId)).isEmpty();
  }

  // ---- 8. No spec ------------------------------------------------------------------------------

  @Test
  void anAliyunCsrWithoutSpecStallsWithInvalidSpecAndItsDeletionCompletes() {
    String ns = harness.newNamespace();
    Calls before = Calls.now();
    // As a manifest without spec reaches the API server; the second one carries the operator's
    // finalizer (a restored copy, say), so its deletion needs the operator.
    harness.client.resource(specless(ns, "nospec", List.of())).create();
    harness.client.resource(specless(ns, "nospec-fin", List.of(CasAnnotations.FINALIZER))).create();
    for (String name : List.of("nospec", "nospec-fin")) {
      AliyunCsr stalled = awaitReason(ns, name, "InvalidSpec");
      assertThat(stalled.getSpec()).isNull();
      assertThat(stalled.getStatus().condition("Stalled").orElseThrow().getStatus())
          .isEqualTo("True");
      assertThat(stalled.getStatus().condition("Ready").orElseThrow().getStatus())
          .isEqualTo("False");
    }
    assertThat(harness.get(ns, "nospec").getMetadata().getFinalizers()).isNullOrEmpty();

    for (String name : List.of("nospec", "nospec-fin")) {
      harness.client.resources(AliyunCsr.class).inNamespace(ns).withName(name).delete();
      await().atMost(WAIT).until(() -> harness.get(ns, name) == null);
    }
    Calls after = Calls.now();
    assertThat(after.delta(before, "UploadCsr")).isZero();
    assertThat(after.delta(before, "DeleteCsr")).isZero();
  }

  private static GenericKubernetesResource specless(
      String ns, String name, List<String> finalizers) {
    GenericKubernetesResource r = new GenericKubernetesResource();
    r.setApiVersion(AliyunCsr.GROUP + "/" + AliyunCsr.VERSION);
    r.setKind("AliyunCsr");
    r.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName(name)
            .withFinalizers(new ArrayList<>(finalizers))
            .build());
    return r;
  }

  // ---- A status wiped (a restore without status) -----------------------------------------------

  @Test
  void aStatusWipedOnAReadyResourceIsRebuiltByALookupWithoutASecondUpload() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "wiped.example.com");
    harness.secret(ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    harness.create(aliyunCsr(ns, "wiped", "tls", "tls"));
    AliyunCsr ready = awaitReady(ns, "wiped");
    long csrId = ready.getStatus().getCsrId();
    Calls before = Calls.now();

    harness
        .client
        .resources(AliyunCsr.class)
        .inNamespace(ns)
        .withName("wiped")
        .editStatus(
            r -> {
              r.setStatus(new AliyunCsrStatus());
              return r;
            });
    AliyunCsr wiped = harness.get(ns, "wiped");
    assertThat(wiped.getStatus() == null || wiped.getStatus().getCsrId() == null)
        .as("status wiped")
        .isTrue();
    harness.restartOperator();
    AliyunCsr rebuilt =
        await()
            .atMost(WAIT)
            .until(
                () -> harness.get(ns, "wiped"),
                // Ready comes with the recovered CsrId; the key's presence in CAS is confirmed
                // by the next write.
                r ->
                    AliyunCsrIT.isReady(r)
                        && r.getStatus().getCsrId() != null
                        && Boolean.TRUE.equals(r.getStatus().getPrivateKeyUploaded()));
    Calls after = Calls.now();
    System.out.printf("status wiped: CAS calls %s%n", after.minus(before));
    assertThat(rebuilt.getStatus().getCsrId()).isEqualTo(csrId);
    assertThat(rebuilt.getStatus().getPrivateKeyUploaded()).isTrue();
    assertThat(rebuilt.getStatus().getLease()).isNull();
    assertThat(list(rebuilt.getStatus().getPendingUploads())).isEmpty();
    assertThat(after.delta(before, "UploadCsr")).isZero();
    assertThat(after.delta(before, "UpdateCsr")).as("the key is already in CAS").isZero();
    assertThat(after.delta(before, "ListCsr")).as("a lookup").isPositive();
    assertThat(storedFor(rebuilt.getStatus().getUploadName()))
        .extracting(StoredCsr::csrId)
        .containsExactly(csrId);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** The emulator's counters at one moment. */
  record Calls(Map<String, Map<String, Integer>> stats) {
    static Calls now() {
      return new Calls(harness.emulator.callStats());
    }

    int count(String action) {
      return stats.getOrDefault(action, Map.of()).values().stream().mapToInt(i -> i).sum();
    }

    int count(String action, String outcome) {
      return stats.getOrDefault(action, Map.of()).getOrDefault(outcome, 0);
    }

    int delta(Calls before, String action) {
      return count(action) - before.count(action);
    }

    int delta(Calls before, String action, String outcome) {
      return count(action, outcome) - before.count(action, outcome);
    }

    /** action → outcome → count since {@code before}, without zeros. */
    Map<String, Map<String, Integer>> minus(Calls before) {
      Map<String, Map<String, Integer>> out = new java.util.TreeMap<>();
      stats.forEach(
          (action, outcomes) ->
              outcomes.forEach(
                  (outcome, n) -> {
                    int d = n - before.count(action, outcome);
                    if (d != 0) {
                      out.computeIfAbsent(action, a -> new java.util.TreeMap<>()).put(outcome, d);
                    }
                  }));
      return out;
    }
  }

  static AliyunCsr awaitReady(String ns, String name) {
    return await().atMost(WAIT).until(() -> harness.get(ns, name), AliyunCsrIT::isReady);
  }

  static AliyunCsr awaitReason(String ns, String name, String reason) {
    Predicate<AliyunCsr> hasReason =
        r ->
            r != null
                && r.getStatus() != null
                && r.getStatus().getObservedGeneration() != null
                && r.getStatus()
                    .condition("Ready")
                    .map(c -> reason.equals(c.getReason()))
                    .orElse(false);
    return await().atMost(WAIT).until(() -> harness.get(ns, name), hasReason);
  }

  static String reason(AliyunCsr r) {
    return r.getStatus().condition("Ready").orElseThrow().getReason();
  }

  static String annotation(AliyunCsr r, String key) {
    return r == null || r.getMetadata().getAnnotations() == null
        ? null
        : r.getMetadata().getAnnotations().get(key);
  }

  static List<StoredCsr> storedFor(String uploadName) {
    return harness.emulator.csrs().stream().filter(c -> uploadName.equals(c.name())).toList();
  }

  static <T> List<T> list(List<T> values) {
    return values == null ? List.of() : values;
  }

  static String suffix(String ns) {
    return ns.substring(ns.indexOf('-') + 1);
  }

  /** Reconciles of the in-process operator that ended in this state and reason. */
  static double reconciles(String state, String reason) {
    Counter counter =
        harness
            .operator()
            .metrics()
            .registry()
            .find("aliyuncsr_reconciles")
            .tag("state", state)
            .tag("reason", reason)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  static List<Event> events(String ns, String name) {
    return harness.client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  static long readyCount(String ns) {
    return harness.client.resources(AliyunCsr.class).inNamespace(ns).list().getItems().stream()
        .filter(AliyunCsrIT::isReady)
        .count();
  }

  /** Lets every resource of the namespace go as Orphan, with no operator running for it. */
  static void releaseWithoutOperator(String ns) {
    var resources = harness.client.resources(AliyunCsr.class).inNamespace(ns);
    for (AliyunCsr r : resources.list().getItems()) {
      resources
          .withName(r.getMetadata().getName())
          .edit(
              x -> {
                if (x.getSpec() != null) {
                  x.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
                }
                x.getMetadata().setFinalizers(List.of());
                return x;
              });
    }
    resources.delete();
    await().atMost(WAIT).until(() -> resources.list().getItems().isEmpty());
  }
}
