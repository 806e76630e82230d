package dev.aliyuncsr.operator.csr;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Object;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X962Parameters;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.math.ec.ECPoint;

/**
 * The keys CAS takes (RSA of at least 2048 bits, EC on P-256 or P-384), and the one canonical
 * SubjectPublicKeyInfo each public key is hashed in, so that a CSR and its private key compare
 * equal however either was encoded.
 */
final class SupportedKeys {
  private SupportedKeys() {}

  // CAS documents RSA 2048, 3072 and 4096; only the minimum is enforced here, larger sizes are
  // left for CAS to judge.
  static final int MIN_RSA_BITS = 2048;

  /** A supported named curve. */
  record Curve(ASN1ObjectIdentifier oid, String name, int bits) {
    X9ECParameters parameters() {
      return ECNamedCurveTable.getByOID(oid);
    }
  }

  // CAS documents ECC 256 only. P-384 acceptance by CAS is UNCONFIRMED: it is accepted here so
  // that CAS, not the operator, has the last word on it.
  private static final Map<ASN1ObjectIdentifier, Curve> CURVES =
      Map.of(
          SECObjectIdentifiers.secp256r1,
          new Curve(SECObjectIdentifiers.secp256r1, "P-256", 256),
          SECObjectIdentifiers.secp384r1,
          new Curve(SECObjectIdentifiers.secp384r1, "P-384", 384));

  private static final Map<ASN1ObjectIdentifier, String> UNSUPPORTED_ALGORITHMS =
      Map.of(
          X9ObjectIdentifiers.id_dsa, "DSA",
          PKCSObjectIdentifiers.id_RSASSA_PSS, "RSASSA-PSS",
          EdECObjectIdentifiers.id_Ed25519, "Ed25519",
          EdECObjectIdentifiers.id_Ed448, "Ed448",
          EdECObjectIdentifiers.id_X25519, "X25519",
          EdECObjectIdentifiers.id_X448, "X448");

  /**
   * A supported public key: "RSA" or "EC" (also its JCA KeyFactory name), its size, and its
   * canonical DER SubjectPublicKeyInfo.
   */
  record CheckedKey(String algorithm, int size, byte[] spki) {
    String publicKeySha256() {
      return sha256Hex(spki);
    }
  }

  /**
   * An RSA public key, canonically encoded with NULL algorithm parameters.
   *
   * @param subject starts each message, e.g. "The CSR's public key"
   */
  static Validated<CheckedKey> rsa(
      BigInteger modulus, BigInteger publicExponent, String subject, String reason) {
    if (modulus.signum() <= 0 || publicExponent.signum() <= 0) {
      return Validated.invalid(reason, subject + " is not a valid RSA key.");
    }
    int bits = modulus.bitLength();
    if (bits < MIN_RSA_BITS) {
      return Validated.invalid(
          reason,
          subject
              + " is RSA "
              + bits
              + " bits; at least "
              + MIN_RSA_BITS
              + " bits are required (CAS documents 2048, 3072 and 4096). Generate a new key, e.g."
              + " openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048.");
    }
    byte[] spki =
        spki(
            new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
            der(new RSAPublicKey(modulus, publicExponent)));
    return Validated.valid(new CheckedKey("RSA", bits, spki));
  }

  /** An EC public key, canonically encoded with its named curve and an uncompressed point. */
  static CheckedKey ec(Curve curve, ECPoint point) {
    byte[] spki =
        spki(
            new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve.oid()),
            point.normalize().getEncoded(false));
    return new CheckedKey("EC", curve.bits(), spki);
  }

  /** The supported named curve in EC algorithm parameters (an X9.62 ECParameters choice). */
  static Validated<Curve> curve(ASN1Encodable parameters, String subject, String reason) {
    if (parameters == null) {
      return Validated.invalid(reason, subject + " names no EC curve.");
    }
    X962Parameters x962 = X962Parameters.getInstance(parameters);
    if (!x962.isNamedCurve()) {
      return Validated.invalid(
          reason,
          subject
              + " spells out its EC curve parameters instead of naming the curve; only named"
              + " curves are supported. Write the key with -param_enc named_curve (openssl's"
              + " default).");
    }
    ASN1ObjectIdentifier oid = ASN1ObjectIdentifier.getInstance(x962.getParameters());
    Curve curve = CURVES.get(oid);
    if (curve == null) {
      return Validated.invalid(
          reason,
          subject
              + " is on the EC curve "
              + curveName(oid)
              + "; only P-256 (prime256v1) and P-384 (secp384r1) are supported.");
    }
    return Validated.valid(curve);
  }

  /** The problem with a key algorithm other than RSA and EC. */
  static <T> Validated<T> unsupportedAlgorithm(
      ASN1ObjectIdentifier algorithm, String subject, String reason) {
    String name = UNSUPPORTED_ALGORITHMS.getOrDefault(algorithm, "algorithm " + algorithm.getId());
    return Validated.invalid(
        reason, subject + " uses " + name + "; only RSA and EC keys are supported.");
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static String curveName(ASN1ObjectIdentifier oid) {
    String name = ECNamedCurveTable.getName(oid);
    return name != null ? name : oid.getId();
  }

  private static byte[] spki(AlgorithmIdentifier algorithm, byte[] publicKey) {
    return der(new SubjectPublicKeyInfo(algorithm, publicKey));
  }

  private static byte[] der(ASN1Object object) {
    try {
      return object.getEncoded(ASN1Encoding.DER);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
