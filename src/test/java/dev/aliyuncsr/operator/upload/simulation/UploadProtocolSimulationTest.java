package dev.aliyuncsr.operator.upload.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Deterministic simulation of the upload protocol against a hostile world. For each seed, two or
 * three operator processes run the real {@link dev.aliyuncsr.operator.upload.UploadProtocol}
 * against an in-memory API server (409/422 fences, late watch events, the CRD's CEL rules) and a
 * simulated CAS (answers lost after the store, 5xx after the store, throttling, slow answers, reads
 * that lag behind writes by up to 20 s), while processes crash and caches go stale. The world has
 * two or three tenant namespaces, the operator's default account and two AliyunCasAccounts with
 * namespace selectors that change during the run, each a handle on a CAS store (sometimes two on
 * one store); a handle may switch to another store, and its migration guard then blocks re-uploads
 * until an admin confirms or switches it back. Tenants ({@link Tenants}) write whatever a namespace
 * user may write in their own namespace: spec (accountRef to any account, another tenant's
 * spec.name and CsrIds, deletionPolicy), annotations (another tenant's mirror annotations,
 * reconcile-request bursts, pause), the finalizer (added or removed by hand), Secrets (another
 * tenant's public CSR, never its key), deletes, and Velero-style restores (new UID, no status, with
 * or without the original's finalizer and annotations); never status. A person at the CAS console
 * deletes CSRs and drops keys. Once faults stop, every resource must settle, every CSR is
 * confirmed, and half the seeds run a drill (an adoption of another tenant's CSR, a disaster
 * restore, a migration of an account's handle); after deletion nothing may be left behind.
 *
 * <p>The invariants of issue 17, checked at the moment of each CAS call and status write (the
 * {@link SimCas.Caller} hooks, recorded as SimCas does) and after every step:
 *
 * <ol>
 *   <li>No call on behalf of an unselected namespace: a CAS call (reads included) goes to an
 *       account for an object only when the account selects the object's namespace (at some moment
 *       since the reconcile began), or it cleans up or looks up (ListCsr, GetCsrDetail, DeleteCsr)
 *       what the operator itself recorded in that object's status under that account; a status
 *       records into an account only while it selects the namespace.
 *   <li>Ownership a tenant cannot forge: DeleteCsr and UpdateCsr touch only the object's own upload
 *       (same UID), its predecessor's (same namespace/name) of a CSR its Secret held (a re-attach),
 *       or its adopted CSR whose private key its Secret held; UpdateCsr sends a key only to a CSR
 *       of that key; a status records only such CsrIds; another team's CSRs are never deleted.
 *       Copied names, CSRs and annotations are never proof.
 *   <li>Restores re-attach, never re-upload: a re-created object (same namespace/name/spec/Secret,
 *       new UID, no status, with the original's finalizer or annotations) whose original's CSR is
 *       still in CAS causes no UploadCsr and ends Ready with the original CsrId; a CSR under its
 *       mark that differs from its Secret's CSR is never deleted or sent a key (2).
 *   <li>One CSR has one owner: no two live statuses record the same CsrId as current; adoption of a
 *       CsrId another object records, adopts first, or that CAS names under another object's mark
 *       ends Stalled AdoptionConflict (at settling, and in the adoption drill); an adopting object
 *       never uploads.
 *   <li>Missing means missing: no UploadCsr of a recorded CSR that CAS holds (a read that lagged),
 *       and none while the account's re-upload block is up of a CSR that is in a store the handle
 *       reached before; after a handle goes and comes back, every resource has the CsrId it had.
 * </ol>
 *
 * <p>And the protocol's own, as before: 6. a reconcile that began on a paused copy calls nothing in
 * CAS and writes only the Paused condition; 7. Ready never names a CsrId the operator deleted, nor
 * one CAS answered NotFound for (from the store the account reaches) in the same reconcile unless
 * the record says so within the window, nor, at the end, one CAS does not hold; 8. at the end CAS
 * holds the key of every Ready resource whose Secret has one; 9. a CSR the console deleted was
 * uploaded again, once (an adopted one ends AdoptedCsrGone); 10. at most one CSR in CAS per
 * resource and CSR; 11. nothing leaks under deletionPolicy Delete, re-attached CSRs included.
 *
 * <p>Exemptions, each as narrow as the world can tell: a user who takes the finalizer off and
 * deletes at once, or a restore's original that went without the operator, releases its CSRs
 * (README); a resource that lost the finalizer, the annotations and the status all at once after it
 * had uploaded is new to the operator (README; exempt from 10 and 11); after a status loss, only
 * the CSRs recorded or in flight then that the restore did not look up (another CSR, name or
 * account: README) are exempt from 10 and 11; a CSR held while the policy was Orphan may be
 * released; a CSR left in a store its account's handle no longer reaches (a switch an admin
 * confirmed, or an upload through the old handle) is exempt from 10 and 11; an adopted CSR without
 * proof of possession is released.
 *
 * <p>{@code -Dsim.seeds=N} sets how many seeds run (CI: 10,000), {@code -Dsim.firstSeed=K} the
 * first (a longer run: {@code -Dsim.seeds=50000}, or several runs at different K); {@code
 * -Dsim.seed=S} replays one seed with its trace printed (also in target/sim-trace-S.txt); {@code
 * -Dsim.show=EVENT} lists seeds whose world counted EVENT (a summary key, e.g. migrationDrillBack).
 */
class UploadProtocolSimulationTest {

  @Test
  void invariantsHoldOverManySeeds() throws Exception {
    // The protocol logs every step; thousands of worlds would drown the build's output.
    var logger =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger("dev.aliyuncsr.operator.upload");
    var level = logger.getLevel();
    boolean replay = System.getProperty("sim.seed", "").isBlank();
    logger.setLevel(replay ? ch.qos.logback.classic.Level.OFF : ch.qos.logback.classic.Level.DEBUG);
    try {
      runSeeds();
    } finally {
      logger.setLevel(level);
    }
  }

  private void runSeeds() throws Exception {
    String only = System.getProperty("sim.seed");
    if (only != null && !only.isBlank()) {
      SimWorld.Result result = new SimWorld(Long.parseLong(only.trim()), true).run();
      assertThat(result.violation()).as("seed " + only).isNull();
      return;
    }
    int seeds = Integer.getInteger("sim.seeds", 10_000);
    // -Dsim.show=EVENT lists (up to 20 of) the seeds whose world counted EVENT, to replay one.
    String show = System.getProperty("sim.show", "");
    List<Long> shown = new ArrayList<>();
    long first = Long.getLong("sim.firstSeed", 1);
    long start = System.nanoTime();
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<List<SimWorld.Result>>> parts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int part = t;
      parts.add(
          pool.submit(
              () -> {
                List<SimWorld.Result> failures = new ArrayList<>();
                Map<String, Integer> calls = new TreeMap<>();
                Map<String, Integer> worldEvents = new TreeMap<>();
                for (long s = first + part; s < first + seeds; s += threads) {
                  SimWorld.Result r = new SimWorld(s, false).run();
                  if (r.failed()) {
                    failures.add(r);
                  }
                  if (!show.isBlank() && r.events().containsKey(show)) {
                    synchronized (shown) {
                      shown.add(r.seed());
                    }
                  }
                  r.calls().forEach((k, v) -> calls.merge(k, v, Integer::sum));
                  r.events().forEach((k, v) -> worldEvents.merge(k, v, Integer::sum));
                }
                synchronized (UploadProtocolSimulationTest.class) {
                  totals.putAll(merge(totals, calls));
                  eventTotals.putAll(merge(eventTotals, worldEvents));
                }
                return failures;
              }));
    }
    List<SimWorld.Result> failures = new ArrayList<>();
    for (var part : parts) {
      failures.addAll(part.get());
    }
    pool.shutdown();
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "simulation: %d seeds in %.1f s, %d failed; CAS calls %s; world %s%n",
        seeds, seconds, failures.size(), totals, eventTotals);
    if (!show.isBlank()) {
      System.out.println(
          "simulation: "
              + shown.size()
              + " seeds counted "
              + show
              + ", e.g. "
              + shown.stream().sorted().limit(20).toList());
    }
    if (!failures.isEmpty()) {
      Map<String, Integer> kinds = new TreeMap<>();
      for (SimWorld.Result f : failures) {
        var m = java.util.regex.Pattern.compile("invariant \\d+").matcher(f.violation());
        String kind = m.find() ? m.group() : f.violation().split(":")[0];
        kinds.merge(
            (f.violation().startsWith("liveness") ? "liveness/" : "") + kind, 1, Integer::sum);
      }
      System.out.println("simulation: failures by kind " + kinds);
    }
    failures.stream()
        .sorted(java.util.Comparator.comparingLong(SimWorld.Result::seed))
        .limit(100)
        .forEach(f -> System.out.println("simulation: seed " + f.seed() + ": " + f.violation()));
    failures.stream()
        .sorted(java.util.Comparator.comparingLong(SimWorld.Result::seed))
        .limit(3)
        .forEach(
            f -> {
              System.out.println(
                  "simulation: seed "
                      + f.seed()
                      + " failed: "
                      + f.violation()
                      + " (replay: ./mvnw test -Dtest=UploadProtocolSimulationTest -Dsim.seed="
                      + f.seed()
                      + ")");
              f.trace().forEach(line -> System.out.println("    " + line));
            });
    assertThat(failures.stream().map(f -> f.seed() + ": " + f.violation()).toList()).isEmpty();
  }

  private static final Map<String, Integer> totals = new TreeMap<>();
  private static final Map<String, Integer> eventTotals = new TreeMap<>();

  private static Map<String, Integer> merge(Map<String, Integer> a, Map<String, Integer> b) {
    Map<String, Integer> out = new TreeMap<>(a);
    b.forEach((k, v) -> out.merge(k, v, Integer::sum));
    return out;
  }
}
