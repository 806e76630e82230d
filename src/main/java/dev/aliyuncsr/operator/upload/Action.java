package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.kube.Outcome;
import java.util.List;
import java.util.Optional;

/**
 * The one next step the protocol takes, as decided by {@link Decider} from an {@link Observation}.
 * Each is a single effect; after it the protocol observes again.
 */
sealed interface Action {

  /** Put the finalizer on (with the intent annotation), before anything can reach CAS. */
  record AddFinalizer() implements Action {}

  /** Let the object go: its CSRs are deleted, or kept under Orphan. */
  record RemoveFinalizer() implements Action {}

  /**
   * Take a CAS call permit, then write the upload lease and the pending upload into status, fenced
   * on the resourceVersion observed. Resolved pending uploads are dropped in the same write.
   */
  record TakeLease(String uploadName, String csrSha256) implements Action {}

  /** Call UploadCsr under the lease this reconcile holds, then record the result fenced on it. */
  record Upload() implements Action {}

  /**
   * Write a new record (after lookups, a replaced CSR, an adoption, a release), fenced on the
   * resourceVersion observed, with the outcome's conditions, or the old conditions when empty.
   */
  record WriteRecord(AliyunCsrStatus record, Optional<Outcome> outcome, String why)
      implements Action {}

  /** Prove in CAS that {@code csr} is this resource's, then DeleteCsr it and drop it. */
  record DeleteCsr(CasCsrRef csr, boolean adopted) implements Action {}

  /** Prove in CAS that the current CSR is this resource's, then send its private key. */
  record SendKey(CasCsrRef csr, boolean adopted) implements Action {}

  /** Restore the CsrId annotations from status (a replace without annotations, say). */
  record WriteAnnotations() implements Action {}

  /** Nothing to do but say where the resource stands, and when to look again. */
  record Settle(Outcome outcome, List<String> warnings) implements Action {
    Settle(Outcome outcome) {
      this(outcome, List.of());
    }
  }
}
