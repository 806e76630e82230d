package dev.aliyuncsr.operator.csr;

import static dev.aliyuncsr.operator.csr.CsrValidatorTest.bytes;
import static dev.aliyuncsr.operator.csr.CsrValidatorTest.lf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.testing.TestPki.Material;
import dev.aliyuncsr.operator.testing.TestPkiVariants;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Whatever goes wrong, no problem message repeats a line of the private key. */
class NoKeyMaterialInMessagesTest {
  private final Material rsa = TestPki.rsaCsr(2048, "app.example.com");
  private final Material ec = TestPki.ecCsr("secp256r1", "app.example.com");

  @Test
  void noProblemMessageContainsALineOfThePrivateKey() {
    List<String> keyPems =
        List.of(
            rsa.pkcs8KeyPem(),
            rsa.traditionalKeyPem(),
            ec.pkcs8KeyPem(),
            TestPkiVariants.sec1KeyPem(ec.keyPair(), "secp256r1", ec.keyPair()));
    List<Validated<?>> results = new ArrayList<>();
    for (String keyPem : keyPems) {
      String pem = lf(keyPem);
      String[] lines = pem.split("\n");
      String body = String.join("", Arrays.copyOfRange(lines, 1, lines.length - 1));
      byte[] der = Base64.getDecoder().decode(body);
      byte[] truncatedDer = Arrays.copyOf(der, der.length / 2);
      String label = lines[0].substring("-----BEGIN ".length(), lines[0].length() - 5);
      List<String> inputs =
          List.of(
              pem,
              pem.replace("\n", ""),
              pem.replace("\n", "\\n"),
              body,
              Base64.getEncoder().encodeToString(bytes(pem)),
              pem.substring(0, pem.indexOf("-----END")),
              pem.substring(pem.indexOf('\n') + 1),
              pem.replace(lines[1], lines[1].substring(0, 10) + "!" + lines[1].substring(11)),
              pem.replace("-----END " + label, "-----END CERTIFICATE"),
              pem + pem,
              pem + TestPkiVariants.certificatePem(rsa.keyPair()),
              TestPki.pem(label, truncatedDer),
              TestPki.pem("CERTIFICATE REQUEST", der),
              TestPki.pem("X" + label, der));
      for (String input : inputs) {
        results.add(CsrValidator.validate(bytes(input)));
        results.add(PrivateKeyValidator.validate(bytes(input)));
      }
    }
    results.add(
        PrivateKeyValidator.validate(TestPkiVariants.encryptedPkcs8KeyPem(rsa.keyPair(), "pw")));
    results.add(
        PrivateKeyValidator.validate(TestPkiVariants.legacyEncryptedKeyPem(rsa.keyPair(), "pw")));
    results.add(
        PrivateKeyValidator.validate(
            TestPki.pem("RSA PRIVATE KEY", PrivateKeyValidatorTest.withWrongPrime(rsa))));
    results.add(
        PrivateKeyValidator.validate(
            TestPkiVariants.sec1KeyPem(ec.keyPair(), "secp256r1", TestPki.ec("secp256r1"))));
    CsrFacts csr = CsrValidator.validate(ec.csrPem()).value();
    PrivateKeyFacts other = PrivateKeyValidator.validate(rsa.pkcs8KeyPem()).value();
    InputProblem mismatch = KeyPairCheck.mismatch(csr, other).orElseThrow();

    List<String> texts = new ArrayList<>();
    texts.add(mismatch.message());
    texts.add(other.toString());
    for (Validated<?> result : results) {
      if (!result.isValid()) {
        texts.add(result.problem().message());
      }
      texts.add(result.toString());
    }

    assertThat(results).filteredOn(result -> !result.isValid()).hasSizeGreaterThan(100);
    for (String keyPem : keyPems) {
      List<String> secretLines = secretLines(keyPem);
      assertThat(texts)
          .allSatisfy(text -> assertThat(text).doesNotContain(secretLines.toArray(String[]::new)));
    }
  }

  /** The key's base64 lines, and 16-character pieces of them for lines that were re-wrapped. */
  private static List<String> secretLines(String keyPem) {
    List<String> secrets = new ArrayList<>();
    for (String line : lf(keyPem).split("\n")) {
      if (!line.startsWith("-----") && !line.isBlank()) {
        secrets.add(line);
        for (int i = 0; i + 16 <= line.length(); i += 16) {
          secrets.add(line.substring(i, i + 16));
        }
      }
    }
    return secrets;
  }
}
