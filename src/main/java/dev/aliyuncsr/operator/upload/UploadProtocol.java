package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.EventSink;
import dev.aliyuncsr.operator.kube.KubeApi;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exactly-once upload protocol of one AliyunCsr, as one pass that repeats: observe ({@link
 * UploadObserver}, read-only: the object, its Secrets, the other resources, the accounts, what CAS
 * said so far), decide ({@link Decider}, pure), act ({@link UploadExecutor}, one effect), then
 * observe again, until the decision is to settle.
 *
 * <p>The record lives in status, which namespace users cannot write: the upload lease, the uploads
 * whose result is unknown, the current CSR and the superseded ones. Annotations only mirror it for
 * people and as a trace for a restore without status; nothing an annotation, the spec or a CSR says
 * is proof of anything.
 *
 * <p>The invariants it keeps, whatever processes run, crash, see stale caches, or whatever a
 * namespace user writes:
 *
 * <ol>
 *   <li>At most one CSR in CAS per resource and CSR: after a result that may have stored one, there
 *       is no second upload until two lookups a window apart rule the first out.
 *   <li>A CAS call for a resource goes to an account only while that account selects its namespace,
 *       or to clean up what its status records in that account.
 *   <li>No DeleteCsr or UpdateCsr on a CsrId that is not this resource's: recorded in its status
 *       (uploaded, or found under its own ownership mark with its own CSR), and for an adopted CSR
 *       with the private key that proves possession. A CsrId another resource records is never
 *       touched.
 *   <li>Nothing leaks under deletionPolicy Delete, uploads of unknown result included.
 *   <li>Ready never names a CsrId the operator deleted; a CSR counts as gone only after two
 *       NotFound answers a window apart.
 * </ol>
 */
public final class UploadProtocol {
  private static final Logger log = LoggerFactory.getLogger(UploadProtocol.class);
  private static final int MAX_STEPS = 16;

  /** How long apart two NotFound answers must be before a CSR counts as gone, by default. */
  public static final Duration DEFAULT_MISSING_WINDOW = Duration.ofMinutes(1);

  /** Where the validated Secrets of a resource come from. */
  public interface Inputs {
    Validated<SecretInputs.Inputs> load(AliyunCsr resource);
  }

  /**
   * The CAS call budget of uploads: a turn takes the upload's place in the rate before its lease is
   * written (waiting for the budget never holds a lease), and a concurrency slot is claimed only
   * for the call itself, after the lease and the finalizer are written (a slot never covers a
   * Kubernetes write). An upload whose place is further away than a moment is told when to come
   * back, and says Queued meanwhile: no reconcile thread waits for the budget.
   */
  public interface UploadGate {
    /**
     * A turn for the resource {@code key} of namespace {@code tenant}, its place kept until it is
     * claimed: {@link CallBudget.Placed} (a place, no slot yet), {@link CallBudget.Granted} (a slot
     * too) or {@link CallBudget.Later}.
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
          return budget.admitPlace(CallBudget.Tenant.namespace(tenant), key);
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
   * @param missingWindow how long apart two NotFound answers must be before a CSR counts as gone,
   *     or a pending upload as never stored
   */
  public record Settings(
      String holder,
      Duration leaseDuration,
      Duration maxCallTime,
      Supplier<String> tokens,
      Duration missingWindow) {
    public Settings(
        String holder, Duration leaseDuration, Duration maxCallTime, Supplier<String> tokens) {
      this(holder, leaseDuration, maxCallTime, tokens, DEFAULT_MISSING_WINDOW);
    }

    public static Settings of(
        String holder, Duration leaseDuration, Duration maxCallTime, Duration missingWindow) {
      return new Settings(
          holder, leaseDuration, maxCallTime, () -> UUID.randomUUID().toString(), missingWindow);
    }
  }

  /** How a reconcile ended. */
  public record Result(Outcome outcome, boolean firstReady, boolean gone) {
    static Result released() {
      return new Result(Outcome.progressing(Reasons.DELETING, "released", null), false, true);
    }
  }

  private final KubeApi kube;
  private final CasRoute routes;
  private final RetryBackoff backoff;
  private final Holds holds = new Holds();
  private final UploadObserver observer;
  private final UploadExecutor executor;

  /**
   * One account for everything (the simulation, tests).
   *
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
      UploadNames names,
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
        names,
        events,
        clock,
        backoff,
        crashPoints,
        settings,
        drift);
  }

  /**
   * @param routes which accounts each resource's calls may go to
   * @param names upload names and the ownership marks in them
   */
  public UploadProtocol(
      KubeApi kube,
      CasRoute routes,
      Inputs inputs,
      Peers peers,
      UploadNames names,
      EventSink events,
      Clock clock,
      RetryBackoff backoff,
      CrashPoints crashPoints,
      Settings settings,
      DriftListener drift) {
    this.kube = kube;
    this.routes = routes;
    this.backoff = backoff;
    this.observer = new UploadObserver(inputs, routes, peers, names, holds, clock, settings);
    this.executor =
        new UploadExecutor(
            new StatusWriter(kube, events, clock),
            new CasReads(peers, names),
            peers,
            holds,
            backoff,
            clock,
            crashPoints,
            settings,
            drift,
            observer,
            routes);
  }

  /** One reconcile of one resource, starting from a possibly stale cached copy. */
  public Result reconcile(AliyunCsr cached, WriteListener listener) {
    Cycle cycle = new Cycle();
    AliyunCsr current = cached;
    observer.begin(cached, cycle);
    try {
      for (int step = 0; step < MAX_STEPS; step++) {
        Observation observation = observer.observe(current, cycle);
        if (observation == null) {
          Optional<AliyunCsr> fresh = freshCopy(current);
          if (fresh.isEmpty()) {
            return Result.released();
          }
          current = fresh.get();
          continue;
        }
        Action action = Decider.decide(observation);
        log.debug("{}: {}", StatusWriter.key(current), describe(action));
        UploadExecutor.Step next;
        try {
          next = executor.act(observation, action, cycle, listener);
        } catch (UploadExecutor.ReadAgain e) {
          // A fence did not hold (the object moved under us), or it is gone: read it again.
          Optional<AliyunCsr> fresh = e.gone ? Optional.empty() : freshCopy(current);
          if (fresh.isEmpty()) {
            return Result.released();
          }
          current = fresh.get();
          continue;
        }
        if (next.result() != null) {
          return next.result();
        }
        current = next.object();
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
    observer.requestConfirmation(uid);
  }

  /** The resource is gone: what this process keeps for it goes too. */
  public void forget(String uid) {
    observer.forget(uid);
    holds.forget(uid);
    backoff.reset(uid);
    routes.cancel(uid);
  }

  private static String describe(Action action) {
    return action instanceof Action.WriteRecord w
        ? "WriteRecord ("
            + w.why()
            + ": csrId "
            + w.record().getCsrId()
            + ", pending "
            + w.record().getPendingUploads()
            + ", superseded "
            + w.record().getSupersededCsrs()
            + ")"
        : action.getClass().getSimpleName();
  }

  private Optional<AliyunCsr> freshCopy(AliyunCsr r) {
    return kube.get(r.getMetadata().getNamespace(), r.getMetadata().getName())
        .filter(f -> Objects.equals(f.getMetadata().getUid(), r.getMetadata().getUid()));
  }
}
