package dev.aliyuncsr.operator.emulator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A self-signed certificate for 127.0.0.1 / localhost, made fresh per emulator, and the TLS
 * contexts around it. credentials-java 1.0.3 calls STS only as {@code https://<STSEndpoint>}, with
 * the JVM's default trust store and host-name check (no way to pass an SSLContext or to turn the
 * check off), so its providers reach the emulator only over TLS with this certificate trusted
 * through {@code javax.net.ssl.trustStore}.
 */
final class EmulatorTls {
  static final String TRUST_STORE_PASSWORD = "changeit";

  private final KeyPair keyPair;
  private final X509Certificate certificate;
  private volatile Path trustStore;

  EmulatorTls() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      keyPair = generator.generateKeyPair();
      Instant now = Instant.now();
      X500Name name = new X500Name("CN=CAS emulator (127.0.0.1)");
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              name,
              BigInteger.valueOf(now.toEpochMilli()),
              Date.from(now.minus(Duration.ofDays(1))),
              Date.from(now.plus(Duration.ofDays(365))),
              name,
              keyPair.getPublic());
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.dNSName, "localhost")
              }));
      certificate =
          new JcaX509CertificateConverter()
              .getCertificate(
                  builder.build(
                      new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate())));
    } catch (GeneralSecurityException
        | org.bouncycastle.operator.OperatorCreationException
        | org.bouncycastle.cert.CertIOException e) {
      throw new IllegalStateException("cannot make the emulator's TLS certificate", e);
    }
  }

  X509Certificate certificate() {
    return certificate;
  }

  /** The server side: presents the certificate. */
  SSLContext serverContext() {
    try {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      char[] password = TRUST_STORE_PASSWORD.toCharArray();
      keys.setKeyEntry(
          "emulator", keyPair.getPrivate(), password, new X509Certificate[] {certificate});
      KeyManagerFactory managers =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      managers.init(keys, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(managers.getKeyManagers(), null, null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the emulator's TLS context", e);
    }
  }

  /** A client side that trusts only this certificate. */
  SSLContext clientContext() {
    try {
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trustStoreWith(false));
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build a TLS context trusting the emulator", e);
    }
  }

  /**
   * A PKCS12 file (password {@value #TRUST_STORE_PASSWORD}) holding the JDK's own trusted
   * certificates plus this one, so that pointing {@code javax.net.ssl.trustStore} at it breaks no
   * other TLS client in the JVM. Written once, deleted when the JVM exits.
   */
  synchronized Path trustStore() {
    if (trustStore == null) {
      try {
        Path file = Files.createTempFile("cas-emulator-truststore-", ".p12");
        file.toFile().deleteOnExit();
        try (OutputStream out = Files.newOutputStream(file)) {
          trustStoreWith(true).store(out, TRUST_STORE_PASSWORD.toCharArray());
        }
        trustStore = file;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("cannot write the emulator's trust store", e);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return trustStore;
  }

  private KeyStore trustStoreWith(boolean jdkCertificates)
      throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    if (jdkCertificates) {
      Path cacerts = Path.of(System.getProperty("java.home"), "lib", "security", "cacerts");
      if (Files.isReadable(cacerts)) {
        KeyStore jdk = KeyStore.getInstance(KeyStore.getDefaultType());
        try (InputStream in = Files.newInputStream(cacerts)) {
          jdk.load(in, null);
        } catch (IOException | GeneralSecurityException unreadable) {
          jdk = null; // the emulator's own certificate is what matters here
        }
        if (jdk != null) {
          for (String alias : Collections.list(jdk.aliases())) {
            if (jdk.isCertificateEntry(alias)) {
              store.setCertificateEntry("jdk-" + alias, jdk.getCertificate(alias));
            }
          }
        }
      }
    }
    store.setCertificateEntry("cas-emulator", certificate);
    return store;
  }
}
