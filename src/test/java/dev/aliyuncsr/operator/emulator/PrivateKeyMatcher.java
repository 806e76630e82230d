package dev.aliyuncsr.operator.emulator;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.params.RSAPrivateCrtKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Checks that a PEM private key is unencrypted PKCS#1, PKCS#8 or SEC1 and belongs to a CSR's public
 * key. The public half is recomputed from the private key rather than trusted from an optional
 * field of the key file.
 */
final class PrivateKeyMatcher {
  private PrivateKeyMatcher() {}

  /** Throws {@code InvalidParameter.Key} unless {@code keyPem} is the CSR key's private half. */
  static void requireMatch(String keyPem, SubjectPublicKeyInfo csrPublicKey) {
    PrivateKeyInfo privateKey = readPrivateKey(keyPem);
    boolean matches;
    try {
      matches = belongTogether(privateKey, csrPublicKey);
    } catch (IOException | RuntimeException e) {
      matches = false;
    }
    if (!matches) {
      throw CasError.invalidParameter("Key", "the private key does not match the CSR");
    }
  }

  private static PrivateKeyInfo readPrivateKey(String keyPem) {
    try (PEMParser parser = new PEMParser(new StringReader(keyPem))) {
      for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
        if (object instanceof PEMEncryptedKeyPair
            || object instanceof PKCS8EncryptedPrivateKeyInfo) {
          throw CasError.invalidParameter("Key", "encrypted private keys are not accepted");
        }
        if (object instanceof PEMKeyPair pair) {
          return pair.getPrivateKeyInfo(); // PKCS#1 or SEC1
        }
        if (object instanceof PrivateKeyInfo pkcs8) {
          return pkcs8;
        }
        if (!(object instanceof ASN1ObjectIdentifier || object instanceof X9ECParameters)) {
          break; // only an "EC PARAMETERS" block, as `openssl ecparam -genkey` writes, may precede
        }
      }
    } catch (CasError e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    throw CasError.invalidParameter(
        "Key", "not an unencrypted PEM private key (PKCS#1, PKCS#8 or SEC1)");
  }

  private static boolean belongTogether(PrivateKeyInfo privateKey, SubjectPublicKeyInfo csrKey)
      throws IOException {
    ASN1ObjectIdentifier algorithm = privateKey.getPrivateKeyAlgorithm().getAlgorithm();
    AsymmetricKeyParameter publicKey = PublicKeyFactory.createKey(csrKey);
    if (PKCSObjectIdentifiers.rsaEncryption.equals(algorithm)
        && publicKey instanceof RSAKeyParameters rsaPublic) {
      RSAPrivateCrtKeyParameters rsa =
          (RSAPrivateCrtKeyParameters) PrivateKeyFactory.createKey(privateKey);
      return rsa.getModulus().equals(rsaPublic.getModulus())
          && rsa.getPublicExponent().equals(rsaPublic.getExponent());
    }
    if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)
        && publicKey instanceof ECPublicKeyParameters ecPublic) {
      return ecKeyMatches(privateKey, csrKey, ecPublic);
    }
    return false;
  }

  /**
   * A SEC1 key may omit its curve (a JDK key written by BouncyCastle's PEM writer does); then the
   * CSR's curve is assumed. A key that names a curve must name the CSR's.
   */
  private static boolean ecKeyMatches(
      PrivateKeyInfo privateKey, SubjectPublicKeyInfo csrKey, ECPublicKeyParameters ecPublic) {
    ECPrivateKey sec1 = ECPrivateKey.getInstance(parse(privateKey));
    ASN1Encodable csrCurve = csrKey.getAlgorithm().getParameters();
    ASN1Encodable keyCurve = privateKey.getPrivateKeyAlgorithm().getParameters();
    if (isAbsent(keyCurve)) {
      keyCurve = sec1.getParametersObject();
    }
    if (!isAbsent(keyCurve) && !keyCurve.toASN1Primitive().equals(csrCurve.toASN1Primitive())) {
      return false;
    }
    BigInteger d = sec1.getKey();
    ECPoint derived = new FixedPointCombMultiplier().multiply(ecPublic.getParameters().getG(), d);
    return Arrays.equals(
        derived.normalize().getEncoded(false), ecPublic.getQ().normalize().getEncoded(false));
  }

  private static ASN1Encodable parse(PrivateKeyInfo privateKey) {
    try {
      return privateKey.parsePrivateKey();
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable private key", e);
    }
  }

  private static boolean isAbsent(ASN1Encodable value) {
    return value == null || value.toASN1Primitive() instanceof org.bouncycastle.asn1.ASN1Null;
  }
}
