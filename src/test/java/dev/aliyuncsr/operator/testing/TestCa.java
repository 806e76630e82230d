package dev.aliyuncsr.operator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A root and an intermediate CA made at test time, issuing leaves for any public key. */
public final class TestCa {
  private static final AtomicLong SERIALS = new AtomicLong(0x1000);

  private final KeyPair rootKey;
  private final KeyPair intermediateKey;
  private final X509CertificateHolder root;
  private final X509CertificateHolder intermediate;

  private TestCa(String name) {
    Instant now = Instant.now();
    rootKey = TestPki.ec("secp256r1");
    intermediateKey = TestPki.ec("secp256r1");
    X500Name rootName = new X500Name("CN=" + name + " Root,O=Test");
    X500Name intermediateName = new X500Name("CN=" + name + " Intermediate,O=Test");
    root =
        sign(
            rootName,
            rootName,
            rootKey.getPublic(),
            rootKey,
            true,
            now,
            now.plus(3650, ChronoUnit.DAYS));
    intermediate =
        sign(
            rootName,
            intermediateName,
            intermediateKey.getPublic(),
            rootKey,
            true,
            now,
            now.plus(1825, ChronoUnit.DAYS));
  }

  public static TestCa create(String name) {
    return new TestCa(name);
  }

  public X509CertificateHolder root() {
    return root;
  }

  public X509CertificateHolder intermediate() {
    return intermediate;
  }

  /** A leaf for {@code key}, signed by the intermediate, valid from now for {@code days} days. */
  public X509CertificateHolder issue(PublicKey key, String commonName, int days) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    return issue(key, commonName, now, now.plus(days, ChronoUnit.DAYS));
  }

  public X509CertificateHolder issue(
      PublicKey key, String commonName, Instant notBefore, Instant notAfter) {
    return sign(
        intermediate.getSubject(),
        new X500Name("CN=" + commonName),
        key,
        intermediateKey,
        false,
        notBefore,
        notAfter);
  }

  /** A leaf signed by the intermediate's key but naming another issuer, or vice versa. */
  public X509CertificateHolder issueSignedByRoot(PublicKey key, String commonName) {
    Instant now = Instant.now();
    return sign(
        intermediate.getSubject(),
        new X500Name("CN=" + commonName),
        key,
        rootKey,
        false,
        now,
        now.plus(90, ChronoUnit.DAYS));
  }

  /** PEM of the given certificates, in order. */
  public static String pem(X509CertificateHolder... certificates) {
    StringBuilder out = new StringBuilder();
    for (X509CertificateHolder certificate : certificates) {
      try {
        out.append(TestPki.pem("CERTIFICATE", certificate.getEncoded()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out.toString();
  }

  private static X509CertificateHolder sign(
      X500Name issuer,
      X500Name subject,
      PublicKey key,
      KeyPair signer,
      boolean ca,
      Instant notBefore,
      Instant notAfter) {
    try {
      var builder =
          new JcaX509v3CertificateBuilder(
              issuer,
              BigInteger.valueOf(SERIALS.incrementAndGet()).shiftLeft(64).add(BigInteger.TEN),
              Date.from(notBefore),
              Date.from(notAfter),
              subject,
              key);
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
      return builder.build(
          new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate()));
    } catch (OperatorCreationException | IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
