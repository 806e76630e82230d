package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReady;
import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReason;
import static dev.aliyuncsr.operator.it.AliyunCsrIT.storedFor;
import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Exactly one CSR in CAS per resource and CSR, through lost answers, lost status and changes. */
class ExactlyOnceIT {
  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
    AliyunCsrIT.harness = harness;
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @AfterEach
  void clearFaults() {
    harness.emulator.setLostResponseRate("UploadCsr", 0);
    harness.emulator.setRateLimit("UploadCsr", 0);
    harness.emulator.setServerErrorRate(0);
  }

  @Test
  void lostUploadResponseIsRecoveredNotRepeated() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "lost.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.emulator.loseNextResponses("UploadCsr", 1);
    harness.create(aliyunCsr(ns, "lost", "csr", null));

    AliyunCsr ready = awaitReady(ns, "lost");
    assertThat(ready.getStatus().condition("Ready").orElseThrow().getReason())
        .isEqualTo("Recovered");
    assertThat(storedFor(ready.getStatus().getUploadName())).hasSize(1);
    assertThat(ready.getStatus().getCsrId())
        .isEqualTo(storedFor(ready.getStatus().getUploadName()).get(0).csrId());
  }

  @Test
  void severalUploadsFoundOnRecoveryStallInsteadOfGuessing() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "dup.example.com");
    String prefix = "dup_" + ns;
    String name = harness.uploadName(ns, "dup", prefix);
    // Two copies of this very CSR under this resource's own name already exist (uploads of an
    // earlier dup in this namespace, kept by Orphan), and the operator's own upload answer is
    // lost: recovery finds three and must not pick one.
    StoredCsr first = harness.emulator.putCsr(name, pki.csrPem(), null);
    StoredCsr second = harness.emulator.putCsr(name, pki.csrPem(), null);
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.emulator.loseNextResponses("UploadCsr", 1);
    AliyunCsr resource = aliyunCsr(ns, "dup", "csr", null);
    resource.getSpec().setName(prefix);
    harness.create(resource);

    AliyunCsr stalled = awaitReason(ns, "dup", "DuplicateExternalResources");
    assertThat(stalled.getStatus().condition("Stalled").orElseThrow().getStatus())
        .isEqualTo("True");
    assertThat(stalled.getStatus().condition("Ready").orElseThrow().getMessage())
        .contains(Long.toString(first.csrId()))
        .contains(Long.toString(second.csrId()));
    assertThat(storedFor(name)).hasSize(3);
  }

  @Test
  void throttlingAndServerErrorsAreRetriedUntilReady() {
    String ns = harness.newNamespace();
    var pki = TestPki.ecCsr("secp256r1", "busy.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.emulator.failNext("UploadCsr", 1, 400, "Throttling.User");
    harness.emulator.failNext("ListCsr", 1, 503, "ServiceUnavailable");
    harness.create(aliyunCsr(ns, "busy", "csr", null));
    AliyunCsr ready = awaitReady(ns, "busy");
    assertThat(storedFor(ready.getStatus().getUploadName())).hasSize(1);
    assertThat(harness.emulator.calls("UploadCsr", "Throttling.User")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void deletionPolicyDeleteRemovesTheCsrAndOrphanKeepsIt() {
    String ns = harness.newNamespace();
    var a = TestPki.rsaCsr(2048, "del.example.com");
    var b = TestPki.rsaCsr(2048, "orphan.example.com");
    harness.secret(ns, "a", Map.of("tls.csr", a.csrPem()));
    harness.secret(ns, "b", Map.of("tls.csr", b.csrPem()));
    harness.create(aliyunCsr(ns, "del", "a", null));
    AliyunCsr orphan = aliyunCsr(ns, "orphan", "b", null);
    orphan.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
    harness.create(orphan);
    long deleted = awaitReady(ns, "del").getStatus().getCsrId();
    long kept = awaitReady(ns, "orphan").getStatus().getCsrId();

    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("del").delete();
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("orphan").delete();
    await().atMost(OperatorHarness.timeout()).until(() -> harness.get(ns, "del") == null);
    await().atMost(OperatorHarness.timeout()).until(() -> harness.get(ns, "orphan") == null);
    assertThat(harness.emulator.csr(deleted)).isEmpty();
    assertThat(harness.emulator.csr(kept)).isPresent();
  }

  @Test
  void finalizerComesWithTheIntentAndIsPutBackWhenRemoved() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "fin.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "fin", "csr", null));
    AliyunCsr ready = awaitReady(ns, "fin");
    assertThat(ready.getMetadata().getFinalizers()).containsExactly(CasAnnotations.FINALIZER);
    long csrId = ready.getStatus().getCsrId();

    // Removed by hand (say, by a careless script): the metadata-only change reaches the
    // reconciler (generation filtering is off), which adds it back, uploading nothing.
    int uploads = harness.emulator.calls("UploadCsr");
    edit(ns, "fin", r -> r.getMetadata().setFinalizers(java.util.List.of()));
    await()
        .atMost(OperatorHarness.timeout())
        .until(() -> harness.get(ns, "fin").hasFinalizer(CasAnnotations.FINALIZER));
    assertThat(harness.emulator.calls("UploadCsr")).isEqualTo(uploads);

    // The finalizer still guards the CSR: deleting the object deletes it from CAS.
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("fin").delete();
    await().atMost(OperatorHarness.timeout()).until(() -> harness.get(ns, "fin") == null);
    assertThat(harness.emulator.csr(csrId)).isEmpty();
  }

  private static void edit(String ns, String name, java.util.function.Consumer<AliyunCsr> change) {
    harness
        .client
        .resources(AliyunCsr.class)
        .inNamespace(ns)
        .withName(name)
        .edit(
            r -> {
              change.accept(r);
              return r;
            });
  }

  @Test
  void badInputGetsNoFinalizerSoDeletionIsImmediate() {
    String ns = harness.newNamespace();
    harness.secret(ns, "bad", Map.of("tls.csr", "not a CSR"));
    harness.create(aliyunCsr(ns, "bad", "bad", null));
    AliyunCsr stalled = awaitReason(ns, "bad", "InvalidCsr");
    assertThat(stalled.getMetadata().getFinalizers()).isNullOrEmpty();
    harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("bad").delete();
    assertThat(harness.get(ns, "bad")).isNull();
  }

  @Test
  void stuckDeletionIsReleasedBySwitchingToOrphan() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "stuck.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "stuck", "csr", null));
    long csrId = awaitReady(ns, "stuck").getStatus().getCsrId();
    harness.emulator.denyAction(OperatorHarness.ACCESS_KEY_ID, "DeleteCsr");
    try {
      harness.client.resources(AliyunCsr.class).inNamespace(ns).withName("stuck").delete();
      awaitReason(ns, "stuck", "Deleting");
      assertThat(harness.get(ns, "stuck")).isNotNull();

      // As the README says, with a patch: the operator keeps writing status meanwhile, so an
      // update of a copy read a moment ago can meet a newer resourceVersion.
      harness
          .client
          .resources(AliyunCsr.class)
          .inNamespace(ns)
          .withName("stuck")
          .patch(
              io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                  io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
              "{\"spec\":{\"deletionPolicy\":\"Orphan\"}}");
      await().atMost(OperatorHarness.timeout()).until(() -> harness.get(ns, "stuck") == null);
      assertThat(harness.emulator.csr(csrId)).isPresent();
    } finally {
      harness.emulator.allowAction(OperatorHarness.ACCESS_KEY_ID, "DeleteCsr");
    }
  }

  @Test
  void keyAddedLaterIsSentWithUpdateCsr() {
    String ns = harness.newNamespace();
    var pki = TestPki.ecCsr("secp256r1", "later-key.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "laterkey", "csr", null));
    AliyunCsr ready = awaitReady(ns, "laterkey");
    long csrId = ready.getStatus().getCsrId();
    assertThat(ready.getStatus().getPrivateKeyUploaded()).isFalse();
    int uploads = harness.emulator.calls("UploadCsr");

    harness.secret(ns, "key", Map.of("tls.key", pki.pkcs8KeyPem()));
    ready.getSpec().setKeySecretRef(new SecretKeyRef("key", null));
    harness.client.resource(ready).update();
    AliyunCsr withKey =
        await()
            .atMost(OperatorHarness.timeout())
            .until(
                () -> harness.get(ns, "laterkey"),
                r -> Boolean.TRUE.equals(r.getStatus().getPrivateKeyUploaded()));
    assertThat(withKey.getStatus().getCsrId()).isEqualTo(csrId);
    assertThat(harness.emulator.csr(csrId).orElseThrow().privateKeyPem()).isNotNull();
    assertThat(harness.emulator.calls("UploadCsr")).isEqualTo(uploads);
  }

  @Test
  void changedCsrIsUploadedOnceAndTheOldOneDeleted() {
    String ns = harness.newNamespace();
    var first = TestPki.rsaCsr(2048, "v1.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", first.csrPem()));
    harness.create(aliyunCsr(ns, "rotate", "csr", null));
    AliyunCsr v1 = awaitReady(ns, "rotate");
    long oldId = v1.getStatus().getCsrId();

    var second = TestPki.rsaCsr(2048, "v2.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", second.csrPem()));
    AliyunCsr v2 =
        await()
            .atMost(OperatorHarness.timeout())
            .until(
                () -> harness.get(ns, "rotate"),
                r ->
                    "v2.example.com".equals(r.getStatus().getCommonName())
                        && AliyunCsrIT.isReady(r));
    assertThat(v2.getStatus().getCsrId()).isNotEqualTo(oldId);
    await().atMost(OperatorHarness.timeout()).until(() -> harness.emulator.csr(oldId).isEmpty());
    assertThat(storedFor(v2.getStatus().getUploadName()))
        .extracting(StoredCsr::csrId)
        .containsExactly(v2.getStatus().getCsrId());
    assertThat(harness.get(ns, "rotate").getMetadata().getAnnotations())
        .doesNotContainKey(CasAnnotations.SUPERSEDED_CSR_IDS);
  }

  @Test
  void adoptsAnExistingCsrWhoseKeyMatches() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "adopt.example.com");
    StoredCsr existing = harness.emulator.putCsr("pre-existing", pki.csrPem(), null);
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    AliyunCsr resource = aliyunCsr(ns, "adopt", "csr", null);
    resource.getSpec().setCsrId(existing.csrId());
    int uploads = harness.emulator.calls("UploadCsr");
    harness.create(resource);
    AliyunCsr ready = awaitReady(ns, "adopt");
    assertThat(ready.getStatus().getCsrId()).isEqualTo(existing.csrId());
    assertThat(ready.getStatus().condition("Ready").orElseThrow().getReason()).isEqualTo("Adopted");
    assertThat(harness.emulator.calls("UploadCsr")).isEqualTo(uploads);
  }

  @Test
  void refusesToAdoptAMissingOrForeignCsr() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "mine.example.com");
    var foreign = TestPki.rsaCsr(2048, "foreign.example.com");
    StoredCsr other = harness.emulator.putCsr("foreign", foreign.csrPem(), null);
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    AliyunCsr wrongKey = aliyunCsr(ns, "wrongkey", "csr", null);
    wrongKey.getSpec().setCsrId(other.csrId());
    AliyunCsr missing = aliyunCsr(ns, "missing", "csr", null);
    missing.getSpec().setCsrId(987654321L);
    harness.create(wrongKey);
    harness.create(missing);
    awaitReason(ns, "wrongkey", "AdoptionKeyMismatch");
    awaitReason(ns, "missing", "AdoptionTargetNotFound");
  }

  @Test
  void uploadDefiningFieldsAreImmutableOnceUploaded() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "fixed.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "fixed", "csr", null));
    AliyunCsr ready = awaitReady(ns, "fixed");

    ready.getSpec().setName("another-name");
    assertThatThrownBy(() -> harness.client.resource(ready).update())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.name cannot change");
    AliyunCsr fresh = harness.get(ns, "fixed");
    fresh.getSpec().setCsrSecretRef(new SecretKeyRef("other", null));
    assertThatThrownBy(() -> harness.client.resource(fresh).update())
        .hasMessageContaining("spec.csrSecretRef cannot change");
    AliyunCsr policy = harness.get(ns, "fixed");
    policy.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
    assertThat(harness.client.resource(policy).update().getSpec().getDeletionPolicy())
        .isEqualTo(DeletionPolicy.Orphan);
  }
}
