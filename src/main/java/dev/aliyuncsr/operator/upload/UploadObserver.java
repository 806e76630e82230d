package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.UploadLease;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Gathers one {@link Observation}: reads the object (as given), its Secrets, the other resources
 * (from the cache), which accounts its calls may go to, this process's memory of it (a back-off
 * hold, a confirmation asked for) and what CAS said earlier in this reconcile. It calls nothing in
 * CAS and writes nothing: the decider decides every call.
 */
final class UploadObserver {
  private static final DateTimeFormatter MILLIS = DateTimeFormatter.ISO_INSTANT;

  private final UploadProtocol.Inputs inputs;
  private final CasRoute routes;
  private final Peers peers;
  private final UploadNames names;
  private final Holds holds;
  private final Clock clock;
  private final UploadProtocol.Settings settings;

  /** Resources the observer did not find in ListCsr: their next reconcile asks GetCsrDetail. */
  private final Map<String, Boolean> confirmRequests = new ConcurrentHashMap<>();

  UploadObserver(
      UploadProtocol.Inputs inputs,
      CasRoute routes,
      Peers peers,
      UploadNames names,
      Holds holds,
      Clock clock,
      UploadProtocol.Settings settings) {
    this.inputs = inputs;
    this.routes = routes;
    this.peers = peers;
    this.names = names;
    this.holds = holds;
    this.clock = clock;
    this.settings = settings;
  }

  /** What a reconcile knows at its start: a reconcile request, a confirmation wanted. */
  void begin(AliyunCsr r, Cycle cycle) {
    Instant now = clock.instant();
    cycle.pausedAtStart = CasAnnotations.paused(r);
    cycle.request =
        CasAnnotations.reconcileRequest(r)
            .filter(value -> !value.equals(lastHandled(r)))
            .orElse(null);
    AliyunCsrStatus status = r.getStatus();
    boolean notFoundDue =
        status != null
            && status.getNotFoundAt() != null
            && !now.isBefore(Instant.parse(status.getNotFoundAt()).plus(settings.missingWindow()));
    // An observer's request is used up only by the GetCsrDetail it asks for.
    cycle.confirmWanted =
        confirmRequests.containsKey(r.getMetadata().getUid())
            || cycle.request != null
            || notFoundDue;
  }

  /** Returns null when the copy is known to be stale and must be read again. */
  Observation observe(AliyunCsr r, Cycle cycle) {
    Instant now = clock.instant();
    String uid = r.getMetadata().getUid();
    boolean paused = cycle.pausedAtStart || CasAnnotations.paused(r);
    CasRoute.Routes routing = routes.routes(r);
    Observation.CasFacts cas =
        new Observation.CasFacts(
            Map.copyOf(cycle.lookups),
            Optional.ofNullable(cycle.adoption),
            Optional.ofNullable(cycle.confirmation)
                .filter(
                    c ->
                        r.getStatus() != null
                            && Objects.equals(c.csrId(), r.getStatus().getCsrId())));
    if (r.getSpec() == null) {
      return new Observation(
          r,
          now,
          new Observation.Steering(paused, Optional.empty(), false),
          routing,
          null,
          null,
          Optional.empty(),
          Optional.empty(),
          false,
          null,
          Optional.empty(),
          cas,
          settings.missingWindow());
    }
    if (cycle.inputs == null) {
      cycle.inputs = inputs.load(r);
    }
    Validated<SecretInputs.Inputs> in = cycle.inputs;
    AliyunCsrStatus status = r.getStatus();

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
    String uploadName = names.of(r);
    boolean adopting = r.getSpec().getCsrId() != null;
    boolean recordLost = !adopting && statusLost(status) && hasTraces(r);
    String sha = in.isValid() ? in.value().csr().csrSha256() : null;
    UploadLease restoreLease =
        recordLost
            ? new UploadLease(
                "status-restore",
                settings.tokens().get(),
                MILLIS.format(now.plus(settings.maxCallTime())),
                uploadName,
                sha)
            : null;
    var hold =
        r.isMarkedForDeletion()
            ? Optional.<Outcome>empty()
            : holds.held(uid, now, generation(r), inputsHash(in), cycle.request != null);
    Optional<String> claims = Optional.empty();
    if (adopting && (status == null || !r.getSpec().getCsrId().equals(status.getCsrId()))) {
      long wanted = r.getSpec().getCsrId();
      claims =
          peers
              .recorder(r, wanted)
              .map(other -> "AliyunCsr " + other + " records it")
              .or(
                  () ->
                      peers
                          .earlierAdopter(r, wanted)
                          .map(other -> "AliyunCsr " + other + ", created earlier, adopts it"));
    }
    return new Observation(
        r,
        now,
        new Observation.Steering(paused, hold, cycle.confirmWanted),
        routing,
        in,
        uploadName,
        foreign,
        own,
        recordLost,
        restoreLease,
        claims,
        cas,
        settings.missingWindow());
  }

  /** The observer did not find this resource's CSR: its next reconcile confirms it in CAS. */
  void requestConfirmation(String uid) {
    confirmRequests.put(uid, Boolean.TRUE);
  }

  /** A confirmation was made for this resource: the observer's request is used up. */
  void confirmed(String uid) {
    confirmRequests.remove(uid);
  }

  void forget(String uid) {
    confirmRequests.remove(uid);
  }

  private static String lastHandled(AliyunCsr r) {
    return r.getStatus() == null ? null : r.getStatus().getLastHandledReconcileAt();
  }

  private static boolean isLive(UploadLease lease, Instant now) {
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
  static boolean statusLost(AliyunCsrStatus status) {
    return status == null || status.getObservedGeneration() == null;
  }

  /** The finalizer or the mirror annotations say this resource may have uploaded before. */
  static boolean hasTraces(AliyunCsr r) {
    return r.hasFinalizer(CasAnnotations.FINALIZER)
        || CasAnnotations.intent(r).isPresent()
        || CasAnnotations.csrId(r).isPresent();
  }

  static String inputsHash(Validated<SecretInputs.Inputs> inputs) {
    return inputs == null || !inputs.isValid()
        ? "invalid"
        : inputs.value().csr().csrSha256() + inputs.value().key().map(k -> "+key").orElse("");
  }

  static long generation(AliyunCsr r) {
    Long g = r.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }
}
