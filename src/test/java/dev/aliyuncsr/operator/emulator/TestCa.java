package dev.aliyuncsr.operator.emulator;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * The emulator's own CA: a root and an intermediate on EC P-256 keys made when the emulator starts
 * (nothing is stored or committed), and the intermediate issues the leaves. A leaf carries the key
 * it is given, the CN as subject, the DNS names as subjectAltName, a random 128-bit serial and 90
 * days of validity; it is a TLS server (and client) certificate.
 */
final class TestCa {
  static final Duration LEAF_VALIDITY = Duration.ofDays(90);
  static final String ISSUER_ORGANIZATION = "CAS Emulator Test CA";

  private final SecureRandom random = new SecureRandom();
  private final KeyPair rootKey = ecKey();
  private final KeyPair intermediateKey = ecKey();
  private final X509Certificate root;
  private final X509Certificate intermediate;

  TestCa(Instant now) {
    Instant start = now.truncatedTo(ChronoUnit.SECONDS).minus(Duration.ofDays(1));
    X500Name rootName = new X500Name("CN=CAS Emulator Root,O=" + ISSUER_ORGANIZATION);
    X500Name intermediateName = new X500Name("CN=CAS Emulator DV CA,O=" + ISSUER_ORGANIZATION);
    this.root =
        toX509(
            caCertificate(
                rootName,
                rootName,
                subjectKeyInfo(rootKey),
                null,
                rootKey.getPrivate(),
                start,
                start.plus(Duration.ofDays(3650)),
                -1));
    this.intermediate =
        toX509(
            caCertificate(
                rootName,
                intermediateName,
                subjectKeyInfo(intermediateKey),
                root,
                rootKey.getPrivate(),
                start,
                start.plus(Duration.ofDays(1825)),
                0));
  }

  X509Certificate root() {
    return root;
  }

  X509Certificate intermediate() {
    return intermediate;
  }

  String rootPem() {
    return pem(der(root));
  }

  String intermediatePem() {
    return pem(der(intermediate));
  }

  /**
   * A leaf signed by the intermediate, valid from {@code notBefore} (to the second) for 90 days.
   */
  Leaf issue(
      SubjectPublicKeyInfo subjectKey,
      String commonName,
      List<String> dnsNames,
      Instant notBefore) {
    Instant from = notBefore.truncatedTo(ChronoUnit.SECONDS);
    Instant to = from.plus(LEAF_VALIDITY);
    BigInteger serial = new BigInteger(128, random).setBit(127); // positive, always 16 bytes
    try {
      X509v3CertificateBuilder builder =
          new X509v3CertificateBuilder(
              X500Name.getInstance(intermediate.getSubjectX500Principal().getEncoded()),
              serial,
              Date.from(from),
              Date.from(to),
              subject(commonName),
              subjectKey);
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      boolean rsa =
          subjectKey.getAlgorithm().getAlgorithm().equals(PKCSObjectIdentifiers.rsaEncryption);
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(
              rsa
                  ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment
                  : KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              dnsNames.stream()
                  .map(name -> new GeneralName(GeneralName.dNSName, name))
                  .toArray(GeneralName[]::new)));
      builder.addExtension(
          Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(subjectKey));
      builder.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          extensions.createAuthorityKeyIdentifier(intermediate));
      X509CertificateHolder leaf = builder.build(signer(intermediateKey.getPrivate()));
      byte[] der = leaf.getEncoded();
      return new Leaf(
          pem(der),
          serial.toString(16),
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der)),
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(der)),
          from,
          to);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("the test CA cannot issue", e);
    }
  }

  /** An issued leaf: its PEM and what GetUserCertificateDetail reports about it. */
  record Leaf(
      String pem,
      String serialHex,
      String sha256Hex,
      String sha1Hex,
      Instant notBefore,
      Instant notAfter) {}

  /** The issuer name GetUserCertificateDetail's {@code Issuer} shows. */
  String issuerName() {
    return ISSUER_ORGANIZATION;
  }

  private static X500Name subject(String commonName) {
    // Built attribute by attribute: a CN passed inside a DN string would be parsed, not quoted.
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
  }

  private X509CertificateHolder caCertificate(
      X500Name issuer,
      X500Name subject,
      SubjectPublicKeyInfo subjectKey,
      X509Certificate issuerCertificate,
      PrivateKey signingKey,
      Instant from,
      Instant to,
      int pathLength) {
    try {
      X509v3CertificateBuilder builder =
          new X509v3CertificateBuilder(
              issuer,
              new BigInteger(128, random).setBit(127),
              Date.from(from),
              Date.from(to),
              subject,
              subjectKey);
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder.addExtension(
          Extension.basicConstraints,
          true,
          pathLength < 0 ? new BasicConstraints(true) : new BasicConstraints(pathLength));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      builder.addExtension(
          Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(subjectKey));
      if (issuerCertificate != null) {
        builder.addExtension(
            Extension.authorityKeyIdentifier,
            false,
            extensions.createAuthorityKeyIdentifier(issuerCertificate));
      }
      return builder.build(signer(signingKey));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("the test CA cannot be made", e);
    }
  }

  private static ContentSigner signer(PrivateKey key) {
    try {
      return new JcaContentSignerBuilder("SHA256withECDSA").build(key);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static X509Certificate toX509(X509CertificateHolder holder) {
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static SubjectPublicKeyInfo subjectKeyInfo(KeyPair key) {
    return SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded());
  }

  private static byte[] der(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair ecKey() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(byte[] der) {
    return pem("CERTIFICATE", der);
  }

  static String pem(String type, byte[] der) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(new PemObject(type, der));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}
