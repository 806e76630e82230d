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
 * <p>The rules, in order: bad input and name conflicts call nothing in CAS; another holder's live
 * lease is waited out; an upload whose result is unknown is looked up before anything replaces it
 * or uploads again; a replaced CSR is superseded before the new one is uploaded; a CSR is deleted
 * or sent a key only after CAS proves it is this resource's.
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
    if (resource.getSpec() == null) {
      // No spec was ever uploaded from (CEL keeps a spec once a CSR is held): nothing in CAS.
      if (o.deleting()) {
        return o.hasFinalizer() ? new Action.RemoveFinalizer() : settleGone();
      }
      return new Action.Settle(Failures.stalled(Reasons.INVALID_SPEC, "spec is required"));
    }
    if (o.deleting()) {
      if (o.recordLost() && o.foreignLease().isEmpty() && !orphaning(o)) {
        return restore(o, record);
      }
      return decideDeletion(o, record);
    }
    // A finalizer removed by hand is put back first: CAS may hold a CSR that deletion must honour.
    if (!o.hasFinalizer() && (hasAnything(record) || o.recordLost())) {
      return new Action.AddFinalizer();
    }
    // 1. Names identify their owner: the later of two resources with one name calls nothing.
    if (o.conflict().isPresent()) {
      AliyunCsr other = o.conflict().get();
      return new Action.Settle(
          Failures.stalled(
              Reasons.UPLOAD_NAME_CONFLICT,
              "AliyunCsr "
                  + other.getMetadata().getNamespace()
                  + "/"
                  + other.getMetadata().getName()
                  + ", created earlier, uploads under the same name "
                  + o.uploadName()
                  + "; give this resource another spec.name"));
    }
    // A status that was lost is restored (as pending uploads) before anything writes a new one.
    if (o.recordLost() && o.foreignLease().isEmpty()) {
      return restore(o, record);
    }
    // Replaced CSRs go first, whatever the Secret says now: they need nothing from it.
    if (o.foreignLease().isEmpty() && !list(record.getSupersededCsrs()).isEmpty()) {
      if (policy(resource) == DeletionPolicy.Delete) {
        CasCsrRef first = record.getSupersededCsrs().get(0);
        return new Action.DeleteCsr(first, isAdopted(resource, first));
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
      return o.hasFinalizer() ? new Action.Upload() : new Action.AddFinalizer();
    }
    boolean adopting = resource.getSpec().getCsrId() != null;
    // 4. Uploads whose result is unknown are resolved before anything else happens.
    List<CasCsrRef> unresolved = unresolved(o, record);
    if (!unresolved.isEmpty()) {
      return resolve(o, record, unresolved, csr, adopting);
    }
    // 5. Adoption: bound to spec.csrId, never uploads.
    if (adopting) {
      return decideAdoption(o, record, csr);
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
      return drift(o, record, false).orElseGet(() -> decideReady(o, record, false));
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
    return new Action.TakeLease(o.uploadName(), csr.csrSha256());
  }

  private static Action decideDeletion(Observation o, AliyunCsrStatus record) {
    if (!o.hasFinalizer()) {
      return settleGone();
    }
    if (policy(o.resource()) == DeletionPolicy.Orphan) {
      return new Action.RemoveFinalizer();
    }
    if (o.foreignLease().isPresent()) {
      return waitForLease(o);
    }
    List<CasCsrRef> unresolved = unresolved(o, record);
    if (!unresolved.isEmpty()) {
      // Every upload this resource may have made is found, so none is left behind.
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      for (CasCsrRef ref : unresolved) {
        for (CasCsrRef found : o.found().getOrDefault(ref, List.of())) {
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
      CasCsrRef first = superseded.get(0);
      return new Action.DeleteCsr(first, isAdopted(o.resource(), first));
    }
    return new Action.RemoveFinalizer();
  }

  /** Uploads whose result is unknown. */
  private static List<CasCsrRef> unresolved(Observation o, AliyunCsrStatus record) {
    return list(record.getPendingUploads());
  }

  /**
   * The status is gone but the resource may have uploaded: what it may have uploaded becomes
   * pending, and a lease held by no process keeps everyone from uploading until any call that was
   * in flight when the status went has ended. Then the pending uploads are looked up as usual.
   */
  private static Action restore(Observation o, AliyunCsrStatus record) {
    AliyunCsrStatus next = StatusBuilder.copyRecord(record);
    next.setPendingUploads(o.restore().isEmpty() ? null : new ArrayList<>(o.restore()));
    next.setLease(o.restore().isEmpty() ? null : o.restoreLease());
    next.setAccount(o.account());
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
      boolean adopting) {
    DeletionPolicy policy = policy(o.resource());
    AliyunCsrStatus next = StatusBuilder.copyRecord(record);
    // What the lookups found, once each: this CSR under this name, or an earlier one.
    Map<Long, CasCsrRef> current = new LinkedHashMap<>();
    Map<Long, CasCsrRef> earlier = new LinkedHashMap<>();
    for (CasCsrRef ref : unresolved) {
      for (CasCsrRef found : o.found().getOrDefault(ref, List.of())) {
        boolean isCurrent =
            !adopting
                && csr.csrSha256().equals(found.getCsrSha256())
                && Objects.equals(o.uploadName(), found.getUploadName());
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
                  + o.uploadName()
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

  private static Action decideAdoption(Observation o, AliyunCsrStatus record, CsrFacts csr) {
    long wanted = o.resource().getSpec().getCsrId();
    if (record.getCsrId() != null && record.getCsrId() == wanted) {
      // What CAS says now comes first: a CSR that is gone is gone, whatever the Secret holds.
      Optional<Action> drifted = drift(o, record, true);
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
      return decideReady(o, record, true);
    }
    Observation.Adoption adoption = o.adoption().orElseThrow();
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
    next.setAccount(o.account());
    StatusBuilder.setCurrent(
        next,
        new UploadedCsr(
            wanted,
            detail.requestId(),
            o.uploadName(),
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

  /** CAS holds this resource's CSR: clean up what it replaced, send the key, then say Ready. */
  private static Action decideReady(Observation o, AliyunCsrStatus record, boolean adopted) {
    // Replaced CSRs were cleaned up before the inputs were looked at (decide).
    boolean keyWanted = o.inputs().value().key().isPresent();
    if (keyWanted && !Boolean.TRUE.equals(record.getPrivateKeyUploaded())) {
      return new Action.SendKey(current(record), adopted);
    }
    if (o.resource().getStatus().getLease() != null && o.ownLease().isEmpty()) {
      return new Action.WriteRecord(record, Optional.empty(), "expired lease");
    }
    if (!annotationsMatch(o.resource(), record)) {
      return new Action.WriteAnnotations();
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
   * What a confirmation in CAS showed about the current CSR: nothing to act on, the CSR is gone
   * (confirmed by GetCsrDetail: ListCsr may lag), or CAS lost the private key this resource sent.
   */
  private static Optional<Action> drift(Observation o, AliyunCsrStatus record, boolean adopted) {
    Optional<Observation.Confirmation> seen =
        o.confirmation().filter(c -> Objects.equals(c.csrId(), record.getCsrId()));
    if (seen.isEmpty()) {
      return Optional.empty();
    }
    if (seen.get().detail().isEmpty()) {
      AliyunCsrStatus next = StatusBuilder.copyRecord(record);
      Outcome outcome = missing(next, adopted);
      return Optional.of(new Action.WriteRecord(next, Optional.of(outcome), MISSING));
    }
    if (Boolean.TRUE.equals(record.getPrivateKeyUploaded())
        && !seen.get().detail().get().hasPrivateKey()) {
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

  static boolean annotationsMatch(AliyunCsr resource, AliyunCsrStatus record) {
    return CasAnnotations.csrId(resource).equals(Optional.ofNullable(record.getCsrId()));
  }

  static boolean isAdopted(AliyunCsr resource, CasCsrRef ref) {
    return resource.getSpec() != null
        && resource.getSpec().getCsrId() != null
        && resource.getSpec().getCsrId().equals(ref.getCsrId());
  }

  private static boolean hasAnything(AliyunCsrStatus record) {
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

  /**
   * What a resource may have uploaded: its pending uploads, and when the status was lost, its
   * current CSR under its name and the CSR the intent annotation names. When the CSR is unknown too
   * (the Secret is broken) and the name is derived from this resource's UID, any CSR under the name
   * is this resource's: the reference then has no CSR hash.
   */
  static List<CasCsrRef> lookupsNeeded(
      AliyunCsr resource,
      AliyunCsrStatus status,
      boolean recordLost,
      String uploadName,
      String csrSha256) {
    List<CasCsrRef> refs =
        new ArrayList<>(list(status == null ? null : status.getPendingUploads()));
    if (recordLost && uploadName != null) {
      if (csrSha256 != null) {
        addOnce(refs, new CasCsrRef(null, uploadName, csrSha256));
      }
      CasAnnotations.intent(resource)
          .filter(i -> i.uploadName().equals(uploadName))
          .map(i -> new CasCsrRef(null, i.uploadName(), i.csrSha256()))
          .ifPresent(r -> addOnce(refs, r));
      if (uploadName.equals(UploadNames.derived(resource))) {
        // Any CSR under a name derived from this UID is this resource's, whatever its CSR.
        refs.add(new CasCsrRef(null, uploadName, null));
      }
    }
    return refs;
  }

  private static void addOnce(List<CasCsrRef> refs, CasCsrRef ref) {
    if (!refs.contains(ref)) {
      refs.add(ref);
    }
  }
}
