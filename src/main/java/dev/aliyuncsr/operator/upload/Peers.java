package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import java.util.Optional;

/**
 * What the protocol needs to know of the other AliyunCsrs in the cluster (from the informer cache):
 * who else records a CsrId, and who else adopts one. One CSR has one owner. CsrIds are compared
 * alone, across every account: two AliyunCasAccounts may be two handles on one Alibaba Cloud
 * account, and a refusal is the worst a coincidence costs.
 */
public interface Peers {

  /**
   * Another resource whose status records this CsrId (its current CSR or a superseded one), as
   * "namespace/name"; empty when none does.
   */
  Optional<String> recorder(AliyunCsr self, long csrId);

  /**
   * Another resource, created before {@code self} (creationTimestamp, then UID), whose spec.csrId
   * names this CsrId, as "namespace/name".
   */
  Optional<String> earlierAdopter(AliyunCsr self, long csrId);

  default boolean recordedByAnother(AliyunCsr self, long csrId) {
    return recorder(self, csrId).isPresent();
  }

  /** Peers for a single resource and nothing else (tests). */
  Peers NONE =
      new Peers() {
        @Override
        public Optional<String> recorder(AliyunCsr self, long csrId) {
          return Optional.empty();
        }

        @Override
        public Optional<String> earlierAdopter(AliyunCsr self, long csrId) {
          return Optional.empty();
        }
      };
}
