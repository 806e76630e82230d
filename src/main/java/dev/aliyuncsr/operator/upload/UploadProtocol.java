package dev.aliyuncsr.operator.upload;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.UploadLease;
import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasClient.CsrDetail;
import dev.aliyuncsr.operator.cloud.CasClient.CsrSummary;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.EventSink;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exactly-once upload protocol, in one place: observe (read-only: the object, its Secrets, the
 * other resources, CAS when a result is unknown), decide ({@link Decider}, pure), act (one effect),
 * then observe again, until the decision is to settle.
 *
 * <p>The record lives in status, which namespace users usually cannot write: the upload lease, the
 * uploads whose result is unknown, the current CSR and the superseded ones. Annotations only mirror
 * it for people and for a restore without status; nothing an annotation says is acted on without a
 * lookup in CAS.
 *
 * <p>The invariants it keeps, whatever processes run, crash, or see stale caches:
 *
 * <ol>
 *   <li>At most one CSR in CAS per resource and CSR: after a result that may have stored one, there
 *       is no second upload until a lookup rules the first out.
 *   <li>No DeleteCsr or UpdateCsr on a CsrId CAS has not proven to be this resource's.
 *   <li>Nothing leaks under deletionPolicy Delete, uploads of unknown result included.
 *   <li>An adopted CSR is never deleted because the Secret changed.
 *   <li>Ready never names a CsrId the operator deleted.
 * </ol>
 */
public final class UploadProtocol {
  private static final Logger log = LoggerFactory.getLogger(UploadProtocol.class);
  private static final int MAX_STEPS = 16;
  private static final DateTimeFormatter MILLIS = DateTimeFormatter.ISO_INSTANT;

  /** Where the validated Secrets of a resource come from. */
  public interface Inputs {
    Validated<SecretInputs.Inputs> load(AliyunCsr resource);
  }

  /**
   * The CAS call budget: a concurrency slot is taken before the upload lease is written, and the
   * call waits for its place in the rate just before it goes. An upload whose place is further away
   * than a moment is told when to come back (and says Queued meanwhile): no reconcile thread waits
   * for the budget.
   */
  public interface UploadGate {
    /**
     * A turn for the resource {@code key} of namespace {@code tenant}, its place kept until it is
     * claimed.
     */
    CallBudget.Admission admit(String tenant, String key);

    /** A slot now, waiting as long as it takes (a lease is already held). */
    CallBudget.Slot acquire() throws InterruptedException;

    /** The resource no longer needs its place. */
    void cancel(String key);

    /** The gate of {@code budget}, which parks a reconcile thread at most its maxPark. */
    static UploadGate of(CallBudget budget) {
      return new UploadGate() {
        @Override
        public CallBudget.Admission admit(String tenant, String key) {
          return budget.admit(CallBudget.Tenant.namespace(tenant), key);
        }

        @Override
        public CallBudget.Slot acquire() throws InterruptedException {
          return budget.acquireSlot();
        }

        @Override
        public void cancel(String key) {
          budget.cancel(key);
        }
      };
    }
  }

  /** Told what confirmations in CAS found, and of each CAS call they cost. */
  public interface DriftListener {
    /** One resource observed: {@code confirmed}, {@code missing} or {@code changed}. */
    void observed(String result);

    /** One CAS call made to observe. */
    void observationCall(String action);

    DriftListener NONE =
        new DriftListener() {
          @Override
          public void observed(String result) {}

          @Override
          public void observationCall(String action) {}
        };
  }

  /** Told of every object this protocol wrote, so a cache can show it before its watch event. */
  public interface WriteListener {
    void written(AliyunCsr before, AliyunCsr after);

    WriteListener NONE = (before, after) -> {};
  }

  /**
   * @param holder this process in leases: pod name and process id
   * @param leaseDuration how long a lease lasts
   * @param maxCallTime the longest an UploadCsr can be in flight; never started with less lease
   *     left
   */
  public record Settings(
      String holder, Duration leaseDuration, Duration maxCallTime, Supplier<String> tokens) {
    public static Settings of(String holder, Duration leaseDuration, Duration maxCallTime) {
      return new Settings(holder, leaseDuration, maxCallTime, () -> UUID.randomUUID().toString());
    }
  }

  /** How a reconcile ended. */
  public record Result(Outcome outcome, boolean firstReady, boolean gone) {}

  private final KubeApi kube;
  private final CasRoute routes;
  private final Inputs inputs;
  private final Peers peers;
  private final EventSink events;
  private final Clock clock;
  private final RetryBackoff backoff;
  private final CrashPoints crashPoints;
  private final Settings settings;
  private final DriftListener drift;

  /** Resources the observer did not find in ListCsr: their next reconcile asks GetCsrDetail. */
  private final Map<String, Boolean> confirmRequests = new ConcurrentHashMap<>();

  /**
   * @param cas the CAS client for lookups, deletions and keys (each call budgeted on its own)
   * @param uploads the CAS client for UploadCsr, called under a permit taken from {@code gate}
   */
  public UploadProtocol(
      KubeApi kube,
      CasClient cas,
      CasClient uploads,
      UploadGate gate,
      Inputs inputs,
      Peers peers,
      EventSink events,
      Clock clock,
      RetryBackoff backoff,
      CrashPoints crashPoints,
      Settings settings,
      DriftListener drift) {
    this(
        kube,
        CasRoute.single(cas, uploads, gate),
        inputs,
        peers,
        events,
        clock,
        backoff,
        crashPoints,
        settings,
        drift);
  }

  /**
   * @param routes which account each resource's calls go to
   */
  public UploadProtocol(
      KubeApi kube,
      CasRoute routes,
      Inputs inputs,
      Peers peers,
      EventSink events,
      Clock clock,
      RetryBackoff backoff,
      CrashPoints crashPoints,
      Settings settings,
      DriftListener drift) {
    this.kube = kube;
    this.routes = routes;
    this.inputs = inputs;
    this.peers = peers;
    this.events = events;
    this.clock = clock;
    this.backoff = backoff;
    this.crashPoints = crashPoints;
    this.settings = settings;
    this.drift = drift;
  }

  /** What one reconcile carries from one cycle to the next; nothing survives the reconcile. */
  private static final class Cycle {
    /** The account of this reconcile: where its calls go, and which status.account records. */
    String account;

    CasClient cas;
    CasClient uploads;
    UploadGate gate;

    Validated<SecretInputs.Inputs> inputs;
    UploadLease heldLease;
    CallBudget.Slot permit;
    boolean refreshed;

    /**
     * What CAS said in this reconcile, kept until this reconcile changes CAS or the object moves
     * under it: deciding again after its own metadata write asks CAS nothing new.
     */
    final Map<CasCsrRef, List<CasCsrRef>> lookups = new LinkedHashMap<>();

    Observation.Adoption adoption;

    /** Whether the current CSR is to be confirmed in CAS in this reconcile. */
    boolean confirmWanted;

    /** What the confirmation found; set once per reconcile and CsrId. */
    Observation.Confirmation confirmation;

    /** When CAS confirmed the current CSR in this reconcile, to record in lastConfirmedAt. */
    Instant confirmedAt;

    /** The reconcile request (annotation value) this reconcile handles, if any. */
    String request;

    void forgetCas() {
      lookups.clear();
      adoption = null;
    }

    boolean firstReady;

    void releasePermit() {
      if (permit != null) {
        permit.close();
        permit = null;
      }
    }
  }

  /** One reconcile of one resource, starting from a possibly stale cached copy. */
  public Result reconcile(AliyunCsr cached, WriteListener listener) {
    Cycle cycle = new Cycle();
    AliyunCsr current = cached;
    String uid = cached.getMetadata().getUid();
    boolean orphaning =
        cached.isMarkedForDeletion()
            && Decider.policy(cached) == dev.aliyuncsr.operator.api.DeletionPolicy.Orphan;
    if (CasAnnotations.paused(cached) && !orphaning) {
      return paused(cached, listener);
    }
    cycle.request =
        CasAnnotations.reconcileRequest(cached)
            .filter(value -> !value.equals(lastHandled(cached)))
            .orElse(null);
    // An observer's request is used up only by the GetCsrDetail it asks for (confirm).
    cycle.confirmWanted = confirmRequests.containsKey(uid) || cycle.request != null;
    if (cycle.request != null) {
      holds.remove(uid); // a person asked: now, not after the backoff
    }
    Optional<Result> held = held(cached, cycle);
    if (held.isPresent()) {
      return held.get();
    }
    CasRoute.Route route = routes.route(cached);
    if (route.refusal().isPresent()) {
      return settle(cached, route.refusal().get(), cycle, listener);
    }
    cycle.account = route.account();
    cycle.cas = route.cas();
    cycle.uploads = route.uploads();
    cycle.gate = route.gate();
    try {
      for (int step = 0; step < MAX_STEPS; step++) {
        Observation observation;
        try {
          observation = observe(current, cycle);
        } catch (CasException e) {
          return settle(current, failure(current, e, cycle), cycle, listener);
        }
        if (observation == null) {
          Optional<AliyunCsr> fresh = freshCopy(current);
          if (fresh.isEmpty()) {
            return released();
          }
          current = fresh.get();
          continue;
        }
        Action action = Decider.decide(observation);
        log.debug(
            "{}: {}",
            key(current),
            action instanceof Action.WriteRecord w
                ? "WriteRecord ("
                    + w.why()
                    + ": csrId "
                    + w.record().getCsrId()
                    + ", pending "
                    + w.record().getPendingUploads()
                    + ", superseded "
                    + w.record().getSupersededCsrs()
                    + ")"
                : action.getClass().getSimpleName());
        if (action instanceof Action.Settle settle) {
          return settle(current, settle.outcome(), cycle, listener);
        }
        Step next = act(observation, action, cycle, listener);
        if (next.result != null) {
          return next.result;
        }
        current = next.object;
      }
      return new Result(
          Outcome.progressing(Reasons.UPLOADING, "still working", Duration.ofMillis(200)),
          cycle.firstReady,
          false);
    } finally {
      cycle.releasePermit();
    }
  }

  /** The observer did not find this resource's CSR: its next reconcile confirms it in CAS. */
  public void requestConfirmation(String uid) {
    confirmRequests.put(uid, Boolean.TRUE);
  }

  /** The resource is gone: what this process keeps for it goes too. */
  public void forget(String uid) {
    confirmRequests.remove(uid);
    holds.remove(uid);
    routes.cancel(uid);
  }

  private static String lastHandled(AliyunCsr r) {
    return r.getStatus() == null ? null : r.getStatus().getLastHandledReconcileAt();
  }

  /**
   * Paused: no CAS call, and no write but the Paused condition (Ready is left as it was). A
   * deletion under Delete waits, and says so; under Orphan it is not paused (nothing is called).
   */
  private Result paused(AliyunCsr r, WriteListener listener) {
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
      return new Result(outcome, false, false);
    }
    String since =
        before
            .filter(c -> "True".equals(c.getStatus()) && c.getLastTransitionTime() != null)
            .map(CsrCondition::getLastTransitionTime)
            .orElse(StatusBuilder.rfc3339(clock.instant()));
    conditions.add(
        new CsrCondition(
            StatusBuilder.PAUSED, "True", reason, message, r.getMetadata().getGeneration(), since));
    JsonPatch patch = fenceOnVersion(r);
    if (status == null || status.equals(new AliyunCsrStatus())) {
      // No observedGeneration: a status lost before the pause still reads as lost afterwards.
      ObjectNode only = Serialization.jsonMapper().createObjectNode();
      only.set("conditions", Serialization.jsonMapper().valueToTree(conditions));
      patch.add("/status", only);
    } else {
      patch.add("/status/conditions", Serialization.jsonMapper().valueToTree(conditions));
    }
    try {
      AliyunCsr written = kube.patchStatus(r, patch);
      listener.written(r, written);
    } catch (KubeApi.WriteRefused e) {
      return new Result(outcome.withRequeue(Duration.ofMillis(100)), false, e.gone());
    }
    log.info("{} paused: {}", key(r), message);
    events.normal(r, reason, message);
    return new Result(outcome, false, false);
  }

  // ---- observe -------------------------------------------------------------------------------

  /** Returns null when the copy is known to be stale and must be read again. */
  private Observation observe(AliyunCsr r, Cycle cycle) throws CasException {
    Instant now = clock.instant();
    if (r.getSpec() == null) {
      return new Observation(
          r,
          now,
          null,
          null,
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          false,
          List.of(),
          null,
          Map.of(),
          Optional.empty(),
          Optional.empty(),
          cycle.account);
    }
    if (cycle.inputs == null) {
      cycle.inputs = inputs.load(r);
    }
    Validated<SecretInputs.Inputs> in = cycle.inputs;
    String uploadName = UploadNames.of(r);
    AliyunCsrStatus status = r.getStatus();
    boolean deleting = r.isMarkedForDeletion();

    Optional<UploadLease> own = Optional.empty();
    Optional<UploadLease> foreign = Optional.empty();
    UploadLease lease = status == null ? null : status.getLease();
    if (lease != null && isLive(lease, now)) {
      if (cycle.heldLease != null && Objects.equals(cycle.heldLease.getToken(), lease.getToken())) {
        own = Optional.of(lease);
      } else if (settings.holder().equals(lease.getHolder()) && !cycle.refreshed) {
        // Our own lease from a copy older than our last write (the cache lags): read again.
        cycle.refreshed = true;
        return null;
      } else {
        foreign = Optional.of(lease);
      }
    }
    Optional<AliyunCsr> conflict =
        deleting ? Optional.empty() : peers.earlierWithUploadName(r, uploadName);
    boolean adopting = r.getSpec().getCsrId() != null;
    boolean recordLost = !adopting && statusLost(status) && hasTraces(r);

    Map<CasCsrRef, List<CasCsrRef>> found = new LinkedHashMap<>();
    Optional<Observation.Adoption> adoption = Optional.empty();
    boolean orphaning =
        deleting && Decider.policy(r) == dev.aliyuncsr.operator.api.DeletionPolicy.Orphan;
    String sha = in.isValid() ? in.value().csr().csrSha256() : null;
    List<CasCsrRef> restore =
        recordLost ? Decider.lookupsNeeded(r, null, true, uploadName, sha) : List.of();
    UploadLease restoreLease =
        recordLost
            ? new UploadLease(
                "status-restore",
                settings.tokens().get(),
                MILLIS.format(now.plus(settings.maxCallTime())),
                uploadName,
                sha)
            : null;
    boolean mayAskCas =
        foreign.isEmpty()
            && own.isEmpty()
            && !recordLost
            && !orphaning
            && (deleting || (in.isValid() && conflict.isEmpty()));
    if (mayAskCas) {
      for (CasCsrRef ref : Decider.lookupsNeeded(r, status, false, uploadName, sha)) {
        List<CasCsrRef> ids = cycle.lookups.get(ref);
        if (ids == null) {
          ids = lookUp(cycle.cas, ref, r);
          cycle.lookups.put(ref, ids);
        }
        log.debug("{}: looked up {} in CAS: {}", key(r), ref, ids);
        found.put(ref, ids);
      }
      if (!deleting
          && adopting
          && (status == null || !r.getSpec().getCsrId().equals(status.getCsrId()))) {
        if (cycle.adoption == null || cycle.adoption.csrId() != r.getSpec().getCsrId()) {
          cycle.adoption = recentAdoptionCheck(cycle.cas, r, in.value().csr(), now);
        }
        adoption = Optional.of(cycle.adoption);
      }
      confirm(r, cycle, now);
    }
    return new Observation(
        r,
        now,
        in,
        uploadName,
        conflict,
        foreign,
        own,
        recordLost,
        restore,
        restoreLease,
        found,
        adoption,
        Optional.ofNullable(cycle.confirmation)
            .filter(c -> status != null && Objects.equals(c.csrId(), status.getCsrId())),
        cycle.account);
  }

  /**
   * GetCsrDetail of the current CSR, once per reconcile, when it is to be confirmed and nothing is
   * in flight or unknown (an upload under way is not the CSR to confirm).
   */
  private void confirm(AliyunCsr r, Cycle cycle, Instant now) throws CasException {
    AliyunCsrStatus status = r.getStatus();
    if (!cycle.confirmWanted
        || r.isMarkedForDeletion()
        || status == null
        || status.getCsrId() == null
        || status.getLease() != null
        || !Decider.list(status.getPendingUploads()).isEmpty()
        || (cycle.confirmation != null
            && Objects.equals(cycle.confirmation.csrId(), status.getCsrId()))) {
      return;
    }
    long id = status.getCsrId();
    // One confirmation per reconcile: a CSR uploaded again in this reconcile was just confirmed
    // by UploadCsr's own answer.
    cycle.confirmWanted = false;
    confirmRequests.remove(r.getMetadata().getUid());
    drift.observationCall("GetCsrDetail");
    Optional<CsrDetail> detail = detail(cycle.cas, id);
    cycle.confirmation =
        new Observation.Confirmation(id, detail, detail.flatMap(UploadProtocol::csrSha256));
    String result;
    if (detail.isEmpty()) {
      result = "missing";
    } else if (Boolean.TRUE.equals(status.getPrivateKeyUploaded())
        && !detail.get().hasPrivateKey()) {
      result = "changed";
    } else {
      result = "confirmed";
      cycle.confirmedAt = now;
    }
    log.debug("{}: confirmed CsrId {} in CAS: {}", key(r), id, result);
    drift.observed(result);
  }

  private boolean isLive(UploadLease lease, Instant now) {
    try {
      return now.isBefore(Instant.parse(lease.getExpiresAt()).plus(Decider.TAKEOVER_GRACE));
    } catch (RuntimeException e) {
      return false; // an unreadable lease protects nothing
    }
  }

  /**
   * A status that is gone altogether (a restore without status, a replace of it), as opposed to one
   * the operator emptied: every status this operator writes has an observedGeneration.
   */
  private static boolean statusLost(AliyunCsrStatus status) {
    return status == null || status.getObservedGeneration() == null;
  }

  /** The finalizer or the mirror annotations say this resource may have uploaded before. */
  private static boolean hasTraces(AliyunCsr r) {
    return r.hasFinalizer(CasAnnotations.FINALIZER)
        || CasAnnotations.intent(r).isPresent()
        || CasAnnotations.csrId(r).isPresent();
  }

  /**
   * The CSRs in CAS that are this upload: exactly its name (ListCsr) and the same CSR
   * (GetCsrDetail; ListCsr's KeySha2 encoding is unconfirmed), recorded by no other resource. A
   * reference without a CSR hash (a name derived from this UID) matches every CSR under the name.
   */
  private List<CasCsrRef> lookUp(CasClient cas, CasCsrRef ref, AliyunCsr self) throws CasException {
    List<CasCsrRef> matches = new ArrayList<>();
    for (CsrSummary candidate : cas.listCsr(ref.getUploadName())) {
      if (!ref.getUploadName().equals(candidate.name())
          || peers.recordedByAnother(self, candidate.csrId())) {
        continue;
      }
      Optional<String> sha = detail(cas, candidate.csrId()).flatMap(UploadProtocol::csrSha256);
      if (sha.isPresent() && (ref.getCsrSha256() == null || ref.getCsrSha256().equals(sha.get()))) {
        matches.add(new CasCsrRef(candidate.csrId(), candidate.name(), sha.get()));
      }
    }
    return matches;
  }

  /**
   * A refused adoption, remembered for a short while by resource, spec.csrId and the Secret's
   * public key: the echoes of the refusal's own status write (which can reach the reconciler before
   * this process knows the write's resourceVersion) ask CAS nothing new. A change of either input
   * asks again at once.
   */
  private Observation.Adoption recentAdoptionCheck(
      CasClient cas, AliyunCsr r, CsrFacts csr, Instant now) throws CasException {
    String key =
        r.getMetadata().getUid() + "/" + r.getSpec().getCsrId() + "/" + csr.publicKeySha256();
    refusedAdoptions.values().removeIf(seen -> seen.at().plus(ADOPTION_MEMORY).isBefore(now));
    RefusedAdoption seen = refusedAdoptions.get(key);
    if (seen != null) {
      return seen.adoption();
    }
    Observation.Adoption checked = adoption(cas, r.getSpec().getCsrId());
    boolean accepted =
        checked.detail().isPresent()
            && csr.publicKeySha256().equals(checked.publicKeySha256().orElse(null));
    if (!accepted) {
      refusedAdoptions.put(key, new RefusedAdoption(checked, now));
    }
    return checked;
  }

  private record RefusedAdoption(Observation.Adoption adoption, Instant at) {}

  /** How long a refused adoption is taken as CAS's answer without asking again. */
  static final Duration ADOPTION_MEMORY = Duration.ofSeconds(30);

  private final Map<String, RefusedAdoption> refusedAdoptions = new ConcurrentHashMap<>();

  private static Observation.Adoption adoption(CasClient cas, long csrId) throws CasException {
    try {
      CsrDetail detail = cas.getCsrDetail(csrId);
      Optional<String> key = facts(detail).map(CsrFacts::publicKeySha256);
      return new Observation.Adoption(csrId, Optional.of(detail), key, null);
    } catch (CasException e) {
      if (e.kind() == CasException.Kind.NOT_FOUND) {
        return new Observation.Adoption(csrId, Optional.empty(), Optional.empty(), e.code());
      }
      throw e;
    }
  }

  private static Optional<CsrDetail> detail(CasClient cas, long csrId) throws CasException {
    try {
      return Optional.of(cas.getCsrDetail(csrId));
    } catch (CasException e) {
      if (e.kind() == CasException.Kind.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private static Optional<CsrFacts> facts(CsrDetail detail) {
    if (detail.csrPem() == null) {
      return Optional.empty();
    }
    Validated<CsrFacts> facts =
        CsrValidator.validate(detail.csrPem().getBytes(StandardCharsets.UTF_8));
    return facts.isValid() ? Optional.of(facts.value()) : Optional.empty();
  }

  private static Optional<String> csrSha256(CsrDetail detail) {
    return facts(detail).map(CsrFacts::csrSha256);
  }

  /**
   * Whether CAS proves that {@code ref} is this resource's: an uploaded CSR by its name (ListCsr)
   * and its CSR (GetCsrDetail), an adopted one by being spec.csrId with the recorded public key;
   * and in both cases no other resource records it. Empty detail: CAS no longer has it.
   */
  private Proof prove(CasClient cas, AliyunCsr self, CasCsrRef ref, boolean adopted)
      throws CasException {
    long id = ref.getCsrId();
    if (peers.recordedByAnother(self, id)) {
      return Proof.REFUSED;
    }
    Optional<CsrDetail> detail = detail(cas, id);
    if (detail.isEmpty()) {
      return Proof.GONE;
    }
    if (adopted) {
      boolean keyMatches =
          ref.getPublicKeySha256() != null
              && ref.getPublicKeySha256()
                  .equals(facts(detail.get()).map(CsrFacts::publicKeySha256).orElse(null));
      return keyMatches ? Proof.proven(detail.get()) : Proof.REFUSED;
    }
    boolean csrMatches =
        ref.getCsrSha256() == null
            // No CSR known: only a name derived from this resource's UID proves it.
            ? ref.getUploadName() != null && ref.getUploadName().equals(UploadNames.derived(self))
            : ref.getCsrSha256().equals(csrSha256(detail.get()).orElse(null));
    if (ref.getUploadName() == null || !csrMatches) {
      return Proof.REFUSED;
    }
    boolean named =
        cas.listCsr(ref.getUploadName()).stream()
            .anyMatch(c -> c.csrId() == id && ref.getUploadName().equals(c.name()));
    return named ? Proof.proven(detail.get()) : Proof.REFUSED;
  }

  private record Proof(boolean gone, boolean proven, CsrDetail detail) {
    static final Proof GONE = new Proof(true, false, null);
    static final Proof REFUSED = new Proof(false, false, null);

    static Proof proven(CsrDetail detail) {
      return new Proof(false, true, detail);
    }
  }

  // ---- act -----------------------------------------------------------------------------------

  /** What an act leaves: the object to observe next, or the end of the reconcile. */
  private record Step(AliyunCsr object, Result result) {
    static Step next(AliyunCsr object) {
      return new Step(object, null);
    }

    static Step end(Result result) {
      return new Step(null, result);
    }
  }

  private Step act(Observation o, Action action, Cycle cycle, WriteListener listener) {
    AliyunCsr r = o.resource();
    try {
      if (action instanceof Action.AddFinalizer) {
        return Step.next(addFinalizer(o, cycle, listener));
      }
      if (action instanceof Action.RemoveFinalizer) {
        removeFinalizer(r, listener);
        return Step.end(released());
      }
      if (action instanceof Action.TakeLease a) {
        return takeLease(o, a, cycle, listener);
      }
      if (action instanceof Action.Upload) {
        return upload(o, cycle, listener);
      }
      if (action instanceof Action.WriteRecord a) {
        if (a.outcome().filter(x -> x.state() == Outcome.State.READY).isPresent()) {
          cycle.firstReady |= r.getStatus() == null || r.getStatus().getCsrId() == null;
        }
        AliyunCsr written = writeStatus(r, a.record(), a.outcome(), fenceOnVersion(r), listener);
        if (Decider.MISSING.equals(a.why())) {
          // CAS lost the current CSR: what it said before (an adoption check) no longer holds.
          cycle.forgetCas();
        }
        if (written == r) {
          // A decision that changes nothing would be made again: stop here and look later.
          log.warn("{}: no progress writing the record ({})", key(r), a.why());
          return Step.end(
              new Result(
                  Outcome.progressing(Reasons.UPLOADING, "no progress", Duration.ofSeconds(5)),
                  false,
                  false));
        }
        return Step.next(written);
      }
      if (action instanceof Action.DeleteCsr a) {
        cycle.forgetCas();
        return deleteCsr(o, a, cycle, listener);
      }
      if (action instanceof Action.SendKey a) {
        cycle.forgetCas();
        return sendKey(o, a, cycle, listener);
      }
      if (action instanceof Action.WriteAnnotations) {
        return Step.next(writeAnnotations(r, listener));
      }
      throw new IllegalStateException("no act for " + action);
    } catch (KubeApi.WriteRefused e) {
      log.debug("{}: write refused ({}), reading it again", key(r), e.getMessage());
      cycle.releasePermit();
      // Someone else wrote, perhaps on newer Secrets than ours: read those again too.
      cycle.inputs = null;
      cycle.forgetCas();
      // A fence did not hold (the object moved under us), or it is gone: read it again.
      Optional<AliyunCsr> fresh = e.gone() ? Optional.empty() : freshCopy(r);
      return fresh.isEmpty() ? Step.end(released()) : Step.next(fresh.get());
    } catch (CasException e) {
      cycle.releasePermit();
      return Step.end(settle(r, failure(r, e, cycle), cycle, listener));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Step.end(
          new Result(
              Outcome.progressing(Reasons.UPLOADING, "interrupted", Duration.ofSeconds(1)),
              false,
              false));
    }
  }

  private AliyunCsr addFinalizer(Observation o, Cycle cycle, WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsr r = o.resource();
    List<String> finalizers = new ArrayList<>();
    if (r.getMetadata().getFinalizers() != null) {
      finalizers.addAll(r.getMetadata().getFinalizers());
    }
    finalizers.add(CasAnnotations.FINALIZER);
    JsonPatch patch = fenceOnVersion(r).add("/metadata/finalizers", finalizers);
    if (o.ownLease().isPresent() && o.inputs() != null && o.inputs().isValid()) {
      // The intent, for people and for a restore without status: what is being uploaded, how.
      annotate(
          r, patch, Map.of(CasAnnotations.UPLOAD_INTENT, intentOf(o, o.ownLease().get()).encode()));
    }
    AliyunCsr written = kube.patch(r, patch);
    listener.written(r, written);
    return written;
  }

  private static UploadIntent intentOf(Observation o, UploadLease lease) {
    return new UploadIntent(
        lease.getUploadName(), lease.getCsrSha256(), o.inputs().value().csr().publicKeySha256());
  }

  private void removeFinalizer(AliyunCsr r, WriteListener listener) throws KubeApi.WriteRefused {
    int index = r.getMetadata().getFinalizers().indexOf(CasAnnotations.FINALIZER);
    String path = "/metadata/finalizers/" + index;
    AliyunCsr written =
        kube.patch(r, new JsonPatch().test(path, CasAnnotations.FINALIZER).remove(path));
    listener.written(r, written);
    backoff.reset(r.getMetadata().getUid());
    holds.remove(r.getMetadata().getUid());
    log.info(
        "{} released ({}): {}",
        key(r),
        Decider.policy(r),
        Decider.policy(r) == dev.aliyuncsr.operator.api.DeletionPolicy.Orphan
            ? "its CSRs stay in CAS"
            : "its CSRs are deleted from CAS");
  }

  private Step takeLease(Observation o, Action.TakeLease a, Cycle cycle, WriteListener listener)
      throws KubeApi.WriteRefused, InterruptedException {
    AliyunCsr r = o.resource();
    crashPoints.reach(CrashPoints.Point.BEFORE_INTENT);
    // The permit first: waiting for the CAS budget never holds a lease, nor a thread.
    if (cycle.permit == null) {
      CallBudget.Admission admission =
          cycle.gate.admit(r.getMetadata().getNamespace(), r.getMetadata().getUid());
      if (admission instanceof CallBudget.Later later && later.busy()) {
        // Every concurrency slot is busy for a moment: look again soon, without a write, so
        // that an upload that hardly waits costs nothing more. A longer wait says Queued.
        return Step.end(
            new Result(
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
                cycle,
                listener));
      }
      cycle.permit = ((CallBudget.Granted) admission).slot();
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
    next.setAccount(cycle.account);
    CasCsrRef pending = new CasCsrRef(null, a.uploadName(), a.csrSha256());
    List<CasCsrRef> pendings = new ArrayList<>(Decider.list(next.getPendingUploads()));
    if (!pendings.contains(pending)) {
      pendings.add(pending);
    }
    next.setPendingUploads(pendings);
    AliyunCsr written =
        writeStatus(
            r,
            next,
            Optional.of(
                Outcome.progressing(
                    Reasons.UPLOADING, "Uploading CSR " + a.uploadName() + " to CAS", null)),
            fenceOnVersion(r),
            listener);
    cycle.heldLease = lease;
    return Step.next(written);
  }

  private Step upload(Observation o, Cycle cycle, WriteListener listener)
      throws KubeApi.WriteRefused, InterruptedException {
    AliyunCsr r = o.resource();
    UploadLease lease = o.ownLease().orElseThrow();
    UploadIntent intent = intentOf(o, lease);
    if (!CasAnnotations.intent(r).equals(Optional.of(intent))) {
      // The annotation mirrors what is about to be uploaded, so that a status lost while the
      // result is unknown still says which CSR to look for. The finalizer's write usually did it.
      JsonPatch patch = fenceOnVersion(r);
      annotate(r, patch, Map.of(CasAnnotations.UPLOAD_INTENT, intent.encode()));
      AliyunCsr annotated = kube.patch(r, patch);
      listener.written(r, annotated);
      return Step.next(annotated);
    }
    crashPoints.reach(CrashPoints.Point.AFTER_INTENT);
    CsrFacts csr = o.inputs().value().csr();
    Optional<PrivateKeyFacts> key = o.inputs().value().key();
    CasCsrRef pending = new CasCsrRef(null, lease.getUploadName(), lease.getCsrSha256());
    AliyunCsrStatus next = StatusBuilder.copyRecord(r.getStatus());
    next.setLease(null);
    cycle.heldLease = null;
    if (cycle.permit == null) {
      cycle.permit = cycle.gate.acquire();
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
      return Step.next(writeStatus(r, next, Optional.empty(), fenceOnLease(lease), listener));
    }
    CasClient.UploadResult result;
    try {
      cycle.forgetCas();
      result =
          cycle.uploads.uploadCsr(lease.getUploadName(), csr.pem(), key.map(PrivateKeyFacts::pem));
    } catch (CasException e) {
      cycle.releasePermit();
      if (e.kind() != CasException.Kind.AMBIGUOUS) {
        // Refused before anything was done (CasErrors): nothing was stored.
        Decider.removePending(next, pending);
      }
      Outcome outcome = failure(r, e, cycle);
      writeStatus(r, next, Optional.of(outcome), fenceOnLease(lease), listener);
      return Step.end(new Result(outcome, false, false));
    }
    cycle.releasePermit();
    log.info("uploaded CSR {} as CsrId {} for {}", lease.getUploadName(), result.csrId(), key(r));
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
    holds.remove(r.getMetadata().getUid());
    cycle.firstReady = true;
    String reason = next.getMissingCsrId() != null ? Reasons.REUPLOADED : Reasons.UPLOADED;
    AliyunCsr written =
        writeStatus(
            r,
            next,
            Optional.of(Outcome.ready(reason, Decider.readyMessage(reason, next))),
            fenceOnLease(lease),
            listener);
    crashPoints.reach(CrashPoints.Point.AFTER_STATUS);
    return Step.next(written);
  }

  private Step deleteCsr(Observation o, Action.DeleteCsr a, Cycle cycle, WriteListener listener)
      throws KubeApi.WriteRefused, CasException {
    AliyunCsr r = o.resource();
    Proof proof = prove(cycle.cas, r, a.csr(), a.adopted());
    if (proof.proven()) {
      try {
        cycle.cas.deleteCsr(a.csr().getCsrId());
        log.info("{}: deleted CsrId {} from CAS", key(r), a.csr().getCsrId());
      } catch (CasException e) {
        if (e.kind() != CasException.Kind.NOT_FOUND) {
          throw e;
        }
      }
    } else if (!proof.gone()) {
      refuse(r, a.csr().getCsrId(), "delete");
    }
    AliyunCsrStatus next = StatusBuilder.copyRecord(r.getStatus());
    List<CasCsrRef> superseded = new ArrayList<>(Decider.list(next.getSupersededCsrs()));
    superseded.removeIf(s -> Objects.equals(s.getCsrId(), a.csr().getCsrId()));
    next.setSupersededCsrs(superseded.isEmpty() ? null : superseded);
    return Step.next(writeStatus(r, next, Optional.empty(), fenceOnVersion(r), listener));
  }

  private Step sendKey(Observation o, Action.SendKey a, Cycle cycle, WriteListener listener)
      throws KubeApi.WriteRefused, CasException {
    AliyunCsr r = o.resource();
    Proof proof = prove(cycle.cas, r, a.csr(), a.adopted());
    AliyunCsrStatus next = StatusBuilder.copyRecord(r.getStatus());
    if (proof.gone()) {
      // CAS no longer holds the current CSR: status stops naming it; it is uploaded again.
      drift.observed("missing");
      Outcome missing = Decider.missing(next, a.adopted());
      return Step.next(writeStatus(r, next, Optional.of(missing), fenceOnVersion(r), listener));
    }
    if (!proof.proven()) {
      refuse(r, a.csr().getCsrId(), "send the private key to");
      return Step.end(
          settle(
              r,
              Failures.stalled(
                  Reasons.CSR_NOT_PROVEN,
                  "CAS does not prove that CsrId "
                      + a.csr().getCsrId()
                      + " is this resource's CSR; its private key is not sent"),
              cycle,
              listener));
    }
    if (!proof.detail().hasPrivateKey()) {
      cycle.cas.updateCsr(a.csr().getCsrId(), o.inputs().value().key().orElseThrow().pem());
      log.info("{}: sent the private key of CsrId {}", key(r), a.csr().getCsrId());
    }
    next.setPrivateKeyUploaded(true);
    String reason = Decider.readyReason(r, a.adopted());
    return Step.next(
        writeStatus(
            r,
            next,
            Optional.of(Outcome.ready(reason, Decider.readyMessage(reason, next))),
            fenceOnVersion(r),
            listener));
  }

  private AliyunCsr writeAnnotations(AliyunCsr r, WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsrStatus status = r.getStatus();
    Map<String, String> values = new LinkedHashMap<>();
    values.put(CasAnnotations.CSR_ID, Long.toString(status.getCsrId()));
    if (status.getRequestId() != null) {
      values.put(CasAnnotations.REQUEST_ID, status.getRequestId());
    }
    if (status.getUploadName() != null && r.getSpec().getCsrId() == null) {
      values.put(
          CasAnnotations.UPLOAD_INTENT,
          new UploadIntent(
                  status.getUploadName(), status.getCsrSha256(), status.getPublicKeySha256())
              .encode());
    }
    JsonPatch patch = fenceOnVersion(r);
    annotate(r, patch, values);
    AliyunCsr written = kube.patch(r, patch);
    listener.written(r, written);
    crashPoints.reach(CrashPoints.Point.AFTER_RECORD);
    return written;
  }

  private void refuse(AliyunCsr r, long csrId, String what) {
    String message =
        "Refused to "
            + what
            + " CsrId "
            + csrId
            + ": CAS does not prove it is this resource's CSR (its upload name and CSR), or"
            + " another AliyunCsr records it";
    log.warn("{}: {}", key(r), message);
    events.warning(r, Reasons.CSR_NOT_PROVEN, message);
  }

  // ---- status --------------------------------------------------------------------------------

  private Result settle(AliyunCsr r, Outcome outcome, Cycle cycle, WriteListener listener) {
    if (r.getSpec() != null || !r.isMarkedForDeletion()) {
      AliyunCsrStatus record = StatusBuilder.copyRecord(r.getStatus());
      if (cycle.confirmedAt != null
          && cycle.confirmation != null
          && Objects.equals(record.getCsrId(), cycle.confirmation.csrId())) {
        record.setLastConfirmedAt(StatusBuilder.rfc3339(cycle.confirmedAt));
      }
      if (cycle.request != null) {
        record.setLastHandledReconcileAt(cycle.request);
      }
      try {
        writeStatus(r, record, Optional.of(outcome), fenceOnVersion(r), listener);
      } catch (KubeApi.WriteRefused e) {
        // The object moved: its own event reconciles it again, from the new copy.
        return new Result(outcome.withRequeue(Duration.ofMillis(100)), false, e.gone());
      }
    }
    return new Result(outcome, cycle.firstReady, false);
  }

  private static Result released() {
    return new Result(Outcome.progressing(Reasons.DELETING, "released", null), false, true);
  }

  private Outcome failure(AliyunCsr r, CasException e, Cycle cycle) {
    Duration next = backoff.next(r.getMetadata().getUid());
    Outcome outcome = r.isMarkedForDeletion() ? Failures.ofDeletion(e, next) : Failures.of(e, next);
    Duration wait = outcome.requeueAfter().orElse(next);
    holds.put(
        r.getMetadata().getUid(),
        new Hold(clock.instant().plus(wait), generation(r), inputsHash(cycle), outcome));
    return outcome;
  }

  /**
   * A failed CAS call is not made again before its backoff ends, whatever event comes meanwhile
   * (the echo of the failure's own write, say), unless the spec, the Secret's CSR or the deletion
   * state changed: those are worth a new try at once.
   */
  private record Hold(Instant until, long generation, String inputs, Outcome outcome) {}

  private final Map<String, Hold> holds = new ConcurrentHashMap<>();

  private Optional<Result> held(AliyunCsr r, Cycle cycle) {
    Hold hold = holds.get(r.getMetadata().getUid());
    if (hold == null || r.isMarkedForDeletion() || r.getSpec() == null) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    if (!now.isBefore(hold.until())) {
      holds.remove(r.getMetadata().getUid());
      return Optional.empty();
    }
    cycle.inputs = inputs.load(r);
    if (hold.generation() != generation(r) || !Objects.equals(hold.inputs(), inputsHash(cycle))) {
      holds.remove(r.getMetadata().getUid());
      return Optional.empty();
    }
    return Optional.of(
        new Result(hold.outcome().withRequeue(Duration.between(now, hold.until())), false, false));
  }

  private static String inputsHash(Cycle cycle) {
    return cycle == null || cycle.inputs == null || !cycle.inputs.isValid()
        ? "invalid"
        : cycle.inputs.value().csr().csrSha256()
            + cycle.inputs.value().key().map(k -> "+key").orElse("");
  }

  private static long generation(AliyunCsr r) {
    Long g = r.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }

  /**
   * Writes {@code record} and the outcome's conditions (the old ones when empty) as a JSON patch of
   * only the fields that change, after {@code fence}. Emits the Event for a change of Ready.
   */
  private AliyunCsr writeStatus(
      AliyunCsr r,
      AliyunCsrStatus record,
      Optional<Outcome> outcome,
      JsonPatch fence,
      WriteListener listener)
      throws KubeApi.WriteRefused {
    AliyunCsrStatus previous = r.getStatus();
    AliyunCsrStatus next;
    if (outcome.isPresent()) {
      next =
          StatusBuilder.withOutcome(
              previous, record, r.getMetadata().getGeneration(), outcome.get(), clock.instant());
    } else {
      next = StatusBuilder.copyRecord(record);
      // A status written by the operator always has an observedGeneration (see statusLost).
      next.setObservedGeneration(
          previous == null || previous.getObservedGeneration() == null
              ? r.getMetadata().getGeneration()
              : previous.getObservedGeneration());
      next.setConditions(previous == null ? new ArrayList<>() : previous.getConditions());
    }
    int tests = fence.isEmpty() ? 0 : fence.toJson().size();
    JsonPatch patch = diff(fence, previous, next);
    if (patch.toJson().size() == tests) {
      return r;
    }
    AliyunCsr written = kube.patchStatus(r, patch);
    listener.written(r, written);
    outcome.ifPresent(x -> emitEvent(r, previous, next, x));
    return written;
  }

  private void emitEvent(
      AliyunCsr r, AliyunCsrStatus previous, AliyunCsrStatus next, Outcome outcome) {
    boolean casChanged =
        !Objects.equals(previous == null ? null : previous.getCsrId(), next.getCsrId())
            && next.getCsrId() != null;
    if (!casChanged && !readyChanged(previous, next)) {
      return;
    }
    switch (outcome.state()) {
      case READY -> {
        log.info("{} ready: {} {}", key(r), outcome.reason(), outcome.message());
        events.normal(r, outcome.reason(), outcome.message());
      }
      case STALLED -> {
        log.warn("{} stalled: {} {}", key(r), outcome.reason(), outcome.message());
        events.warning(r, outcome.reason(), outcome.message());
      }
      case PROGRESSING -> {
        log.info("{} not ready: {} {}", key(r), outcome.reason(), outcome.message());
        if (!Reasons.UPLOADING.equals(outcome.reason())) {
          events.warning(r, outcome.reason(), outcome.message());
        }
      }
    }
  }

  private static boolean readyChanged(AliyunCsrStatus previous, AliyunCsrStatus next) {
    Optional<CsrCondition> before =
        previous == null ? Optional.empty() : previous.condition(StatusBuilder.READY);
    Optional<CsrCondition> after = next.condition(StatusBuilder.READY);
    if (after.isEmpty()) {
      return false;
    }
    return before.isEmpty()
        || !Objects.equals(before.get().getStatus(), after.get().getStatus())
        || !Objects.equals(before.get().getReason(), after.get().getReason());
  }

  /** The operations that turn {@code previous} into {@code next}, field by field. */
  static JsonPatch diff(JsonPatch patch, AliyunCsrStatus previous, AliyunCsrStatus next) {
    ObjectNode after = Serialization.jsonMapper().valueToTree(next);
    // fabric8 shows a missing status as an empty one; JSON has no status to add fields to.
    if (previous == null || previous.equals(new AliyunCsrStatus())) {
      return patch.add("/status", after);
    }
    ObjectNode before = Serialization.jsonMapper().valueToTree(previous);
    for (Iterator<String> names = before.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!after.has(name)) {
        patch.remove("/status/" + name);
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> fields = after.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      if (!field.getValue().equals(before.get(field.getKey()))) {
        patch.add("/status/" + field.getKey(), field.getValue());
      }
    }
    return patch;
  }

  private static JsonPatch fenceOnVersion(AliyunCsr r) {
    return new JsonPatch().test("/metadata/resourceVersion", r.getMetadata().getResourceVersion());
  }

  /** Only the lease's holder records the result: a process that lost its lease cannot. */
  private static JsonPatch fenceOnLease(UploadLease lease) {
    return new JsonPatch()
        .test("/status/lease/holder", lease.getHolder())
        .test("/status/lease/token", lease.getToken());
  }

  /** Sets annotations; the map itself is created when the object has none. */
  private static void annotate(AliyunCsr r, JsonPatch patch, Map<String, String> values) {
    // fabric8 shows absent annotations as an empty map; JSON has no such map to add a key to.
    if (r.getMetadata().getAnnotations() == null || r.getMetadata().getAnnotations().isEmpty()) {
      ObjectNode annotations = Serialization.jsonMapper().createObjectNode();
      values.forEach(annotations::put);
      patch.add("/metadata/annotations", annotations);
    } else {
      values.forEach((k, v) -> patch.add(JsonPatch.annotation(k), v));
    }
  }

  private Optional<AliyunCsr> freshCopy(AliyunCsr r) {
    return kube.get(r.getMetadata().getNamespace(), r.getMetadata().getName())
        .filter(f -> Objects.equals(f.getMetadata().getUid(), r.getMetadata().getUid()));
  }

  private static String key(AliyunCsr r) {
    return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }
}
