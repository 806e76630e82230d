package dev.aliyuncsr.operator.csr;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.csr.PemInput.Block;
import dev.aliyuncsr.operator.csr.PemInput.Slot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.Provider;
import java.security.cert.CertificateException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.CertException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;

/**
 * What CAS returned, checked before anything is written: the chain parses, its first certificate
 * carries the CSR's public key, and each certificate is signed by the next one (no trust store: the
 * point is that the Secret pairs a key with its own certificate and a chain that fits it, not that
 * the CA is trusted). A self-signed last certificate is the root, which goes to ca.crt; {@code
 * tls.crt} is the leaf and the intermediates. Never throws; messages never quote the input.
 */
public final class CertificateChecks {
  private CertificateChecks() {}

  // BouncyCastle's own provider verifies every signature CAS's CAs use, SM2 with SM3 included,
  // without being registered for the whole JVM.
  private static final Provider BC = new BouncyCastleProvider();

  private static final String LABEL = "CERTIFICATE";

  /**
   * An issued certificate that passed the checks.
   *
   * @param tlsCrt PEM: the leaf, then the intermediates
   * @param caCrt PEM of the root, when CAS returned it
   * @param serialNumber the leaf's serial number, lower-case hex
   * @param publicKeySha256 of the leaf's public key, as {@link PublicKeyHash} hashes it
   */
  public record CheckedCertificate(
      String tlsCrt,
      Optional<String> caCrt,
      String serialNumber,
      Instant notBefore,
      Instant notAfter,
      String publicKeySha256,
      String subject) {}

  /** The checked certificate, or a CertificateMismatch problem saying what is wrong. */
  public static Validated<CheckedCertificate> check(String chainPem, String csrPublicKeySha256) {
    try {
      if (chainPem == null || chainPem.isBlank()) {
        return mismatch("CAS returned no certificate (Cert is empty).");
      }
      Validated<List<Block>> blocks =
          PemInput.read(chainPem.getBytes(StandardCharsets.UTF_8), Slot.CERTIFICATE);
      if (!blocks.isValid()) {
        return mismatch(
            "CAS returned a certificate that does not parse: " + blocks.problem().message());
      }
      List<X509CertificateHolder> chain = new ArrayList<>();
      for (Block block : blocks.value()) {
        if (!block.label().equals(LABEL)) {
          return mismatch(
              "CAS returned a PEM block of "
                  + PemInput.typeOf(block.label())
                  + " among the certificates; only \"CERTIFICATE\" blocks are expected.");
        }
        try {
          chain.add(new X509CertificateHolder(block.der()));
        } catch (IOException | RuntimeException e) {
          return mismatch(
              "CAS returned a certificate that does not parse (certificate "
                  + (chain.size() + 1)
                  + " of "
                  + blocks.value().size()
                  + ").");
        }
      }
      X509CertificateHolder leaf = chain.get(0);
      String leafKey = PublicKeyHash.of(leaf.getSubjectPublicKeyInfo());
      if (!leafKey.equals(csrPublicKeySha256)) {
        return mismatch(
            "CAS returned a certificate for another public key than the CSR's (certificate: SHA-256 "
                + shortHash(leafKey)
                + "..., CSR: "
                + shortHash(csrPublicKeySha256)
                + "...); it is not written.");
      }
      for (int i = 0; i + 1 < chain.size(); i++) {
        if (!chain.get(i).getIssuer().equals(chain.get(i + 1).getSubject())
            || !signedBy(chain.get(i), chain.get(i + 1))) {
          return mismatch(
              "The chain CAS returned does not verify: certificate "
                  + (i + 1)
                  + " ("
                  + chain.get(i).getSubject()
                  + ") is not signed by certificate "
                  + (i + 2)
                  + " ("
                  + chain.get(i + 1).getSubject()
                  + "); it is not written.");
        }
      }
      X509CertificateHolder last = chain.get(chain.size() - 1);
      boolean withRoot = chain.size() > 1 && selfSigned(last);
      StringBuilder tlsCrt = new StringBuilder();
      for (int i = 0; i < chain.size() - (withRoot ? 1 : 0); i++) {
        tlsCrt.append(PemInput.encode(LABEL, chain.get(i).getEncoded()));
      }
      Optional<String> caCrt =
          withRoot ? Optional.of(PemInput.encode(LABEL, last.getEncoded())) : Optional.empty();
      return Validated.valid(
          new CheckedCertificate(
              tlsCrt.toString(),
              caCrt,
              leaf.getSerialNumber().toString(16),
              leaf.getNotBefore().toInstant(),
              leaf.getNotAfter().toInstant(),
              leafKey,
              leaf.getSubject().toString()));
    } catch (IOException | RuntimeException e) {
      return mismatch("CAS returned a certificate that could not be checked.");
    }
  }

  /**
   * The serial number (lower-case hex, as {@link CheckedCertificate#serialNumber()}) of the first
   * certificate in {@code chainPem}, such as a Secret's tls.crt; empty when it does not parse.
   */
  public static Optional<String> leafSerialNumber(String chainPem) {
    try {
      if (chainPem == null || chainPem.isBlank()) {
        return Optional.empty();
      }
      Validated<List<Block>> blocks =
          PemInput.read(chainPem.getBytes(StandardCharsets.UTF_8), Slot.CERTIFICATE);
      if (!blocks.isValid()
          || blocks.value().isEmpty()
          || !blocks.value().get(0).label().equals(LABEL)) {
        return Optional.empty();
      }
      return Optional.of(
          new X509CertificateHolder(blocks.value().get(0).der()).getSerialNumber().toString(16));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Empty when {@code key} is the private key of {@code certificate}; otherwise a KeyMismatch
   * problem: the Secret never pairs a key with a certificate it does not match.
   */
  public static Optional<InputProblem> keyMismatch(
      CheckedCertificate certificate, PrivateKeyFacts key) {
    if (certificate.publicKeySha256().equals(key.publicKeySha256())) {
      return Optional.empty();
    }
    return Optional.of(
        new InputProblem(
            Reasons.KEY_MISMATCH,
            "The private key for tls.key (public key SHA-256 "
                + shortHash(key.publicKeySha256())
                + "...) does not belong to the issued certificate ("
                + shortHash(certificate.publicKeySha256())
                + "...); the Secret is not written. Store the key the CSR was made with."));
  }

  private static boolean signedBy(X509CertificateHolder subject, X509CertificateHolder issuer) {
    try {
      return subject.isSignatureValid(
          new JcaContentVerifierProviderBuilder().setProvider(BC).build(issuer));
    } catch (CertException
        | OperatorCreationException
        | CertificateException
        | RuntimeException e) {
      return false;
    }
  }

  private static boolean selfSigned(X509CertificateHolder certificate) {
    return certificate.getSubject().equals(certificate.getIssuer())
        && signedBy(certificate, certificate);
  }

  private static String shortHash(String sha256) {
    return sha256 == null ? "?" : sha256.substring(0, Math.min(12, sha256.length()));
  }

  private static <T> Validated<T> mismatch(String message) {
    return Validated.invalid(Reasons.CERTIFICATE_MISMATCH, message);
  }
}
