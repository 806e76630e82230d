package dev.aliyuncsr.operator.emulator;

import java.time.Instant;
import java.util.List;

/**
 * A CSR as the emulated CAS holds it.
 *
 * @param name nullable: UploadCsr without Name stores none (what the real service does then is
 *     UNCONFIRMED)
 * @param privateKeyPem nullable: set by UploadCsr's or UpdateCsr's Key, stored exactly as sent
 * @param algorithm "RSA", "ECC" or "SM2"
 * @param keySize RSA modulus bits, or the curve's field size (256, 384, ...)
 * @param keySha2 lower-case hex SHA-256 of the DER SubjectPublicKeyInfo. UNCONFIRMED: the real
 *     service documents KeySha2 only as "SHA-256 of the public key"; which encoding it hashes is
 *     not known
 */
public record StoredCsr(
    long csrId,
    String name,
    String csrPem,
    String privateKeyPem,
    String commonName,
    List<String> sans,
    String algorithm,
    int keySize,
    String keySha2,
    Instant createdAt) {

  public StoredCsr {
    sans = sans == null ? List.of() : List.copyOf(sans);
  }

  public boolean hasPrivateKey() {
    return privateKeyPem != null;
  }

  StoredCsr withPrivateKey(String keyPem) {
    return new StoredCsr(
        csrId, name, csrPem, keyPem, commonName, sans, algorithm, keySize, keySha2, createdAt);
  }

  /** Never prints the private key. */
  @Override
  public String toString() {
    return "StoredCsr[csrId="
        + csrId
        + ", name="
        + name
        + ", commonName="
        + commonName
        + ", sans="
        + sans
        + ", algorithm="
        + algorithm
        + ", keySize="
        + keySize
        + ", keySha2="
        + keySha2
        + ", hasPrivateKey="
        + hasPrivateKey()
        + ", createdAt="
        + createdAt
        + "]";
  }
}
