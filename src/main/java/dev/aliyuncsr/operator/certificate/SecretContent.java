package dev.aliyuncsr.operator.certificate;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the kubernetes.io/tls Secret holds once written: a checked certificate chain and the key it
 * matches. {@link #toString()} never shows the key.
 *
 * @param owner the AliyunCertificate's name, for {@link CertificateAnnotations#SECRET_OWNER}
 */
public record SecretContent(String tlsCrt, String tlsKey, Optional<String> caCrt, String owner) {
  public static final String TYPE = "kubernetes.io/tls";

  /** The Secret's data, unencoded. */
  public Map<String, String> data() {
    Map<String, String> data = new LinkedHashMap<>();
    data.put("tls.crt", tlsCrt);
    data.put("tls.key", tlsKey);
    caCrt.ifPresent(ca -> data.put("ca.crt", ca));
    return data;
  }

  public Map<String, String> annotations() {
    return Map.of(CertificateAnnotations.SECRET_OWNER, owner);
  }

  @Override
  public String toString() {
    return "SecretContent[owner=" + owner + ", ca.crt=" + caCrt.isPresent() + "]";
  }
}
