package dev.aliyuncsr.operator.csr;

import dev.aliyuncsr.operator.api.Reasons;
import java.util.Optional;

/**
 * Whether a private key belongs to a CSR: both validators hash the public key in the same canonical
 * SubjectPublicKeyInfo form, so equal hashes mean the same key.
 */
public final class KeyPairCheck {
  private KeyPairCheck() {}

  private static final int SHOWN_HEX_CHARS = 12;

  /** Empty when {@code key} is the CSR's private key, otherwise a KeyMismatch problem. */
  public static Optional<InputProblem> mismatch(CsrFacts csr, PrivateKeyFacts key) {
    if (csr.publicKeySha256().equals(key.publicKeySha256())) {
      return Optional.empty();
    }
    return Optional.of(
        new InputProblem(
            Reasons.KEY_MISMATCH,
            "The private key does not belong to the CSR: the CSR's "
                + csr.keyAlgorithm()
                + " public key has SHA-256 "
                + shortHash(csr.publicKeySha256())
                + "..., the private key's "
                + key.keyAlgorithm()
                + " public key has SHA-256 "
                + shortHash(key.publicKeySha256())
                + "... Store the key the CSR was generated with, or generate a new CSR from"
                + " this key."));
  }

  private static String shortHash(String sha256) {
    return sha256.substring(0, Math.min(SHOWN_HEX_CHARS, sha256.length()));
  }
}
