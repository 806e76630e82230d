package dev.aliyuncsr.operator.emulator;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Optional;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * UpdateInstance's {@code KeyAlgorithm}: the only key types a V2.0 instance can be issued for. ECC
 * P-384 has no value, so a P-384 CSR matches none (cas-instance-api.md §3.1).
 */
enum InstanceKeyAlgorithm {
  RSA_2048,
  RSA_3072,
  RSA_4096,
  ECC_256,
  SM2;

  static final InstanceKeyAlgorithm DEFAULT = RSA_2048;

  /** The wire value, or {@code InvalidParameter.KeyAlgorithm}. */
  static InstanceKeyAlgorithm parse(String value) {
    for (InstanceKeyAlgorithm algorithm : values()) {
      if (algorithm.name().equals(value)) {
        return algorithm;
      }
    }
    throw CasError.invalidParameter(
        "KeyAlgorithm", "must be RSA_2048, RSA_3072, RSA_4096, ECC_256 or SM2");
  }

  /** The value a CSR's key is, or empty when no value describes it (RSA 1024, EC P-384, ...). */
  static Optional<InstanceKeyAlgorithm> of(ParsedCsr csr) {
    return switch (csr.algorithm()) {
      case "RSA" ->
          switch (csr.keySize()) {
            case 2048 -> Optional.of(RSA_2048);
            case 3072 -> Optional.of(RSA_3072);
            case 4096 -> Optional.of(RSA_4096);
            default -> Optional.empty();
          };
      case "ECC" ->
          SECObjectIdentifiers.secp256r1.equals(curve(csr.publicKeyInfo()))
              ? Optional.of(ECC_256)
              : Optional.empty();
      case "SM2" -> Optional.of(SM2);
      default -> Optional.empty();
    };
  }

  /** The "Algorithm" GetUserCertificateDetail reports: RSA, ECC or SM2. */
  String family() {
    return switch (this) {
      case RSA_2048, RSA_3072, RSA_4096 -> "RSA";
      case ECC_256 -> "ECC";
      case SM2 -> "SM2";
    };
  }

  /** A new key of this kind, for {@code GenerateCsrMethod=online}, where CAS makes the key. */
  KeyPair generate() {
    try {
      KeyPairGenerator generator;
      switch (this) {
        case RSA_2048, RSA_3072, RSA_4096 -> {
          generator = KeyPairGenerator.getInstance("RSA");
          generator.initialize(Integer.parseInt(name().substring(4)));
        }
        case ECC_256 -> {
          generator = KeyPairGenerator.getInstance("EC");
          generator.initialize(new ECGenParameterSpec("secp256r1"));
        }
        default -> {
          // The JDK has no SM2 curve; an unregistered BouncyCastle provider does.
          generator = KeyPairGenerator.getInstance("EC", new BouncyCastleProvider());
          generator.initialize(new ECGenParameterSpec("sm2p256v1"));
        }
      }
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("key generation for " + this, e);
    }
  }

  /** The signature algorithm a CSR or certificate signed with such a key uses. */
  String signatureAlgorithm() {
    return switch (this) {
      case RSA_2048, RSA_3072, RSA_4096 -> "SHA256withRSA";
      case ECC_256 -> "SHA256withECDSA";
      case SM2 -> "SM3withSM2";
    };
  }

  private static Object curve(SubjectPublicKeyInfo info) {
    return info.getAlgorithm().getParameters();
  }
}
