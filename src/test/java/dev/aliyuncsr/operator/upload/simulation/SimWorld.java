package dev.aliyuncsr.operator.upload.simulation;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.EventSink;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import dev.aliyuncsr.operator.upload.CrashPoints;
import dev.aliyuncsr.operator.upload.Peers;
import dev.aliyuncsr.operator.upload.SecretInputs;
import dev.aliyuncsr.operator.upload.UploadNames;
import dev.aliyuncsr.operator.upload.UploadProtocol;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * One seed's world: an in-memory API server, a simulated CAS, two or three operator processes
 * running the real {@link UploadProtocol} with caches that lag, and a namespace user who edits the
 * objects. The seed drives every choice; {@link #run} checks the invariants after every step and
 * returns the first violation with the trace that led to it.
 */
final class SimWorld {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
  static final Duration MAX_CALL = CONNECT_TIMEOUT.plus(READ_TIMEOUT);
  static final Duration LEASE = MAX_CALL.plusSeconds(15);
  static final String NS = "team";
  static final Duration MISSING_WINDOW = Duration.ofMinutes(1);

  private final long seed;
  private final Random random;
  private final boolean verbose;
  private final Scheduler scheduler = new Scheduler();
  private Instant now = Instant.parse("2026-12-01T00:00:00Z");
  private final InMemoryKube kube;
  private final SimCas cas;
  private final List<Operator> operators = new ArrayList<>();
  private final Map<String, Integer> secrets = new TreeMap<>(); // secret → pool entry, -1 = garbage
  private final Map<String, Long> adoptedTargets = new HashMap<>(); // uid → planted CsrId
  private final Map<String, Set<Integer>> usedEntries = new HashMap<>(); // uid → pool entries
  private final Set<String> everOrphan = new HashSet<>();
  private final Set<String> releasedByUser = new HashSet<>();

  /**
   * Resources that lost the finalizer, the annotations and the status all at once: nothing is left
   * that says they ever uploaded, so they are new to any operator. Exempt from invariants 1 and 3.
   */
  private final Set<String> amnesia = new HashSet<>();

  /**
   * Resources whose status was lost: a restore looks up only the CSR in the Secret under the
   * resource's own name, so a replaced CSR waiting for deletion, or an upload of another CSR in
   * flight, is forgotten (README: what is annotated is never proof). Exempt from the clean-up
   * checks, not from invariant 1.
   */
  private final Set<String> statusLostOnce = new HashSet<>();

  /** The ownership marks of this world's operator processes: one key, as replicas share it. */
  static final UploadNames NAMES = new UploadNames(new byte[32]);

  private final Map<String, DeletionPolicy> policyAtRemoval = new HashMap<>();
  private final Map<String, String> uidByKey = new HashMap<>();
  private final List<Long> foreign = new ArrayList<>();
  private final ArrayDeque<String> trace = new ArrayDeque<>();

  /** A replay's whole trace (the console may drop the end of a long one): target/sim-trace-S. */
  private final List<String> fullTrace = new ArrayList<>();

  private final List<String> warnings = new ArrayList<>();
  private int crashes;
  private int edits;

  // ---- drift, pause and the budget's Later (commit 95bd27b) ---------------------------------

  private int consoleEvents;
  private int steers;
  private long requests;

  /** How often the upload gate answers Later (Queued): seeded, lower once faults stop. */
  private int laterPercent = 20;

  /** What happened in the world besides CAS calls, for the summary line. */
  private final Map<String, Integer> events = new TreeMap<>();

  /** Uploading resources whose current CSR (as status recorded it) the console deleted. */
  private final Set<String> consoleHit = new HashSet<>();

  /**
   * Adopting resources whose status recorded their adopted CsrId since their status was last lost:
   * when the console deletes that CSR, they must end AdoptedCsrGone (else AdoptionTargetNotFound).
   */
  private final Set<String> adoptedRecorded = new HashSet<>();

  /** uid/CsrId pairs a confirmation (the protocol's GetCsrDetail) found live in CAS. */
  private final Set<String> confirmedLive = new HashSet<>();

  SimWorld(long seed, boolean verbose) {
    this.seed = seed;
    this.random = new Random(seed);
    this.verbose = verbose;
    this.kube =
        new InMemoryKube(
            (removed, byUser) -> {
              if (byUser) {
                // The user took the finalizer off (kubectl replace without it) and the object went
                // at once: what CAS holds for it is released, as with Orphan. Only an admission
                // policy could stop that edit; see the README.
                releasedByUser.add(removed.getMetadata().getUid());
              }
              policyAtRemoval.put(
                  removed.getMetadata().getUid(),
                  removed.getSpec() == null
                      ? DeletionPolicy.Delete
                      : removed.getSpec().effectiveDeletionPolicy());
            });
    this.cas = new SimCas(random, () -> now, CONNECT_TIMEOUT, MAX_CALL, SimPool.PEMS_BY_SHA);
  }

  /** The outcome of one seed. */
  record Result(
      long seed,
      String violation,
      List<String> trace,
      Map<String, Integer> calls,
      Map<String, Integer> events) {
    boolean failed() {
      return violation != null;
    }
  }

  Result run() {
    try {
      setUp();
      int chaos = 60 + random.nextInt(120);
      for (int step = 0; step < chaos; step++) {
        chaosStep();
        String v = check();
        if (v != null) {
          return fail(v);
        }
      }
      cas.faults = false;
      laterPercent = 10;
      unpauseAll();
      String unsettled = settle(1200, this::settled);
      if (unsettled != null) {
        return fail("liveness: " + unsettled);
      }
      String unconfirmed = finalConfirmation();
      if (unconfirmed != null) {
        return fail("liveness: " + unconfirmed);
      }
      String drift = endState();
      if (drift != null) {
        return fail(drift);
      }
      for (AliyunCsr r : kube.all()) {
        note("user deletes " + r.getMetadata().getName());
        kube.delete(InMemoryKube.key(r), now);
      }
      String stuck = settle(1200, () -> kube.all().isEmpty() ? null : "deletion not finished");
      if (stuck != null) {
        return fail("liveness: " + stuck);
      }
      String leak = leaks();
      return leak == null ? new Result(seed, null, List.of(), cas.calls, events) : fail(leak);
    } catch (RuntimeException | Error e) {
      return fail("exception: " + e);
    } finally {
      scheduler.shutdown();
      if (verbose) {
        try {
          java.nio.file.Files.write(
              java.nio.file.Path.of("target", "sim-trace-" + seed + ".txt"), fullTrace);
        } catch (java.io.IOException e) {
          System.out.println("trace not written: " + e);
        }
      }
    }
  }

  private Result fail(String violation) {
    return new Result(seed, violation, new ArrayList<>(trace), cas.calls, events);
  }

  private void note(String line) {
    String entry = now.toString().substring(11, 19) + " " + line;
    if (verbose) {
      System.out.println(entry);
      fullTrace.add(entry);
    }
    trace.addLast(entry);
    if (trace.size() > 80) {
      trace.removeFirst();
    }
  }

  // ---- the world at the start -----------------------------------------------------------------

  private void setUp() {
    int resources = 1 + random.nextInt(2);
    for (int i = 0; i < resources; i++) {
      createResource("r" + i, random.nextInt(100));
    }
    // Another team's CSRs: one under an unrelated name, one under a name a resource may use.
    var other = SimPool.entry(SimPool.ENTRIES.size() - 1);
    foreign.add(cas.plant("other-team", other.csr().pem(), other.csr().csrSha256(), null).id);
    foreign.add(cas.plant("shared_name", other.csr().pem(), other.csr().csrSha256(), null).id);
    // A copied manifest: the same spec.name and Secret, created later.
    for (AliyunCsr r : kube.all()) {
      if (r.getSpec().getName() != null && random.nextInt(100) < 40) {
        now = now.plusSeconds(1);
        AliyunCsr copy = newResource("copy-" + r.getMetadata().getName());
        copy.setSpec(r.getSpec());
        AliyunCsr created = kube.create(copy, now);
        track(created, secrets.get(r.getSpec().getCsrSecretRef().getName()));
        note(
            "user copies "
                + r.getMetadata().getName()
                + " with spec.name "
                + r.getSpec().getName());
        break;
      }
    }
    int processes = 2 + random.nextInt(2);
    for (int i = 0; i < processes; i++) {
      Operator op = new Operator("op" + i, random.nextInt(4001) - 2000);
      operators.add(op);
      op.deliver(Integer.MAX_VALUE);
    }
  }

  private AliyunCsr newResource(String name) {
    AliyunCsr r = new AliyunCsr();
    r.getMetadata().setNamespace(NS);
    r.getMetadata().setName(name);
    return r;
  }

  private void createResource(String name, int kind) {
    AliyunCsr r = newResource(name);
    AliyunCsrSpec spec = new AliyunCsrSpec();
    String secret = "s-" + name;
    spec.setCsrSecretRef(new SecretKeyRef(secret, null));
    if (random.nextBoolean()) {
      spec.setKeySecretRef(new SecretKeyRef(secret, null));
    }
    spec.setDeletionPolicy(
        random.nextInt(100) < 80 ? DeletionPolicy.Delete : DeletionPolicy.Orphan);
    int entry = 2 * random.nextInt(SimPool.KEYS - 1);
    if (kind < 20) {
      spec.setName(random.nextBoolean() ? "shared_name" : "named_" + name);
    } else if (kind < 35) {
      var e = SimPool.entry(entry);
      long id =
          cas.plant("adopt-me", e.csr().pem(), e.csr().csrSha256(), e.csr().publicKeySha256()).id;
      spec.setCsrId(id);
    }
    r.setSpec(spec);
    secrets.put(secret, entry);
    AliyunCsr created = kube.create(r, now);
    track(created, entry);
    if (spec.getCsrId() != null) {
      adoptedTargets.put(created.getMetadata().getUid(), spec.getCsrId());
    }
    note("user creates " + name + " " + describe(spec));
  }

  private void track(AliyunCsr created, int entry) {
    String uid = created.getMetadata().getUid();
    uidByKey.put(InMemoryKube.key(created), uid);
    usedEntries.computeIfAbsent(uid, u -> new HashSet<>()).add(entry);
    if (created.getSpec().effectiveDeletionPolicy() == DeletionPolicy.Orphan) {
      everOrphan.add(uid);
    }
  }

  private static String describe(AliyunCsrSpec spec) {
    return (spec.getName() == null ? "" : "name=" + spec.getName() + " ")
        + (spec.getCsrId() == null ? "" : "csrId=" + spec.getCsrId() + " ")
        + (spec.getKeySecretRef() == null ? "" : "withKey ")
        + spec.effectiveDeletionPolicy();
  }

  // ---- steps ---------------------------------------------------------------------------------

  private void chaosStep() {
    int roll = random.nextInt(100);
    if (roll < 50) {
      Operator op = pick(operators);
      scheduler.resume(op.actor);
    } else if (roll < 65) {
      pick(operators).deliver(1 + random.nextInt(4));
    } else if (roll < 77) {
      long seconds = random.nextInt(100) < 80 ? random.nextInt(8) : 10 + random.nextInt(40);
      now = now.plusSeconds(seconds).plusMillis(random.nextInt(1000));
    } else if (roll < 81) {
      if (crashes < 4) {
        Operator op = pick(operators);
        crashes++;
        note(op.name + " crashes");
        scheduler.crash(op.actor);
      }
    } else if (roll < 93) {
      if (edits < 8) {
        edits++;
        userEdit();
      }
    } else if (roll < 96) {
      if (consoleEvents < 3) {
        consoleEvents++;
        consoleEvent();
      }
    } else if (steers < 10) {
      steers++;
      steer();
    }
  }

  /** Runs without faults until {@code done} says null, or fails with what it said last. */
  private String settle(int steps, java.util.function.Supplier<String> done) {
    String last = null;
    for (int step = 0; step < steps; step++) {
      int roll = random.nextInt(100);
      if (roll < 70) {
        scheduler.resume(pick(operators).actor);
      } else if (roll < 87) {
        for (Operator op : operators) {
          op.deliver(Integer.MAX_VALUE);
        }
      } else if (roll < 96) {
        // Waits of a whole window (a NotFound asked again, a lease run out) must pass too.
        now = now.plusSeconds(1 + random.nextInt(15));
      } else {
        observerPass(pick(operators), false);
      }
      String v = check();
      if (v != null) {
        return v;
      }
      last = done.get();
      if (last == null) {
        return null;
      }
    }
    return last;
  }

  private <T> T pick(List<T> items) {
    return items.get(random.nextInt(items.size()));
  }

  // ---- the namespace user ---------------------------------------------------------------------

  private void userEdit() {
    List<AliyunCsr> all = kube.all();
    if (all.isEmpty()) {
      return;
    }
    AliyunCsr r = pick(all);
    String key = InMemoryKube.key(r);
    String uid = r.getMetadata().getUid();
    String name = r.getMetadata().getName();
    String secret = r.getSpec().getCsrSecretRef().getName();
    int roll = random.nextInt(100);
    if (roll < 22) {
      int entry = newEntryFor(uid, secret);
      if (entry >= 0) {
        secrets.put(secret, entry);
        note("user puts CSR " + entry + " in " + secret);
      }
    } else if (roll < 30) {
      secrets.put(secret, -1);
      note("user breaks " + secret);
    } else if (roll < 40) {
      DeletionPolicy next =
          r.getSpec().effectiveDeletionPolicy() == DeletionPolicy.Delete
              ? DeletionPolicy.Orphan
              : DeletionPolicy.Delete;
      if (next == DeletionPolicy.Orphan) {
        everOrphan.add(uid);
      }
      kube.userReplace(key, n -> ((ObjectNode) n.get("spec")).put("deletionPolicy", next.name()));
      note("user sets " + name + " deletionPolicy " + next);
    } else if (roll < 52) {
      long target = forgedTarget(uid);
      kube.userReplace(key, n -> annotations(n).put(CasAnnotations.CSR_ID, Long.toString(target)));
      note("user forges " + name + " csr-id=" + target);
    } else if (roll < 60) {
      long target = forgedTarget(uid);
      kube.userReplace(
          key, n -> annotations(n).put(CasAnnotations.SUPERSEDED_CSR_IDS, Long.toString(target)));
      note("user forges " + name + " superseded-csr-ids=" + target);
    } else if (roll < 72) {
      kube.userReplace(
          key,
          n -> {
            ObjectNode meta = (ObjectNode) n.get("metadata");
            meta.remove("annotations");
            meta.remove("finalizers");
          });
      note("user replaces " + name + " without annotations and finalizers");
    } else if (roll < 82) {
      kube.userWriteStatus(key, null);
      adoptedRecorded.remove(uid);
      statusLostOnce.add(uid);
      note("status of " + name + " is lost (a restore without status)");
    } else if (roll < 90) {
      kube.delete(key, now);
      note("user deletes " + name);
    } else if (roll < 95) {
      // Only the CSR in the Secret changes back to a usable one.
      if (secrets.get(secret) == -1) {
        int entry = newEntryFor(uid, secret);
        if (entry >= 0) {
          secrets.put(secret, entry);
          note("user fixes " + secret + " with CSR " + entry);
        }
      }
    }
    kube.get(NS, name)
        .filter(
            o ->
                !o.hasFinalizer(CasAnnotations.FINALIZER)
                    && CasAnnotations.intent(o).isEmpty()
                    && (o.getStatus() == null || o.getStatus().getObservedGeneration() == null))
        .ifPresent(o -> amnesia.add(o.getMetadata().getUid()));
  }

  /** A CSR this resource never had (for an adopting one: the same key, or sometimes another). */
  private int newEntryFor(String uid, String secret) {
    Set<Integer> used = usedEntries.computeIfAbsent(uid, u -> new HashSet<>());
    if (adoptedTargets.containsKey(uid)) {
      int current = secrets.get(secret) < 0 ? used.iterator().next() : secrets.get(secret);
      int entry = random.nextInt(100) < 75 ? SimPool.sibling(current) : (current + 2) % 14;
      used.add(entry);
      return entry;
    }
    for (int attempt = 0; attempt < 20; attempt++) {
      int entry = random.nextInt(SimPool.ENTRIES.size() - 2);
      boolean sharedSecret =
          kube.all().stream()
              .anyMatch(
                  o ->
                      !o.getMetadata().getUid().equals(uid)
                          && o.getSpec().getCsrSecretRef().getName().equals(secret));
      boolean usedByOther =
          usedEntries.entrySet().stream()
              .anyMatch(e -> !e.getKey().equals(uid) && e.getValue().contains(entry));
      if (!used.contains(entry) && (sharedSecret || !usedByOther)) {
        used.add(entry);
        kube.all().stream()
            .filter(o -> o.getSpec().getCsrSecretRef().getName().equals(secret))
            .forEach(
                o ->
                    usedEntries
                        .computeIfAbsent(o.getMetadata().getUid(), u -> new HashSet<>())
                        .add(entry));
        return entry;
      }
    }
    return -1;
  }

  private long forgedTarget(String uid) {
    List<Long> targets = new ArrayList<>(foreign);
    for (SimCas.Stored s : cas.live.values()) {
      if (s.owner != null && !s.owner.equals(uid)) {
        targets.add(s.id);
      }
    }
    return pick(targets);
  }

  private static ObjectNode annotations(ObjectNode object) {
    ObjectNode meta = (ObjectNode) object.get("metadata");
    if (!meta.has("annotations")) {
      meta.putObject("annotations");
    }
    return (ObjectNode) meta.get("annotations");
  }

  // ---- the CAS console, the observer and steering --------------------------------------------

  /**
   * A person at the CAS console deletes a CSR or drops its private key (never another team's CSR:
   * invariant 2's leak check keeps those). Then the observer asks for a confirmation of the
   * resources whose status records it, or the user asks for a reconcile, or nobody notices yet.
   */
  private void consoleEvent() {
    List<SimCas.Stored> candidates = new ArrayList<>();
    for (SimCas.Stored s : cas.live.values()) {
      if (s.owner != null || adoptedTargets.containsValue(s.id)) {
        candidates.add(s);
      }
    }
    if (candidates.isEmpty()) {
      return;
    }
    Set<Long> recorded = new HashSet<>();
    for (AliyunCsr r : kube.all()) {
      if (r.getStatus() != null && r.getStatus().getCsrId() != null) {
        recorded.add(r.getStatus().getCsrId());
      }
    }
    boolean delete = random.nextInt(100) < 60;
    List<SimCas.Stored> preferred =
        candidates.stream().filter(c -> recorded.contains(c.id) && (delete || c.hasKey)).toList();
    List<SimCas.Stored> any =
        delete ? candidates : candidates.stream().filter(c -> c.hasKey).toList();
    if (any.isEmpty()) {
      return;
    }
    SimCas.Stored target =
        !preferred.isEmpty() && random.nextInt(100) < 75 ? pick(preferred) : pick(any);
    List<AliyunCsr> affected =
        kube.all().stream()
            .filter(
                r -> r.getStatus() != null && Objects.equals(r.getStatus().getCsrId(), target.id))
            .toList();
    if (delete) {
      cas.consoleDelete(target.id);
      events.merge("consoleDelete", 1, Integer::sum);
      for (AliyunCsr r : affected) {
        if (!adoptedTargets.containsKey(r.getMetadata().getUid())) {
          consoleHit.add(r.getMetadata().getUid());
        }
      }
      note("console deletes CsrId " + target.id + " (recorded by " + names(affected) + ")");
    } else {
      cas.consoleDropKey(target.id);
      events.merge("consoleDropKey", 1, Integer::sum);
      note(
          "console drops the key of CsrId " + target.id + " (recorded by " + names(affected) + ")");
    }
    int react = random.nextInt(100);
    if (react < 60) {
      List<Operator> told = random.nextBoolean() ? operators : List.of(pick(operators));
      for (Operator op : told) {
        for (AliyunCsr r : affected) {
          op.protocol.requestConfirmation(r.getMetadata().getUid());
        }
      }
      note("observer asks " + told.size() + " process(es) to confirm " + names(affected));
    } else if (react < 85) {
      for (AliyunCsr r : affected) {
        requestReconcile(r);
      }
    }
  }

  private static String names(List<AliyunCsr> resources) {
    return resources.stream().map(r -> r.getMetadata().getName()).toList().toString();
  }

  /** The user pauses or unpauses, asks for a reconcile, or the observer runs a pass. */
  private void steer() {
    List<AliyunCsr> all = kube.all();
    int roll = random.nextInt(100);
    if (roll < 20 || all.isEmpty()) {
      observerPass(pick(operators), random.nextInt(100) < 30);
      return;
    }
    AliyunCsr r = pick(all);
    if (roll < 75) {
      togglePause(r);
    } else {
      requestReconcile(r);
    }
  }

  private void togglePause(AliyunCsr r) {
    String key = InMemoryKube.key(r);
    boolean paused = CasAnnotations.paused(r);
    if (paused) {
      boolean remove = random.nextInt(100) < 80;
      kube.userReplace(
          key,
          n -> {
            if (remove) {
              annotations(n).remove(CasAnnotations.PAUSED);
            } else {
              annotations(n).put(CasAnnotations.PAUSED, "false");
            }
          });
      note("user unpauses " + r.getMetadata().getName());
    } else {
      String value = random.nextInt(100) < 80 ? "true" : " TRUE";
      kube.userReplace(key, n -> annotations(n).put(CasAnnotations.PAUSED, value));
      events.merge("pause", 1, Integer::sum);
      note(
          "user pauses "
              + r.getMetadata().getName()
              + (r.isMarkedForDeletion()
                  ? " while it is deleted under " + r.getSpec().effectiveDeletionPolicy()
                  : ""));
    }
  }

  /** A new value of the project's reconcile-request annotation, or of Flux's. */
  private void requestReconcile(AliyunCsr r) {
    String annotation =
        random.nextInt(100) < 70
            ? CasAnnotations.RECONCILE_REQUESTED_AT
            : CasAnnotations.FLUX_REQUESTED_AT;
    String value = "req-" + (++requests);
    kube.userReplace(InMemoryKube.key(r), n -> annotations(n).put(annotation, value));
    events.merge("reconcileRequest", 1, Integer::sum);
    note("user sets " + annotation + "=" + value + " on " + r.getMetadata().getName());
  }

  /**
   * What {@code CasObserver} concludes from a pass over its cache: a Ready resource whose CsrId is
   * not in the list, or lacks the key it sent, is to be confirmed. {@code lagging}: a listing that
   * missed one more (ListCsr lags, pages shift), so a live CSR is confirmed too.
   */
  private void observerPass(Operator op, boolean lagging) {
    List<String> suspects = new ArrayList<>();
    List<AliyunCsr> observable = new ArrayList<>();
    for (ObjectNode node : op.cache.values()) {
      AliyunCsr r = InMemoryKube.read(node);
      if (!observable(r)) {
        continue;
      }
      observable.add(r);
      SimCas.Stored held = cas.live.get(r.getStatus().getCsrId());
      boolean keyLost =
          held != null
              && Boolean.TRUE.equals(r.getStatus().getPrivateKeyUploaded())
              && !held.hasKey;
      if (held == null || keyLost) {
        suspects.add(r.getMetadata().getUid());
      }
    }
    if (lagging && !observable.isEmpty()) {
      suspects.add(pick(observable).getMetadata().getUid());
    }
    for (String uid : suspects) {
      op.protocol.requestConfirmation(uid);
    }
    if (!suspects.isEmpty()) {
      events.merge("observerSuspect", suspects.size(), Integer::sum);
      note(op.name + "'s observer asks to confirm " + suspects);
    }
  }

  /** CasObserver.observable: Ready, settled, not paused and not being deleted. */
  private static boolean observable(AliyunCsr r) {
    AliyunCsrStatus st = r.getStatus();
    return st != null
        && st.getCsrId() != null
        && st.getLease() == null
        && list(st.getPendingUploads()).isEmpty()
        && !r.isMarkedForDeletion()
        && !CasAnnotations.paused(r)
        && isReady(r);
  }

  private void unpauseAll() {
    for (AliyunCsr r : kube.all()) {
      if (r.getMetadata().getAnnotations() != null
          && r.getMetadata().getAnnotations().containsKey(CasAnnotations.PAUSED)) {
        kube.userReplace(InMemoryKube.key(r), n -> annotations(n).remove(CasAnnotations.PAUSED));
        note("user unpauses " + r.getMetadata().getName() + " (faults stop)");
      }
    }
  }

  /**
   * Every process is asked to confirm every resource (again each round, as the observer's next pass
   * would: a request is used up by a reconcile that cannot confirm, a held or stale one), until
   * every Ready resource's CsrId was confirmed live by GetCsrDetail and all is settled.
   */
  private String finalConfirmation() {
    confirmedLive.clear();
    String last = null;
    for (int round = 0; round < 15; round++) {
      for (Operator op : operators) {
        for (AliyunCsr r : kube.all()) {
          op.protocol.requestConfirmation(r.getMetadata().getUid());
        }
      }
      last =
          settle(
              40,
              () -> {
                String s = settled();
                return s != null ? s : unconfirmedReady();
              });
      if (last == null) {
        return null;
      }
    }
    return "after the final confirmations: " + last;
  }

  private String unconfirmedReady() {
    for (AliyunCsr r : kube.all()) {
      if (isReady(r)
          && !confirmedLive.contains(r.getMetadata().getUid() + "/" + r.getStatus().getCsrId())) {
        return r.getMetadata().getName()
            + " is Ready with CsrId "
            + r.getStatus().getCsrId()
            + ", not confirmed since the final request";
      }
    }
    return null;
  }

  /** The end state after faults stopped, everything was unpaused and every CSR was confirmed. */
  private String endState() {
    for (AliyunCsr r : kube.all()) {
      String name = r.getMetadata().getName();
      String uid = r.getMetadata().getUid();
      AliyunCsrStatus st = r.getStatus();
      if (Reasons.ADOPTED_CSR_GONE.equals(reason(r))) {
        events.merge("endAdoptedCsrGone", 1, Integer::sum);
      }
      if (!isReady(r)) {
        continue;
      }
      if (Reasons.REUPLOADED.equals(reason(r))) {
        events.merge("endReuploaded", 1, Integer::sum);
      }
      // 7. Ready never names a CsrId that CAS does not hold.
      SimCas.Stored held = cas.live.get(st.getCsrId());
      if (held == null) {
        return "invariant 7: "
            + name
            + " ends Ready with CsrId "
            + st.getCsrId()
            + ", which is not live in CAS"
            + (cas.deletedByConsole.containsKey(st.getCsrId()) ? " (the console deleted it)" : "");
      }
      // 8. CAS holds the key of every Ready resource whose Secret has one (dropped keys resent).
      Integer entry = secrets.get(r.getSpec().getCsrSecretRef().getName());
      if (r.getSpec().getKeySecretRef() != null && entry != null && entry >= 0 && !held.hasKey) {
        return "invariant 8: "
            + name
            + " ends Ready, but CAS holds no private key for CsrId "
            + held.id
            + (cas.keyDroppedByConsole.contains(held.id) ? " (the console dropped it)" : "");
      }
      // 9. A CSR the console deleted was uploaded again: exactly one live CSR for the resource.
      if (consoleHit.contains(uid) && !adoptedTargets.containsKey(uid)) {
        String sha = SimPool.entry(entry).csr().csrSha256();
        String uploadName = NAMES.of(r);
        long own =
            cas.live.values().stream()
                .filter(c -> uid.equals(c.owner) && sha.equals(c.csrSha256))
                .filter(c -> uploadName.equals(c.name))
                .count();
        boolean inherited = !uid.equals(held.owner);
        if (own + (inherited ? 1 : 0) != 1) {
          return "invariant 9: "
              + name
              + " lost its CSR to the console and ends with "
              + (own + (inherited ? 1 : 0))
              + " live CSRs of its name and CSR";
        }
      }
    }
    return null;
  }

  private static boolean isStalled(AliyunCsr r) {
    return r.getStatus() != null
        && r.getStatus().condition("Stalled").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  // ---- invariants -----------------------------------------------------------------------------

  /** The invariants that hold after every step; null when they do. */
  private String check() {
    if (!cas.violations.isEmpty()) {
      return cas.violations.get(0);
    }
    for (AliyunCsr r : kube.all()) {
      Long target = adoptedTargets.get(r.getMetadata().getUid());
      if (target != null
          && r.getStatus() != null
          && Objects.equals(r.getStatus().getCsrId(), target)) {
        adoptedRecorded.add(r.getMetadata().getUid());
      }
    }
    // 1. At most one CSR in CAS per resource and CSR.
    Map<String, Integer> perResourceAndCsr = new HashMap<>();
    for (SimCas.Stored s : cas.live.values()) {
      if (s.owner != null && !amnesia.contains(s.owner)) {
        String k = s.owner + "/" + s.csrSha256;
        if (perResourceAndCsr.merge(k, 1, Integer::sum) > 1) {
          return "invariant 1: two CSRs in CAS for resource "
              + s.owner
              + " and one CSR ("
              + k
              + ")";
        }
      }
    }
    // 4. An adopted CSR is deleted only with its resource.
    for (var e : adoptedTargets.entrySet()) {
      if (cas.deletedByOperator.containsKey(e.getValue())) {
        Optional<AliyunCsr> owner =
            kube.all().stream()
                .filter(o -> o.getMetadata().getUid().equals(e.getKey()))
                .findFirst();
        if (owner.isPresent() && !owner.get().isMarkedForDeletion()) {
          return "invariant 4: adopted CSR " + e.getValue() + " deleted while its resource lives";
        }
      }
    }
    // 5. Ready never names a CsrId the operator deleted.
    for (AliyunCsr r : kube.all()) {
      AliyunCsrStatus st = r.getStatus();
      if (st != null
          && st.getCsrId() != null
          && isReady(r)
          && cas.deletedByOperator.containsKey(st.getCsrId())) {
        return "invariant 5: "
            + r.getMetadata().getName()
            + " is Ready with deleted CsrId "
            + st.getCsrId();
      }
    }
    return null;
  }

  private static boolean isReady(AliyunCsr r) {
    return r.getStatus() != null
        && r.getStatus().condition("Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  private static String reason(AliyunCsr r) {
    return r.getStatus() == null
        ? null
        : r.getStatus().condition("Ready").map(c -> c.getReason()).orElse(null);
  }

  /** Null when every resource is where it must end up without faults; else what is not. */
  private String settled() {
    for (AliyunCsr r : kube.all()) {
      String name = r.getMetadata().getName();
      String uid = r.getMetadata().getUid();
      AliyunCsrStatus st = r.getStatus();
      if (r.isMarkedForDeletion()) {
        return name + " is still being deleted";
      }
      if (st == null) {
        return name + " has no status";
      }
      Integer entry = secrets.get(r.getSpec().getCsrSecretRef().getName());
      if (entry == null || entry < 0) {
        // Bad input stalls and calls nothing; pending uploads wait for a good CSR or deletion.
        if (isReady(r)) {
          return name + " is Ready with a broken Secret";
        }
        continue;
      }
      if (Reasons.DUPLICATE_EXTERNAL_RESOURCES.equals(reason(r))) {
        // Right only when CAS does hold two CSRs of this name and CSR (another resource's
        // orphaned one, or a second upload after every trace of the first was lost).
        String uploadName = NAMES.of(r);
        String sha = SimPool.entry(entry).csr().csrSha256();
        long same =
            cas.live.values().stream()
                .filter(c -> uploadName.equals(c.name) && sha.equals(c.csrSha256))
                .count();
        if (same < 2) {
          return name + " says DuplicateExternalResources, but CAS holds " + same;
        }
        continue;
      }
      if (st.getLease() != null || !list(st.getPendingUploads()).isEmpty()) {
        return name + " has an upload lease or pending uploads";
      }
      var csr = SimPool.entry(entry).csr();
      if (adoptedTargets.containsKey(uid)) {
        long target = adoptedTargets.get(uid);
        SimCas.Stored gone = cas.deletedByConsole.get(target);
        if (gone != null) {
          // The adopted CSR was deleted in the console: nothing can bring it back (no UploadCsr:
          // invariant 4), and the resource says so.
          boolean sameKey = csr.publicKeySha256().equals(gone.publicKeySha256);
          String expected =
              adoptedRecorded.contains(uid) ? Reasons.ADOPTED_CSR_GONE : Reasons.ADOPTION_NOT_FOUND;
          if (isReady(r)) {
            return name + " is Ready, but its adopted CsrId " + target + " is gone from CAS";
          }
          if (sameKey && !(isStalled(r) && expected.equals(reason(r)))) {
            return name
                + " should be Stalled "
                + expected
                + " (adopted CsrId "
                + target
                + " deleted in the console) but is "
                + reason(r);
          }
          if (!sameKey
              && !(isStalled(r)
                  && Set.of(
                          Reasons.ADOPTION_MISMATCH,
                          Reasons.ADOPTED_CSR_GONE,
                          Reasons.ADOPTION_NOT_FOUND)
                      .contains(reason(r)))) {
            return name + " (adopted CsrId " + target + " gone, other key) is " + reason(r);
          }
          continue;
        }
        boolean keyMatches =
            csr.publicKeySha256()
                .equals(cas.live.containsKey(target) ? cas.live.get(target).publicKeySha256 : null);
        if (keyMatches && !(isReady(r) && Objects.equals(st.getCsrId(), target))) {
          return name + " should be Ready with adopted CsrId " + target + " but is " + reason(r);
        }
        if (!keyMatches && !Reasons.ADOPTION_MISMATCH.equals(reason(r))) {
          return name + " should be AdoptionKeyMismatch but is " + reason(r);
        }
        continue;
      }
      if (!isReady(r) || st.getCsrId() == null) {
        return name + " is not Ready: " + reason(r);
      }
      SimCas.Stored held = cas.live.get(st.getCsrId());
      boolean inherited =
          held != null && held.owner != null && policyAtRemoval.containsKey(held.owner);
      if (held == null
          || !(uid.equals(held.owner) || inherited)
          || !NAMES.of(r).equals(held.name)
          || !csr.csrSha256().equals(held.csrSha256)) {
        return name + " is Ready with CsrId " + st.getCsrId() + ", which is not its current CSR";
      }
      if (!everOrphan.contains(uid) && !amnesia.contains(uid) && !statusLostOnce.contains(uid)) {
        long others =
            cas.live.values().stream().filter(s -> uid.equals(s.owner) && s.id != held.id).count();
        if (others != 0 || !list(st.getSupersededCsrs()).isEmpty()) {
          return name + " holds " + (others + 1) + " CSRs in CAS under Delete";
        }
      }
    }
    return null;
  }

  private static boolean earlier(AliyunCsr a, AliyunCsr b) {
    int byTime =
        Instant.parse(a.getMetadata().getCreationTimestamp())
            .compareTo(Instant.parse(b.getMetadata().getCreationTimestamp()));
    return byTime != 0
        ? byTime < 0
        : a.getMetadata().getUid().compareTo(b.getMetadata().getUid()) < 0;
  }

  /** 3. Nothing leaks: a resource deleted under Delete leaves no CSR of its own in CAS. */
  private String leaks() {
    for (SimCas.Stored s : cas.live.values()) {
      if (s.owner == null
          || everOrphan.contains(s.owner)
          || releasedByUser.contains(s.owner)
          || amnesia.contains(s.owner)
          || statusLostOnce.contains(s.owner)) {
        continue;
      }
      if (policyAtRemoval.get(s.owner) == DeletionPolicy.Delete) {
        return "invariant 3: CsrId " + s.id + " of deleted resource " + s.owner + " left in CAS";
      }
    }
    for (long id : foreign) {
      if (!cas.live.containsKey(id)) {
        return "invariant 2: another team's CsrId " + id + " is gone";
      }
    }
    return null;
  }

  private static <T> List<T> list(List<T> values) {
    return values == null ? List.of() : values;
  }

  // ---- operator processes ---------------------------------------------------------------------

  /** One operator process: the real protocol, its own clock skew, and a cache that lags. */
  private final class Operator {
    final String name;
    final long skewMillis;
    final Scheduler.Actor actor;
    final Map<String, ObjectNode> cache = new TreeMap<>();
    int delivered;
    int generation;
    UploadProtocol protocol;
    AliyunCsr reconciling;
    final Clock clock;

    /**
     * The reconcile under way began on a copy with paused="true" (and was it an Orphan deletion).
     */
    boolean pausedAtStart;

    boolean orphaningAtStart;

    /** The protocol announced a confirmation: its next GetCsrDetail is it. */
    boolean confirmNext;

    boolean confirmCall;

    /** CsrIds CAS answered NOT_FOUND for in the reconcile under way: gone for good. */
    final Map<Long, Instant> seenMissing = new HashMap<>();

    Operator(String name, long skewMillis) {
      this.name = name;
      this.skewMillis = skewMillis;
      this.clock =
          new Clock() {
            @Override
            public java.time.ZoneId getZone() {
              return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
              return this;
            }

            @Override
            public Instant instant() {
              return now.plusMillis(Operator.this.skewMillis);
            }
          };
      this.protocol = newProtocol();
      this.actor =
          scheduler.spawn(
              name,
              new Scheduler.Body() {
                @Override
                public void step() {
                  reconcileOne();
                }

                @Override
                public void restart() {
                  generation++;
                  cache.clear();
                  delivered = 0;
                  reconciling = null;
                  pausedAtStart = false;
                  orphaningAtStart = false;
                  confirmNext = false;
                  confirmCall = false;
                  protocol = newProtocol();
                  deliver(Integer.MAX_VALUE); // a new process lists everything
                }
              });
    }

    private UploadProtocol newProtocol() {
      String holder = name + "/" + generation;
      long[] tokens = {0};
      Random jitter = new Random(seed * 31 + name.hashCode() + generation);
      return new UploadProtocol(
          kubeView(),
          cas.client(scheduler, this::caller),
          cas.client(scheduler, this::caller),
          new UploadProtocol.UploadGate() {
            @Override
            public dev.aliyuncsr.operator.cloud.CallBudget.Admission admit(
                String tenant, String key) {
              scheduler.yieldNow();
              if (random.nextInt(100) < laterPercent) {
                // The budget's place is further than the longest park: come back then (Queued).
                events.merge("later", 1, Integer::sum);
                // Or every concurrency slot is busy for a moment (no Queued write).
                return new dev.aliyuncsr.operator.cloud.CallBudget.Later(
                    Duration.ofMillis(300 + random.nextInt(3000)), random.nextBoolean());
              }
              return new dev.aliyuncsr.operator.cloud.CallBudget.Granted(slot());
            }

            @Override
            public dev.aliyuncsr.operator.cloud.CallBudget.Slot acquire() {
              scheduler.yieldNow();
              return slot();
            }

            @Override
            public void cancel(String key) {}

            private dev.aliyuncsr.operator.cloud.CallBudget.Slot slot() {
              return new dev.aliyuncsr.operator.cloud.CallBudget.Slot() {
                @Override
                public void awaitRate() {
                  scheduler.yieldNow(); // the wait for the rate: time may pass, the process dies
                }

                @Override
                public void close() {}
              };
            }
          },
          this::inputs,
          peers(),
          NAMES,
          new EventSink() {
            @Override
            public void normal(AliyunCsr resource, String reason, String message) {}

            @Override
            public void warning(AliyunCsr resource, String reason, String message) {
              warnings.add(reason);
            }
          },
          clock,
          new RetryBackoff(
              Duration.ofSeconds(1),
              Duration.ofMinutes(5),
              bound -> Math.floorMod(jitter.nextLong(), bound)),
          CrashPoints.none(),
          new UploadProtocol.Settings(holder, LEASE, MAX_CALL, () -> holder + "#" + (++tokens[0])),
          new UploadProtocol.DriftListener() {
            @Override
            public void observed(String result) {
              events.merge("confirm-" + result, 1, Integer::sum);
            }

            @Override
            public void observationCall(String action) {
              if ("GetCsrDetail".equals(action)) {
                confirmNext = true;
              }
            }
          });
    }

    void reconcileOne() {
      if (cache.isEmpty()) {
        return;
      }
      List<String> keys = new ArrayList<>(cache.keySet());
      String key = keys.get(random.nextInt(keys.size()));
      AliyunCsr copy = InMemoryKube.read(cache.get(key));
      reconciling = copy;
      seenMissing.clear();
      pausedAtStart = CasAnnotations.paused(copy);
      orphaningAtStart =
          copy.isMarkedForDeletion()
              && copy.getSpec() != null
              && copy.getSpec().effectiveDeletionPolicy() == DeletionPolicy.Orphan;
      note(
          name
              + " reconciles "
              + copy.getMetadata().getName()
              + " rv "
              + copy.getMetadata().getResourceVersion());
      UploadProtocol.Result result =
          protocol.reconcile(
              copy,
              (before, after) -> {
                if (!after.isMarkedForDeletion() || after.getMetadata().getFinalizers() != null) {
                  cache.put(InMemoryKube.key(after), InMemoryKube.tree(after));
                }
              });
      note(name + " settles " + copy.getMetadata().getName() + ": " + result.outcome().reason());
      if (pausedAtStart) {
        events.merge("reconcileOfPausedCopy", 1, Integer::sum);
      }
      if (Reasons.QUEUED.equals(result.outcome().reason())) {
        events.merge("queued", 1, Integer::sum);
      }
      reconciling = null;
      pausedAtStart = false;
      orphaningAtStart = false;
    }

    void deliver(int count) {
      List<InMemoryKube.WatchEvent> log = kube.log();
      int end = (int) Math.min((long) delivered + count, log.size());
      for (; delivered < end; delivered++) {
        var event = log.get(delivered);
        if (event.object() == null) {
          cache.remove(event.key());
        } else {
          ObjectNode cached = cache.get(event.key());
          long incoming =
              Long.parseLong(event.object().get("metadata").get("resourceVersion").asText());
          long have =
              cached == null
                  ? -1
                  : Long.parseLong(cached.get("metadata").get("resourceVersion").asText());
          if (incoming >= have) {
            cache.put(event.key(), event.object());
          }
        }
      }
    }

    private SimCas.Caller caller() {
      AliyunCsr r = reconciling;
      String uid = r.getMetadata().getUid();
      return new SimCas.Caller() {
        @Override
        public String uid() {
          return uid;
        }

        @Override
        public boolean mayTouchAsAdopted(SimCas.Stored csr) {
          return Objects.equals(adoptedTargets.get(uid), csr.id);
        }

        @Override
        public boolean isAdopting() {
          return adoptedTargets.containsKey(uid);
        }

        @Override
        public void calling(String action) {
          // 6. A reconcile that began on a paused copy calls nothing in CAS (an Orphan deletion
          // included: it only lets the finalizer go).
          if (pausedAtStart) {
            cas.violations.add(
                "invariant 6: "
                    + action
                    + " by "
                    + name
                    + " in a reconcile of "
                    + r.getMetadata().getName()
                    + " that began on a copy with paused=true"
                    + (orphaningAtStart ? " (a deletion under Orphan)" : ""));
          }
          if ("GetCsrDetail".equals(action)) {
            confirmCall = confirmNext;
            confirmNext = false;
          }
        }

        @Override
        public void answered(long csrId) {
          SimCas.Stored held = cas.live.get(csrId);
          // Confirmed as it should be: live, and with the key when the Secret has one (else the
          // protocol is about to send it again, and the confirmation is not the last word).
          if (confirmCall
              && held != null
              && (held.hasKey || r.getSpec() == null || r.getSpec().getKeySecretRef() == null)) {
            confirmedLive.add(uid + "/" + csrId);
          }
          confirmCall = false;
          if (held == null) {
            seenMissing.merge(csrId, clock.instant(), (a, b) -> a.isAfter(b) ? a : b);
          }
        }

        @Override
        public boolean mayInherit(SimCas.Stored csr) {
          // A CSR of this name and a CSR this resource has, left by a resource that is gone, is
          // indistinguishable from its own upload: recovery may claim it.
          return csr.owner != null
              && policyAtRemoval.containsKey(csr.owner)
              && csr.name.equals(NAMES.of(r));
        }
      };
    }

    private Validated<SecretInputs.Inputs> inputs(AliyunCsr r) {
      scheduler.yieldNow();
      String secret = r.getSpec().getCsrSecretRef().getName();
      Integer entry = secrets.get(secret);
      if (entry == null) {
        return Validated.invalid(Reasons.SECRET_NOT_FOUND, "Secret " + secret + " does not exist");
      }
      if (entry < 0) {
        return Validated.invalid(Reasons.INVALID_CSR, "Secret " + secret + " holds no CSR");
      }
      var e = SimPool.entry(entry);
      return Validated.valid(
          new SecretInputs.Inputs(
              e.csr(),
              r.getSpec().getKeySecretRef() == null ? Optional.empty() : Optional.of(e.key())));
    }

    private KubeApi kubeView() {
      return new KubeApi() {
        @Override
        public Optional<AliyunCsr> get(String namespace, String name) {
          scheduler.yieldNow();
          return kube.get(namespace, name);
        }

        @Override
        public AliyunCsr patch(AliyunCsr at, JsonPatch patch) throws WriteRefused {
          scheduler.yieldNow();
          pausedWrite(at, patch, false);
          return kube.patch(at, patch, false);
        }

        @Override
        public AliyunCsr patchStatus(AliyunCsr at, JsonPatch patch) throws WriteRefused {
          scheduler.yieldNow();
          pausedWrite(at, patch, true);
          AliyunCsr written = kube.patch(at, patch, true);
          readyAfterMissing(at, patch, written);
          return written;
        }
      };
    }

    /**
     * 6. A reconcile that began on a paused copy (not an Orphan deletion) writes nothing but the
     * Paused condition: no finalizer change, no lease, no record, Ready left as it was.
     */
    private void pausedWrite(AliyunCsr at, JsonPatch patch, boolean status) {
      if (!pausedAtStart || orphaningAtStart) {
        return;
      }
      for (var op : patch.toJson()) {
        String path = op.get("path").asText();
        boolean allowed =
            "test".equals(op.get("op").asText())
                || (status && path.equals("/status/conditions"))
                || (status && path.equals("/status") && op.get("value").size() == 1);
        if (!allowed) {
          cas.violations.add(
              "invariant 6: "
                  + name
                  + " writes "
                  + op
                  + " to "
                  + at.getMetadata().getName()
                  + " in a reconcile that began on a copy with paused=true");
          return;
        }
        if (status && path.equals("/status/conditions")) {
          Object before =
              at.getStatus() == null ? null : at.getStatus().condition("Ready").orElse(null);
          Object after = null;
          for (var c : op.get("value")) {
            if ("Ready".equals(c.path("type").asText())) {
              after =
                  io.fabric8.kubernetes.client.utils.Serialization.jsonMapper()
                      .convertValue(c, dev.aliyuncsr.operator.api.CsrCondition.class);
            }
          }
          if (!Objects.equals(before, after)) {
            cas.violations.add(
                "invariant 6: "
                    + name
                    + " changes Ready of "
                    + at.getMetadata().getName()
                    + " in a reconcile that began on a copy with paused=true");
            return;
          }
        }
      }
    }

    /**
     * 7. Ready is never written naming a CsrId that CAS answered NOT_FOUND for earlier in the same
     * reconcile, unless the record says so (notFoundAt: one NotFound may be a read that lags behind
     * a write) and the window for asking again has not passed. (Seed 2131 found an adopting
     * resource re-adopting from the adoption check its reconcile cached before the CSR went; the
     * reconcile now forgets it.)
     */
    private void readyAfterMissing(AliyunCsr at, JsonPatch patch, AliyunCsr written) {
      AliyunCsrStatus st = written.getStatus();
      if (st == null || st.getCsrId() == null || !isReady(written)) {
        return;
      }
      boolean conditionsOnly = true;
      for (var op : patch.toJson()) {
        if (!"test".equals(op.get("op").asText())
            && !op.get("path").asText().equals("/status/conditions")) {
          conditionsOnly = false;
        }
      }
      Object readyBefore = at.getStatus() == null ? null : at.getStatus().condition("Ready");
      if (conditionsOnly && Objects.equals(readyBefore, st.condition("Ready"))) {
        return; // the Paused condition written beside an untouched Ready
      }
      Instant answered = seenMissing.get(st.getCsrId());
      if (answered == null) {
        return;
      }
      // Two NotFound answers a window apart are what make a CSR gone: the one the copy recorded,
      // and the one this reconcile got.
      AliyunCsrStatus seen = at.getStatus();
      boolean twice =
          seen != null
              && Objects.equals(seen.getCsrId(), st.getCsrId())
              && seen.getNotFoundAt() != null
              && !answered.isBefore(Instant.parse(seen.getNotFoundAt()).plus(MISSING_WINDOW));
      if (st.getNotFoundAt() != null && !twice) {
        return;
      }
      cas.violations.add(
          "invariant 7: "
              + name
              + " wrote Ready naming CsrId "
              + st.getCsrId()
              + " for "
              + written.getMetadata().getName()
              + " after CAS answered NOT_FOUND for it in the same reconcile"
              + (st.getNotFoundAt() == null
                  ? " without recording it"
                  : ", a window after the first NotFound (" + st.getNotFoundAt() + ")"));
    }

    private Peers peers() {
      return new Peers() {
        @Override
        public Optional<String> recorder(AliyunCsr self, long csrId) {
          return cache.values().stream()
              .map(InMemoryKube::read)
              .filter(o -> !o.getMetadata().getUid().equals(self.getMetadata().getUid()))
              .filter(o -> records(o, csrId))
              .map(o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName())
              .findFirst();
        }

        @Override
        public Optional<String> earlierAdopter(AliyunCsr self, long csrId) {
          return cache.values().stream()
              .map(InMemoryKube::read)
              .filter(o -> !o.getMetadata().getUid().equals(self.getMetadata().getUid()))
              .filter(
                  o -> o.getSpec() != null && Long.valueOf(csrId).equals(o.getSpec().getCsrId()))
              .filter(o -> earlier(o, self))
              .map(o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName())
              .findFirst();
        }
      };
    }
  }

  private static boolean records(AliyunCsr o, long csrId) {
    AliyunCsrStatus st = o.getStatus();
    if (st == null) {
      return false;
    }
    if (Objects.equals(st.getCsrId(), csrId)) {
      return true;
    }
    for (CasCsrRef ref : list(st.getSupersededCsrs())) {
      if (Objects.equals(ref.getCsrId(), csrId)) {
        return true;
      }
    }
    return false;
  }

  Map<String, Integer> calls() {
    return new LinkedHashMap<>(cas.calls);
  }

  List<String> warnings() {
    return warnings;
  }
}
