package dev.aliyuncsr.operator.csr;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.csr.PemInput.Block;
import dev.aliyuncsr.operator.csr.PemInput.Slot;
import dev.aliyuncsr.operator.csr.SupportedKeys.CheckedKey;
import dev.aliyuncsr.operator.csr.SupportedKeys.Curve;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;

/**
 * Checks a Secret value holds one unencrypted PEM private key CAS can take: PKCS#1 "RSA PRIVATE
 * KEY", PKCS#8 "PRIVATE KEY" (RSA or EC) or SEC1 "EC PRIVATE KEY". The public key is derived from
 * the private values, never read from the optional copy inside the key.
 *
 * <p>An "EC PARAMETERS" block next to an "EC PRIVATE KEY" is accepted, because {@code openssl
 * ecparam -genkey} writes one; it must name the key's curve and is not part of the PEM sent to CAS.
 *
 * <p>Never throws, and no message quotes the input: BC exceptions are replaced by our own text.
 */
public final class PrivateKeyValidator {
  private PrivateKeyValidator() {}

  private static final String PKCS1 = "RSA PRIVATE KEY";
  private static final String PKCS8 = "PRIVATE KEY";
  private static final String SEC1 = "EC PRIVATE KEY";
  private static final String EC_PARAMETERS = "EC PARAMETERS";
  private static final String ENCRYPTED_PKCS8 = "ENCRYPTED PRIVATE KEY";

  private static final String KEY = "The private key";

  public static Validated<PrivateKeyFacts> validate(String secretValue) {
    return validate(secretValue == null ? null : secretValue.getBytes(StandardCharsets.UTF_8));
  }

  public static Validated<PrivateKeyFacts> validate(byte[] secretValue) {
    try {
      Validated<List<Block>> blocks = PemInput.read(secretValue, Slot.PRIVATE_KEY);
      if (!blocks.isValid()) {
        return Validated.invalid(blocks.problem());
      }
      return facts(blocks.value());
    } catch (RuntimeException e) {
      // Last guard: no exception, and none of its text, leaves the validator.
      return invalid("The private key could not be read.");
    }
  }

  private static Validated<PrivateKeyFacts> facts(List<Block> blocks) {
    Block key = blocks.get(blocks.size() - 1);
    Block ecParameters = null;
    if (blocks.size() == 2
        && blocks.get(0).label().equals(EC_PARAMETERS)
        && key.label().equals(SEC1)) {
      ecParameters = blocks.get(0);
    } else if (blocks.size() > 1) {
      return invalid(
          "The private key holds "
              + blocks.size()
              + " PEM blocks ("
              + PemInput.labelsOf(blocks)
              + "); put exactly one private key in this Secret key (an \"EC PARAMETERS\" block"
              + " before an \"EC PRIVATE KEY\" is also accepted).");
    }
    if (key.procTypeEncrypted() || key.label().equals(ENCRYPTED_PKCS8)) {
      return invalid(
          "The private key is encrypted ("
              + (key.procTypeEncrypted() ? "Proc-Type: 4,ENCRYPTED" : ENCRYPTED_PKCS8)
              + "); the operator needs it unencrypted. Decrypt it, e.g. openssl pkey -in"
              + " key.pem -out key-plain.pem, and store the plain key in the Secret.");
    }
    return switch (key.label()) {
      case PKCS1 -> pkcs1(key);
      case PKCS8 -> pkcs8(key);
      case SEC1 -> sec1(key, ecParameters);
      default -> invalid(wrongType(key.label()));
    };
  }

  private static String wrongType(String label) {
    String found =
        "Expected an unencrypted PEM private key (\""
            + PKCS8
            + "\", \""
            + PKCS1
            + "\" or \""
            + SEC1
            + "\") but found a PEM block of "
            + PemInput.typeOf(label)
            + ": ";
    if (label.equals(EC_PARAMETERS)) {
      return found
          + "only curve parameters, no key. Generate the key with openssl ecparam -genkey (or"
          + " openssl genpkey) and store its output.";
    }
    if (label.equals("OPENSSH PRIVATE KEY")) {
      return found
          + "OpenSSH's own format. Convert a copy to PKCS#8 with ssh-keygen -p -m PKCS8 -f"
          + " COPY_OF_KEY.";
    }
    if (label.equals("DSA PRIVATE KEY")) {
      return found + "a DSA key; only RSA and EC keys are supported.";
    }
    return found
        + switch (PemInput.kindOf(label)) {
          case PUBLIC_KEY ->
              "that is a public key. Put the private key the CSR was made with here.";
          case CERTIFICATE -> "that is a certificate, not a private key.";
          case CERTIFICATE_REQUEST ->
              "that is a certificate signing request. It belongs in csrSecretRef; put its private"
                  + " key here.";
          default -> "that is not a private key this operator can use.";
        };
  }

  private static Validated<PrivateKeyFacts> pkcs1(Block block) {
    RSAPrivateKey rsa;
    try {
      rsa = RSAPrivateKey.getInstance(ASN1Primitive.fromByteArray(block.der()));
    } catch (IOException | RuntimeException e) {
      return notDecodable(block, "a PKCS#1 RSA private key");
    }
    return rsa(rsa, block);
  }

  private static Validated<PrivateKeyFacts> pkcs8(Block block) {
    PrivateKeyInfo info;
    ASN1Encodable inner;
    try {
      info = PrivateKeyInfo.getInstance(ASN1Primitive.fromByteArray(block.der()));
      inner = info.parsePrivateKey();
    } catch (IOException | RuntimeException e) {
      return notDecodable(block, "a PKCS#8 private key");
    }
    ASN1ObjectIdentifier algorithm = info.getPrivateKeyAlgorithm().getAlgorithm();
    if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      RSAPrivateKey rsa;
      try {
        rsa = RSAPrivateKey.getInstance(inner);
      } catch (RuntimeException e) {
        return notDecodable(block, "a PKCS#8 RSA private key");
      }
      return rsa(rsa, block);
    }
    if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      Validated<Curve> curve =
          SupportedKeys.curve(
              info.getPrivateKeyAlgorithm().getParameters(), KEY, Reasons.INVALID_KEY);
      if (!curve.isValid()) {
        return Validated.invalid(curve.problem());
      }
      ECPrivateKey ec;
      try {
        ec = ECPrivateKey.getInstance(inner);
      } catch (RuntimeException e) {
        return notDecodable(block, "a PKCS#8 EC private key");
      }
      return ec(ec, curve.value(), block);
    }
    return SupportedKeys.unsupportedAlgorithm(algorithm, KEY, Reasons.INVALID_KEY);
  }

  private static Validated<PrivateKeyFacts> sec1(Block block, Block ecParametersBlock) {
    ECPrivateKey ec;
    try {
      ec = ECPrivateKey.getInstance(ASN1Primitive.fromByteArray(block.der()));
    } catch (IOException | RuntimeException e) {
      return notDecodable(block, "a SEC1 EC private key");
    }
    ASN1Encodable keyParameters = ec.getParametersObject();
    ASN1Encodable blockParameters = null;
    if (ecParametersBlock != null) {
      try {
        blockParameters = ASN1Primitive.fromByteArray(ecParametersBlock.der());
      } catch (IOException | RuntimeException e) {
        return invalid("The private key's \"EC PARAMETERS\" block cannot be decoded.");
      }
    }
    if (keyParameters == null) {
      // The key still needs its curve: CAS is sent the "EC PRIVATE KEY" block alone.
      return invalid(
          "The \"EC PRIVATE KEY\" does not name its curve. Write it with openssl pkey (or"
              + " openssl ec), which includes the curve.");
    }
    Validated<Curve> curve = SupportedKeys.curve(keyParameters, KEY, Reasons.INVALID_KEY);
    if (!curve.isValid()) {
      return Validated.invalid(curve.problem());
    }
    if (blockParameters != null) {
      Validated<Curve> declared =
          SupportedKeys.curve(
              blockParameters, "The private key's \"EC PARAMETERS\" block", Reasons.INVALID_KEY);
      if (!declared.isValid()) {
        return Validated.invalid(declared.problem());
      }
      if (!declared.value().equals(curve.value())) {
        return invalid(
            "The private key's \"EC PARAMETERS\" block names "
                + declared.value().name()
                + " but the key is on "
                + curve.value().name()
                + "; remove the \"EC PARAMETERS\" block.");
      }
    }
    return ec(ec, curve.value(), block);
  }

  private static Validated<PrivateKeyFacts> rsa(RSAPrivateKey rsa, Block block) {
    if (!consistent(rsa)) {
      return invalid(
          "The RSA private key is inconsistent (its primes do not fit its modulus and"
              + " exponents); the key file is damaged.");
    }
    Validated<CheckedKey> key =
        SupportedKeys.rsa(rsa.getModulus(), rsa.getPublicExponent(), KEY, Reasons.INVALID_KEY);
    return key.map(checked -> facts(block, checked));
  }

  /** Two-prime keys (version 0): n = p·q and e·d ≡ 1 modulo p−1 and q−1. */
  private static boolean consistent(RSAPrivateKey rsa) {
    BigInteger n = rsa.getModulus();
    BigInteger e = rsa.getPublicExponent();
    BigInteger d = rsa.getPrivateExponent();
    BigInteger p = rsa.getPrime1();
    BigInteger q = rsa.getPrime2();
    if (n.signum() <= 0 || e.signum() <= 0 || d.signum() <= 0) {
      return false;
    }
    if (rsa.getVersion().signum() != 0) {
      return true; // multi-prime keys carry further primes; leave those to CAS
    }
    if (p.compareTo(BigInteger.ONE) <= 0 || q.compareTo(BigInteger.ONE) <= 0) {
      return false;
    }
    BigInteger ed = e.multiply(d);
    return p.multiply(q).equals(n)
        && ed.mod(p.subtract(BigInteger.ONE)).equals(BigInteger.ONE)
        && ed.mod(q.subtract(BigInteger.ONE)).equals(BigInteger.ONE);
  }

  /** Derives Q = d·G; the optional public key inside the file must agree when present. */
  private static Validated<PrivateKeyFacts> ec(ECPrivateKey ec, Curve curve, Block block) {
    X9ECParameters parameters = curve.parameters();
    BigInteger d = ec.getKey();
    if (d.signum() <= 0 || d.compareTo(parameters.getN()) >= 0) {
      return invalid(
          "The EC private key's value is out of range for "
              + curve.name()
              + "; the key file is damaged.");
    }
    ECPoint q = new FixedPointCombMultiplier().multiply(parameters.getG(), d).normalize();
    if (ec.getPublicKey() != null) {
      ECPoint embedded;
      try {
        embedded = parameters.getCurve().decodePoint(ec.getPublicKey().getOctets());
      } catch (RuntimeException e) {
        embedded = null;
      }
      if (embedded == null || !embedded.equals(q)) {
        return invalid(
            "The EC private key's embedded public key does not belong to its private value;"
                + " the key file is damaged.");
      }
    }
    return Validated.valid(facts(block, SupportedKeys.ec(curve, q)));
  }

  private static PrivateKeyFacts facts(Block block, CheckedKey key) {
    return new PrivateKeyFacts(
        PemInput.encode(block.label(), block.der()), key.publicKeySha256(), key.algorithm());
  }

  private static <T> Validated<T> notDecodable(Block block, String expected) {
    return invalid(
        "The private key's PEM block of "
            + PemInput.typeOf(block.label())
            + " decodes, but its content is not "
            + expected
            + " (invalid DER structure).");
  }

  private static <T> Validated<T> invalid(String message) {
    return Validated.invalid(Reasons.INVALID_KEY, message);
  }
}
