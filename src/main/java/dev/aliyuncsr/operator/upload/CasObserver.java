package dev.aliyuncsr.operator.upload;

import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasClient.CsrSummary;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the truth about CAS after the upload: confirms, in batches, that CAS still holds the CSR of
 * every Ready resource, once per interval (jittered per resource).
 *
 * <p>A pass pages through ListCsr over the whole account ({@value #PAGE_SIZE} per page, the
 * documented default; the maximum is unconfirmed) and matches the page items against the cache by
 * CsrId, so confirming N resources costs about N / 50 calls instead of N. It starts when any
 * resource is due, and takes along every resource confirmed more than half an interval ago, so that
 * resources uploaded at different times share passes. Its calls are a background class in the
 * account's budget (CAS_OBSERVE_SHARE of its rate), so they never take more than that from uploads.
 *
 * <p>What a pass finds:
 *
 * <ul>
 *   <li>in the list as recorded: {@code status.lastConfirmedAt} is written, fenced on the CsrId;
 *   <li>not in the list, or without the private key this resource sent: the resource is reconciled,
 *       and its reconcile asks GetCsrDetail before anything is concluded (ListCsr may lag, pages
 *       may shift). The protocol acts on the answer: a re-upload, a Stalled adoption, or the key
 *       sent again.
 * </ul>
 */
public final class CasObserver implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CasObserver.class);

  /** ListCsr's documented default page size. */
  public static final long PAGE_SIZE = 50;

  /** How many status writes of confirmations go at once. */
  private static final int WRITERS = 4;

  /** What the observer is told and asks. */
  public interface Host {
    /** The resources in the cache; empty on a standby. */
    List<AliyunCsr> resources();

    /** Reconcile this resource soon, confirming its CSR by GetCsrDetail. */
    void confirm(AliyunCsr resource);

    /**
     * The observation client of the account that status.account names (null: the default one);
     * empty when the account does not work now (its resources wait for the next pass).
     */
    Optional<CasClient> observeClient(String account);

    /**
     * A finished pass over {@code account} (null: the default) did not list {@code missing} of the
     * {@code recorded} CSRs resources record there: many at once may mean the account's handle
     * reaches another Alibaba Cloud account.
     */
    default void missingInPass(String account, int missing, int recorded) {}
  }

  /** The metrics the observer feeds. */
  public interface Metrics {
    void observed(String result, int count);

    void observationCall(String action);

    /** One sample of a Ready resource's confirmation age. */
    void confirmationAge(Duration age);
  }

  private final KubeApi kube;
  private final Host host;
  private final Metrics metrics;
  private final Clock clock;
  private final Duration interval;
  private final BooleanSupplier active;
  private final ScheduledExecutorService timer;
  private final ExecutorService writers;

  /**
   * @param interval how often each resource is confirmed; positive
   * @param active whether this process reconciles (the leader)
   */
  public CasObserver(
      KubeApi kube,
      Host host,
      Metrics metrics,
      Clock clock,
      Duration interval,
      BooleanSupplier active) {
    this.kube = kube;
    this.host = host;
    this.metrics = metrics;
    this.clock = clock;
    this.interval = interval;
    this.active = active;
    this.timer = Executors.newSingleThreadScheduledExecutor(daemon("cas-observer"));
    this.writers = Executors.newFixedThreadPool(WRITERS, daemon("cas-observer-write"));
  }

  /** How often the observer looks for due resources: a twentieth of the interval, 1 s to 1 min. */
  static Duration tick(Duration interval) {
    Duration tick = interval.dividedBy(20);
    if (tick.compareTo(Duration.ofSeconds(1)) < 0) {
      return Duration.ofSeconds(1);
    }
    return tick.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : tick;
  }

  public CasObserver start() {
    long tick = tick(interval).toMillis();
    timer.scheduleWithFixedDelay(this::tickSafely, tick, tick, TimeUnit.MILLISECONDS);
    return this;
  }

  private void tickSafely() {
    try {
      if (active.getAsBoolean()) {
        pass();
      }
    } catch (RuntimeException e) {
      log.warn("observation pass failed: {}", e.toString());
    }
  }

  /** What one pass did. */
  public record PassResult(int confirmed, int suspects, int calls) {
    static final PassResult NOTHING = new PassResult(0, 0, 0);
  }

  /** One pass, if any resource is due. Runs on the caller's thread. */
  public PassResult pass() {
    Instant now = clock.instant();
    List<AliyunCsr> observable = new ArrayList<>();
    boolean anyDue = false;
    for (AliyunCsr r : host.resources()) {
      if (!observable(r)) {
        continue;
      }
      Duration age = Duration.between(confirmedAt(r), now);
      metrics.confirmationAge(age.isNegative() ? Duration.ZERO : age);
      observable.add(r);
      anyDue |= age.compareTo(jittered(r)) >= 0;
    }
    if (!anyDue) {
      return PassResult.NOTHING;
    }
    // Everyone confirmed more than half an interval ago goes along: one pass serves them all.
    // Each account is listed with its own client: a CsrId means something only in its account.
    Map<String, Map<Long, AliyunCsr>> byAccount = new HashMap<>();
    for (AliyunCsr r : observable) {
      if (Duration.between(confirmedAt(r), now).compareTo(interval.dividedBy(2)) >= 0) {
        byAccount
            .computeIfAbsent(accountKey(r), a -> new HashMap<>())
            .put(r.getStatus().getCsrId(), r);
      }
    }
    List<AliyunCsr> confirmed = new ArrayList<>();
    List<AliyunCsr> suspects = new ArrayList<>();
    int calls = 0;
    for (var group : byAccount.entrySet()) {
      String account = group.getKey().isEmpty() ? null : group.getKey();
      Optional<CasClient> cas = host.observeClient(account);
      if (cas.isEmpty()) {
        continue;
      }
      calls += listAccount(cas.get(), account, group.getValue(), confirmed, suspects);
    }
    Instant seen = clock.instant();
    // Suspects first: their confirmation (and a re-upload) must not wait for thousands of writes.
    for (AliyunCsr r : suspects) {
      log.info(
          "{}/{}: CsrId {} not as recorded in ListCsr; confirming it with GetCsrDetail",
          r.getMetadata().getNamespace(),
          r.getMetadata().getName(),
          r.getStatus().getCsrId());
      host.confirm(r);
    }
    record(confirmed, seen);
    metrics.observed("confirmed", confirmed.size());
    log.debug(
        "observation pass: {} confirmed, {} to confirm one by one, {} ListCsr calls",
        confirmed.size(),
        suspects.size(),
        calls);
    return new PassResult(confirmed.size(), suspects.size(), calls);
  }

  /**
   * Pages through one account's ListCsr until every wanted CsrId is found or the pages end; what is
   * found goes to {@code confirmed} (or {@code suspects} when the key CAS held is gone), what the
   * whole list lacks to {@code suspects}. Returns the calls made.
   */
  private int listAccount(
      CasClient cas,
      String account,
      Map<Long, AliyunCsr> wanted,
      List<AliyunCsr> confirmed,
      List<AliyunCsr> suspects) {
    int calls = 0;
    int recorded = wanted.size();
    try {
      for (long page = 1; !wanted.isEmpty(); page++) {
        metrics.observationCall("ListCsr");
        calls++;
        CasClient.CsrPage one = cas.listCsrPage(page, PAGE_SIZE);
        for (CsrSummary item : one.items()) {
          AliyunCsr r = wanted.remove(item.csrId());
          if (r == null) {
            continue;
          }
          boolean keyLost =
              Boolean.TRUE.equals(r.getStatus().getPrivateKeyUploaded()) && !item.hasPrivateKey();
          (keyLost ? suspects : confirmed).add(r);
        }
        if (one.items().isEmpty() || page * PAGE_SIZE >= one.totalCount()) {
          break;
        }
      }
    } catch (CasException e) {
      // Nothing is concluded from a pass that did not finish: the rest waits for the next one.
      log.warn(
          "observation of account {} stopped after {} ListCsr calls: {}",
          account == null ? "default" : account,
          calls,
          e.getMessage());
      wanted.clear();
      return calls;
    }
    host.missingInPass(account, wanted.size(), recorded);
    suspects.addAll(wanted.values());
    return calls;
  }

  private static String accountKey(AliyunCsr r) {
    return Objects.requireNonNullElse(r.getStatus().getAccount(), "");
  }

  /** Writes lastConfirmedAt, only while status still names the CSR that was confirmed. */
  private void record(List<AliyunCsr> confirmed, Instant seen) {
    String at = StatusBuilder.rfc3339(seen);
    List<Future<?>> writes = new ArrayList<>();
    for (AliyunCsr r : confirmed) {
      writes.add(
          writers.submit(
              () -> {
                JsonPatch patch =
                    new JsonPatch()
                        .test("/status/csrId", LongNode.valueOf(r.getStatus().getCsrId()))
                        .add("/status/lastConfirmedAt", TextNode.valueOf(at));
                try {
                  kube.patchStatus(r, patch);
                } catch (KubeApi.WriteRefused e) {
                  // Its status moved on (a new CSR, a deletion): nothing to confirm.
                }
              }));
    }
    for (Future<?> write : writes) {
      try {
        write.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        log.warn("recording a confirmation failed: {}", e.getCause().toString());
      }
    }
  }

  /** Ready, settled, not paused and not being deleted: its CSR is what CAS should hold. */
  static boolean observable(AliyunCsr r) {
    AliyunCsrStatus status = r.getStatus();
    return status != null
        && status.getCsrId() != null
        && status.getLease() == null
        && Decider.list(status.getPendingUploads()).isEmpty()
        && !r.isMarkedForDeletion()
        && !CasAnnotations.paused(r)
        && status
            .condition(StatusBuilder.READY)
            .map(c -> "True".equals(c.getStatus()))
            .orElse(false);
  }

  private static Instant confirmedAt(AliyunCsr r) {
    AliyunCsrStatus status = r.getStatus();
    for (String at : new String[] {status.getLastConfirmedAt(), status.getUploadedAt()}) {
      if (at != null) {
        try {
          return Instant.parse(at);
        } catch (RuntimeException e) {
          // unreadable: try the next
        }
      }
    }
    return Instant.EPOCH;
  }

  /** The interval for this resource, 90 % to 110 %, fixed by its UID: no thundering herd. */
  Duration jittered(AliyunCsr r) {
    int h = r.getMetadata().getUid() == null ? 0 : r.getMetadata().getUid().hashCode();
    double factor = 0.9 + 0.2 * (Math.floorMod(h, 1000) / 1000.0);
    return Duration.ofMillis((long) (interval.toMillis() * factor));
  }

  @Override
  public void close() {
    timer.shutdownNow();
    writers.shutdownNow();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread t = new Thread(runnable, name);
      t.setDaemon(true);
      return t;
    };
  }
}
