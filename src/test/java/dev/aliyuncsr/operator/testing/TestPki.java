package dev.aliyuncsr.operator.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/** Keys and CSRs generated at test time; nothing secret is ever committed. */
public final class TestPki {
  private TestPki() {}

  /** A key pair with a CSR for it, and the PEM encodings tests need. */
  public record Material(KeyPair keyPair, PKCS10CertificationRequest csr) {
    public String csrPem() {
      return pem("CERTIFICATE REQUEST", der(csr));
    }

    /** PKCS#8 "PRIVATE KEY". */
    public String pkcs8KeyPem() {
      return pem("PRIVATE KEY", keyPair.getPrivate().getEncoded());
    }

    /**
     * PKCS#1 "RSA PRIVATE KEY" for RSA. For EC keys use {@link TestPkiVariants#sec1KeyPem}: this
     * writer leaves out the curve, which openssl cannot read either.
     */
    public String traditionalKeyPem() {
      StringWriter out = new StringWriter();
      try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
        writer.writeObject(keyPair.getPrivate());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return out.toString();
    }

    /** PKCS#8 "ENCRYPTED PRIVATE KEY", protected by the given password. */
    public String encryptedPkcs8KeyPem(String password) {
      return TestPkiVariants.encryptedPkcs8KeyPem(keyPair, password);
    }

    public PrivateKeyInfo privateKeyInfo() {
      return PrivateKeyInfo.getInstance(keyPair.getPrivate().getEncoded());
    }
  }

  public static KeyPair rsa(int bits) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(bits);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An EC key on a named curve, such as "secp256r1" or "secp384r1". */
  public static KeyPair ec(String curve) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec(curve));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static Material rsaCsr(int bits, String commonName, String... sans) {
    return csr(rsa(bits), commonName, sans);
  }

  public static Material ecCsr(String curve, String commonName, String... sans) {
    return csr(ec(curve), commonName, sans);
  }

  /** A CSR for the key pair, self-signed with it: SHA256withRSA or SHA256withECDSA. */
  public static Material csr(KeyPair keyPair, String commonName, String... sans) {
    try {
      var builder =
          new JcaPKCS10CertificationRequestBuilder(
              new X500Name("CN=" + commonName + ",O=Test,C=CN"), keyPair.getPublic());
      if (sans.length > 0) {
        List<GeneralName> names = new ArrayList<>();
        for (String san : sans) {
          names.add(new GeneralName(GeneralName.dNSName, san));
        }
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(names.toArray(GeneralName[]::new)));
        builder.addAttribute(
            PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
      }
      String algorithm =
          keyPair.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      var signer = new JcaContentSignerBuilder(algorithm).build(keyPair.getPrivate());
      return new Material(keyPair, builder.build(signer));
    } catch (OperatorCreationException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static byte[] der(PKCS10CertificationRequest csr) {
    try {
      return csr.getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String pem(String type, byte[] der) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(new PemObject(type, der));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** A JWT as a projected ServiceAccount token: RS256 over iss, aud, sub, iat and exp. */
  public static String jwt(
      String issuer, String audience, String subject, java.time.Instant expiry, PrivateKey signer)
      throws java.security.GeneralSecurityException {
    java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
    String header =
        b64.encodeToString(
            "{\"alg\":\"RS256\",\"kid\":\"k1\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    String payload =
        b64.encodeToString(
            ("{\"iss\":\""
                    + issuer
                    + "\",\"aud\":[\""
                    + audience
                    + "\"],\"sub\":\""
                    + subject
                    + "\",\"iat\":"
                    + java.time.Instant.now().getEpochSecond()
                    + ",\"exp\":"
                    + expiry.getEpochSecond()
                    + "}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    java.security.Signature signature = java.security.Signature.getInstance("SHA256withRSA");
    signature.initSign(signer);
    signature.update((header + "." + payload).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    return header + "." + payload + "." + b64.encodeToString(signature.sign());
  }
}
