package dev.aliyuncsr.operator.csr;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.ValidationMethod;
import dev.aliyuncsr.operator.csr.PemInput.Block;
import dev.aliyuncsr.operator.csr.PemInput.Slot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.CertificationRequestInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X962Parameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Whether CAS can issue a certificate for a CSR, decided before any call: CAS's KeyAlgorithm values
 * are RSA 2048, 3072 and 4096, EC P-256 and SM2, and it binds the certificate to the CSR's CN, so a
 * CN that is a domain name is required; DV certificates carry domain names only, and wildcard names
 * are validated by DNS only. The answer is what UpdateInstance is sent: the KeyAlgorithm and the
 * names, CN first. Never throws; messages never quote key material.
 */
public final class IssuanceSupport {
  private IssuanceSupport() {}

  /** What UpdateInstance is sent for the CSR: its KeyAlgorithm, and the names, CN first. */
  public record Issuance(String keyAlgorithm, List<String> domains) {}

  private static final Map<Integer, String> RSA_SIZES =
      Map.of(2048, "RSA_2048", 3072, "RSA_3072", 4096, "RSA_4096");

  // Labels of letters, digits and inner hyphens; an optional "*." in front for a wildcard.
  private static final Pattern DOMAIN =
      Pattern.compile("^(\\*\\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z0-9-]{2,63}$");

  private static final String HOW =
      " CAS issues for RSA 2048, 3072 or 4096, EC P-256 and SM2 keys; make the AliyunCsr's CSR"
          + " from such a key.";

  public static Validated<Issuance> check(String csrPem, ValidationMethod method) {
    try {
      if (csrPem == null || csrPem.isBlank()) {
        return unsupported("There is no CSR to apply with.");
      }
      Validated<List<Block>> blocks =
          PemInput.read(csrPem.getBytes(StandardCharsets.UTF_8), Slot.CSR);
      if (!blocks.isValid()) {
        return Validated.invalid(Reasons.UNSUPPORTED_CSR, blocks.problem().message());
      }
      if (blocks.value().size() != 1) {
        return unsupported("The CSR holds " + blocks.value().size() + " PEM blocks, not one.");
      }
      CertificationRequestInfo info =
          CertificationRequest.getInstance(ASN1Primitive.fromByteArray(blocks.value().get(0).der()))
              .getCertificationRequestInfo();
      Validated<String> algorithm = keyAlgorithm(info.getSubjectPublicKeyInfo());
      if (!algorithm.isValid()) {
        return Validated.invalid(algorithm.problem());
      }
      Validated<List<String>> domains = domains(info, method);
      if (!domains.isValid()) {
        return Validated.invalid(domains.problem());
      }
      return Validated.valid(new Issuance(algorithm.value(), domains.value()));
    } catch (IOException | RuntimeException e) {
      return unsupported("The CSR could not be read as a PKCS#10 certificate request.");
    }
  }

  private static Validated<String> keyAlgorithm(SubjectPublicKeyInfo spki) throws IOException {
    ASN1ObjectIdentifier algorithm = spki.getAlgorithm().getAlgorithm();
    if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      int bits = RSAPublicKey.getInstance(spki.parsePublicKey()).getModulus().bitLength();
      String value = RSA_SIZES.get(bits);
      return value != null
          ? Validated.valid(value)
          : unsupported("The CSR's key is RSA " + bits + " bits." + HOW);
    }
    if (algorithm.equals(GMObjectIdentifiers.sm2p256v1)) {
      return Validated.valid("SM2");
    }
    if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      var parameters = spki.getAlgorithm().getParameters();
      X962Parameters x962 = parameters == null ? null : X962Parameters.getInstance(parameters);
      if (x962 == null || !x962.isNamedCurve()) {
        return unsupported("The CSR's EC key does not name its curve." + HOW);
      }
      ASN1ObjectIdentifier curve = ASN1ObjectIdentifier.getInstance(x962.getParameters());
      if (curve.equals(SECObjectIdentifiers.secp256r1)) {
        return Validated.valid("ECC_256");
      }
      if (curve.equals(GMObjectIdentifiers.sm2p256v1)) {
        return Validated.valid("SM2");
      }
      String name = curve.equals(SECObjectIdentifiers.secp384r1) ? "P-384" : curve.getId();
      return unsupported(
          "The CSR's key is EC on " + name + ", which CAS has no KeyAlgorithm for." + HOW);
    }
    return unsupported("The CSR's key is of algorithm " + algorithm.getId() + "." + HOW);
  }

  /** The CN, then the DNS names of the subjectAltName, each once (compared case-insensitively). */
  private static Validated<List<String>> domains(
      CertificationRequestInfo info, ValidationMethod method) {
    String commonName = CsrValidator.commonName(info.getSubject());
    if (commonName == null || commonName.isBlank()) {
      return unsupported(
          "The CSR has no CN (common name); CAS binds the certificate to the CN, so the CSR must"
              + " carry the main domain name as its CN.");
    }
    List<String> names = new ArrayList<>();
    names.add(commonName.strip());
    GeneralNames sans = CsrValidator.requestedSubjectAlternativeNames(info);
    if (sans != null) {
      for (GeneralName name : sans.getNames()) {
        if (name.getTagNo() != GeneralName.dNSName) {
          return unsupported(
              "The CSR asks for a subjectAltName of type "
                  + generalNameType(name.getTagNo())
                  + "; CAS certificates carry domain names only. Make the CSR with DNS names"
                  + " only.");
        }
        names.add(((ASN1String) name.getName()).getString().strip());
      }
    }
    Map<String, String> unique = new LinkedHashMap<>();
    for (String name : names) {
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.endsWith(".")) {
        lower = lower.substring(0, lower.length() - 1);
      }
      if (!DOMAIN.matcher(lower).matches()) {
        return unsupported(
            (unique.isEmpty() ? "The CSR's CN" : "The name")
                + " \""
                + name
                + "\" is not a domain name CAS can issue for (IP addresses and other text are not).");
      }
      if (lower.startsWith("*.") && method == ValidationMethod.HTTP) {
        return unsupported(
            "The CSR asks for the wildcard name "
                + lower
                + ", which CAS validates by DNS only; set spec.validationMethod to DNS.");
      }
      unique.putIfAbsent(lower, lower);
    }
    return Validated.valid(List.copyOf(unique.values()));
  }

  private static String generalNameType(int tag) {
    return switch (tag) {
      case GeneralName.iPAddress -> "IP address";
      case GeneralName.rfc822Name -> "e-mail address";
      case GeneralName.uniformResourceIdentifier -> "URI";
      default -> "tag " + tag;
    };
  }

  private static <T> Validated<T> unsupported(String message) {
    return Validated.invalid(Reasons.UNSUPPORTED_CSR, message);
  }
}
