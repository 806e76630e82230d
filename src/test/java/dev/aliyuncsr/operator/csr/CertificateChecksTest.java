package dev.aliyuncsr.operator.csr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.testing.TestCa;
import dev.aliyuncsr.operator.testing.TestPki;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CertificateChecksTest {
  static TestCa ca;
  static TestPki.Material csr;
  static CsrFacts facts;

  @BeforeAll
  static void pki() {
    ca = TestCa.create("Checks");
    csr = TestPki.ecCsr("secp256r1", "shop.example.com");
    facts = CsrValidator.validate(csr.csrPem()).value();
  }

  static X509CertificateHolder leaf() {
    return ca.issue(csr.keyPair().getPublic(), "shop.example.com", 90);
  }

  static int blocks(String pem) {
    return pem.split("-----BEGIN CERTIFICATE-----", -1).length - 1;
  }

  @Test
  void leafAndIntermediateGoToTlsCrtAndThereIsNoCaCrt() {
    X509CertificateHolder leaf = leaf();

    var checked =
        CertificateChecks.check(TestCa.pem(leaf, ca.intermediate()), facts.publicKeySha256())
            .value();

    assertThat(checked.tlsCrt()).isEqualTo(TestCa.pem(leaf, ca.intermediate()));
    assertThat(checked.caCrt()).isEmpty();
    assertThat(checked.serialNumber()).isEqualTo(leaf.getSerialNumber().toString(16));
    assertThat(checked.serialNumber()).matches("[0-9a-f]+");
    assertThat(checked.notBefore()).isEqualTo(leaf.getNotBefore().toInstant());
    assertThat(checked.notAfter()).isEqualTo(leaf.getNotAfter().toInstant());
    assertThat(checked.publicKeySha256()).isEqualTo(facts.publicKeySha256());
  }

  @Test
  void aSelfSignedLastCertificateIsTheRootAndGoesToCaCrtOnly() {
    X509CertificateHolder leaf = leaf();

    var checked =
        CertificateChecks.check(
                TestCa.pem(leaf, ca.intermediate(), ca.root()), facts.publicKeySha256())
            .value();

    assertThat(blocks(checked.tlsCrt())).isEqualTo(2);
    assertThat(checked.tlsCrt()).isEqualTo(TestCa.pem(leaf, ca.intermediate()));
    assertThat(checked.caCrt()).contains(TestCa.pem(ca.root()));
  }

  @Test
  void theLeafAloneIsAccepted() {
    var checked = CertificateChecks.check(TestCa.pem(leaf()), facts.publicKeySha256()).value();

    assertThat(blocks(checked.tlsCrt())).isEqualTo(1);
    assertThat(checked.caCrt()).isEmpty();
  }

  @Test
  void aCertificateForAnotherKeyIsAMismatch() {
    X509CertificateHolder other =
        ca.issue(TestPki.ec("secp256r1").getPublic(), "shop.example.com", 90);

    var result =
        CertificateChecks.check(TestCa.pem(other, ca.intermediate()), facts.publicKeySha256());

    assertThat(result.problem().reason()).isEqualTo(Reasons.CERTIFICATE_MISMATCH);
    assertThat(result.problem().message()).contains("another public key than the CSR's");
  }

  @Test
  void aLeafNotSignedByTheNextCertificateIsAMismatch() {
    X509CertificateHolder forged = ca.issueSignedByRoot(csr.keyPair().getPublic(), "shop");

    var result =
        CertificateChecks.check(TestCa.pem(forged, ca.intermediate()), facts.publicKeySha256());

    assertThat(result.problem().reason()).isEqualTo(Reasons.CERTIFICATE_MISMATCH);
    assertThat(result.problem().message())
        .contains("certificate 1", "is not signed by certificate 2");
  }

  @Test
  void aChainInTheWrongOrderIsAMismatch() {
    var result =
        CertificateChecks.check(
            TestCa.pem(leaf(), ca.root(), ca.intermediate()), facts.publicKeySha256());

    assertThat(result.problem().reason()).isEqualTo(Reasons.CERTIFICATE_MISMATCH);
    assertThat(result.problem().message()).contains("does not verify");
  }

  @Test
  void anIntermediateOfAnotherCaIsAMismatch() {
    TestCa other = TestCa.create("Other");

    var result =
        CertificateChecks.check(TestCa.pem(leaf(), other.intermediate()), facts.publicKeySha256());

    assertThat(result.problem().reason()).isEqualTo(Reasons.CERTIFICATE_MISMATCH);
  }

  @Test
  void nothingOrGarbageOrAKeyAmongTheCertificatesIsAMismatchThatQuotesNothing() {
    assertThat(CertificateChecks.check("", facts.publicKeySha256()).problem().reason())
        .isEqualTo(Reasons.CERTIFICATE_MISMATCH);
    assertThat(CertificateChecks.check("garbage", facts.publicKeySha256()).problem().reason())
        .isEqualTo(Reasons.CERTIFICATE_MISMATCH);
    String key = csr.pkcs8KeyPem();
    var withKey =
        CertificateChecks.check(TestCa.pem(leaf()) + key, facts.publicKeySha256()).problem();
    assertThat(withKey.reason()).isEqualTo(Reasons.CERTIFICATE_MISMATCH);
    assertThat(withKey.message()).contains("PRIVATE KEY").doesNotContain(key.split("\n")[1]);
  }

  @Test
  void theKeyForTlsKeyMustBeTheCertificatesOwn() {
    var checked = CertificateChecks.check(TestCa.pem(leaf()), facts.publicKeySha256()).value();
    var own = PrivateKeyValidator.validate(csr.pkcs8KeyPem()).value();
    var other =
        PrivateKeyValidator.validate(TestPki.ecCsr("secp256r1", "x.example.com").pkcs8KeyPem())
            .value();

    assertThat(CertificateChecks.keyMismatch(checked, own)).isEmpty();
    assertThat(CertificateChecks.keyMismatch(checked, other))
        .hasValueSatisfying(p -> assertThat(p.reason()).isEqualTo(Reasons.KEY_MISMATCH));
  }

  @Test
  void anRsaLeafIsCheckedLikeAnEcOne() {
    TestPki.Material rsa = TestPki.rsaCsr(2048, "rsa.example.com");
    Instant start = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    X509CertificateHolder leaf =
        ca.issue(rsa.keyPair().getPublic(), "rsa.example.com", start, start.plusSeconds(3600));

    var checked =
        CertificateChecks.check(
            TestCa.pem(leaf, ca.intermediate()),
            CsrValidator.validate(rsa.csrPem()).value().publicKeySha256());

    assertThat(checked.isValid()).as("%s", checked).isTrue();
    assertThat(checked.value().notAfter()).isEqualTo(start.plusSeconds(3600));
  }
}
