package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.UploadLease;
import dev.aliyuncsr.operator.cloud.CasClient.CsrDetail;
import dev.aliyuncsr.operator.csr.Validated;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one cycle of the protocol saw, read-only: the object as decided on (its resourceVersion
 * fences the writes that follow), its inputs, the other resources that matter, and what CAS said
 * when it had to be asked.
 *
 * @param inputs the validated Secrets; null when the resource has no spec
 * @param uploadName the name this resource uploads under; null when it has no spec
 * @param conflict an earlier resource with the same upload name
 * @param foreignLease a live lease that this reconcile does not hold
 * @param ownLease the lease this reconcile took, still live
 * @param recordLost the status is gone, yet the finalizer or the annotations say there was one (a
 *     restore without status): {@code restore} is what may be in CAS, and {@code restoreLease}
 *     holds every upload back until calls in flight before the loss have ended
 * @param found the lookups made in CAS in this cycle: each possibly stored upload, with the CSRs
 *     proven to be it (its name per ListCsr, its CSR per GetCsrDetail) that no other resource
 *     records, each with its CsrId, name and CSR hash
 * @param adoption GetCsrDetail of spec.csrId, when adoption had to be checked
 * @param confirmation GetCsrDetail of the current CSR, when this reconcile was asked to confirm it
 *     (the observer missed it in ListCsr, or a person asked for a reconcile)
 * @param account the account this reconcile calls (null: the default one), for status.account
 */
record Observation(
    AliyunCsr resource,
    Instant now,
    Validated<SecretInputs.Inputs> inputs,
    String uploadName,
    Optional<AliyunCsr> conflict,
    Optional<UploadLease> foreignLease,
    Optional<UploadLease> ownLease,
    boolean recordLost,
    List<CasCsrRef> restore,
    UploadLease restoreLease,
    Map<CasCsrRef, List<CasCsrRef>> found,
    Optional<Adoption> adoption,
    Optional<Confirmation> confirmation,
    String account) {

  /** The current CSR as CAS describes it now; empty detail when CAS no longer has it. */
  record Confirmation(long csrId, Optional<CsrDetail> detail, Optional<String> csrSha256) {}

  /** The CSR named by spec.csrId as CAS describes it; empty detail when CAS does not have it. */
  record Adoption(
      long csrId,
      Optional<CsrDetail> detail,
      Optional<String> publicKeySha256,
      String notFoundCode) {}

  boolean deleting() {
    return resource.isMarkedForDeletion();
  }

  boolean hasFinalizer() {
    return resource.hasFinalizer(CasAnnotations.FINALIZER);
  }
}
