package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import java.util.Optional;

/** What the other resources say, from the informer caches: no scan of every resource. */
public interface CertificatePeers {

  /** The AliyunCsr of that name, as cached. */
  Optional<AliyunCsr> csr(String namespace, String name);

  /**
   * The AliyunCertificate created first (creationTimestamp, then UID) among the others that name
   * {@code instanceId} and whose AliyunCsr uses {@code account}, if it was created before {@code
   * self}; those being deleted do not count.
   */
  Optional<AliyunCertificate> earlierNaming(
      AliyunCertificate self, String instanceId, String account);

  /** The account an AliyunCsr's certificates use: where its CSR is held, else the one it names. */
  static String accountOf(AliyunCsr csr) {
    var status = csr.getStatus();
    if (status != null && status.getCsrId() != null) {
      return status.getAccount();
    }
    return csr.getSpec() == null ? null : csr.getSpec().accountName();
  }
}
