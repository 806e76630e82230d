package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import java.util.Map;
import java.util.Optional;

/** The annotations of this kind: on the Secrets it writes, and the steering ones people set. */
public final class CertificateAnnotations {
  private CertificateAnnotations() {}

  /**
   * On the Secret: the AliyunCertificate (in the Secret's namespace) that wrote it. A Secret
   * without it, or naming another, is never overwritten. An annotation, not a label: a label value
   * cannot hold every resource name.
   */
  public static final String SECRET_OWNER = "cas.aliyuncsr.dev/certificate";

  /**
   * Steering, written by people: after ValidationFailed, a value no application has used starts one
   * new application (it is paid, so never on the operator's own). Each value is used once.
   */
  public static final String RETRY_APPLICATION = "cas.aliyuncsr.dev/retry-application";

  public static Optional<String> retry(AliyunCertificate resource) {
    Map<String, String> annotations = resource.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(RETRY_APPLICATION);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
  }
}
