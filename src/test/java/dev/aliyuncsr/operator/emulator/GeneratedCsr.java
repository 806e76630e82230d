package dev.aliyuncsr.operator.emulator;

import java.io.IOException;
import java.security.KeyPair;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * A key and CSR the emulator makes itself: what CAS makes for {@code GenerateCsrMethod=online}, and
 * "someone else's" application on an instance a test buys already in use.
 *
 * @param privateKeyPem PKCS#8
 * @param publicKey the key the certificate is issued for (an SM2 CSR does not parse: {@link
 *     ParsedCsr} verifies with the JDK)
 */
record GeneratedCsr(String csrPem, String privateKeyPem, SubjectPublicKeyInfo publicKey) {

  /** CN = the first name, subjectAltName = every name. */
  static GeneratedCsr make(InstanceKeyAlgorithm algorithm, List<String> names) {
    KeyPair key = algorithm.generate();
    try {
      var builder =
          new JcaPKCS10CertificationRequestBuilder(
              new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, names.get(0)).build(),
              key.getPublic());
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              names.stream()
                  .map(name -> new GeneralName(GeneralName.dNSName, name))
                  .toArray(GeneralName[]::new)));
      builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
      JcaContentSignerBuilder signer = new JcaContentSignerBuilder(algorithm.signatureAlgorithm());
      if (algorithm == InstanceKeyAlgorithm.SM2) {
        signer.setProvider(new BouncyCastleProvider()); // the JDK cannot sign SM3withSM2
      }
      byte[] csr = builder.build(signer.build(key.getPrivate())).getEncoded();
      return new GeneratedCsr(
          TestCa.pem("CERTIFICATE REQUEST", csr),
          TestCa.pem("PRIVATE KEY", key.getPrivate().getEncoded()),
          SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded()));
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make a CSR", e);
    }
  }

  /** Never prints the private key. */
  @Override
  public String toString() {
    return "GeneratedCsr[]";
  }
}
