package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.kube.Outcome;
import java.util.List;
import java.util.Optional;

/**
 * The one next step the protocol takes, as decided by {@link Decider} from an {@link Observation}.
 * Each is a single effect; after it the protocol observes again. Every CAS call, a read included,
 * is an action that names the account it goes to ({@code via}): the decider alone decides whether a
 * call may reach an account.
 */
sealed interface Action {

  /** Paused: write only the Paused condition; no CAS call. */
  record Pause() implements Action {}

  /** Nothing to do now and nothing to write: look again after the outcome's requeue. */
  record Hold(Outcome outcome) implements Action {}

  /** Put the finalizer on (with the intent annotation), before anything can reach CAS. */
  record AddFinalizer() implements Action {}

  /** Let the object go: its CSRs are deleted, or kept under Orphan. */
  record RemoveFinalizer() implements Action {}

  /** Look up in CAS (ListCsr by name, GetCsrDetail of each candidate) uploads of unknown result. */
  record LookUp(CasRoute.Access via, List<CasCsrRef> refs) implements Action {}

  /** Read the CSR spec.csrId names (GetCsrDetail, and its name in ListCsr). */
  record CheckAdoption(CasRoute.Access via, long csrId) implements Action {}

  /** Confirm that CAS still holds the current CSR (GetCsrDetail). */
  record Confirm(CasRoute.Access via, long csrId) implements Action {}

  /**
   * Take a CAS call permit, then write the upload lease and the pending upload into status, fenced
   * on the resourceVersion observed. Resolved pending uploads are dropped in the same write.
   */
  record TakeLease(CasRoute.Access via, String uploadName, String csrSha256) implements Action {}

  /** Call UploadCsr under the lease this reconcile holds, then record the result fenced on it. */
  record Upload(CasRoute.Access via) implements Action {}

  /**
   * Write a new record (after lookups, a replaced CSR, an adoption, a release), fenced on the
   * resourceVersion observed, with the outcome's conditions, or the old conditions when empty.
   */
  record WriteRecord(AliyunCsrStatus record, Optional<Outcome> outcome, String why)
      implements Action {}

  /**
   * DeleteCsr a CSR the record holds (proven this resource's when it was recorded), then drop it.
   */
  record DeleteCsr(CasRoute.Access via, CasCsrRef csr) implements Action {}

  /**
   * Drop a CSR from the record without calling CAS, and say why in a Warning Event: an adopted CSR
   * without proof of possession is never deleted.
   */
  record ReleaseCsr(CasCsrRef csr, String reason, String message) implements Action {}

  /** Send the current CSR's private key (UpdateCsr), unless CAS already holds it. */
  record SendKey(CasRoute.Access via, CasCsrRef csr, boolean adopted) implements Action {}

  /**
   * Nothing to do but say where the resource stands, and when to look again.
   *
   * @param statusLost write the conditions only, without observedGeneration: a status lost before
   *     the restore could be made (the Secret is broken, say) still reads as lost afterwards
   */
  record Settle(Outcome outcome, boolean statusLost) implements Action {
    Settle(Outcome outcome) {
      this(outcome, false);
    }
  }
}
