package dev.aliyuncsr.operator.emulator;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * What the emulator reads from a PEM PKCS#10 CSR: the fields ListCsr reports, and the DNS names an
 * instance application uses. Only a CSR whose self-signature verifies is accepted.
 *
 * @param sans DNS names and IP addresses, in the CSR's order
 * @param dnsNames the DNS names among {@code sans}
 */
record ParsedCsr(
    String pem,
    SubjectPublicKeyInfo publicKeyInfo,
    String commonName,
    List<String> sans,
    List<String> dnsNames,
    String algorithm,
    int keySize,
    String keySha2,
    Map<String, String> subjectDetails) {

  /** Subject attributes ListCsr reports besides the common name, keyed by their field names. */
  private static final Map<String, ASN1ObjectIdentifier> DETAIL_ATTRIBUTES = detailAttributes();

  /** Throws {@code InvalidParameter.Csr} unless the text is a PEM CSR with a valid signature. */
  static ParsedCsr parse(String pem) {
    PKCS10CertificationRequest csr = readCsr(pem);
    SubjectPublicKeyInfo publicKeyInfo = csr.getSubjectPublicKeyInfo();
    String algorithm = algorithmOf(publicKeyInfo);
    if (!signatureVerifies(csr, algorithm)) {
      throw CasError.invalidParameter("Csr", "the CSR signature does not verify");
    }
    int keySize = keySizeOf(publicKeyInfo);
    X500Name subject = csr.getSubject();
    List<SubjectAlternativeName> sans = subjectAlternativeNames(csr);
    String keySha2;
    try {
      keySha2 = Acs3Signature.sha256Hex(publicKeyInfo.getEncoded("DER"));
    } catch (IOException e) {
      throw CasError.invalidParameter("Csr", "the public key cannot be encoded");
    }
    return new ParsedCsr(
        pem,
        publicKeyInfo,
        firstValue(subject, BCStyle.CN),
        sans.stream().map(SubjectAlternativeName::text).toList(),
        sans.stream()
            .filter(SubjectAlternativeName::isDns)
            .map(SubjectAlternativeName::text)
            .toList(),
        algorithm,
        keySize,
        keySha2,
        subjectDetails(subject));
  }

  private static PKCS10CertificationRequest readCsr(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      if (object instanceof PKCS10CertificationRequest csr) {
        return csr;
      }
    } catch (IOException | RuntimeException e) {
      // fall through: the message of a parse failure is not worth more than this
    }
    throw CasError.invalidParameter("Csr", "not a PEM-encoded PKCS#10 certificate request");
  }

  /**
   * Verifies with the JDK's providers. The key is converted by algorithm name because some
   * BouncyCastle versions look the KeyFactory up by OID, which the JDK does not register for EC.
   * SM2 signatures need the BouncyCastle provider, so SM2 CSRs are refused.
   */
  private static boolean signatureVerifies(PKCS10CertificationRequest csr, String algorithm) {
    try {
      PublicKey key =
          KeyFactory.getInstance(algorithm.equals("RSA") ? "RSA" : "EC")
              .generatePublic(
                  new X509EncodedKeySpec(csr.getSubjectPublicKeyInfo().getEncoded("DER")));
      return csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key));
    } catch (Exception e) {
      return false;
    }
  }

  private static String algorithmOf(SubjectPublicKeyInfo info) {
    ASN1ObjectIdentifier oid = info.getAlgorithm().getAlgorithm();
    if (PKCSObjectIdentifiers.rsaEncryption.equals(oid)) {
      return "RSA";
    }
    if (X9ObjectIdentifiers.id_ecPublicKey.equals(oid)) {
      return GMObjectIdentifiers.sm2p256v1.equals(info.getAlgorithm().getParameters())
          ? "SM2"
          : "ECC";
    }
    throw CasError.invalidParameter("Csr", "only RSA, ECC and SM2 keys are supported");
  }

  private static int keySizeOf(SubjectPublicKeyInfo info) {
    AsymmetricKeyParameter key;
    try {
      key = PublicKeyFactory.createKey(info);
    } catch (IOException | RuntimeException e) {
      throw CasError.invalidParameter("Csr", "the public key cannot be read");
    }
    if (key instanceof RSAKeyParameters rsa) {
      return rsa.getModulus().bitLength();
    }
    if (key instanceof ECPublicKeyParameters ec) {
      return ec.getParameters().getCurve().getFieldSize();
    }
    throw CasError.invalidParameter("Csr", "only RSA, ECC and SM2 keys are supported");
  }

  /** A DNS name or an IP address from the extension request, as text. */
  private record SubjectAlternativeName(String text, boolean isDns) {}

  private static List<SubjectAlternativeName> subjectAlternativeNames(
      PKCS10CertificationRequest csr) {
    List<SubjectAlternativeName> sans = new ArrayList<>();
    for (var attribute : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
      for (var value : attribute.getAttrValues()) {
        Extensions extensions = Extensions.getInstance(value);
        GeneralNames names =
            GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
        if (names == null) {
          continue;
        }
        for (GeneralName name : names.getNames()) {
          if (name.getTagNo() == GeneralName.dNSName) {
            sans.add(new SubjectAlternativeName(((ASN1String) name.getName()).getString(), true));
          } else if (name.getTagNo() == GeneralName.iPAddress) {
            sans.add(
                new SubjectAlternativeName(
                    ipAddress(ASN1OctetString.getInstance(name.getName()).getOctets()), false));
          }
        }
      }
    }
    return sans;
  }

  private static String ipAddress(byte[] octets) {
    try {
      return InetAddress.getByAddress(octets).getHostAddress();
    } catch (UnknownHostException e) {
      return HexFormat.of().formatHex(octets);
    }
  }

  private static String firstValue(X500Name subject, ASN1ObjectIdentifier attribute) {
    RDN[] rdns = subject.getRDNs(attribute);
    if (rdns.length == 0 || rdns[0].getFirst() == null) {
      return null;
    }
    return rdns[0].getFirst().getValue().toString();
  }

  private static Map<String, String> subjectDetails(X500Name subject) {
    Map<String, String> details = new LinkedHashMap<>();
    DETAIL_ATTRIBUTES.forEach(
        (field, attribute) -> {
          String value = firstValue(subject, attribute);
          if (value != null) {
            details.put(field, value);
          }
        });
    return details;
  }

  private static Map<String, ASN1ObjectIdentifier> detailAttributes() {
    Map<String, ASN1ObjectIdentifier> attributes = new LinkedHashMap<>();
    attributes.put("CountryCode", BCStyle.C);
    attributes.put("Province", BCStyle.ST);
    attributes.put("Locality", BCStyle.L);
    attributes.put("CorpName", BCStyle.O);
    attributes.put("Department", BCStyle.OU);
    return attributes;
  }
}
