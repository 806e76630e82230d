package dev.aliyuncsr.operator.emulator;

import java.time.Instant;
import java.util.List;

/**
 * A certificate the test CA issued for an instance, as GetUserCertificateDetail reports it.
 *
 * @param certificateId the instance's {@code CertificateId}, GetUserCertificateDetail's {@code
 *     CertId}; unique across accounts, never reused
 * @param leafPem the leaf alone; the chain is added at download time ({@link ChainMode})
 * @param dnsNames the subjectAltName DNS names: the CN, then the CSR's DNS SANs
 * @param algorithm {@code RSA}, {@code ECC} or {@code SM2}
 * @param serialHex the serial number in lower-case hex
 * @param sha256Hex SHA-256 of the leaf's DER, lower-case hex
 * @param sha1Hex SHA-1 of the leaf's DER, lower-case hex ({@code Fingerprint})
 * @param privateKeyPem nullable: only when CAS made the key ({@code GenerateCsrMethod=online})
 */
public record IssuedCertificate(
    long certificateId,
    String accountId,
    String instanceId,
    String leafPem,
    String commonName,
    List<String> dnsNames,
    String algorithm,
    String issuer,
    String serialHex,
    String sha256Hex,
    String sha1Hex,
    Instant notBefore,
    Instant notAfter,
    String privateKeyPem) {

  public IssuedCertificate {
    dnsNames = List.copyOf(dnsNames);
  }

  /** {@code <CertificateId>-cn-hangzhou}, the China site's form. */
  public String certIdentifier() {
    return certificateId + "-cn-hangzhou";
  }

  /** Never prints the private key. */
  @Override
  public String toString() {
    return "IssuedCertificate[certificateId="
        + certificateId
        + ", instanceId="
        + instanceId
        + ", commonName="
        + commonName
        + ", dnsNames="
        + dnsNames
        + ", serialHex="
        + serialHex
        + ", notAfter="
        + notAfter
        + "]";
  }
}
