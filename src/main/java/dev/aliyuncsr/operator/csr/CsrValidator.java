package dev.aliyuncsr.operator.csr;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.csr.PemInput.Block;
import dev.aliyuncsr.operator.csr.PemInput.Slot;
import dev.aliyuncsr.operator.csr.SupportedKeys.CheckedKey;
import dev.aliyuncsr.operator.csr.SupportedKeys.Curve;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.CertificationRequestInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.DefaultAlgorithmNameFinder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Checks a Secret value holds exactly one PEM PKCS#10 certificate request that CAS can take: a
 * verified self-signature and an RSA (2048+ bits) or EC (P-256, P-384) key. Never throws; BC and
 * JCA exceptions are replaced by messages of our own, because theirs may quote the input.
 */
public final class CsrValidator {

  /**
   * The SHA-256 of CSRs whose signature verified: the same bytes verify the same way, and each
   * reconcile reads the CSR again. An RSA verification costs milliseconds under the image's C1-only
   * JVM, a fifth of the operator's CPU in a burst before this (BENCHMARKS.md). Bounded; a CSR is
   * public, and only its hash is kept.
   */
  private static final Set<String> VERIFIED =
      Collections.newSetFromMap(
          Collections.synchronizedMap(
              new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > 4096;
                }
              }));

  private CsrValidator() {}

  private static final String LABEL = "CERTIFICATE REQUEST";

  // Older openssl and Netscape tools wrote "NEW CERTIFICATE REQUEST"; the DER is the same.
  private static final Set<String> ACCEPTED_LABELS = Set.of(LABEL, "NEW " + LABEL);

  private static final String KEY = "The CSR's public key";

  public static Validated<CsrFacts> validate(String secretValue) {
    return validate(secretValue == null ? null : secretValue.getBytes(StandardCharsets.UTF_8));
  }

  public static Validated<CsrFacts> validate(byte[] secretValue) {
    try {
      Validated<List<Block>> blocks = PemInput.read(secretValue, Slot.CSR);
      if (!blocks.isValid()) {
        return Validated.invalid(blocks.problem());
      }
      if (blocks.value().size() > 1) {
        return invalid(
            "The CSR holds "
                + blocks.value().size()
                + " PEM blocks ("
                + PemInput.labelsOf(blocks.value())
                + "); put exactly one \""
                + LABEL
                + "\" in this Secret key.");
      }
      Block block = blocks.value().get(0);
      if (!ACCEPTED_LABELS.contains(block.label())) {
        return invalid(wrongType(block.label()));
      }
      return facts(block.der());
    } catch (RuntimeException e) {
      // Last guard: no exception, and none of its text, leaves the validator.
      return invalid("The CSR could not be read as a PKCS#10 certificate request.");
    }
  }

  private static String wrongType(String label) {
    String found =
        "Expected a PEM \""
            + LABEL
            + "\" but found a PEM block of "
            + PemInput.typeOf(label)
            + ": ";
    return found
        + switch (PemInput.kindOf(label)) {
          case CERTIFICATE -> "that is an issued certificate, not a signing request.";
          case PRIVATE_KEY ->
              "that is a private key. It belongs in keySecretRef; put the CSR made from it here.";
          case PUBLIC_KEY -> "that is a bare public key; a CSR carries the subject and is signed.";
          default -> "that is not a certificate signing request.";
        };
  }

  private static Validated<CsrFacts> facts(byte[] der) {
    CertificationRequest request;
    try {
      request = CertificationRequest.getInstance(ASN1Primitive.fromByteArray(der));
    } catch (IOException | RuntimeException e) {
      return invalid(
          "The CSR's PEM block decodes, but its content is not a PKCS#10 certificate request"
              + " (invalid DER structure).");
    }
    CertificationRequestInfo info = request.getCertificationRequestInfo();

    Validated<CheckedKey> key = publicKey(info.getSubjectPublicKeyInfo());
    if (!key.isValid()) {
      return Validated.invalid(key.problem());
    }
    String sha256 = SupportedKeys.sha256Hex(der);
    if (!VERIFIED.contains(sha256)) {
      Optional<String> signatureProblem = signatureProblem(request, key.value());
      if (signatureProblem.isPresent()) {
        return invalid(signatureProblem.get());
      }
      VERIFIED.add(sha256);
    }
    Validated<List<String>> sans = subjectAlternativeNames(info);
    if (!sans.isValid()) {
      return Validated.invalid(sans.problem());
    }
    return Validated.valid(
        new CsrFacts(
            PemInput.encode(LABEL, der),
            sha256,
            key.value().publicKeySha256(),
            commonName(info.getSubject()),
            sans.value(),
            key.value().algorithm(),
            key.value().size()));
  }

  private static Validated<CheckedKey> publicKey(SubjectPublicKeyInfo spki) {
    ASN1ObjectIdentifier algorithm = spki.getAlgorithm().getAlgorithm();
    if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      RSAPublicKey rsa;
      try {
        rsa = RSAPublicKey.getInstance(spki.parsePublicKey());
      } catch (IOException | RuntimeException e) {
        return invalid(KEY + " is a malformed RSA key.");
      }
      return SupportedKeys.rsa(rsa.getModulus(), rsa.getPublicExponent(), KEY, Reasons.INVALID_CSR);
    }
    if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      Validated<Curve> curve =
          SupportedKeys.curve(spki.getAlgorithm().getParameters(), KEY, Reasons.INVALID_CSR);
      if (!curve.isValid()) {
        return Validated.invalid(curve.problem());
      }
      ECPoint point;
      try {
        // decodePoint checks the point lies on the curve; compressed points are accepted too.
        point =
            curve.value().parameters().getCurve().decodePoint(spki.getPublicKeyData().getBytes());
      } catch (RuntimeException e) {
        point = null;
      }
      if (point == null || point.isInfinity()) {
        return invalid(KEY + " is not a valid point on " + curve.value().name() + ".");
      }
      return Validated.valid(SupportedKeys.ec(curve.value(), point));
    }
    return SupportedKeys.unsupportedAlgorithm(algorithm, KEY, Reasons.INVALID_CSR);
  }

  /**
   * Verifies the self-signature with the JDK's providers, fed the canonical key because they cannot
   * read compressed EC points.
   */
  private static Optional<String> signatureProblem(CertificationRequest request, CheckedKey key) {
    AlgorithmIdentifier algorithm = request.getSignatureAlgorithm();
    ContentVerifierProvider verifiers;
    try {
      PublicKey publicKey =
          KeyFactory.getInstance(key.algorithm())
              .generatePublic(new X509EncodedKeySpec(key.spki()));
      verifiers = new JcaContentVerifierProviderBuilder().build(publicKey);
      verifiers.get(algorithm);
    } catch (GeneralSecurityException | OperatorCreationException | RuntimeException e) {
      return Optional.of(
          "The CSR is signed with "
              + new DefaultAlgorithmNameFinder().getAlgorithmName(algorithm)
              + ", which the operator cannot verify for its "
              + key.algorithm()
              + " key. Generate the CSR with openssl's default signature (SHA-256 with RSA"
              + " PKCS#1 v1.5, or ECDSA).");
    }
    try {
      if (new PKCS10CertificationRequest(request).isSignatureValid(verifiers)) {
        return Optional.empty();
      }
    } catch (PKCSException | RuntimeException e) {
      // A malformed signature is a signature that does not verify.
    }
    return Optional.of(
        "The CSR's signature does not verify with its own public key: the CSR was changed after"
            + " it was signed, or is damaged. Generate it again from the private key.");
  }

  /** The first CN of the subject, or null. */
  static String commonName(X500Name subject) {
    for (RDN rdn : subject.getRDNs(BCStyle.CN)) {
      for (AttributeTypeAndValue value : rdn.getTypesAndValues()) {
        if (value.getType().equals(BCStyle.CN) && value.getValue() instanceof ASN1String text) {
          return text.getString();
        }
      }
    }
    return null;
  }

  /** DNS names and IP addresses from the extensionRequest's subjectAltName, in order. */
  private static Validated<List<String>> subjectAlternativeNames(CertificationRequestInfo info) {
    List<String> sans = new ArrayList<>();
    try {
      GeneralNames names = requestedSubjectAlternativeNames(info);
      if (names == null) {
        return Validated.valid(List.of());
      }
      for (GeneralName name : names.getNames()) {
        if (name.getTagNo() == GeneralName.dNSName) {
          sans.add(((ASN1String) name.getName()).getString());
        } else if (name.getTagNo() == GeneralName.iPAddress) {
          byte[] address = ASN1OctetString.getInstance(name.getName()).getOctets();
          if (address.length != 4 && address.length != 16) {
            return invalid(
                "The CSR's subjectAltName has an IP address of "
                    + address.length
                    + " bytes; an IP address has 4 (IPv4) or 16 (IPv6).");
          }
          sans.add(InetAddress.getByAddress(address).getHostAddress());
        }
      }
    } catch (UnknownHostException | RuntimeException e) {
      return invalid(
          "The CSR's requested extensions (the extensionRequest attribute) are malformed.");
    }
    return Validated.valid(List.copyOf(sans));
  }

  /** The subjectAltName the CSR's extensionRequest asks for, or null. */
  static GeneralNames requestedSubjectAlternativeNames(CertificationRequestInfo info) {
    if (info.getAttributes() == null) {
      return null;
    }
    for (ASN1Encodable element : info.getAttributes()) {
      Attribute attribute = Attribute.getInstance(element);
      if (attribute.getAttrType().equals(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
        Extensions extensions = Extensions.getInstance(attribute.getAttrValues().getObjectAt(0));
        return GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
      }
    }
    return null;
  }

  private static <T> Validated<T> invalid(String message) {
    return Validated.invalid(Reasons.INVALID_CSR, message);
  }
}
