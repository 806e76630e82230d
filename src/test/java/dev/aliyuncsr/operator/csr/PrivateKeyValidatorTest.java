package dev.aliyuncsr.operator.csr;

import static dev.aliyuncsr.operator.csr.CsrValidatorTest.bytes;
import static dev.aliyuncsr.operator.csr.CsrValidatorTest.lf;
import static dev.aliyuncsr.operator.csr.CsrValidatorTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Named.named;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.testing.TestPki.Material;
import dev.aliyuncsr.operator.testing.TestPkiVariants;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Stream;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PrivateKeyValidatorTest {
  private static Material rsa;
  private static Material p256;
  private static Material p384;

  @BeforeAll
  static void generate() {
    rsa = TestPki.rsaCsr(2048, "rsa.example.com");
    p256 = TestPki.ecCsr("secp256r1", "p256.example.com");
    p384 = TestPki.ecCsr("secp384r1", "p384.example.com");
  }

  static Stream<Arguments> keyFormats() {
    return Stream.of(
        format("PKCS#1 RSA", rsa, Material::traditionalKeyPem, "RSA PRIVATE KEY", "RSA"),
        format("PKCS#8 RSA", rsa, Material::pkcs8KeyPem, "PRIVATE KEY", "RSA"),
        format("PKCS#8 EC P-256", p256, Material::pkcs8KeyPem, "PRIVATE KEY", "EC"),
        format("PKCS#8 EC P-384", p384, Material::pkcs8KeyPem, "PRIVATE KEY", "EC"),
        format(
            "SEC1 EC P-256 with public key",
            p256,
            m -> TestPkiVariants.sec1KeyPem(m.keyPair(), "secp256r1", m.keyPair()),
            "EC PRIVATE KEY",
            "EC"),
        format(
            "SEC1 EC P-384 without public key",
            p384,
            m -> TestPkiVariants.sec1KeyPem(m.keyPair(), "secp384r1", null),
            "EC PRIVATE KEY",
            "EC"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("keyFormats")
  void parsesEachFormatAndMatchesItsCsr(
      Material material, String keyPem, String label, String algorithm) {
    Validated<PrivateKeyFacts> key = PrivateKeyValidator.validate(bytes(keyPem));

    assertThat(key.isValid()).as("%s", key).isTrue();
    assertThat(key.value().keyAlgorithm()).isEqualTo(algorithm);
    assertThat(key.value().publicKeySha256())
        .isEqualTo(sha256(material.keyPair().getPublic().getEncoded()));
    assertThat(key.value().pem()).isEqualTo(lf(keyPem)).startsWith(armor("BEGIN", label) + "\n");
    CsrFacts csr = CsrValidator.validate(material.csrPem()).value();
    assertThat(KeyPairCheck.mismatch(csr, key.value())).isEmpty();
  }

  @Test
  void acceptsEcParametersBeforeASec1KeyAndLeavesThemOutOfThePem() {
    String sec1 = TestPkiVariants.sec1KeyPem(p256.keyPair(), "secp256r1", p256.keyPair());
    String openssl = TestPkiVariants.ecParametersPem("secp256r1") + sec1;

    Validated<PrivateKeyFacts> key = PrivateKeyValidator.validate(openssl);

    assertThat(key.isValid()).as("%s", key).isTrue();
    assertThat(key.value().pem()).isEqualTo(lf(sec1)).doesNotContain("EC PARAMETERS");
  }

  @Test
  void normalisesTheKeyPemToItsOwnTypeTrimmedWithAFinalNewline() {
    String messy =
        "\r\n  note above\r\n" + lf(rsa.pkcs8KeyPem()).replace("\n", "\r\n") + "  \r\n\r\n";

    Validated<PrivateKeyFacts> key = PrivateKeyValidator.validate(bytes(messy));

    assertThat(key.isValid()).as("%s", key).isTrue();
    assertThat(key.value().pem())
        .isEqualTo(lf(rsa.pkcs8KeyPem()))
        .startsWith(armor("BEGIN", "PRIVATE KEY") + "\n")
        .endsWith(armor("END", "PRIVATE KEY") + "\n");
  }

  @Test
  void neverShowsTheKeyInToString() {
    Validated<PrivateKeyFacts> key = PrivateKeyValidator.validate(rsa.pkcs8KeyPem());

    assertThat(key.toString()).doesNotContain("BEGIN");
    assertThat(key.value().toString()).doesNotContain("BEGIN").contains("RSA");
  }

  static Stream<Arguments> badKeys() {
    String pkcs8 = lf(rsa.pkcs8KeyPem());
    byte[] oneMiB = new byte[1024 * 1024];
    Arrays.fill(oneMiB, (byte) '-');
    KeyPair k1 = TestPkiVariants.bcEc("secp256k1");
    return Stream.of(
        bad("empty", new byte[0], "The private key is empty"),
        bad("whitespace only", bytes("\n\n   \n"), "contains only whitespace"),
        bad("1 MiB", oneMiB, "more than the limit of 64 KiB (65536 bytes)"),
        bad("non-UTF-8 bytes", new byte[] {(byte) 0xFF, (byte) 0xFE, 0}, "not UTF-8 text"),
        bad(
            "not PEM",
            bytes("my key"),
            "The private key is not PEM: no " + armor("BEGIN", "PRIVATE KEY") + " line"),
        bad(
            "encrypted PKCS#8",
            bytes(TestPkiVariants.encryptedPkcs8KeyPem(rsa.keyPair(), "secret")),
            "is encrypted (ENCRYPTED PRIVATE KEY); the operator needs it unencrypted. Decrypt"
                + " it, e.g. openssl pkey"),
        bad(
            "legacy Proc-Type encryption",
            bytes(TestPkiVariants.legacyEncryptedKeyPem(rsa.keyPair(), "secret")),
            "is encrypted (Proc-Type: 4,ENCRYPTED)"),
        bad(
            "public key",
            bytes(TestPkiVariants.publicKeyPem(rsa.keyPair())),
            "found a PEM block of type \"PUBLIC KEY\": that is a public key"),
        bad(
            "CSR",
            bytes(rsa.csrPem()),
            "type \"CERTIFICATE REQUEST\": that is a certificate signing request"),
        bad(
            "certificate",
            bytes(TestPkiVariants.certificatePem(rsa.keyPair())),
            "that is a certificate, not a private key"),
        bad(
            "EC PARAMETERS alone",
            bytes(TestPkiVariants.ecParametersPem("secp256r1")),
            "only curve parameters, no key"),
        bad(
            "OpenSSH key",
            bytes(TestPki.pem("OPENSSH PRIVATE KEY", bytes("openssh-key-v1"))),
            "ssh-keygen -p -m PKCS8"),
        bad("two keys", bytes(pkcs8 + p256.pkcs8KeyPem()), "holds 2 PEM blocks"),
        bad(
            "key and certificate",
            bytes(pkcs8 + TestPkiVariants.certificatePem(rsa.keyPair())),
            "(\"PRIVATE KEY\", \"CERTIFICATE\")"),
        bad(
            "truncated",
            bytes(pkcs8.substring(0, pkcs8.indexOf("-----END"))),
            "The private key is truncated"),
        bad(
            "garbage PKCS#8 DER",
            bytes(TestPki.pem("PRIVATE KEY", bytes("garbage"))),
            "content is not a PKCS#8 private key"),
        bad(
            "garbage PKCS#1 DER",
            bytes(TestPki.pem("RSA PRIVATE KEY", bytes("garbage"))),
            "content is not a PKCS#1 RSA private key"),
        bad(
            "RSA 1024",
            bytes(TestPki.rsaCsr(1024, "weak").pkcs8KeyPem()),
            "The private key is RSA 1024 bits"),
        bad(
            "inconsistent RSA key",
            bytes(TestPki.pem("RSA PRIVATE KEY", withWrongPrime(rsa))),
            "The RSA private key is inconsistent"),
        bad(
            "secp256k1",
            bytes(TestPki.pem("PRIVATE KEY", k1.getPrivate().getEncoded())),
            "is on the EC curve secp256k1"),
        bad(
            "Ed25519",
            bytes(TestPki.pem("PRIVATE KEY", TestPkiVariants.ed25519().getPrivate().getEncoded())),
            "uses Ed25519; only RSA and EC keys are supported"),
        bad(
            "SEC1 without its curve (the JDK's inner PKCS#8 encoding, as openssl cannot read)",
            bytes(p256.traditionalKeyPem()),
            "\"EC PRIVATE KEY\" does not name its curve"),
        bad(
            "SEC1 with another key's public key",
            bytes(TestPkiVariants.sec1KeyPem(p256.keyPair(), "secp256r1", TestPki.ec("secp256r1"))),
            "embedded public key does not belong to its private value"),
        bad(
            "EC PARAMETERS of another curve",
            bytes(
                TestPkiVariants.ecParametersPem("secp384r1")
                    + TestPkiVariants.sec1KeyPem(p256.keyPair(), "secp256r1", null)),
            "\"EC PARAMETERS\" block names P-384 but the key is on P-256"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badKeys")
  void rejectsBadKeysWithASpecificMessage(byte[] value, String expectedMessagePart) {
    Validated<PrivateKeyFacts> result = PrivateKeyValidator.validate(value);

    assertThat(result.isValid()).isFalse();
    assertThat(result.problem().reason()).isEqualTo(Reasons.INVALID_KEY);
    assertThat(result.problem().message()).contains(expectedMessagePart);
  }

  /** The PKCS#1 encoding of the key with its second prime off by two. */
  static byte[] withWrongPrime(Material material) {
    try {
      RSAPrivateKey key = RSAPrivateKey.getInstance(material.privateKeyInfo().parsePrivateKey());
      RSAPrivateKey broken =
          new RSAPrivateKey(
              key.getModulus(),
              key.getPublicExponent(),
              key.getPrivateExponent(),
              key.getPrime1(),
              key.getPrime2().add(BigInteger.TWO),
              key.getExponent1(),
              key.getExponent2(),
              key.getCoefficient());
      return broken.getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Arguments format(
      String name, Material material, Function<Material, String> pem, String label, String alg) {
    return Arguments.of(named(name, material), pem.apply(material), label, alg);
  }

  private static Arguments bad(String name, byte[] value, String expectedMessagePart) {
    return Arguments.of(named(name, value), expectedMessagePart);
  }

  /** A PEM armour line (BEGIN or END and a label). Only labels; no key is committed. */
  private static String armor(String edge, String label) {
    return "-----" + edge + " " + label + "-----";
  }
}
