package dev.aliyuncsr.operator.csr;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.csr.PemInput.Block;
import dev.aliyuncsr.operator.csr.PemInput.Slot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * The SHA-256 by which the operator compares public keys wherever they come from: a CSR in a
 * Secret, the CSR CAS holds in an instance (which CAS may re-wrap), a certificate CAS issued. RSA
 * and EC keys CAS takes are hashed in {@link SupportedKeys}' canonical form, so the same key hashes
 * the same however it was encoded; any other key is hashed as it is encoded.
 */
public final class PublicKeyHash {
  private PublicKeyHash() {}

  /** Lower-case hex SHA-256 of the canonical DER SubjectPublicKeyInfo. */
  public static String of(SubjectPublicKeyInfo spki) {
    try {
      var algorithm = spki.getAlgorithm().getAlgorithm();
      if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
        RSAPublicKey rsa = RSAPublicKey.getInstance(spki.parsePublicKey());
        var key =
            SupportedKeys.rsa(rsa.getModulus(), rsa.getPublicExponent(), "", Reasons.INVALID_CSR);
        if (key.isValid()) {
          return key.value().publicKeySha256();
        }
      } else if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
        var curve = SupportedKeys.curve(spki.getAlgorithm().getParameters(), "", "");
        if (curve.isValid()) {
          var point =
              curve.value().parameters().getCurve().decodePoint(spki.getPublicKeyData().getBytes());
          return SupportedKeys.ec(curve.value(), point).publicKeySha256();
        }
      }
      return SupportedKeys.sha256Hex(spki.getEncoded());
    } catch (IOException | RuntimeException e) {
      return SupportedKeys.sha256Hex(encodedOrEmpty(spki));
    }
  }

  /**
   * The public key hash of the one CSR in {@code pem}, without checking anything else about it (its
   * signature, its key type): empty when it is not a PEM CSR at all. For the CSR CAS returns in an
   * instance, which is only compared with ours.
   */
  public static Optional<String> ofCsrPem(String pem) {
    if (pem == null || pem.isBlank()) {
      return Optional.empty();
    }
    try {
      Validated<List<Block>> blocks = PemInput.read(pem.getBytes(StandardCharsets.UTF_8), Slot.CSR);
      if (!blocks.isValid() || blocks.value().size() != 1) {
        return Optional.empty();
      }
      CertificationRequest request =
          CertificationRequest.getInstance(
              ASN1Primitive.fromByteArray(blocks.value().get(0).der()));
      return Optional.of(of(request.getCertificationRequestInfo().getSubjectPublicKeyInfo()));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static byte[] encodedOrEmpty(SubjectPublicKeyInfo spki) {
    try {
      return spki.getEncoded();
    } catch (IOException | RuntimeException e) {
      return new byte[0];
    }
  }
}
