package dev.aliyuncsr.operator.csr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.ValidationMethod;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.testing.TestPkiVariants;
import java.math.BigInteger;
import java.security.KeyPair;
import java.util.Random;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IssuanceSupportTest {
  static final KeyPair P256 = TestPki.ec("secp256r1");

  static Validated<IssuanceSupport.Issuance> dns(String pem) {
    return IssuanceSupport.check(pem, ValidationMethod.DNS);
  }

  /**
   * A CSR whose key is an RSA public key of exactly {@code bits} bits. Only the key is looked at,
   * so it is signed with another key: generating RSA 4096 keys would take seconds.
   */
  static String rsaKeyCsr(int bits) throws Exception {
    BigInteger modulus = new BigInteger(bits, new Random(bits)).setBit(bits - 1).setBit(0);
    SubjectPublicKeyInfo spki =
        new SubjectPublicKeyInfo(
            new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
            new RSAPublicKey(modulus, BigInteger.valueOf(65537)));
    var csr =
        new PKCS10CertificationRequestBuilder(new X500Name("CN=shop.example.com"), spki)
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(P256.getPrivate()));
    return TestPki.pem("CERTIFICATE REQUEST", csr.getEncoded());
  }

  @ParameterizedTest
  @CsvSource({"2048, RSA_2048", "3072, RSA_3072", "4096, RSA_4096"})
  void rsaKeysOfTheThreeSizesCasSellsMapToTheirKeyAlgorithm(int bits, String expected)
      throws Exception {
    assertThat(dns(rsaKeyCsr(bits)).value().keyAlgorithm()).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"2560", "1024", "8192"})
  void rsaKeysOfOtherSizesAreUnsupportedBeforeAnyCall(int bits) throws Exception {
    var result = dns(rsaKeyCsr(bits));

    assertThat(result.problem().reason()).isEqualTo(Reasons.UNSUPPORTED_CSR);
    assertThat(result.problem().message()).contains("RSA " + bits + " bits", "RSA 2048, 3072");
  }

  @Test
  void aRealRsaCsrNamesItsKeyAndItsDomainsCnFirstEachOnce() {
    var csr =
        TestPki.rsaCsr(
            2048,
            "shop.example.com",
            "www.shop.example.com",
            "SHOP.example.com",
            "api.example.com");

    var issuance = dns(csr.csrPem()).value();

    assertThat(issuance.keyAlgorithm()).isEqualTo("RSA_2048");
    assertThat(issuance.domains())
        .containsExactly("shop.example.com", "www.shop.example.com", "api.example.com");
  }

  @Test
  void ecP256IsEcc256() {
    var issuance = dns(TestPki.csr(P256, "shop.example.com").csrPem()).value();

    assertThat(issuance.keyAlgorithm()).isEqualTo("ECC_256");
    assertThat(issuance.domains()).containsExactly("shop.example.com");
  }

  @Test
  void ecP384HasNoKeyAlgorithmInCas() {
    var result = dns(TestPki.ecCsr("secp384r1", "shop.example.com").csrPem());

    assertThat(result.problem().reason()).isEqualTo(Reasons.UNSUPPORTED_CSR);
    assertThat(result.problem().message()).contains("P-384");
  }

  @Test
  void theSm2CurveIsSm2() throws Exception {
    KeyPair sm2 = TestPkiVariants.bcEc("sm2p256v1");
    var csr =
        TestPkiVariants.csr(
            sm2,
            "SM3withSM2",
            "CN=shop.example.com",
            new GeneralName(GeneralName.dNSName, "www.shop.example.com"));

    var issuance = dns(TestPki.pem("CERTIFICATE REQUEST", csr.getEncoded())).value();

    assertThat(issuance.keyAlgorithm()).isEqualTo("SM2");
    assertThat(issuance.domains()).containsExactly("shop.example.com", "www.shop.example.com");
  }

  @Test
  void anEd25519KeyIsUnsupported() throws Exception {
    var csr = TestPkiVariants.csr(TestPkiVariants.ed25519(), "Ed25519", "CN=shop.example.com");

    var result = dns(TestPki.pem("CERTIFICATE REQUEST", csr.getEncoded()));

    assertThat(result.problem().reason()).isEqualTo(Reasons.UNSUPPORTED_CSR);
    assertThat(result.problem().message()).contains("RSA 2048, 3072 or 4096, EC P-256 and SM2");
  }

  @Test
  void aCsrWithoutCnIsUnsupportedEvenWithSans() throws Exception {
    var csr =
        TestPkiVariants.csr(
            P256,
            "SHA256withECDSA",
            "O=Test,C=CN",
            new GeneralName(GeneralName.dNSName, "shop.example.com"));

    var result = dns(TestPki.pem("CERTIFICATE REQUEST", csr.getEncoded()));

    assertThat(result.problem().reason()).isEqualTo(Reasons.UNSUPPORTED_CSR);
    assertThat(result.problem().message()).contains("no CN");
  }

  @Test
  void anIpAddressSanIsUnsupported() throws Exception {
    var csr =
        TestPkiVariants.csr(
            P256,
            "SHA256withECDSA",
            "CN=shop.example.com",
            new GeneralName(GeneralName.iPAddress, "192.0.2.1"));

    var result = dns(TestPki.pem("CERTIFICATE REQUEST", csr.getEncoded()));

    assertThat(result.problem().reason()).isEqualTo(Reasons.UNSUPPORTED_CSR);
    assertThat(result.problem().message()).contains("IP address");
  }

  @ParameterizedTest
  @CsvSource({"192.0.2.1", "localhost", "My Shop", "shop_example.com"})
  void aCnThatIsNoDomainNameIsUnsupported(String commonName) {
    var result = dns(TestPki.csr(P256, commonName).csrPem());

    assertThat(result.problem().reason()).isEqualTo(Reasons.UNSUPPORTED_CSR);
    assertThat(result.problem().message()).contains("CN", commonName);
  }

  @Test
  void wildcardNamesNeedDnsValidation() {
    String pem = TestPki.csr(P256, "*.shop.example.com", "shop.example.com").csrPem();

    assertThat(dns(pem).value().domains())
        .containsExactly("*.shop.example.com", "shop.example.com");
    var http = IssuanceSupport.check(pem, ValidationMethod.HTTP);
    assertThat(http.problem().reason()).isEqualTo(Reasons.UNSUPPORTED_CSR);
    assertThat(http.problem().message()).contains("wildcard", "DNS");
  }

  @Test
  void somethingThatIsNotACsrIsUnsupportedWithoutQuotingIt() {
    var result =
        dns("-----BEGIN CERTIFICATE REQUEST-----\nc2VjcmV0\n-----END CERTIFICATE REQUEST-----\n");

    assertThat(result.problem().reason()).isEqualTo(Reasons.UNSUPPORTED_CSR);
    assertThat(result.problem().message()).doesNotContain("c2VjcmV0");
    assertThat(dns(null).problem().reason()).isEqualTo(Reasons.UNSUPPORTED_CSR);
  }
}
