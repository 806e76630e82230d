package dev.aliyuncsr.operator.csr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.testing.TestPki.Material;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KeyPairCheckTest {
  private final Material rsa = TestPki.rsaCsr(2048, "app.example.com");

  @Test
  void acceptsTheCsrsOwnKey() {
    CsrFacts csr = CsrValidator.validate(rsa.csrPem()).value();
    PrivateKeyFacts key = PrivateKeyValidator.validate(rsa.traditionalKeyPem()).value();

    assertThat(KeyPairCheck.mismatch(csr, key)).isEmpty();
  }

  @Test
  void reportsAnotherKeyByBothShortHashes() {
    CsrFacts csr = CsrValidator.validate(rsa.csrPem()).value();
    PrivateKeyFacts other =
        PrivateKeyValidator.validate(TestPki.rsaCsr(2048, "x").pkcs8KeyPem()).value();

    Optional<InputProblem> problem = KeyPairCheck.mismatch(csr, other);

    assertThat(problem).isPresent();
    assertThat(problem.get().reason()).isEqualTo(Reasons.KEY_MISMATCH);
    assertThat(problem.get().message())
        .contains("does not belong to the CSR")
        .contains(csr.publicKeySha256().substring(0, 12) + "...")
        .contains(other.publicKeySha256().substring(0, 12) + "...")
        .doesNotContain(csr.publicKeySha256())
        .doesNotContain(other.publicKeySha256());
  }

  @Test
  void namesBothAlgorithmsWhenTheyDiffer() {
    CsrFacts csr = CsrValidator.validate(rsa.csrPem()).value();
    PrivateKeyFacts ec =
        PrivateKeyValidator.validate(TestPki.ecCsr("secp256r1", "x").pkcs8KeyPem()).value();

    Optional<InputProblem> problem = KeyPairCheck.mismatch(csr, ec);

    assertThat(problem).get().extracting(InputProblem::reason).isEqualTo(Reasons.KEY_MISMATCH);
    assertThat(problem.get().message()).contains("CSR's RSA public key", "private key's EC");
  }
}
