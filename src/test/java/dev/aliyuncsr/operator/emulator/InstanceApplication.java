package dev.aliyuncsr.operator.emulator;

import java.util.List;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * What UpdateInstance filled an instance in with; kept when an application fails or is cancelled.
 *
 * @param generateCsrMethod {@code upload} or {@code online}
 * @param publicKey the key the certificate is issued for
 * @param commonName the certificate's subject CN: the CSR's (it wins over {@code Domain})
 * @param names lower-case, CN first: the names validated and put in the subjectAltName
 * @param validationMethod {@code DNS} or {@code HTTP}
 * @param certificateName nullable
 * @param privateKeyPem nullable: only with {@code online}, where CAS made the key
 */
record InstanceApplication(
    String generateCsrMethod,
    String csrPem,
    SubjectPublicKeyInfo publicKey,
    String commonName,
    List<String> names,
    InstanceKeyAlgorithm keyAlgorithm,
    String validationMethod,
    String certificateName,
    String autoReissue,
    List<Long> contactIds,
    String privateKeyPem) {

  InstanceApplication {
    names = List.copyOf(names);
    contactIds = List.copyOf(contactIds);
  }

  /** Never prints the private key. */
  @Override
  public String toString() {
    return "InstanceApplication[" + generateCsrMethod + ", names=" + names + "]";
  }
}
