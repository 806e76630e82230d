package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.UploadLease;
import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.csr.Validated;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one reconcile carries from one observe-decide-act turn to the next; nothing survives the
 * reconcile. What CAS said is kept until this reconcile changes CAS or the object moves under it,
 * so deciding again after its own write asks CAS nothing new.
 */
final class Cycle {
  Validated<SecretInputs.Inputs> inputs;

  /** The lease this reconcile wrote, and the CAS call permit it holds for the upload. */
  UploadLease heldLease;

  CallBudget.Slot permit;

  /** The upload's place in the rate, taken with its lease; its slot is claimed for the call. */
  CallBudget.Place place;

  /** The copy was re-read once because it showed our own lease from before our last write. */
  boolean refreshed;

  final Map<CasCsrRef, Observation.Lookup> lookups = new LinkedHashMap<>();

  Observation.Adoption adoption;

  /** Whether the current CSR is still to be confirmed in CAS in this reconcile (once at most). */
  boolean confirmWanted;

  /** What the confirmation found. */
  Observation.Confirmation confirmation;

  /** When CAS confirmed the current CSR in this reconcile, to record in lastConfirmedAt. */
  Instant confirmedAt;

  /**
   * The reconcile began on a paused copy: it stays paused whatever a re-read shows, so that a
   * reconcile of a paused copy never calls CAS nor writes anything but the Paused condition.
   */
  boolean pausedAtStart;

  /** The reconcile request (annotation value) this reconcile handles, if any. */
  String request;

  /** The resource became Ready with a new CSR in this reconcile. */
  boolean firstReady;

  /** CAS changed (an upload, a deletion, a key) or the object moved: what it said is stale. */
  void forgetCas() {
    lookups.clear();
    adoption = null;
  }

  void releasePermit() {
    place = null;
    if (permit != null) {
      permit.close();
      permit = null;
    }
  }
}
