package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.UploadLease;
import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasClient.CsrDetail;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Performs the one {@link Action} the decider chose: one write, or one CAS call (with the write of
 * its result when it changes CAS). It decides nothing of its own beyond what the action says,
 * except what only the moment of the call can tell (the Secret changed under a lease, too little
 * lease left, the budget has no place yet).
 */
final class UploadExecutor {
  private static final Logger log = LoggerFactory.getLogger(UploadExecutor.class);
  private static final DateTimeFormatter MILLIS = DateTimeFormatter.ISO_INSTANT;

  private final StatusWriter writer;
  private final CasReads reads;
  private final Peers peers;
  private final Holds holds;
  private final RetryBackoff backoff;
  private final Clock clock;
  private final CrashPoints crashPoints;
  private final UploadProtocol.Settings settings;
  private final UploadProtocol.DriftListener drift;
  private final UploadObserver observer;
  private final CasRoute routes;

  UploadExecutor(
      StatusWriter writer,
      CasReads reads,
      Peers peers,
      Holds holds,
      RetryBackoff backoff,
      Clock clock,
      CrashPoints crashPoints,
      UploadProtocol.Settings settings,
      UploadProtocol.DriftListener drift,
      UploadObserver observer,
      CasRoute routes) {
    this.writer = writer;
    this.reads = reads;
    this.peers = peers;
    this.holds = holds;
    this.backoff = backoff;
    this.clock = clock;
    this.crashPoints = crashPoints;
    this.settings = settings;
    this.drift = drift;
    this.observer = observer;
    this.routes = routes;
  }

  /** What an act leaves: the object to observe next, or the end of the reconcile. */
  record Step(AliyunCsr object, UploadProtocol.Result result) {
    static Step next(AliyunCsr object) {
      return new Step(object, null);
    }

    static Step end(UploadProtocol.Result result) {
      return new Step(null, result);
    }
  }

  /** Thrown when the object must be read again from the API server. */
  static final class ReadAgain extends Exception {
    final boolean gone;

    ReadAgain(boolean gone) {
      super(null, null, false, false);
      this.gone = gone;
    }
  }

  Step act(Observation o, Action action, Cycle cycle, UploadProtocol.WriteListener listener)
      throws ReadAgain {
    AliyunCsr r = o.resource();
    try {
      if (action instanceof Action.Pause) {
        return Step.end(pause(r, listener));
      }
      if (action instanceof Action.Hold h) {
        return Step.end(new UploadProtocol.Result(h.outcome(), false, false));
      }
      if (action instanceof Action.Settle s) {
        return Step.end(settle(r, s.outcome(), s.statusLost(), cycle, listener));
      }
      if (action instanceof Action.AddFinalizer) {
        return Step.next(addFinalizer(o, listener));
      }
      if (action instanceof Action.RemoveFinalizer) {
        removeFinalizer(r, listener);
        return Step.end(UploadProtocol.Result.released());
      }
      if (action instanceof Action.LookUp a) {
        for (CasCsrRef ref : a.refs()) {
          Observation.Lookup found = reads.lookUp(a.via().cas(), ref, r, clock.instant());
          log.debug("{}: looked up {} in CAS: {}", StatusWriter.key(r), ref, found.found());
          cycle.lookups.put(ref, found);
        }
        return Step.next(r);
      }
      if (action instanceof Action.CheckAdoption a) {
        cycle.adoption = reads.adoption(a.via().cas(), r, a.csrId());
        return Step.next(r);
      }
      if (action instanceof Action.Confirm a) {
        return Step.next(confirm(r, a, cycle));
      }
      if (action instanceof Action.TakeLease a) {
        return takeLease(o, a, cycle, listener);
      }
      if (action instanceof Action.Upload a) {
        return upload(o, a, cycle, listener);
      }
      if (action instanceof Action.WriteRecord a) {
        return writeRecord(o, a, cycle, listener);
      }
      if (action instanceof Action.DeleteCsr a) {
        cycle.forgetCas();
        return Step.next(deleteCsr(r, a, listener));
      }
      if (action instanceof Action.ReleaseCsr a) {
        return Step.next(release(r, a, listener));
      }
      if (action instanceof Action.SendKey a) {
        cycle.forgetCas();
        return sendKey(o, a, cycle, listener);
      }
      throw new IllegalStateException("no act for " + action);
    } catch (KubeApi.WriteRefused e) {
      log.debug("{}: write refused ({}), reading it again", StatusWriter.key(r), e.getMessage());
      cycle.releasePermit();
      // Someone else wrote, perhaps on newer Secrets than ours: read those again too.
      cycle.inputs = null;
      cycle.forgetCas();
      throw new ReadAgain(e.gone());
    } catch (CasException e) {
      cycle.releasePermit();
      return Step.end(settle(r, failure(r, e, cycle), false, cycle, listener));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Step.end(
          new UploadProtocol.Result(
              Outcome.progressing(Reasons.UPLOADING, "interrupted", Duration.ofSeconds(1)),
              false,
              false));
    }
  }

  // ---- steering and settling --------------------------------------------------------------

  /**
   * Paused: no CAS call, and no write but the Paused condition (Ready is left as it was). A
   * deletion under Delete waits, and says so.
   */
  private UploadProtocol.Result pause(AliyunCsr r, UploadProtocol.WriteListener listener) {
    routes.cancel(r.getMetadata().getUid());
    boolean deleting = r.isMarkedForDeletion();
    String reason = deleting ? Reasons.DELETION_PAUSED : Reasons.PAUSED;
    String message =
        deleting
            ? "Deletion waits: the resource is paused (annotation "
                + CasAnnotations.PAUSED
                + "); remove the annotation, or set spec.deletionPolicy to Orphan"
            : "Paused by the annotation "
                + CasAnnotations.PAUSED
                + ": no call to CAS until it is removed";
    Outcome outcome = Outcome.progressing(reason, message, null);
    AliyunCsrStatus status = r.getStatus();
    List<CsrCondition> conditions = new ArrayList<>();
    Optional<CsrCondition> before = Optional.empty();
    if (status != null && status.getConditions() != null) {
      for (CsrCondition c : status.getConditions()) {
        if (StatusBuilder.PAUSED.equals(c.getType())) {
          before = Optional.of(c);
        } else {
          conditions.add(c);
        }
      }
    }
    boolean same =
        before
            .filter(c -> "True".equals(c.getStatus()))
            .filter(c -> reason.equals(c.getReason()) && message.equals(c.getMessage()))
            .isPresent();
    if (same) {
      return new UploadProtocol.Result(outcome, false, false);
    }
    String since =
        before
            .filter(c -> "True".equals(c.getStatus()) && c.getLastTransitionTime() != null)
            .map(CsrCondition::getLastTransitionTime)
            .orElse(StatusBuilder.rfc3339(clock.instant()));
    conditions.add(
        new CsrCondition(
            StatusBuilder.PAUSED, "True", reason, message, r.getMetadata().getGeneration(), since));
    try {
      // Conditions only: a status lost before the pause still reads as lost afterwards.
      writer.writeConditionsOnly(r, conditions, Optional.empty(), listener);
    } catch (KubeApi.WriteRefused e) {
      return new UploadProtocol.Result(
          outcome.withRequeue(Duration.ofMillis(100)), false, e.gone());
    }
    log.info("{} paused: {}", StatusWriter.key(r), message);
    writer.normal(r, reason, message);
    return new UploadProtocol.Result(outcome, false, false);
  }

  /** Writes the outcome (and what this reconcile confirmed and handled), ending the reconcile. */
  UploadProtocol.Result settle(
      AliyunCsr r,
      Outcome outcome,
      boolean statusLost,
      Cycle cycle,
      UploadProtocol.WriteListener listener) {
    if (r.getSpec() != null || !r.isMarkedForDeletion()) {
      try {
        if (statusLost) {
          AliyunCsrStatus built =
              StatusBuilder.build(
                  r.getStatus(),
                  r.getMetadata().getGeneration(),
                  outcome,
                  Optional.empty(),
                  clock.instant());
          writer.writeConditionsOnly(r, built.getConditions(), Optional.of(outcome), listener);
        } else {
          AliyunCsrStatus record = StatusBuilder.copyRecord(r.getStatus());
          if (cycle.confirmedAt != null
              && cycle.confirmation != null
              && Objects.equals(record.getCsrId(), cycle.confirmation.csrId())) {
            record.setLastConfirmedAt(StatusBuilder.rfc3339(cycle.confirmedAt));
          }
          if (cycle.request != null) {
            record.setLastHandledReconcileAt(cycle.request);
          }
          writer.write(r, record, Optional.of(outcome), StatusWriter.fenceOnVersion(r), listener);
        }
      } catch (KubeApi.WriteRefused e) {
        // The object moved: its own event reconciles it again, from the new copy.
        return new UploadProtocol.Result(
            outcome.withRequeue(Duration.ofMillis(100)), false, e.gone());
      }
    }
    return new UploadProtocol.Result(outcome, cycle.firstReady, false);
  }

  /** A failed CAS call: the outcome to say, and a hold until its back-off ends. */
  Outcome failure(AliyunCsr r, CasException e, Cycle cycle) {
    String uid = r.getMetadata().getUid();
    Duration next = backoff.next(uid);
    Outcome outcome = r.isMarkedForDeletion() ? Failures.ofDeletion(e, next) : Failures.of(e, next);
    Duration wait = outcome.requeueAfter().orElse(next);
    holds.hold(
        uid,
        clock.instant().plus(wait),
        UploadObserver.generation(r),
        UploadObserver.inputsHash(cycle.inputs),
        outcome);
    return outcome;
  }

  // ---- writes ------------------------------------------------------------------------------

  private Step writeRecord(
      Observation o, Action.WriteRecord a, Cycle cycle, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsr r = o.resource();
    if (a.outcome().filter(x -> x.state() == Outcome.State.READY).isPresent()) {
      cycle.firstReady |= r.getStatus() == null || r.getStatus().getCsrId() == null;
    }
    AliyunCsr written =
        writer.write(r, a.record(), a.outcome(), StatusWriter.fenceOnVersion(r), listener);
    if (Decider.MISSING.equals(a.why())) {
      // CAS lost the current CSR: what it said before (an adoption check) no longer holds.
      cycle.forgetCas();
    }
    if (written == r) {
      // A decision that changes nothing would be made again: stop here and look later.
      log.warn("{}: no progress writing the record ({})", StatusWriter.key(r), a.why());
      return Step.end(
          new UploadProtocol.Result(
              Outcome.progressing(Reasons.UPLOADING, "no progress", Duration.ofSeconds(5)),
              false,
              false));
    }
    return Step.next(written);
  }

  private AliyunCsr addFinalizer(Observation o, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsr r = o.resource();
    List<String> finalizers = new ArrayList<>();
    if (r.getMetadata().getFinalizers() != null) {
      finalizers.addAll(r.getMetadata().getFinalizers());
    }
    finalizers.add(CasAnnotations.FINALIZER);
    JsonPatch patch = StatusWriter.fenceOnVersion(r).add("/metadata/finalizers", finalizers);
    AliyunCsrStatus status = r.getStatus();
    if (o.ownLease().isPresent() && o.inputs() != null && o.inputs().isValid()) {
      // The intent, for people and as a trace for a restore without status.
      StatusWriter.annotate(
          r, patch, Map.of(CasAnnotations.UPLOAD_INTENT, intentOf(o, o.ownLease().get()).encode()));
    } else if (status != null
        && status.getCsrId() != null
        && status.getUploadName() != null
        && r.getSpec().getCsrId() == null
        && CasAnnotations.intent(r).isEmpty()) {
      // A replace took the finalizer and the annotations away: both go back in one write.
      StatusWriter.annotate(
          r,
          patch,
          Map.of(
              CasAnnotations.UPLOAD_INTENT,
              new UploadIntent(
                      status.getUploadName(), status.getCsrSha256(), status.getPublicKeySha256())
                  .encode()));
    }
    return writer.patch(r, patch, listener);
  }

  private static UploadIntent intentOf(Observation o, UploadLease lease) {
    return new UploadIntent(
        lease.getUploadName(), lease.getCsrSha256(), o.inputs().value().csr().publicKeySha256());
  }

  private void removeFinalizer(AliyunCsr r, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    int index = r.getMetadata().getFinalizers().indexOf(CasAnnotations.FINALIZER);
    String path = "/metadata/finalizers/" + index;
    writer.patch(r, new JsonPatch().test(path, CasAnnotations.FINALIZER).remove(path), listener);
    backoff.reset(r.getMetadata().getUid());
    holds.clear(r.getMetadata().getUid());
    log.info(
        "{} released ({}): {}",
        StatusWriter.key(r),
        Decider.policy(r),
        Decider.policy(r) == DeletionPolicy.Orphan
            ? "its CSRs stay in CAS"
            : "its CSRs are deleted from CAS");
  }

  // ---- CAS ---------------------------------------------------------------------------------

  /** GetCsrDetail of the current CSR: once per reconcile; the decider reads what it found. */
  private AliyunCsr confirm(AliyunCsr r, Action.Confirm a, Cycle cycle) throws CasException {
    AliyunCsrStatus status = r.getStatus();
    cycle.confirmWanted = false;
    observer.confirmed(r.getMetadata().getUid());
    drift.observationCall("GetCsrDetail");
    Instant at = clock.instant();
    Optional<CsrDetail> detail = CasReads.detail(a.via().cas(), a.csrId());
    cycle.confirmation = new Observation.Confirmation(a.csrId(), detail, at, a.via());
    String result;
    if (detail.isEmpty()) {
      result = "missing";
    } else if (Boolean.TRUE.equals(status.getPrivateKeyUploaded())
        && !detail.get().hasPrivateKey()) {
      result = "changed";
    } else {
      result = "confirmed";
      cycle.confirmedAt = at;
    }
    log.debug("{}: confirmed CsrId {} in CAS: {}", StatusWriter.key(r), a.csrId(), result);
    drift.observed(result);
    return r;
  }

  private Step takeLease(
      Observation o, Action.TakeLease a, Cycle cycle, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsr r = o.resource();
    crashPoints.reach(CrashPoints.Point.BEFORE_INTENT);
    // The turn first: waiting for the CAS budget never holds a lease, nor a thread.
    if (cycle.permit == null && cycle.place == null) {
      CallBudget.Admission admission =
          a.via().gate().admit(r.getMetadata().getNamespace(), r.getMetadata().getUid());
      if (admission instanceof CallBudget.Later later && later.busy()) {
        // Every concurrency slot is busy for a moment: look again soon, without a write, so
        // that an upload that hardly waits costs nothing more. A longer wait says Queued.
        return Step.end(
            new UploadProtocol.Result(
                Outcome.progressing(
                    Reasons.QUEUED, "Waiting for a free CAS call slot", later.after()),
                false,
                false));
      }
      if (admission instanceof CallBudget.Later later) {
        return Step.end(
            settle(
                r,
                Outcome.progressing(
                    Reasons.QUEUED,
                    "Waiting for its turn in the CAS call budget (CAS_QPS, CAS_MAX_CONCURRENCY)",
                    later.after()),
                false,
                cycle,
                listener));
      }
      if (admission instanceof CallBudget.Placed placed) {
        cycle.place = placed.place();
      } else {
        cycle.permit = ((CallBudget.Granted) admission).slot();
      }
    }
    // An STS session due for refresh is refreshed now, not inside the call the lease covers.
    try {
      a.via().uploads().refreshCredentials();
    } catch (CasException e) {
      cycle.releasePermit();
      return Step.end(settle(r, failure(r, e, cycle), false, cycle, listener));
    }
    Instant now = clock.instant();
    UploadLease lease =
        new UploadLease(
            settings.holder(),
            settings.tokens().get(),
            MILLIS.format(now.plus(settings.leaseDuration())),
            a.uploadName(),
            a.csrSha256());
    AliyunCsrStatus next = StatusBuilder.copyRecord(r.getStatus());
    next.setLease(lease);
    // The account is recorded before anything can reach it: lookups and deletions follow it.
    next.setAccount(a.via().account());
    CasCsrRef pending = new CasCsrRef(null, a.uploadName(), a.csrSha256());
    List<CasCsrRef> pendings = new ArrayList<>(Decider.list(next.getPendingUploads()));
    if (!pendings.contains(pending)) {
      pendings.add(pending);
    }
    next.setPendingUploads(pendings);
    AliyunCsr written =
        writer.write(
            r,
            next,
            Optional.of(
                Outcome.progressing(
                    Reasons.UPLOADING, "Uploading CSR " + a.uploadName() + " to CAS", null)),
            StatusWriter.fenceOnVersion(r),
            listener);
    cycle.heldLease = lease;
    return Step.next(written);
  }

  private Step upload(
      Observation o, Action.Upload a, Cycle cycle, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused, InterruptedException {
    AliyunCsr r = o.resource();
    UploadLease lease = o.ownLease().orElseThrow();
    UploadIntent intent = intentOf(o, lease);
    if (!CasAnnotations.intent(r).equals(Optional.of(intent))) {
      // The annotation mirrors what is about to be uploaded, as a trace for a restore without
      // status. The finalizer's write usually did it.
      JsonPatch patch = StatusWriter.fenceOnVersion(r);
      StatusWriter.annotate(r, patch, Map.of(CasAnnotations.UPLOAD_INTENT, intent.encode()));
      return Step.next(writer.patch(r, patch, listener));
    }
    crashPoints.reach(CrashPoints.Point.AFTER_INTENT);
    CsrFacts csr = o.inputs().value().csr();
    Optional<PrivateKeyFacts> key = o.inputs().value().key();
    CasCsrRef pending = new CasCsrRef(null, lease.getUploadName(), lease.getCsrSha256());
    AliyunCsrStatus next = StatusBuilder.copyRecord(r.getStatus());
    next.setLease(null);
    cycle.heldLease = null;
    if (cycle.permit == null && cycle.place != null) {
      // The slot for the call alone: the lease and the finalizer are written already.
      cycle.permit = cycle.place.claim();
      cycle.place = null;
    } else if (cycle.permit == null) {
      cycle.permit = a.via().gate().acquire();
    }
    cycle.permit.awaitRate();
    Instant now = clock.instant();
    boolean sameCsr = csr.csrSha256().equals(lease.getCsrSha256());
    if (!sameCsr || now.plus(settings.maxCallTime()).isAfter(Instant.parse(lease.getExpiresAt()))) {
      // The Secret changed since the lease was taken (the lease and its pending upload name the
      // CSR that is sent), or too little of the lease is left to be sure the call ends inside
      // it: nothing was sent, so give the lease back and decide again.
      Decider.removePending(next, pending);
      cycle.releasePermit();
      return Step.next(
          writer.write(r, next, Optional.empty(), StatusWriter.fenceOnLease(lease), listener));
    }
    CasClient.UploadResult result;
    try {
      cycle.forgetCas();
      result =
          a.via()
              .uploads()
              .uploadCsr(lease.getUploadName(), csr.pem(), key.map(PrivateKeyFacts::pem));
    } catch (CasException e) {
      cycle.releasePermit();
      if (e.kind() != CasException.Kind.AMBIGUOUS) {
        // Refused before anything was done (CasErrors): nothing was stored.
        Decider.removePending(next, pending);
      }
      Outcome outcome = failure(r, e, cycle);
      writer.write(r, next, Optional.of(outcome), StatusWriter.fenceOnLease(lease), listener);
      return Step.end(new UploadProtocol.Result(outcome, false, false));
    }
    cycle.releasePermit();
    log.info(
        "uploaded CSR {} as CsrId {} for {}",
        lease.getUploadName(),
        result.csrId(),
        StatusWriter.key(r));
    crashPoints.reach(CrashPoints.Point.AFTER_UPLOAD);
    Decider.removePending(next, pending);
    StatusBuilder.setCurrent(
        next,
        new UploadedCsr(
            result.csrId(),
            result.requestId(),
            lease.getUploadName(),
            csr,
            key.isPresent(),
            StatusBuilder.rfc3339(clock.instant())));
    backoff.reset(r.getMetadata().getUid());
    holds.clear(r.getMetadata().getUid());
    cycle.firstReady = true;
    String reason = next.getMissingCsrId() != null ? Reasons.REUPLOADED : Reasons.UPLOADED;
    AliyunCsr written =
        writer.write(
            r,
            next,
            Optional.of(Outcome.ready(reason, Decider.readyMessage(reason, next))),
            StatusWriter.fenceOnLease(lease),
            listener);
    crashPoints.reach(CrashPoints.Point.AFTER_STATUS);
    return Step.next(written);
  }

  /**
   * DeleteCsr of a CSR the record holds: status is the operator's record that it is this resource's
   * (an upload, a lookup under its own mark, or an adoption with proof of possession). A CsrId
   * another resource also records is refused and dropped: one CSR has one owner.
   */
  private AliyunCsr deleteCsr(
      AliyunCsr r, Action.DeleteCsr a, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused, CasException {
    long id = a.csr().getCsrId();
    Optional<String> other = peers.recorder(r, id);
    if (other.isPresent()) {
      writer.warning(
          r,
          Reasons.CSR_NOT_PROVEN,
          "Refused to delete CsrId " + id + ": AliyunCsr " + other.get() + " records it too");
    } else {
      try {
        a.via().cas().deleteCsr(id);
        log.info("{}: deleted CsrId {} from CAS", StatusWriter.key(r), id);
      } catch (CasException e) {
        if (e.kind() != CasException.Kind.NOT_FOUND) {
          throw e;
        }
      }
    }
    return dropSuperseded(r, a.csr(), listener);
  }

  private AliyunCsr release(AliyunCsr r, Action.ReleaseCsr a, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    writer.warning(r, a.reason(), a.message());
    return dropSuperseded(r, a.csr(), listener);
  }

  private AliyunCsr dropSuperseded(
      AliyunCsr r, CasCsrRef csr, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsrStatus next = StatusBuilder.copyRecord(r.getStatus());
    List<CasCsrRef> superseded = new ArrayList<>(Decider.list(next.getSupersededCsrs()));
    superseded.removeIf(s -> Objects.equals(s.getCsrId(), csr.getCsrId()));
    next.setSupersededCsrs(superseded.isEmpty() ? null : superseded);
    return writer.write(r, next, Optional.empty(), StatusWriter.fenceOnVersion(r), listener);
  }

  /**
   * Sends the current CSR's private key with UpdateCsr, unless CAS already holds one. An adopted
   * CSR must have the key's public key (proof of possession: the key is the one being sent). CAS
   * answering NotFound is recorded as a confirmation: whether the CSR is gone is decided on the
   * window's terms.
   */
  private Step sendKey(
      Observation o, Action.SendKey a, Cycle cycle, UploadProtocol.WriteListener listener)
      throws KubeApi.WriteRefused, CasException {
    AliyunCsr r = o.resource();
    long id = a.csr().getCsrId();
    Optional<String> other = peers.recorder(r, id);
    if (other.isPresent()) {
      return refuseKey(r, id, "AliyunCsr " + other.get() + " records it too", cycle, listener);
    }
    Instant at = clock.instant();
    Optional<CsrDetail> detail = CasReads.detail(a.via().cas(), id);
    if (detail.isEmpty()) {
      cycle.confirmation = new Observation.Confirmation(id, Optional.empty(), at, a.via());
      return Step.next(r);
    }
    String keyOwner = o.inputs().value().csr().publicKeySha256();
    boolean possessed = keyOwner.equals(CasReads.publicKeySha256(detail.get()).orElse(null));
    if (!possessed) {
      return refuseKey(
          r,
          id,
          "the CSR CAS holds under it is not the key's (proof of possession)",
          cycle,
          listener);
    }
    if (!detail.get().hasPrivateKey()) {
      a.via().cas().updateCsr(id, o.inputs().value().key().orElseThrow().pem());
      log.info("{}: sent the private key of CsrId {}", StatusWriter.key(r), id);
    }
    AliyunCsrStatus next = StatusBuilder.copyRecord(r.getStatus());
    next.setPrivateKeyUploaded(true);
    String reason = Decider.readyReason(r, a.adopted());
    return Step.next(
        writer.write(
            r,
            next,
            Optional.of(Outcome.ready(reason, Decider.readyMessage(reason, next))),
            StatusWriter.fenceOnVersion(r),
            listener));
  }

  private Step refuseKey(
      AliyunCsr r, long id, String why, Cycle cycle, UploadProtocol.WriteListener listener) {
    String message = "Refused to send the private key to CsrId " + id + ": " + why;
    writer.warning(r, Reasons.CSR_NOT_PROVEN, message);
    return Step.end(
        settle(r, Failures.stalled(Reasons.CSR_NOT_PROVEN, message), false, cycle, listener));
  }
}
