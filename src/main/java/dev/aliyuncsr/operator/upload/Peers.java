package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import java.util.Optional;

/**
 * What the protocol needs to know of the other AliyunCsrs in the cluster (from the informer cache):
 * who else uses an upload name, and who else records a CsrId. Names identify their owner, and a
 * CsrId another resource records is never claimed or deleted.
 */
public interface Peers {

  /** The earliest other resource (by creationTimestamp, then UID) with this upload name. */
  Optional<AliyunCsr> earlierWithUploadName(AliyunCsr self, String uploadName);

  /** Whether another resource records this CsrId as its CSR, a pending or a superseded one. */
  boolean recordedByAnother(AliyunCsr self, long csrId);

  /** Peers for a single resource and nothing else (tests). */
  Peers NONE =
      new Peers() {
        @Override
        public Optional<AliyunCsr> earlierWithUploadName(AliyunCsr self, String uploadName) {
          return Optional.empty();
        }

        @Override
        public boolean recordedByAnother(AliyunCsr self, long csrId) {
          return false;
        }
      };
}
