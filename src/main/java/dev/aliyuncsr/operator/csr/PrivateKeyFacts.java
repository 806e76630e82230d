package dev.aliyuncsr.operator.csr;

/**
 * A parsed, unencrypted private key. Holds the PEM that is sent to CAS; {@link #toString()} never
 * shows it, so the key cannot reach a log line by accident.
 *
 * @param publicKeySha256 lower-case hex SHA-256 of the DER SubjectPublicKeyInfo of the matching
 *     public key
 */
public record PrivateKeyFacts(String pem, String publicKeySha256, String keyAlgorithm) {
  @Override
  public String toString() {
    return "PrivateKeyFacts[" + keyAlgorithm + ", publicKeySha256=" + publicKeySha256 + "]";
  }
}
