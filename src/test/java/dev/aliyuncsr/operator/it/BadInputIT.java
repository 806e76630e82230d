package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReady;
import static dev.aliyuncsr.operator.it.AliyunCsrIT.awaitReason;
import static dev.aliyuncsr.operator.it.AliyunCsrIT.storedFor;
import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.testing.TestPki.Material;
import dev.aliyuncsr.operator.testing.TestPkiVariants;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many distinct bad inputs at once, each ending in its own reason and message without reaching CAS,
 * while valid resources created among them are uploaded as usual.
 */
class BadInputIT {
  static OperatorHarness harness;

  private static final String CSR = AliyunCsrSpec.DEFAULT_CSR_KEY;
  private static final String KEY = AliyunCsrSpec.DEFAULT_KEY_KEY;
  private static final long MISSING_CSR_ID = 987_654_321L;
  private static final Set<String> MISSING_INPUT =
      Set.of(Reasons.SECRET_NOT_FOUND, Reasons.SECRET_KEY_MISSING);

  // A line of a PEM body; header lines such as "Proc-Type: 4,ENCRYPTED" may be quoted.
  private static final Pattern BASE64_LINE = Pattern.compile("[A-Za-z0-9+/=]{16,}");

  /**
   * One broken input: the Secret data it lives in (none: the Secret is absent), how the spec points
   * at it, and the condition reason and message fragment the operator must answer with.
   */
  private record BadInput(
      String name,
      String reason,
      String messageFragment,
      Map<String, byte[]> secretData,
      Consumer<AliyunCsrSpec> spec) {

    AliyunCsr resource(String ns) {
      AliyunCsr resource = aliyunCsr(ns, name, name, secretData.containsKey(KEY) ? name : null);
      spec.accept(resource.getSpec());
      return resource;
    }

    boolean waitsForInput() {
      return MISSING_INPUT.contains(reason);
    }
  }

  /** A valid resource, created among the bad ones. */
  private record GoodInput(String name, Material material, boolean withKey) {}

  // The valid CSR the key rows pair with, so that only the key is wrong.
  private final Material victim = TestPki.ecCsr("secp256r1", "victim.example.com");

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
    AliyunCsrIT.harness = harness;
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void everyBadInputStopsWithItsOwnReasonAndNoCasCallWhileGoodOnesUpload() {
    String ns = harness.newNamespace();

    // Everything is generated at test time.
    Material rsa = TestPki.rsaCsr(2048, "rsa.example.com");
    Material stranger = TestPki.ecCsr("secp256r1", "stranger.example.com");
    Material weakKey = TestPki.rsaCsr(1024, "weak-key.example.com");
    Material foreign = TestPki.ecCsr("secp256r1", "foreign.example.com");
    StoredCsr foreignInCas = harness.emulator.putCsr("foreign-" + ns, foreign.csrPem(), null);
    String encryptedPkcs8 = victim.encryptedPkcs8KeyPem("correct horse");
    String legacyEncrypted = TestPkiVariants.legacyEncryptedKeyPem(rsa.keyPair(), "battery");
    List<String> privateKeyTexts =
        List.of(
            victim.pkcs8KeyPem(),
            rsa.pkcs8KeyPem(),
            rsa.traditionalKeyPem(),
            stranger.pkcs8KeyPem(),
            weakKey.pkcs8KeyPem(),
            encryptedPkcs8,
            legacyEncrypted);

    String csrPem = rsa.csrPem().replace("\r\n", "\n");
    String[] csrLines = csrPem.split("\n");
    byte[] csrDer = TestPki.der(rsa.csr());
    byte[] brokenSignature = csrDer.clone();
    brokenSignature[brokenSignature.length - 1] ^= 0x01;
    byte[] oneMiB = new byte[1024 * 1024];
    Arrays.fill(oneMiB, (byte) 'A');

    List<BadInput> bad =
        List.of(
            csrValue(
                "csr-not-pem",
                utf8("please sign my certificate"),
                "The CSR is not PEM: no -----BEGIN CERTIFICATE REQUEST----- line was found"),
            csrValue(
                "csr-is-certificate",
                utf8(TestPkiVariants.certificatePem(rsa.keyPair())),
                "found a PEM block of type \"CERTIFICATE\": that is an issued certificate, not a"
                    + " signing request"),
            csrValue(
                "csr-is-private-key",
                utf8(rsa.pkcs8KeyPem()),
                "found a PEM block of type \"PRIVATE KEY\": that is a private key. It belongs in"
                    + " keySecretRef"),
            csrValue(
                "csr-truncated",
                utf8(String.join("\n", Arrays.copyOfRange(csrLines, 0, 5))),
                "The CSR is truncated: its PEM block of type \"CERTIFICATE REQUEST\" has a BEGIN"
                    + " line but no END line"),
            csrValue(
                "csr-two-blocks",
                utf8(csrPem + victim.csrPem()),
                "The CSR holds 2 PEM blocks (\"CERTIFICATE REQUEST\", \"CERTIFICATE REQUEST\")"),
            csrValue(
                "csr-bad-base64",
                utf8(csrPem.replace(csrLines[2], "*" + csrLines[2].substring(1))),
                "The CSR's PEM block of type \"CERTIFICATE REQUEST\" is not valid base64"),
            csrValue(
                "csr-garbage-der",
                utf8(TestPki.pem("CERTIFICATE REQUEST", utf8("definitely not ASN.1 DER"))),
                "its content is not a PKCS#10 certificate request (invalid DER structure)"),
            csrValue(
                "csr-bad-signature",
                utf8(TestPki.pem("CERTIFICATE REQUEST", brokenSignature)),
                "The CSR's signature does not verify with its own public key"),
            csrValue(
                "csr-rsa-1024",
                utf8(TestPki.rsaCsr(1024, "weak.example.com").csrPem()),
                "The CSR's public key is RSA 1024 bits; at least 2048 bits are required"),
            csrValue(
                "csr-secp256k1",
                utf8(
                    TestPki.pem(
                        "CERTIFICATE REQUEST",
                        TestPki.der(
                            TestPkiVariants.csr(
                                TestPkiVariants.bcEc("secp256k1"), "SHA256withECDSA", "CN=k1")))),
                "The CSR's public key is on the EC curve secp256k1; only P-256 (prime256v1) and"
                    + " P-384 (secp384r1) are supported"),
            csrValue(
                "csr-ed25519",
                utf8(
                    TestPki.pem(
                        "CERTIFICATE REQUEST",
                        TestPki.der(
                            TestPkiVariants.csr(TestPkiVariants.ed25519(), "Ed25519", "CN=ed")))),
                "The CSR's public key uses Ed25519; only RSA and EC keys are supported"),
            csrValue("csr-empty", new byte[0], "The CSR is empty: the Secret key holds no data"),
            csrValue("csr-whitespace", utf8(" \n\t\r\n  "), "The CSR contains only whitespace"),
            csrValue(
                "csr-one-mib", oneMiB, "The CSR is 1048576 bytes, more than the limit of 64 KiB"),
            // Binary DER: the Secret is written through data, so the bytes arrive unchanged.
            csrValue(
                "csr-not-utf8",
                csrDer,
                "The CSR is not UTF-8 text (invalid byte at offset 1); PEM text is expected"),
            csrValue(
                "csr-line-breaks-lost",
                utf8(csrPem.replace("\n", "")),
                "contains a -----BEGIN marker that is not on a line of its own: the line breaks"
                    + " were lost"),
            csrValue(
                "csr-base64-twice",
                utf8(Base64.getEncoder().encodeToString(utf8(csrPem))),
                "The CSR is base64 of PEM text, i.e. base64-encoded twice"),
            new BadInput(
                "csr-secret-not-found",
                Reasons.SECRET_NOT_FOUND,
                "Secret " + ns + "/absent (spec.csrSecretRef) does not exist; waiting for it",
                Map.of(),
                spec -> spec.setCsrSecretRef(new SecretKeyRef("absent", null))),
            new BadInput(
                "csr-data-key-missing",
                Reasons.SECRET_KEY_MISSING,
                "/csr-data-key-missing has no key tls.csr (spec.csrSecretRef.key); waiting for it",
                Map.of("csr.pem", utf8(victim.csrPem())),
                spec -> {}),
            new BadInput(
                "csr-other-namespace",
                Reasons.CROSS_NAMESPACE_REFERENCE,
                "spec.csrSecretRef names a Secret in namespace other; only Secrets in the"
                    + " AliyunCsr's own namespace "
                    + ns
                    + " are read",
                Map.of(CSR, utf8(victim.csrPem())),
                spec -> spec.getCsrSecretRef().setNamespace("other")),
            keyValue(
                "key-mismatch",
                Reasons.KEY_MISMATCH,
                utf8(stranger.pkcs8KeyPem()),
                "The private key does not belong to the CSR: the CSR's EC public key has SHA-256"),
            keyValue(
                "key-encrypted-pkcs8",
                Reasons.INVALID_KEY,
                utf8(encryptedPkcs8),
                "The private key is encrypted (ENCRYPTED PRIVATE KEY); the operator needs it"
                    + " unencrypted"),
            keyValue(
                "key-encrypted-legacy",
                Reasons.INVALID_KEY,
                utf8(legacyEncrypted),
                "The private key is encrypted (Proc-Type: 4,ENCRYPTED); the operator needs it"
                    + " unencrypted"),
            keyValue(
                "key-is-public-key",
                Reasons.INVALID_KEY,
                utf8(TestPkiVariants.publicKeyPem(victim.keyPair())),
                "found a PEM block of type \"PUBLIC KEY\": that is a public key. Put the private"
                    + " key the CSR was made with here"),
            keyValue(
                "key-is-csr",
                Reasons.INVALID_KEY,
                utf8(victim.csrPem()),
                "found a PEM block of type \"CERTIFICATE REQUEST\": that is a certificate signing"
                    + " request. It belongs in csrSecretRef"),
            keyValue(
                "key-empty",
                Reasons.INVALID_KEY,
                new byte[0],
                "The private key is empty: the Secret key holds no data"),
            keyValue(
                "key-rsa-1024",
                Reasons.INVALID_KEY,
                utf8(weakKey.pkcs8KeyPem()),
                "The private key is RSA 1024 bits; at least 2048 bits are required"),
            new BadInput(
                "key-secret-not-found",
                Reasons.SECRET_NOT_FOUND,
                "Secret " + ns + "/absent-key (spec.keySecretRef) does not exist; waiting for it",
                Map.of(CSR, utf8(victim.csrPem())),
                spec -> spec.setKeySecretRef(new SecretKeyRef("absent-key", null))),
            new BadInput(
                "adopt-missing-csr-id",
                Reasons.ADOPTION_NOT_FOUND,
                "spec.csrId " + MISSING_CSR_ID + " does not exist in CAS (NotFound.Csr)",
                Map.of(CSR, utf8(victim.csrPem())),
                spec -> spec.setCsrId(MISSING_CSR_ID)),
            new BadInput(
                "adopt-foreign-csr-id",
                Reasons.ADOPTION_MISMATCH,
                "CSR "
                    + foreignInCas.csrId()
                    + " in CAS does not have the public key of the CSR in spec.csrSecretRef (CAS: ",
                Map.of(CSR, utf8(victim.csrPem())),
                spec -> spec.setCsrId(foreignInCas.csrId())));

    List<GoodInput> good =
        List.of(
            new GoodInput("good-rsa", TestPki.rsaCsr(2048, "good-rsa.example.com"), false),
            new GoodInput(
                "good-p256-with-key", TestPki.ecCsr("secp256r1", "good-p256.example.com"), true),
            new GoodInput("good-p384", TestPki.ecCsr("secp384r1", "good-p384.example.com"), false));

    // The invalid spec.name refused by the API server below is one more.
    assertThat(bad).hasSizeGreaterThanOrEqualTo(25);
    assertThat(bad).extracting(BadInput::messageFragment).doesNotHaveDuplicates();

    for (BadInput input : bad) {
      if (!input.secretData().isEmpty()) {
        secret(ns, input.name(), input.secretData());
      }
    }
    for (GoodInput input : good) {
      Map<String, byte[]> data = new TreeMap<>(Map.of(CSR, utf8(input.material().csrPem())));
      if (input.withKey()) {
        data.put(KEY, utf8(input.material().pkcs8KeyPem()));
      }
      secret(ns, input.name(), data);
    }
    awaitSecretWatchCaughtUp();
    Map<String, Map<String, Integer>> callsBefore = harness.emulator.callStats();

    // All at once, the good ones in the middle of the bad ones.
    int goodEvery = bad.size() / (good.size() + 1);
    for (int i = 0; i < bad.size(); i++) {
      if (i > 0 && i % goodEvery == 0 && i / goodEvery <= good.size()) {
        GoodInput input = good.get(i / goodEvery - 1);
        harness.create(
            aliyunCsr(ns, input.name(), input.name(), input.withKey() ? input.name() : null));
      }
      harness.create(bad.get(i).resource(ns));
      if (i == bad.size() / 2) {
        assertApiServerRejectsAnInvalidName(ns);
      }
    }

    await()
        .atMost(OperatorHarness.timeout())
        .untilAsserted(() -> assertEachStoppedAsExpected(ns, bad));

    for (GoodInput input : good) {
      AliyunCsr ready = awaitReady(ns, input.name());
      assertThat(ready.getStatus().condition("Ready").orElseThrow().getReason())
          .isEqualTo(Reasons.UPLOADED);
      assertThat(storedFor(ready.getStatus().getUploadName()))
          .extracting(StoredCsr::csrId)
          .containsExactly(ready.getStatus().getCsrId());
      assertThat(ready.getStatus().getPrivateKeyUploaded()).isEqualTo(input.withKey());
    }
    assertThat(harness.emulator.csrs())
        .filteredOn(c -> c.name() != null && c.name().startsWith(ns + "-"))
        .hasSize(good.size());

    // Exactly the three uploads, plus one GetCsrDetail per adoption case: spec.csrId can only be
    // checked against CAS (does it exist, is its key ours?), so those two inputs are valid up to
    // that lookup and are refused on its answer. The counts must also stay put for a while.
    Map<String, Map<String, Integer>> expected =
        Map.of(
            "UploadCsr", Map.of("OK", good.size()),
            "GetCsrDetail", Map.of("OK", 1, "NotFound.Csr", 1),
            // The CSR that exists is looked up by its common name too: a name that carries
            // another AliyunCsr's ownership mark would refuse the adoption.
            "ListCsr", Map.of("OK", 1));
    await()
        .atMost(Duration.ofSeconds(10))
        .during(Duration.ofSeconds(2))
        .untilAsserted(
            () -> assertThat(delta(callsBefore, harness.emulator.callStats())).isEqualTo(expected));

    for (BadInput input : bad) {
      assertNoKeyMaterial(ns, input.name(), privateKeyTexts);
    }
  }

  // --- the table's row kinds

  /** A CSR Secret value the CSR validator refuses. */
  private static BadInput csrValue(String name, byte[] value, String messageFragment) {
    return new BadInput(name, Reasons.INVALID_CSR, messageFragment, Map.of(CSR, value), s -> {});
  }

  /** A private key Secret value refused next to the valid shared CSR. */
  private BadInput keyValue(String name, String reason, byte[] key, String messageFragment) {
    return new BadInput(
        name, reason, messageFragment, Map.of(CSR, utf8(victim.csrPem()), KEY, key), s -> {});
  }

  // --- helpers

  private static void assertApiServerRejectsAnInvalidName(String ns) {
    AliyunCsr resource = aliyunCsr(ns, "name-with-spaces", "name-with-spaces", null);
    resource.getSpec().setName("has spaces, and a comma");
    assertThatThrownBy(() -> harness.create(resource))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining("spec.name")
        .hasMessageContaining("^[A-Za-z0-9_-]{1,33}$");
    assertThat(harness.get(ns, "name-with-spaces")).isNull();
  }

  /** Ready=False with the row's reason and message, the matching Stalled/Reconciling, an Event. */
  private static void assertEachStoppedAsExpected(String ns, List<BadInput> bad) {
    Map<String, AliyunCsr> resources =
        harness.client.resources(AliyunCsr.class).inNamespace(ns).list().getItems().stream()
            .collect(Collectors.toMap(r -> r.getMetadata().getName(), r -> r));
    Map<String, List<String>> events =
        harness.client.v1().events().inNamespace(ns).list().getItems().stream()
            .collect(
                Collectors.groupingBy(
                    e -> e.getInvolvedObject().getName(),
                    Collectors.mapping(
                        e -> e.getType() + " " + e.getReason() + ": " + e.getMessage(),
                        Collectors.toList())));
    SoftAssertions soft = new SoftAssertions();
    for (BadInput input : bad) {
      AliyunCsr r = resources.get(input.name());
      if (r == null
          || r.getStatus() == null
          || !r.getMetadata().getGeneration().equals(r.getStatus().getObservedGeneration())) {
        soft.fail("%s: not reconciled yet", input.name());
        continue;
      }
      Optional<CsrCondition> ready = r.getStatus().condition("Ready");
      soft.assertThat(ready.map(CsrCondition::getStatus)).as(input.name()).contains("False");
      soft.assertThat(ready.map(CsrCondition::getReason)).as(input.name()).contains(input.reason());
      soft.assertThat(ready.map(CsrCondition::getMessage).orElse(""))
          .as(input.name())
          .contains(input.messageFragment());
      soft.assertThat(r.getStatus().condition("Stalled").map(CsrCondition::getStatus))
          .as(input.name() + " Stalled")
          .contains(input.waitsForInput() ? "False" : "True");
      soft.assertThat(r.getStatus().condition("Reconciling").map(CsrCondition::getStatus))
          .as(input.name() + " Reconciling")
          .contains(input.waitsForInput() ? "True" : "False");
      soft.assertThat(r.getStatus().getCsrId()).as(input.name() + " csrId").isNull();
      soft.assertThat(CasAnnotations.csrId(r)).as(input.name() + " CsrId annotation").isEmpty();
      soft.assertThat(events.getOrDefault(input.name(), List.of()))
          .as(input.name() + " Events")
          .anySatisfy(
              event ->
                  assertThat(event)
                      .startsWith("Warning " + input.reason() + ": ")
                      .contains(input.messageFragment()));
    }
    soft.assertAll();
  }

  /**
   * Returns once the operator's Secret watch has delivered every Secret created so far. A resource
   * whose Secret is created only now leaves SecretNotFound through that watch alone, and the watch
   * delivers Secret events in order. Otherwise a late event for a test Secret could reconcile a
   * resource a second time, and repeat the adoption cases' GetCsrDetail.
   */
  private static void awaitSecretWatchCaughtUp() {
    String ns = harness.newNamespace();
    harness.create(aliyunCsr(ns, "barrier", "barrier", null));
    awaitReason(ns, "barrier", Reasons.SECRET_NOT_FOUND);
    harness.secret(ns, "barrier", Map.of(CSR, "not a CSR"));
    awaitReason(ns, "barrier", Reasons.INVALID_CSR);
  }

  /** No line of any private key's base64 body appears in the resource or its Events. */
  private static void assertNoKeyMaterial(String ns, String name, List<String> keyTexts) {
    String resource = Serialization.asJson(harness.get(ns, name));
    String eventText =
        AliyunCsrIT.events(ns, name).stream()
            .map(Event::getMessage)
            .collect(Collectors.joining("\n"));
    for (String keyText : keyTexts) {
      for (String line : keyText.split("\r?\n")) {
        if (BASE64_LINE.matcher(line).matches()) {
          assertThat(resource).as(name).doesNotContain(line);
          assertThat(eventText).as(name + " Events").doesNotContain(line);
        }
      }
    }
  }

  /** Per action and outcome, the calls made since {@code before}; actions without any left out. */
  private static Map<String, Map<String, Integer>> delta(
      Map<String, Map<String, Integer>> before, Map<String, Map<String, Integer>> after) {
    Map<String, Map<String, Integer>> delta = new LinkedHashMap<>();
    after.forEach(
        (action, outcomes) ->
            outcomes.forEach(
                (outcome, count) -> {
                  int since =
                      count - before.getOrDefault(action, Map.of()).getOrDefault(outcome, 0);
                  if (since != 0) {
                    delta.computeIfAbsent(action, a -> new TreeMap<>()).put(outcome, since);
                  }
                }));
    return delta;
  }

  private static void secret(String ns, String name, Map<String, byte[]> values) {
    Map<String, String> data = new TreeMap<>();
    values.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v)));
    harness
        .client
        .resource(
            new SecretBuilder()
                .withMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build())
                .withData(data)
                .build())
        .create();
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
