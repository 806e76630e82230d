package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.UploadLease;
import dev.aliyuncsr.operator.cloud.CasClient.CsrDetail;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one decision needs, read-only, gathered in one pass: the object as decided on (its
 * resourceVersion fences the writes that follow), how a person steers it, which accounts its calls
 * may go to, its inputs, its lease, who else claims what it would adopt, and what CAS said earlier
 * in this reconcile. The {@link Decider} is the only place that branches on it, including on
 * whether a call may go to an account at all.
 *
 * @param steering pause, a reconcile request, a back-off hold, a confirmation wanted
 * @param routes the account spec names (if usable now) and the account status holds CSRs in
 * @param inputs the validated Secrets; null when the resource has no spec
 * @param uploadName the name this resource uploads under (with its ownership mark); null without
 *     spec
 * @param foreignLease a live lease that this reconcile does not hold
 * @param ownLease the lease this reconcile took, still live
 * @param recordLost the status is gone, yet the finalizer or the annotations say there was one (a
 *     restore without status)
 * @param restoreLease the lease a restore writes: it holds every upload back until calls in flight
 *     before the loss have ended
 * @param claims another resource's claim on the CsrId this one would adopt
 * @param cas what CAS said in this reconcile, kept until this reconcile changes CAS
 * @param missingWindow how long apart two NotFound answers must be before a CSR counts as gone (or
 *     a pending upload as never stored)
 */
record Observation(
    AliyunCsr resource,
    Instant now,
    Steering steering,
    CasRoute.Routes routes,
    Validated<SecretInputs.Inputs> inputs,
    String uploadName,
    Optional<UploadLease> foreignLease,
    Optional<UploadLease> ownLease,
    boolean recordLost,
    UploadLease restoreLease,
    Optional<String> claims,
    CasFacts cas,
    Duration missingWindow) {

  /**
   * How people steer the resource, and what this process remembers for it.
   *
   * @param paused the paused annotation is "true"
   * @param hold a CAS call failed and its back-off has not ended: the outcome to repeat, with the
   *     time left (no call, no write)
   * @param confirm the current CSR is to be confirmed in CAS by GetCsrDetail (the observer missed
   *     it in ListCsr, a person asked, or an earlier NotFound is due to be asked again)
   */
  record Steering(boolean paused, Optional<Outcome> hold, boolean confirm) {}

  /**
   * What CAS said in this reconcile.
   *
   * @param lookups each possibly stored upload looked up, with the CSRs proven to be it (exactly
   *     its name per ListCsr, its CSR per GetCsrDetail) that no other resource records
   * @param adoption GetCsrDetail (and the name in ListCsr) of spec.csrId
   * @param confirmation GetCsrDetail of the current CSR
   */
  record CasFacts(
      Map<CasCsrRef, Lookup> lookups,
      Optional<Adoption> adoption,
      Optional<Confirmation> confirmation) {}

  /** The CSRs found for one reference, and when CAS was asked. */
  record Lookup(java.util.List<CasCsrRef> found, Instant at) {}

  /**
   * The current CSR as CAS describes it now; empty detail when CAS said NotFound.
   *
   * @param via the account as it stood when CAS was asked: an answer through a handle since
   *     replaced, or while re-uploads were blocked, says nothing about the account as it is now
   */
  record Confirmation(long csrId, Optional<CsrDetail> detail, Instant at, CasRoute.Access via) {}

  /**
   * The CSR named by spec.csrId as CAS describes it; empty detail when CAS does not have it.
   *
   * @param casName its name in CAS, when ListCsr showed it
   * @param anotherMark the name carries an ownership mark of another object of this operator
   */
  record Adoption(
      long csrId,
      Optional<CsrDetail> detail,
      Optional<String> publicKeySha256,
      String notFoundCode,
      Optional<String> casName,
      boolean anotherMark) {}

  boolean deleting() {
    return resource.isMarkedForDeletion();
  }

  boolean hasFinalizer() {
    return resource.hasFinalizer(CasAnnotations.FINALIZER);
  }
}
