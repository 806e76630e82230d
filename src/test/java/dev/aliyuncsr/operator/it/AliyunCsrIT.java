package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import dev.aliyuncsr.operator.upload.UploadNames;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The operator end to end on a real API server, with the real SDK talking to the emulator. */
class AliyunCsrIT {
  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void uploadsOnceAndRecordsEveryStatusField() throws Exception {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "shop.example.com", "shop.example.com", "www.example.com");
    harness.secret(ns, "shop-csr", Map.of("tls.csr", pki.csrPem()));
    harness.secret(ns, "shop-key", Map.of("tls.key", pki.pkcs8KeyPem()));
    harness.create(aliyunCsr(ns, "shop", "shop-csr", "shop-key"));

    AliyunCsr ready = awaitReady(ns, "shop");
    AliyunCsrStatus status = ready.getStatus();
    List<StoredCsr> stored = storedFor(status.getUploadName());
    assertThat(stored).hasSize(1);
    StoredCsr inCas = stored.get(0);
    assertThat(status.getCsrId()).isEqualTo(inCas.csrId());
    assertThat(status.getRequestId()).isNotBlank();
    assertThat(status.getUploadName()).startsWith(ns + "-shop-").hasSizeLessThanOrEqualTo(50);
    assertThat(status.getCsrSha256()).isEqualTo(sha256(TestPki.der(pki.csr())));
    assertThat(status.getPublicKeySha256())
        .isEqualTo(sha256(pki.keyPair().getPublic().getEncoded()));
    assertThat(status.getCommonName()).isEqualTo("shop.example.com");
    assertThat(status.getSans()).containsExactly("shop.example.com", "www.example.com");
    assertThat(status.getKeyAlgorithm()).isEqualTo("RSA");
    assertThat(status.getKeySize()).isEqualTo(2048);
    assertThat(status.getPrivateKeyUploaded()).isTrue();
    assertThat(inCas.privateKeyPem()).isNotNull();
    assertThat(status.getUploadedAt()).isNotBlank();
    assertThat(status.getObservedGeneration()).isEqualTo(ready.getMetadata().getGeneration());
    assertThat(condition(ready, "Reconciling").getStatus()).isEqualTo("False");
    assertThat(condition(ready, "Stalled").getStatus()).isEqualTo("False");
    assertThat(condition(ready, "Ready").getReason()).isEqualTo("Uploaded");
    // Status is the record; the annotations only carry the intent, as a trace for a restore.
    assertThat(ready.getMetadata().getAnnotations())
        .doesNotContainKey(CasAnnotations.CSR_ID)
        .containsEntry(
            CasAnnotations.UPLOAD_INTENT,
            new dev.aliyuncsr.operator.upload.UploadIntent(
                    status.getUploadName(), status.getCsrSha256(), status.getPublicKeySha256())
                .encode());
    await()
        .atMost(OperatorHarness.timeout())
        .until(() -> events(ns, "shop").stream().anyMatch(e -> "Uploaded".equals(e.getReason())));
    Event uploaded =
        events(ns, "shop").stream()
            .filter(e -> "Uploaded".equals(e.getReason()))
            .findFirst()
            .orElseThrow();
    assertThat(uploaded.getType()).isEqualTo("Normal");
    assertThat(uploaded.getMessage()).contains("CsrId " + inCas.csrId());
    assertNoKeyMaterial(ns, "shop", pki.pkcs8KeyPem());
  }

  @Test
  void waitsForASecretCreatedLater() {
    String ns = harness.newNamespace();
    harness.create(aliyunCsr(ns, "late", "late-csr", null));
    AliyunCsr waiting = awaitReason(ns, "late", "SecretNotFound");
    assertThat(condition(waiting, "Ready").getStatus()).isEqualTo("False");
    assertThat(condition(waiting, "Reconciling").getStatus()).isEqualTo("True");

    harness.secret(ns, "late-csr", Map.of("other", "x"));
    awaitReason(ns, "late", "SecretKeyMissing");

    var pki = TestPki.ecCsr("secp256r1", "late.example.com");
    harness.secret(ns, "late-csr", Map.of("tls.csr", pki.csrPem()));
    // The Secret watch brings the change in seconds, not at the hourly resync.
    AliyunCsr ready =
        await()
            .atMost(java.time.Duration.ofSeconds(5))
            .until(() -> harness.get(ns, "late"), r -> isReady(r));
    assertThat(ready.getStatus().getKeyAlgorithm()).isEqualTo("EC");
    assertThat(ready.getStatus().getPrivateKeyUploaded()).isFalse();
    assertThat(storedFor(ready.getStatus().getUploadName())).hasSize(1);
  }

  @Test
  void invalidCsrStallsWithoutCallingCas() {
    String ns = harness.newNamespace();
    int uploadsBefore = harness.emulator.calls("UploadCsr");
    harness.secret(ns, "bad-csr", Map.of("tls.csr", "this is not a PEM CSR"));
    harness.create(aliyunCsr(ns, "bad", "bad-csr", null));

    AliyunCsr stalled = awaitReason(ns, "bad", "InvalidCsr");
    assertThat(condition(stalled, "Stalled").getStatus()).isEqualTo("True");
    assertThat(condition(stalled, "Ready").getStatus()).isEqualTo("False");
    assertThat(condition(stalled, "Reconciling").getStatus()).isEqualTo("False");
    assertThat(condition(stalled, "Ready").getMessage()).isNotBlank();
    await()
        .atMost(OperatorHarness.timeout())
        .until(
            () ->
                events(ns, "bad").stream()
                    .anyMatch(
                        e -> "Warning".equals(e.getType()) && "InvalidCsr".equals(e.getReason())));
    assertThat(harness.emulator.calls("UploadCsr")).isEqualTo(uploadsBefore);
  }

  @Test
  void keyThatDoesNotMatchStalls() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "a.example.com");
    var other = TestPki.rsaCsr(2048, "b.example.com");
    harness.secret(ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", other.pkcs8KeyPem()));
    harness.create(aliyunCsr(ns, "mismatch", "tls", "tls"));
    AliyunCsr stalled = awaitReason(ns, "mismatch", "KeyMismatch");
    assertThat(condition(stalled, "Stalled").getStatus()).isEqualTo("True");
    assertNoKeyMaterial(ns, "mismatch", other.pkcs8KeyPem());
  }

  @Test
  void restartMakesNoFurtherCasCalls() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "restart.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    harness.create(aliyunCsr(ns, "restart", "csr", null));
    awaitReady(ns, "restart");
    Map<String, Map<String, Integer>> before = harness.emulator.callStats();

    harness.restartOperator();
    // A spec change proves the new process reconciled this resource.
    AliyunCsr current = harness.get(ns, "restart");
    current.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
    AliyunCsr updated = harness.client.resource(current).update();
    long generation = updated.getMetadata().getGeneration();
    await()
        .atMost(OperatorHarness.timeout())
        .until(
            () -> harness.get(ns, "restart"),
            r -> r.getStatus().getObservedGeneration() == generation && isReady(r));
    assertThat(harness.emulator.callStats()).isEqualTo(before);
  }

  @Test
  void apiServerRejectsAnInvalidName() {
    String ns = harness.newNamespace();
    AliyunCsr resource = aliyunCsr(ns, "badname", "csr", null);
    resource.getSpec().setName("has spaces and is far too long for CAS to accept it at all ok");
    assertThatThrownBy(() -> harness.create(resource))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining("spec.name");
  }

  @Test
  void anExplicitNameIsTheReadablePartOfTheNameInCasFollowedByTheOwnershipMark() {
    String ns = harness.newNamespace();
    var pki = TestPki.ecCsr("secp384r1", "named.example.com");
    harness.secret(ns, "csr", Map.of("tls.csr", pki.csrPem()));
    AliyunCsr resource = aliyunCsr(ns, "named", "csr", null);
    String prefix = "named_" + ns;
    resource.getSpec().setName(prefix);
    harness.create(resource);
    AliyunCsr ready = awaitReady(ns, "named");
    String name = ready.getStatus().getUploadName();
    assertThat(name)
        .startsWith(prefix + "-")
        .hasSize(prefix.length() + 1 + UploadNames.MARK_LENGTH)
        .isEqualTo(harness.uploadName(ns, "named", prefix));
    assertThat(harness.uploadNames().carriesMark(name)).isTrue();
    assertThat(storedFor(name)).hasSize(1);
  }

  // --- helpers

  /** Ready: the upload's result is in status, the last of its three writes. */
  static AliyunCsr awaitReady(String ns, String name) {
    return await()
        .atMost(OperatorHarness.timeout())
        .until(() -> harness.get(ns, name), AliyunCsrIT::isReady);
  }

  static AliyunCsr awaitReason(String ns, String name, String reason) {
    return await()
        .atMost(OperatorHarness.timeout())
        .until(
            () -> harness.get(ns, name),
            r ->
                r != null
                    && r.getStatus() != null
                    && r.getStatus().getObservedGeneration() != null
                    && r.getStatus()
                        .condition("Ready")
                        .map(c -> reason.equals(c.getReason()))
                        .orElse(false));
  }

  static boolean isReady(AliyunCsr r) {
    return r != null
        && r.getStatus() != null
        && r.getStatus().condition("Ready").map(c -> "True".equals(c.getStatus())).orElse(false)
        && r.getStatus().getObservedGeneration() != null
        && r.getStatus().getObservedGeneration().equals(r.getMetadata().getGeneration());
  }

  static CsrCondition condition(AliyunCsr r, String type) {
    return r.getStatus().condition(type).orElseThrow();
  }

  static List<StoredCsr> storedFor(String uploadName) {
    return harness.emulator.csrs().stream()
        .filter(c -> uploadName.equals(c.name()))
        .collect(Collectors.toList());
  }

  static List<Event> events(String ns, String name) {
    return harness.client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .collect(Collectors.toList());
  }

  /** No line of the key's base64 body appears in the resource, its status or its Events. */
  static void assertNoKeyMaterial(String ns, String name, String keyPem) {
    String resource =
        harness.client.resources(AliyunCsr.class).inNamespace(ns).withName(name).get().toString()
            + Optional.ofNullable(harness.get(ns, name).getStatus())
                .map(s -> io.fabric8.kubernetes.client.utils.Serialization.asJson(s))
                .orElse("");
    String eventText =
        events(ns, name).stream().map(Event::getMessage).collect(Collectors.joining("\n"));
    for (String line : keyPem.split("\n")) {
      if (line.startsWith("-----") || line.isBlank()) {
        continue;
      }
      assertThat(resource).doesNotContain(line);
      assertThat(eventText).doesNotContain(line);
    }
  }

  static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
