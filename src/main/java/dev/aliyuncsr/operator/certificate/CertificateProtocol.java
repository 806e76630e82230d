package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.kube.ResourceEvents;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One AliyunCertificate's way from a Ready AliyunCsr to a kubernetes.io/tls Secret, as one pass
 * that repeats: observe ({@link CertificateObserver}, read-only), decide ({@link Decider}, pure),
 * act ({@link CertificateExecutor}, one effect), then observe again, until the decision is to
 * settle.
 *
 * <p>The record lives in status, which namespace users cannot write: the application lease and the
 * application made (instance, CSR, retry value used, when CAS accepted it), what the instance
 * showed last, and the certificate in the Secret. The instance in CAS is read before every action
 * on it, so the record only has to say what the instance cannot: that an application is in flight,
 * and which retry value is used up.
 *
 * <p>The invariants it keeps, whatever processes run, crash or see stale caches: at most one
 * ApplyCertificate per instance, CSR and retry value (the lease is written, fenced on the
 * resourceVersion, before the call; its result is written fenced on the lease token; an unknown
 * result keeps the lease until it ends and the instance decides); no call at all for a namespace
 * its account does not select; the Secret written only with a checked certificate and its key,
 * never over a Secret that is not this certificate's.
 */
public final class CertificateProtocol {
  private static final Logger log = LoggerFactory.getLogger(CertificateProtocol.class);
  private static final int MAX_STEPS = 16;

  /**
   * @param holder this process in leases: pod name and process id
   * @param leaseDuration how long an application lease lasts
   * @param maxCallTime the longest an ApplyCertificate can be in flight; never started with less
   *     lease left (and the wait for the budget)
   */
  public record LeaseSettings(
      String holder, Duration leaseDuration, Duration maxCallTime, Supplier<String> tokens) {
    public static LeaseSettings of(String holder, Duration leaseDuration, Duration maxCallTime) {
      return new LeaseSettings(
          holder, leaseDuration, maxCallTime, () -> UUID.randomUUID().toString());
    }
  }

  /** Told of every object this protocol wrote, so a cache can show it before its watch event. */
  public interface WriteListener {
    void written(AliyunCertificate before, AliyunCertificate after);

    WriteListener NONE = (before, after) -> {};
  }

  /**
   * How a reconcile ended.
   *
   * @param notAfter the end of the certificate in the Secret, as status records it
   * @param gone the certificate no longer exists
   */
  public record Result(Outcome outcome, String notAfter, boolean gone) {
    static Result released() {
      return new Result(Outcome.progressing(Reasons.DELETING, "gone", null), null, true);
    }

    /** The certificate's notAfter, when status records a readable one. */
    public Optional<Instant> expiry() {
      try {
        return Optional.ofNullable(notAfter).map(Instant::parse);
      } catch (DateTimeParseException e) {
        return Optional.empty();
      }
    }
  }

  private final CertificateKube kube;
  private final CertificateObserver observer;
  private final Decider decider;
  private final CertificateExecutor executor;
  private final PollHolds holds = new PollHolds();
  private final RetryBackoff backoff;

  /**
   * @param dnsEndpointApi whether the cluster serves DNSEndpoints to the operator (checked at
   *     start)
   */
  public CertificateProtocol(
      CertificateKube kube,
      CertificatePeers peers,
      CertificateRoute routes,
      Settings decisions,
      ResourceEvents events,
      Clock clock,
      RetryBackoff backoff,
      CertificateCrashPoints crashPoints,
      LeaseSettings leases,
      BooleanSupplier dnsEndpointApi) {
    this.kube = kube;
    this.backoff = backoff;
    this.observer = new CertificateObserver(kube, peers, routes, holds, clock, dnsEndpointApi);
    this.decider = new Decider(decisions);
    this.executor =
        new CertificateExecutor(
            kube,
            new CertificateStatusWriter(kube, events, clock),
            holds,
            backoff,
            clock,
            crashPoints,
            leases);
  }

  /** One reconcile of one certificate, starting from a possibly stale cached copy. */
  public Result reconcile(AliyunCertificate cached, WriteListener listener) {
    Pass pass = new Pass();
    AliyunCertificate current = cached;
    for (int step = 0; step < MAX_STEPS; step++) {
      // 1. Observe: read-only.
      Observation observation = observer.observe(current, pass);
      // 2. Decide: one next action, pure.
      Action action = decider.decide(observation);
      log.debug("{}: {}", CertificateStatusWriter.key(current), describe(action));
      // 3. Act: one effect; then observe again.
      CertificateExecutor.Step next;
      try {
        next = executor.act(observation, action, pass, listener);
      } catch (CertificateExecutor.ReadAgain e) {
        // A fence did not hold (the object moved under us), or it is gone: read it again.
        Optional<AliyunCertificate> fresh = e.gone ? Optional.empty() : freshCopy(current);
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
        Outcome.progressing(Reasons.APPLYING, "still working", Duration.ofMillis(200)),
        current.getStatus() == null ? null : current.getStatus().getNotAfter(),
        false);
  }

  /** The certificate is gone: what this process keeps for it goes too. */
  public void forget(String uid) {
    holds.forget(uid);
    backoff.reset(uid);
  }

  private static String describe(Action action) {
    if (action instanceof Action.Settle s) {
      return "Settle " + s.outcome().state() + " " + s.outcome().reason();
    }
    if (action instanceof Action.WriteSecret w) {
      return "WriteSecret " + w.secretName() + " (" + w.content() + ")";
    }
    return action.toString();
  }

  private Optional<AliyunCertificate> freshCopy(AliyunCertificate r) {
    return kube.get(r.getMetadata().getNamespace(), r.getMetadata().getName())
        .filter(f -> Objects.equals(f.getMetadata().getUid(), r.getMetadata().getUid()));
  }
}
