package dev.aliyuncsr.operator.csr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.testing.TestPkiVariants;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;

class PublicKeyHashTest {

  @Test
  void aCsrHashesLikeTheValidatorHashesItsKey() {
    var csr = TestPki.rsaCsr(2048, "shop.example.com");

    assertThat(PublicKeyHash.ofCsrPem(csr.csrPem()))
        .contains(CsrValidator.validate(csr.csrPem()).value().publicKeySha256());
  }

  @Test
  void aCompressedEcPointHashesLikeTheUncompressedOne() throws Exception {
    var keys = TestPki.ec("secp256r1");
    String compressed =
        TestPki.pem(
            "CERTIFICATE REQUEST",
            TestPkiVariants.compressedPointCsr(keys, "secp256r1").getEncoded());

    assertThat(PublicKeyHash.ofCsrPem(compressed))
        .contains(
            PublicKeyHash.of(SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded())));
  }

  @Test
  void anotherKeyHashesDifferently() {
    assertThat(PublicKeyHash.ofCsrPem(TestPki.ecCsr("secp256r1", "a.example.com").csrPem()))
        .isNotEqualTo(PublicKeyHash.ofCsrPem(TestPki.ecCsr("secp256r1", "a.example.com").csrPem()));
  }

  @Test
  void textThatIsNoCsrHasNoHash() {
    assertThat(PublicKeyHash.ofCsrPem(null)).isEmpty();
    assertThat(PublicKeyHash.ofCsrPem("")).isEmpty();
    assertThat(PublicKeyHash.ofCsrPem("not pem")).isEmpty();
    assertThat(PublicKeyHash.ofCsrPem(TestPkiVariants.certificatePem(TestPki.ec("secp256r1"))))
        .isEmpty();
  }
}
