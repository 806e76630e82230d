package dev.aliyuncsr.operator.csr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Named.named;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.testing.TestPki.Material;
import dev.aliyuncsr.operator.testing.TestPkiVariants;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CsrValidatorTest {
  private static Material rsa2048;
  private static Material ecP256;

  @BeforeAll
  static void generate() {
    rsa2048 = TestPki.rsaCsr(2048, "app.example.com", "app.example.com", "www.example.com");
    ecP256 = TestPki.ecCsr("secp256r1", "app.example.com");
  }

  static Stream<Arguments> supportedKeys() {
    return Stream.of(
        Arguments.of(named("RSA 2048", TestPki.rsa(2048)), "RSA", 2048),
        Arguments.of(named("RSA 3072", TestPki.rsa(3072)), "RSA", 3072),
        Arguments.of(named("RSA 4096", TestPki.rsa(4096)), "RSA", 4096),
        Arguments.of(named("EC P-256", TestPki.ec("secp256r1")), "EC", 256),
        Arguments.of(named("EC P-384", TestPki.ec("secp384r1")), "EC", 384));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("supportedKeys")
  void acceptsSupportedKeysAndReportsTheirFacts(KeyPair keyPair, String algorithm, int size)
      throws Exception {
    Material material = TestPki.csr(keyPair, "app.example.com", "app.example.com", "a.example.org");

    Validated<CsrFacts> result = CsrValidator.validate(bytes(material.csrPem()));

    assertThat(result.isValid()).as("%s", result).isTrue();
    CsrFacts facts = result.value();
    assertThat(facts.keyAlgorithm()).isEqualTo(algorithm);
    assertThat(facts.keySize()).isEqualTo(size);
    assertThat(facts.commonName()).isEqualTo("app.example.com");
    assertThat(facts.sans()).containsExactly("app.example.com", "a.example.org");
    assertThat(facts.csrSha256()).isEqualTo(sha256(TestPki.der(material.csr())));
    assertThat(facts.publicKeySha256())
        .isEqualTo(sha256(keyPair.getPublic().getEncoded()))
        .isEqualTo(sha256(material.csr().getSubjectPublicKeyInfo().getEncoded()));
    assertThat(facts.pem()).isEqualTo(lf(material.csrPem()));
  }

  @Test
  void normalisesThePem() {
    String der64 = Base64.getEncoder().encodeToString(TestPki.der(rsa2048.csr()));

    CsrFacts facts = CsrValidator.validate(rsa2048.csrPem()).value();

    String[] lines = facts.pem().split("\n");
    assertThat(lines[0]).isEqualTo("-----BEGIN CERTIFICATE REQUEST-----");
    assertThat(lines[lines.length - 1]).isEqualTo("-----END CERTIFICATE REQUEST-----");
    assertThat(Arrays.copyOfRange(lines, 1, lines.length - 1))
        .allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(64));
    assertThat(String.join("", Arrays.copyOfRange(lines, 1, lines.length - 1))).isEqualTo(der64);
    assertThat(facts.pem()).endsWith("-----\n").doesNotContain("\r");
  }

  @Test
  void toleratesCrlfSurroundingTextAndIndentation() {
    String messy =
        "Certificate Request:\r\n    Subject: CN=app.example.com\r\n\r\n  "
            + lf(rsa2048.csrPem()).replace("\n", "\r\n  ")
            + "\r\ntrailing notes\r\n\r\n";

    Validated<CsrFacts> result = CsrValidator.validate(bytes(messy));

    assertThat(result.isValid()).as("%s", result).isTrue();
    assertThat(result.value().pem()).isEqualTo(lf(rsa2048.csrPem()));
    assertThat(result.value().csrSha256()).isEqualTo(sha256(TestPki.der(rsa2048.csr())));
  }

  @Test
  void acceptsTheLegacyNewCertificateRequestLabel() {
    String legacy = TestPki.pem("NEW CERTIFICATE REQUEST", TestPki.der(ecP256.csr()));

    Validated<CsrFacts> result = CsrValidator.validate(legacy);

    assertThat(result.isValid()).as("%s", result).isTrue();
    assertThat(result.value().pem()).startsWith("-----BEGIN CERTIFICATE REQUEST-----\n");
  }

  @Test
  void listsDnsNamesAndIpAddressesInOrderAndSkipsOtherNames() {
    KeyPair keyPair = TestPki.ec("secp256r1");
    PKCS10CertificationRequest csr =
        TestPkiVariants.csr(
            keyPair,
            "SHA256withECDSA",
            "CN=api.example.com",
            new GeneralName(GeneralName.dNSName, "api.example.com"),
            new GeneralName(GeneralName.iPAddress, "10.1.2.3"),
            new GeneralName(GeneralName.rfc822Name, "ops@example.com"),
            new GeneralName(GeneralName.iPAddress, "2001:db8::1"),
            new GeneralName(GeneralName.dNSName, "*.example.com"));

    CsrFacts facts =
        CsrValidator.validate(TestPki.pem("CERTIFICATE REQUEST", TestPki.der(csr))).value();

    assertThat(facts.sans())
        .containsExactly("api.example.com", "10.1.2.3", "2001:db8:0:0:0:0:0:1", "*.example.com");
  }

  @Test
  void reportsNoCommonNameAndNoSansAsNullAndEmpty() {
    PKCS10CertificationRequest csr =
        TestPkiVariants.csr(TestPki.ec("secp256r1"), "SHA256withECDSA", "O=Only An Org");

    CsrFacts facts =
        CsrValidator.validate(TestPki.pem("CERTIFICATE REQUEST", TestPki.der(csr))).value();

    assertThat(facts.commonName()).isNull();
    assertThat(facts.sans()).isEmpty();
  }

  @Test
  void hashesACompressedEcPointLikeTheUncompressedOne() {
    KeyPair keyPair = TestPki.ec("secp256r1");
    PKCS10CertificationRequest csr = TestPkiVariants.compressedPointCsr(keyPair, "secp256r1");

    Validated<CsrFacts> result =
        CsrValidator.validate(TestPki.pem("CERTIFICATE REQUEST", TestPki.der(csr)));

    assertThat(result.isValid()).as("%s", result).isTrue();
    assertThat(result.value().publicKeySha256())
        .isEqualTo(sha256(keyPair.getPublic().getEncoded()));
  }

  static Stream<Arguments> badInputs() {
    String pem = lf(rsa2048.csrPem());
    String[] lines = pem.split("\n");
    byte[] der = TestPki.der(rsa2048.csr());
    byte[] brokenSignature = der.clone();
    brokenSignature[brokenSignature.length - 1] ^= 0x01;
    byte[] oneMiB = new byte[1024 * 1024];
    Arrays.fill(oneMiB, (byte) 'A');
    KeyPair k1 = TestPkiVariants.bcEc("secp256k1");
    KeyPair ed = TestPkiVariants.ed25519();
    PKCS10CertificationRequest badIp =
        TestPkiVariants.csr(
            TestPki.ec("secp256r1"),
            "SHA256withECDSA",
            "CN=x",
            new GeneralName(GeneralName.iPAddress, new DEROctetString(new byte[5])));

    return Stream.of(
        bad("empty", new byte[0], "The CSR is empty"),
        bad("whitespace only", bytes(" \n\t\r\n  "), "contains only whitespace"),
        bad(
            "plain text",
            bytes("please sign my certificate"),
            "is not PEM: no -----BEGIN CERTIFICATE REQUEST----- line"),
        bad(
            "binary DER",
            new byte[] {0x30, (byte) 0x82, 0x01, 0x0a},
            "not UTF-8 text (invalid byte at offset 1)"),
        bad("non-UTF-8 bytes", new byte[] {'a', 'b', (byte) 0xC3, 0x28}, "not UTF-8 text"),
        bad("1 MiB", oneMiB, "1048576 bytes, more than the limit of 64 KiB"),
        bad(
            "certificate",
            bytes(TestPkiVariants.certificatePem(rsa2048.keyPair())),
            "found a PEM block of type \"CERTIFICATE\": that is an issued certificate"),
        bad(
            "PKCS#8 private key",
            bytes(rsa2048.pkcs8KeyPem()),
            "found a PEM block of type \"PRIVATE KEY\": that is a private key"),
        bad(
            "SEC1 private key",
            bytes(ecP256.traditionalKeyPem()),
            "type \"EC PRIVATE KEY\": that is a private key"),
        bad(
            "public key",
            bytes(TestPkiVariants.publicKeyPem(rsa2048.keyPair())),
            "type \"PUBLIC KEY\": that is a bare public key"),
        bad(
            "unknown label",
            bytes(TestPki.pem("SOMETHING ELSE", der)),
            "found a PEM block of an unrecognised type"),
        bad(
            "truncated",
            bytes(String.join("\n", Arrays.copyOfRange(lines, 0, 5))),
            "The CSR is truncated: its PEM block of type \"CERTIFICATE REQUEST\" has a BEGIN"
                + " line but no END line"),
        bad(
            "start missing",
            bytes(String.join("\n", Arrays.copyOfRange(lines, 3, lines.length))),
            "has an END line without a BEGIN line"),
        bad("two CSRs", bytes(pem + pem), "holds 2 PEM blocks"),
        bad(
            "CSR and certificate",
            bytes(pem + TestPkiVariants.certificatePem(rsa2048.keyPair())),
            "holds 2 PEM blocks (\"CERTIFICATE REQUEST\", \"CERTIFICATE\")"),
        bad(
            "BEGIN and END differ",
            bytes(pem.replace("END CERTIFICATE REQUEST", "END CERTIFICATE")),
            "begins as type \"CERTIFICATE REQUEST\" but ends as type \"CERTIFICATE\""),
        bad(
            "empty body",
            bytes("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n"),
            "has nothing between its BEGIN and END lines"),
        bad(
            "bad base64",
            bytes(pem.replace(lines[2], "*" + lines[2].substring(1))),
            "is not valid base64"),
        bad("line breaks lost", bytes(pem.replace("\n", "")), "the line breaks were lost"),
        bad("literal backslash-n", bytes(pem.replace("\n", "\\n")), "the line breaks were lost"),
        bad(
            "base64 twice",
            bytes(Base64.getEncoder().encodeToString(bytes(pem))),
            "base64-encoded twice"),
        bad(
            "bare base64 DER",
            bytes(Base64.getEncoder().encodeToString(der)),
            "looks like bare base64"),
        bad(
            "garbage DER",
            bytes(TestPki.pem("CERTIFICATE REQUEST", bytes("definitely not ASN.1 DER"))),
            "not a PKCS#10 certificate request (invalid DER structure)"),
        bad(
            "DER of another structure",
            bytes(TestPki.pem("CERTIFICATE REQUEST", rsa2048.keyPair().getPublic().getEncoded())),
            "not a PKCS#10 certificate request"),
        bad(
            "broken signature",
            bytes(TestPki.pem("CERTIFICATE REQUEST", brokenSignature)),
            "signature does not verify"),
        bad(
            "RSASSA-PSS signature",
            bytes(
                TestPki.pem(
                    "CERTIFICATE REQUEST",
                    TestPki.der(
                        TestPkiVariants.csr(rsa2048.keyPair(), "SHA256withRSAandMGF1", "CN=pss")))),
            "which the operator cannot verify for its RSA key"),
        bad(
            "RSA 1024",
            bytes(TestPki.rsaCsr(1024, "weak.example.com").csrPem()),
            "The CSR's public key is RSA 1024 bits; at least 2048 bits are required"),
        bad(
            "secp256k1",
            bytes(
                TestPki.pem(
                    "CERTIFICATE REQUEST",
                    TestPki.der(TestPkiVariants.csr(k1, "SHA256withECDSA", "CN=k1")))),
            "on the EC curve secp256k1; only P-256 (prime256v1) and P-384 (secp384r1)"),
        bad(
            "Ed25519",
            bytes(
                TestPki.pem(
                    "CERTIFICATE REQUEST",
                    TestPki.der(TestPkiVariants.csr(ed, "Ed25519", "CN=ed")))),
            "uses Ed25519; only RSA and EC keys are supported"),
        bad(
            "IP SAN of 5 bytes",
            bytes(TestPki.pem("CERTIFICATE REQUEST", TestPki.der(badIp))),
            "IP address of 5 bytes"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInputs")
  void rejectsBadInputWithASpecificMessage(byte[] value, String expectedMessagePart) {
    Validated<CsrFacts> result = CsrValidator.validate(value);

    assertThat(result.isValid()).isFalse();
    assertThat(result.problem().reason()).isEqualTo(Reasons.INVALID_CSR);
    assertThat(result.problem().message()).contains(expectedMessagePart);
  }

  @Test
  void treatsANullStringAsEmpty() {
    assertThat(CsrValidator.validate((String) null).problem().message()).contains("is empty");
  }

  private static Arguments bad(String name, byte[] value, String expectedMessagePart) {
    return Arguments.of(named(name, value), expectedMessagePart);
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** PEM as the validators write it, whatever the platform's line separator. */
  static String lf(String pem) {
    return pem.replace("\r\n", "\n");
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
