package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The protocol's decisions: a pure function from an {@link Observation} to the one next {@link
 * Action}. No I/O and no clock but the observation's, so every branch is tested without a cluster,
 * and the simulation runs exactly this code.
 *
 * <p>The rules, in order: a paused resource calls nothing; a failed call waits out its back-off;
 * bad input calls nothing; a call goes to the account spec names only while that account selects
 * the namespace, and to the account status records only to clean up what status records; another
 * holder's live lease is waited out; an upload whose result is unknown is looked up before anything
 * replaces it or uploads again, and counts as never stored only after two lookups a window apart
 * found nothing; a replaced CSR is superseded before the new one is uploaded; a CSR is deleted only
 * when status records it as this resource's, and an adopted one only with the private key to prove
 * possession; a CSR counts as gone only after two NotFound answers a window apart.
 */
final class Decider {
  /** How long after a lease's end another process takes over: covers small clock skew. */
  static final Duration TAKEOVER_GRACE = Duration.ofSeconds(1);

  /** Why a record is written when CAS lost the current CSR. */
  static final String MISSING = "missing in CAS";

  private Decider() {}

  static Action decide(Observation o) {
    AliyunCsr resource = o.resource();
    AliyunCsrStatus record = StatusBuilder.copyRecord(resource.getStatus());
    boolean expiredLease =
        record.getLease() != null && o.foreignLease().isEmpty() && o.ownLease().isEmpty();
    if (expiredLease) {
      // Its holder is gone or too late; its upload, if any, is a pending one and is looked up.
      record.setLease(null);
    }
    // 0. People steer: a paused resource calls nothing (an Orphan deletion calls nothing anyway).
    if (o.steering().paused() && !orphaning(o)) {
      return new Action.Pause();
    }
    if (resource.getSpec() == null) {
      // No spec was ever uploaded from (CEL keeps a spec once a CSR is held): nothing in CAS.
      if (o.deleting()) {
        return o.hasFinalizer() ? new Action.RemoveFinalizer() : settleGone();
      }
      return new Action.Settle(Failures.stalled(Reasons.INVALID_SPEC, "spec is required"));
    }
    if (o.deleting()) {
      return decideDeletion(o, record);
    }
    if (o.steering().hold().isPresent()) {
      return new Action.Hold(o.steering().hold().get());
    }
    // 1. Where calls may go: the account spec names, only while it selects this namespace.
    if (o.routes().refusal().isPresent()) {
      return new Action.Settle(o.routes().refusal().get());
    }
    CasRoute.Access via = o.routes().desired().orElseThrow();
    // A finalizer removed by hand is put back first: CAS may hold a CSR that deletion must honour.
    if (!o.hasFinalizer() && (hasAnything(record) || o.recordLost())) {
      return new Action.AddFinalizer();
    }
    // A status that was lost is restored (as pending uploads) before anything writes a new one.
    if (o.recordLost() && o.foreignLease().isEmpty()) {
      if (!o.inputs().isValid()) {
        // Nothing to look for without the CSR: keep the status reading as lost until it is back.
        return new Action.Settle(Failures.of(o.inputs().problem()), true);
      }
      return restore(o, record, via);
    }
    // Replaced CSRs go first, whatever the Secret says now: they need nothing from it.
    if (o.foreignLease().isEmpty() && !list(record.getSupersededCsrs()).isEmpty()) {
      if (policy(resource) == DeletionPolicy.Delete) {
        return cleanUp(o, record.getSupersededCsrs().get(0), via);
      }
      // Orphan now: the policy in force when the deletion happens counts, so they are released.
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      next.setSupersededCsrs(null);
      return new Action.WriteRecord(next, Optional.empty(), "released");
    }
    // 2. Inputs: bad input never reaches CAS.
    if (!o.inputs().isValid()) {
      return new Action.Settle(Failures.of(o.inputs().problem()));
    }
    CsrFacts csr = o.inputs().value().csr();
    // 3. Another process is uploading: wait for its lease to end.
    if (o.foreignLease().isPresent()) {
      return waitForLease(o);
    }
    // The lease this reconcile just took: its pending upload is the one being made now. The
    // finalizer goes on after the lease and before the call: a status holding a record is then
    // the only way to a finalizer, so a finalizer without a status means the status was lost.
    if (o.ownLease().isPresent()) {
      return o.hasFinalizer() ? new Action.Upload(via) : new Action.AddFinalizer();
    }
    boolean adopting = resource.getSpec().getCsrId() != null;
    // 4. Uploads whose result is unknown are resolved before anything else happens.
    List<CasCsrRef> unresolved = list(record.getPendingUploads());
    if (!unresolved.isEmpty()) {
      return resolve(o, record, unresolved, csr, adopting, via);
    }
    // 5. Adoption: bound to spec.csrId, never uploads.
    if (adopting) {
      return decideAdoption(o, record, csr, via);
    }
    // 6. A replaced CSR is superseded before the new one goes up.
    if (record.getCsrId() != null && !csr.csrSha256().equals(record.getCsrSha256())) {
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      supersede(next, current(record), policy(resource));
      StatusBuilder.clearCurrent(next);
      return new Action.WriteRecord(
          next,
          Optional.of(
              Outcome.progressing(
                  Reasons.UPLOADING,
                  "The CSR in the Secret changed; replacing CsrId " + record.getCsrId(),
                  null)),
          "superseded");
    }
    if (record.getCsrId() != null) {
      return drift(o, record, false, via).orElseGet(() -> decideReady(o, record, false, via));
    }
    // 7. The CSR came back to one this resource uploaded before and still holds: use that one.
    Optional<CasCsrRef> earlier =
        list(record.getSupersededCsrs()).stream()
            .filter(r -> csr.csrSha256().equals(r.getCsrSha256()))
            .filter(r -> Objects.equals(o.uploadName(), r.getUploadName()))
            .findFirst();
    if (earlier.isPresent()) {
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      List<CasCsrRef> superseded = new ArrayList<>(list(next.getSupersededCsrs()));
      superseded.remove(earlier.get());
      next.setSupersededCsrs(superseded.isEmpty() ? null : superseded);
      StatusBuilder.setCurrent(
          next,
          new UploadedCsr(
              earlier.get().getCsrId(),
              null,
              o.uploadName(),
              csr,
              false,
              StatusBuilder.rfc3339(o.now())));
      return new Action.WriteRecord(
          next,
          Optional.of(
              Outcome.ready(
                  Reasons.RECOVERED,
                  "The CSR is again the one uploaded as CsrId " + earlier.get().getCsrId())),
          "reinstated");
    }
    // 8. Nothing in CAS, nothing pending: upload under a lease.
    return new Action.TakeLease(via, o.uploadName(), csr.csrSha256());
  }

  private static Action decideDeletion(Observation o, AliyunCsrStatus record) {
    if (!o.hasFinalizer()) {
      return settleGone();
    }
    if (policy(o.resource()) == DeletionPolicy.Orphan) {
      return new Action.RemoveFinalizer();
    }
    if (!hasAnything(record)) {
      // Status records nothing. Only a lost status may hide an upload, and only the account that
      // selects this namespace now may be asked about it; anything else is released untouched.
      boolean restorable =
          o.recordLost()
              && o.routes().desired().isPresent()
              && o.inputs() != null
              && o.inputs().isValid();
      if (restorable && o.foreignLease().isEmpty()) {
        return restore(o, record, o.routes().desired().get());
      }
      return new Action.RemoveFinalizer();
    }
    // Cleanup goes through the account that holds the record, whatever its selector says now.
    CasRoute.Access via = o.routes().holding().orElseThrow();
    if (o.foreignLease().isPresent()) {
      return waitForLease(o);
    }
    List<CasCsrRef> unresolved = list(record.getPendingUploads());
    if (!unresolved.isEmpty()) {
      Optional<Action> early = tooEarlyToAskAgain(o, unresolved);
      if (early.isPresent()) {
        return early.get();
      }
      Optional<Action> lookUp = lookUpFirst(o, unresolved, via);
      if (lookUp.isPresent()) {
        return lookUp.get();
      }
      // Every upload this resource may have made is found, so none is left behind.
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      Optional<Action> waiting = notFoundYet(o, next, unresolved);
      if (waiting.isPresent()) {
        return waiting.get();
      }
      for (CasCsrRef ref : unresolved) {
        for (CasCsrRef found : o.cas().lookups().get(ref).found()) {
          addSuperseded(next, found);
        }
      }
      next.setPendingUploads(null);
      return new Action.WriteRecord(
          next, Optional.of(deleting("Looked up unknown uploads")), "lookup");
    }
    if (record.getCsrId() != null) {
      // Status stops naming the CSR before it is deleted: Ready never names a deleted CsrId.
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      addSuperseded(next, current(record));
      StatusBuilder.clearCurrent(next);
      return new Action.WriteRecord(
          next, Optional.of(deleting("Deleting CsrId " + record.getCsrId())), "deleting");
    }
    List<CasCsrRef> superseded = list(record.getSupersededCsrs());
    if (!superseded.isEmpty()) {
      return cleanUp(o, superseded.get(0), via);
    }
    return new Action.RemoveFinalizer();
  }

  /**
   * Delete a CSR the record holds. An adopted CSR is someone else's upload: it is deleted only when
   * the private key in keySecretRef proves possession of it; otherwise it is released untouched.
   */
  private static Action cleanUp(Observation o, CasCsrRef csr, CasRoute.Access via) {
    if (isAdopted(o.resource(), csr) && !possesses(o, csr)) {
      return new Action.ReleaseCsr(
          csr,
          Reasons.CSR_NOT_PROVEN,
          "Adopted CsrId "
              + csr.getCsrId()
              + " is not deleted from CAS: spec.keySecretRef holds no private key of it (proof of"
              + " possession); it is released as it is");
    }
    return new Action.DeleteCsr(via, csr);
  }

  /** The private key in keySecretRef belongs to {@code csr}: the CSR's public key is the key's. */
  private static boolean possesses(Observation o, CasCsrRef csr) {
    return o.inputs() != null
        && o.inputs().isValid()
        && o.inputs().value().key().isPresent()
        && csr.getPublicKeySha256() != null
        && csr.getPublicKeySha256().equals(o.inputs().value().csr().publicKeySha256());
  }

  /** The first of {@code refs} this reconcile has not looked up yet, as a LookUp of all of them. */
  private static Optional<Action> lookUpFirst(
      Observation o, List<CasCsrRef> refs, CasRoute.Access via) {
    List<CasCsrRef> missing = refs.stream().filter(r -> !o.cas().lookups().containsKey(r)).toList();
    return missing.isEmpty()
        ? Optional.empty()
        : Optional.of(new Action.LookUp(via, List.copyOf(missing)));
  }

  /**
   * Pending uploads that a lookup found nothing of count as never stored only after a second
   * lookup, at least the window after the first, found nothing too: CAS may not list a CSR at once
   * (read-after-write lag). The first empty answer is recorded (notFoundAt); until the window has
   * passed the resource waits, writing nothing more.
   */
  private static Optional<Action> notFoundYet(
      Observation o, AliyunCsrStatus next, List<CasCsrRef> unresolved) {
    boolean marked = false;
    Instant due = null;
    for (CasCsrRef ref : unresolved) {
      Observation.Lookup lookup = o.cas().lookups().get(ref);
      if (!lookup.found().isEmpty()) {
        continue;
      }
      if (ref.getNotFoundAt() == null) {
        pendingRef(next, ref).setNotFoundAt(StatusBuilder.rfc3339(lookup.at()));
        marked = true;
        continue;
      }
      Instant ready = Instant.parse(ref.getNotFoundAt()).plus(o.missingWindow());
      if (lookup.at().isBefore(ready)) {
        due = due == null || ready.isBefore(due) ? ready : due;
      }
    }
    if (marked) {
      return Optional.of(
          new Action.WriteRecord(
              next,
              Optional.of(
                  Outcome.progressing(
                      o.deleting() ? Reasons.DELETING : Reasons.RESULT_UNKNOWN,
                      "An upload of unknown result is not in CAS yet; asking again in "
                          + seconds(o.missingWindow())
                          + " before taking it as never stored",
                      o.missingWindow())),
              "not found yet"));
    }
    if (due != null) {
      Duration wait = Duration.between(o.now(), due);
      return Optional.of(
          new Action.Hold(
              Outcome.progressing(
                  o.deleting() ? Reasons.DELETING : Reasons.RESULT_UNKNOWN,
                  "An upload of unknown result is not in CAS yet; asking again in "
                      + seconds(wait)
                      + " before taking it as never stored",
                  wait.isNegative() ? Duration.ofMillis(100) : wait.plusMillis(100))));
    }
    return Optional.empty();
  }

  /**
   * A pending upload that CAS did not list once is asked about again only after the window: until
   * then the resource waits, calling nothing.
   */
  private static Optional<Action> tooEarlyToAskAgain(Observation o, List<CasCsrRef> unresolved) {
    Instant due = null;
    for (CasCsrRef ref : unresolved) {
      if (ref.getNotFoundAt() != null && !o.cas().lookups().containsKey(ref)) {
        Instant ready = Instant.parse(ref.getNotFoundAt()).plus(o.missingWindow());
        due = due == null || ready.isAfter(due) ? ready : due;
      }
    }
    if (due == null || !o.now().isBefore(due)) {
      return Optional.empty();
    }
    Duration wait = Duration.between(o.now(), due);
    return Optional.of(
        new Action.Hold(
            Outcome.progressing(
                o.deleting() ? Reasons.DELETING : Reasons.RESULT_UNKNOWN,
                "An upload of unknown result is not in CAS yet; asking again in "
                    + seconds(wait)
                    + " before taking it as never stored",
                wait.plusMillis(100))));
  }

  private static CasCsrRef pendingRef(AliyunCsrStatus next, CasCsrRef ref) {
    return next.getPendingUploads().stream().filter(ref::equals).findFirst().orElseThrow();
  }

  /**
   * The status is gone but the resource may have uploaded: its current CSR under its own name
   * becomes pending, and a lease held by no process keeps everyone from uploading until any call
   * that was in flight when the status went has ended. Then it is looked up as usual: found, it is
   * this resource's again (a restore re-attaches, never re-uploads). Only this CSR under this name:
   * a different CSR under the same mark (a predecessor's, kept by Orphan) is never claimed, and
   * what the annotations say is never proof.
   */
  private static Action restore(Observation o, AliyunCsrStatus record, CasRoute.Access via) {
    AliyunCsrStatus next = StatusBuilder.copyRecord(record);
    CasCsrRef ref = new CasCsrRef(null, o.uploadName(), o.inputs().value().csr().csrSha256());
    next.setPendingUploads(new ArrayList<>(List.of(ref)));
    next.setLease(o.restoreLease());
    next.setAccount(via.account());
    return new Action.WriteRecord(
        next,
        Optional.of(
            Outcome.progressing(
                Reasons.UPLOADING,
                "The status was lost; looking up in CAS what this resource uploaded before",
                null)),
        "restore");
  }

  private static Action resolve(
      Observation o,
      AliyunCsrStatus record,
      List<CasCsrRef> unresolved,
      CsrFacts csr,
      boolean adopting,
      CasRoute.Access via) {
    Optional<Action> early = tooEarlyToAskAgain(o, unresolved);
    if (early.isPresent()) {
      return early.get();
    }
    Optional<Action> lookUp = lookUpFirst(o, unresolved, via);
    if (lookUp.isPresent()) {
      return lookUp.get();
    }
    AliyunCsrStatus next = StatusBuilder.copyRecord(record);
    Optional<Action> waiting = notFoundYet(o, next, unresolved);
    if (waiting.isPresent()) {
      return waiting.get();
    }
    boolean noneFound =
        unresolved.stream().anyMatch(ref -> o.cas().lookups().get(ref).found().isEmpty());
    if (noneFound && via.reuploadBlock().isPresent()) {
      // The handle may reach another Alibaba Cloud account: "none found" there does not make an
      // upload of unknown result (or a restore's) never stored, so nothing is uploaded again.
      return new Action.Settle(
          Failures.stalled(
              Reasons.RESULT_UNKNOWN,
              "An upload of unknown result is not in CAS, but it is not taken as never stored: "
                  + via.reuploadBlock().get()));
    }
    DeletionPolicy policy = policy(o.resource());
    // What the lookups found, once each: this CSR (under the name it was looked up by), or an
    // earlier one of this resource.
    Map<Long, CasCsrRef> current = new LinkedHashMap<>();
    Map<Long, CasCsrRef> earlier = new LinkedHashMap<>();
    for (CasCsrRef ref : unresolved) {
      for (CasCsrRef found : o.cas().lookups().get(ref).found()) {
        boolean isCurrent = !adopting && csr.csrSha256().equals(found.getCsrSha256());
        (isCurrent ? current : earlier).put(found.getCsrId(), found);
      }
      removePending(next, ref);
    }
    if (current.size() > 1) {
      return new Action.Settle(
          Failures.stalled(
              Reasons.DUPLICATE_EXTERNAL_RESOURCES,
              "CAS holds "
                  + current.size()
                  + " CSRs named "
                  + current.values().iterator().next().getUploadName()
                  + " for this CSR (CsrIds "
                  + current.keySet()
                  + "); delete all but one in CAS, or set spec.csrId to the one to keep"));
    }
    Optional<Outcome> outcome = Optional.empty();
    for (CasCsrRef found : current.values()) {
      if (next.getCsrId() == null) {
        StatusBuilder.setCurrent(
            next,
            new UploadedCsr(
                found.getCsrId(),
                null,
                found.getUploadName(),
                csr,
                false,
                StatusBuilder.rfc3339(o.now())));
        next.setAccount(via.account());
        String message =
            "Recovered the earlier upload of CSR "
                + found.getUploadName()
                + " as CsrId "
                + found.getCsrId();
        // Ready only once CAS is known to hold the key too: it is checked, and sent, next.
        outcome =
            Optional.of(
                o.inputs().value().key().isPresent()
                    ? Outcome.progressing(
                        Reasons.RECOVERED, message + "; checking that CAS holds its key", null)
                    : Outcome.ready(Reasons.RECOVERED, message));
      } else if (!next.getCsrId().equals(found.getCsrId())) {
        supersede(next, found, policy);
      }
    }
    // An earlier CSR of this resource: superseded, then deleted or kept by the policy.
    for (CasCsrRef found : earlier.values()) {
      if (!Objects.equals(next.getCsrId(), found.getCsrId())) {
        supersede(next, found, policy);
      }
    }
    return new Action.WriteRecord(next, outcome, "lookup");
  }

  private static Action decideAdoption(
      Observation o, AliyunCsrStatus record, CsrFacts csr, CasRoute.Access via) {
    long wanted = o.resource().getSpec().getCsrId();
    if (record.getCsrId() != null && record.getCsrId() == wanted) {
      // What CAS says now comes first: a CSR that is gone is gone, whatever the Secret holds.
      Optional<Action> drifted = drift(o, record, true, via);
      if (drifted.isPresent()) {
        return drifted.get();
      }
      if (!csr.publicKeySha256().equals(record.getPublicKeySha256())) {
        return new Action.Settle(
            Failures.stalled(
                Reasons.ADOPTION_MISMATCH,
                "CSR "
                    + wanted
                    + " in CAS does not have the public key of the CSR in spec.csrSecretRef (CAS: "
                    + shortHash(record.getPublicKeySha256())
                    + ", Secret: "
                    + shortHash(csr.publicKeySha256())
                    + "); the adopted CSR is kept"));
      }
      return decideReady(o, record, true, via);
    }
    // One CSR has one owner: a CsrId another resource records, or adopts first, is never taken.
    if (o.claims().isPresent()) {
      return new Action.Settle(
          Failures.stalled(
              Reasons.ADOPTION_CONFLICT,
              "spec.csrId " + wanted + " is not adopted: " + o.claims().get()));
    }
    Optional<Observation.Adoption> seen = o.cas().adoption().filter(a -> a.csrId() == wanted);
    if (seen.isEmpty()) {
      return new Action.CheckAdoption(via, wanted);
    }
    Observation.Adoption adoption = seen.get();
    if (adoption.detail().isEmpty()) {
      return new Action.Settle(
          Failures.stalled(
              Objects.equals(record.getMissingCsrId(), wanted)
                      || readyReasonWas(o.resource(), Reasons.ADOPTED_CSR_GONE)
                  ? Reasons.ADOPTED_CSR_GONE
                  : Reasons.ADOPTION_NOT_FOUND,
              "spec.csrId "
                  + wanted
                  + " does not exist in CAS"
                  + (adoption.notFoundCode() == null ? "" : " (" + adoption.notFoundCode() + ")")));
    }
    if (adoption.anotherMark()) {
      return new Action.Settle(
          Failures.stalled(
              Reasons.ADOPTION_CONFLICT,
              "spec.csrId "
                  + wanted
                  + " is not adopted: CAS names it "
                  + adoption.casName().orElse("?")
                  + ", the upload of another AliyunCsr of this operator"));
    }
    if (!csr.publicKeySha256().equals(adoption.publicKeySha256().orElse(null))) {
      return new Action.Settle(
          Failures.stalled(
              Reasons.ADOPTION_MISMATCH,
              "CSR "
                  + wanted
                  + " in CAS does not have the public key of the CSR in spec.csrSecretRef"
                  + adoption
                      .publicKeySha256()
                      .map(
                          k ->
                              " (CAS: "
                                  + shortHash(k)
                                  + ", Secret: "
                                  + shortHash(csr.publicKeySha256())
                                  + ")")
                      .orElse(" (CAS returned a CSR that does not parse)")));
    }
    AliyunCsrStatus next = StatusBuilder.copyRecord(record);
    if (next.getCsrId() != null) {
      supersede(next, current(next), policy(o.resource()));
    }
    if (!o.hasFinalizer()) {
      // Bound from here on: deleting the resource may delete the adopted CSR.
      return new Action.AddFinalizer();
    }
    var detail = adoption.detail().get();
    next.setLease(null);
    next.setAccount(via.account());
    StatusBuilder.setCurrent(
        next,
        new UploadedCsr(
            wanted,
            detail.requestId(),
            adoption.casName().orElse(null),
            csr,
            detail.hasPrivateKey(),
            StatusBuilder.rfc3339(o.now())));
    return new Action.WriteRecord(
        next,
        Optional.of(
            Outcome.ready(
                Reasons.ADOPTED, "Adopted CSR " + wanted + readyKeyNote(detail.hasPrivateKey()))),
        "adopted");
  }

  /** CAS holds this resource's CSR: send the key, then say Ready. */
  private static Action decideReady(
      Observation o, AliyunCsrStatus record, boolean adopted, CasRoute.Access via) {
    // Replaced CSRs were cleaned up before the inputs were looked at (decide).
    boolean keyWanted = o.inputs().value().key().isPresent();
    if (keyWanted && !Boolean.TRUE.equals(record.getPrivateKeyUploaded())) {
      return new Action.SendKey(via, current(record), adopted);
    }
    if (o.resource().getStatus().getLease() != null && o.ownLease().isEmpty()) {
      return new Action.WriteRecord(record, Optional.empty(), "expired lease");
    }
    String reason = readyReason(o.resource(), adopted);
    return new Action.Settle(Outcome.ready(reason, readyMessage(reason, record)));
  }

  /**
   * How the current CSR came to be: Adopted, Recovered or Reuploaded (as the Ready condition says),
   * Uploaded.
   */
  static String readyReason(AliyunCsr resource, boolean adopted) {
    if (adopted) {
      return Reasons.ADOPTED;
    }
    if (readyReasonWas(resource, Reasons.RECOVERED)) {
      return Reasons.RECOVERED;
    }
    return readyReasonWas(resource, Reasons.REUPLOADED) ? Reasons.REUPLOADED : Reasons.UPLOADED;
  }

  private static boolean readyReasonWas(AliyunCsr resource, String reason) {
    return resource.getStatus() != null
        && resource
            .getStatus()
            .condition(StatusBuilder.READY)
            .map(c -> reason.equals(c.getReason()))
            .orElse(false);
  }

  /**
   * What CAS says about the current CSR, when it is to be confirmed: ask it (GetCsrDetail); found,
   * any earlier NotFound is forgotten; NotFound once, it is recorded and asked again a window later
   * (CAS may answer NotFound for a moment after an upload); NotFound again after the window, it is
   * gone, unless the account is suspected of pointing elsewhere. A private key CAS lost is sent
   * again.
   */
  private static Optional<Action> drift(
      Observation o, AliyunCsrStatus record, boolean adopted, CasRoute.Access via) {
    Optional<Observation.Confirmation> seen =
        o.cas().confirmation().filter(c -> Objects.equals(c.csrId(), record.getCsrId()));
    if (seen.isPresent() && !seen.get().via().equals(via)) {
      // The account changed since CAS was asked (its handle switched, its re-upload block rose or
      // fell): that answer says nothing about the account as it is now. Ask again through it.
      return Optional.of(new Action.Confirm(via, record.getCsrId()));
    }
    if (seen.isEmpty()) {
      return o.steering().confirm()
          ? Optional.of(new Action.Confirm(via, record.getCsrId()))
          : Optional.empty();
    }
    Observation.Confirmation confirmation = seen.get();
    if (confirmation.detail().isEmpty()) {
      if (record.getNotFoundAt() == null) {
        AliyunCsrStatus next = StatusBuilder.copyRecord(record);
        next.setNotFoundAt(StatusBuilder.rfc3339(confirmation.at()));
        return Optional.of(
            new Action.WriteRecord(
                next,
                Optional.of(
                    Outcome.ready(
                            readyReason(o.resource(), adopted),
                            readyMessage(readyReason(o.resource(), adopted), record)
                                + "; CAS answered NotFound for it, asking again in "
                                + seconds(o.missingWindow()))
                        .withRequeue(o.missingWindow())),
                "not found once"));
      }
      Instant due = Instant.parse(record.getNotFoundAt()).plus(o.missingWindow());
      if (confirmation.at().isBefore(due)) {
        Duration wait = Duration.between(o.now(), due);
        return Optional.of(
            new Action.Hold(
                Outcome.ready(
                        readyReason(o.resource(), adopted),
                        readyMessage(readyReason(o.resource(), adopted), record))
                    .withRequeue(wait.isNegative() ? Duration.ofMillis(100) : wait)));
      }
      if (via.reuploadBlock().isPresent()) {
        // The handle may reach another Alibaba Cloud account: a NotFound there proves nothing. An
        // adopted CSR is not uploaded again, but it is not taken as gone either, or its record
        // would go and another resource could adopt it before the handle comes back.
        return Optional.of(
            new Action.Settle(
                Failures.stalled(
                    Reasons.CSR_MISSING_IN_CAS,
                    "CAS says CsrId "
                        + record.getCsrId()
                        + " does not exist, but it is not "
                        + (adopted ? "taken as gone" : "uploaded again")
                        + ": "
                        + via.reuploadBlock().get())));
      }
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      Outcome outcome = missing(next, adopted);
      return Optional.of(new Action.WriteRecord(next, Optional.of(outcome), MISSING));
    }
    if (record.getNotFoundAt() != null) {
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      next.setNotFoundAt(null);
      return Optional.of(new Action.WriteRecord(next, Optional.empty(), "found again"));
    }
    if (Boolean.TRUE.equals(record.getPrivateKeyUploaded())
        && !confirmation.detail().get().hasPrivateKey()) {
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      next.setPrivateKeyUploaded(false);
      boolean canSend = o.inputs().value().key().isPresent();
      return Optional.of(
          new Action.WriteRecord(
              next,
              Optional.of(
                  Outcome.progressing(
                      Reasons.CSR_CHANGED_IN_CAS,
                      "CAS no longer holds the private key of CsrId "
                          + record.getCsrId()
                          + (canSend
                              ? "; sending it again"
                              : "; spec.keySecretRef names no key to send"),
                      null)),
              "key lost in CAS"));
    }
    return Optional.empty();
  }

  /**
   * The current CSR is gone from CAS: status stops naming it. An uploaded CSR is uploaded again
   * (once, under a lease, as any upload); an adopted one is someone else's and cannot be recreated.
   */
  static Outcome missing(AliyunCsrStatus next, boolean adopted) {
    long id = next.getCsrId();
    StatusBuilder.clearCurrent(next);
    // Remembered in status: an adopted CSR that is gone stays AdoptedCsrGone through any failure.
    next.setMissingCsrId(id);
    if (adopted) {
      return Failures.stalled(
          Reasons.ADOPTED_CSR_GONE,
          "The adopted CSR "
              + id
              + " (spec.csrId) is no longer in CAS, and the operator cannot recreate a CSR it did"
              + " not upload; set spec.csrId on a new resource, or delete this one");
    }
    return Outcome.progressing(
        Reasons.CSR_MISSING_IN_CAS,
        "CsrId "
            + id
            + " is no longer in CAS (deleted outside the operator); uploading the CSR again",
        null);
  }

  static String readyMessage(String reason, AliyunCsrStatus record) {
    String what =
        switch (reason) {
          case Reasons.RECOVERED -> "Recovered the earlier upload of CSR " + record.getUploadName();
          case Reasons.REUPLOADED ->
              "CAS lost CsrId "
                  + record.getMissingCsrId()
                  + "; uploaded CSR "
                  + record.getUploadName()
                  + " again";
          case Reasons.ADOPTED -> "Adopted CSR";
          default -> "Uploaded CSR " + record.getUploadName();
        };
    return what
        + " as CsrId "
        + record.getCsrId()
        + readyKeyNote(Boolean.TRUE.equals(record.getPrivateKeyUploaded()));
  }

  private static String readyKeyNote(boolean withKey) {
    return withKey ? " with its private key" : "";
  }

  private static Action waitForLease(Observation o) {
    var lease = o.foreignLease().get();
    Instant end = Instant.parse(lease.getExpiresAt()).plus(TAKEOVER_GRACE);
    Duration wait = Duration.between(o.now(), end);
    return new Action.Settle(
        Failures.waiting(
            Reasons.UPLOAD_IN_PROGRESS,
            "Operator " + lease.getHolder() + " is uploading this CSR; waiting for it to finish",
            wait.isNegative() ? Duration.ofMillis(100) : wait.plusMillis(100)));
  }

  static boolean isAdopted(AliyunCsr resource, CasCsrRef ref) {
    return resource.getSpec() != null
        && resource.getSpec().getCsrId() != null
        && resource.getSpec().getCsrId().equals(ref.getCsrId());
  }

  static boolean hasAnything(AliyunCsrStatus record) {
    return record.getCsrId() != null
        || !list(record.getPendingUploads()).isEmpty()
        || !list(record.getSupersededCsrs()).isEmpty()
        || record.getLease() != null;
  }

  /** The current CSR as a reference; an adopted one is proven by its public key. */
  static CasCsrRef current(AliyunCsrStatus record) {
    CasCsrRef ref = new CasCsrRef(record.getCsrId(), record.getUploadName(), record.getCsrSha256());
    ref.setPublicKeySha256(record.getPublicKeySha256());
    return ref;
  }

  private static void supersede(AliyunCsrStatus next, CasCsrRef ref, DeletionPolicy policy) {
    if (policy == DeletionPolicy.Delete) {
      addSuperseded(next, ref);
    }
  }

  private static void addSuperseded(AliyunCsrStatus next, CasCsrRef ref) {
    List<CasCsrRef> superseded = new ArrayList<>(list(next.getSupersededCsrs()));
    if (superseded.stream().noneMatch(r -> Objects.equals(r.getCsrId(), ref.getCsrId()))) {
      superseded.add(ref);
    }
    next.setSupersededCsrs(superseded);
  }

  static void removePending(AliyunCsrStatus next, CasCsrRef ref) {
    List<CasCsrRef> pending = new ArrayList<>(list(next.getPendingUploads()));
    pending.remove(ref);
    next.setPendingUploads(pending.isEmpty() ? null : pending);
  }

  private static Outcome deleting(String message) {
    return Outcome.progressing(Reasons.DELETING, message, null);
  }

  private static Action settleGone() {
    return new Action.Settle(Outcome.progressing(Reasons.DELETING, "Released", null));
  }

  private static boolean orphaning(Observation o) {
    return o.deleting() && policy(o.resource()) == DeletionPolicy.Orphan;
  }

  static DeletionPolicy policy(AliyunCsr resource) {
    return resource.getSpec() == null
        ? DeletionPolicy.Delete
        : resource.getSpec().effectiveDeletionPolicy();
  }

  static <T> List<T> list(List<T> values) {
    return values == null ? List.of() : values;
  }

  private static String shortHash(String hash) {
    return hash == null ? "?" : hash.substring(0, Math.min(12, hash.length()));
  }

  static String seconds(Duration d) {
    return Math.max(1, (d.toMillis() + 999) / 1000) + "s";
  }
}
