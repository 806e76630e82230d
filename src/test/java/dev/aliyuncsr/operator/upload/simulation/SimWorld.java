package dev.aliyuncsr.operator.upload.simulation;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aliyuncsr.operator.api.AccountRef;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.EventSink;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import dev.aliyuncsr.operator.upload.CrashPoints;
import dev.aliyuncsr.operator.upload.Peers;
import dev.aliyuncsr.operator.upload.SecretInputs;
import dev.aliyuncsr.operator.upload.StatusBuilder;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One seed's world: an in-memory API server with two or three tenant namespaces, the operator's
 * default account and two AliyunCasAccounts (each a handle on a simulated CAS store, sometimes both
 * on one), two or three operator processes running the real {@link UploadProtocol} with caches that
 * lag, and tenants who write whatever a namespace user may write in their own namespace. The seed
 * drives every choice; {@link #run} checks the invariants after every step (and at the moment of
 * each CAS call and status write) and returns the first violation with the trace that led to it.
 */
final class SimWorld {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
  static final Duration MAX_CALL = CONNECT_TIMEOUT.plus(READ_TIMEOUT);
  static final Duration LEASE = MAX_CALL.plusSeconds(15);
  static final Duration MISSING_WINDOW = Duration.ofMinutes(1);

  /** The tenants' namespaces; a world has the first two or all three. */
  static final List<String> TENANTS = List.of("team-a", "team-b", "team-c");

  /** The object names tenants use: the same names recur across namespaces. */
  static final List<String> OBJECT_NAMES = List.of("app", "web", "db", "api");

  static final String DEFAULT_STORE = "store-default";

  /** The ownership marks of this world's operator processes: one key, as replicas share it. */
  static final UploadNames NAMES = new UploadNames(new byte[32]);

  final long seed;
  final Random random;
  private final boolean verbose;
  final Scheduler scheduler = new Scheduler();
  Instant now = Instant.parse("2026-12-01T00:00:00Z");
  final InMemoryKube kube;
  final SimCas cas;
  final SimAccounts accounts = new SimAccounts(DEFAULT_STORE);
  final List<String> namespaces = new ArrayList<>();

  /** The private keys (pool key indices) each tenant holds; no tenant holds another's. */
  final Map<String, List<Integer>> tenantKeys = new TreeMap<>();

  final List<Operator> operators = new ArrayList<>();

  // ---- Secrets -----------------------------------------------------------------------------

  /** What one Secret holds: a CSR (pool entry, -1 garbage) and a private key (key index, -1). */
  record SecretContent(int csr, int key) {}

  /** Secrets by namespace/name. */
  final Map<String, SecretContent> secrets = new TreeMap<>();

  /** Every private key each Secret (namespace/name) ever held. */
  final Map<String, Set<Integer>> keysEverHeld = new TreeMap<>();

  /** Every CSR (sha) the csrSecretRef Secret of each resource (UID) held while it lived. */
  final Map<String, Set<String>> csrsHeld = new HashMap<>();

  /** uid → pool entries its Secret held: a new CSR is one it never had. */
  final Map<String, Set<Integer>> usedEntries = new HashMap<>();

  // ---- what happened, for the invariants and their exemptions ------------------------------

  final List<Long> foreign = new ArrayList<>();
  final Set<Long> planted = new LinkedHashSet<>();

  /**
   * When each resource's deletionPolicy was Orphan, as [start, end) (end null while it still is): a
   * CSR it held then may be released, which is not a leak.
   */
  final Map<String, List<Instant[]>> orphanPeriods = new HashMap<>();

  /** When each "uid/CsrId" first appeared in that resource's status. */
  final Map<String, Instant> firstRecorded = new HashMap<>();

  /**
   * Resources that left the API server without the operator letting them go: a user took the
   * finalizer off and deleted them, or a restore replaced them (README: nothing is left to clean up
   * with). Their CSRs are released as with Orphan.
   */
  final Set<String> releasedByUser = new HashSet<>();

  /**
   * Resources that, having recorded or uploaded something, lost the finalizer, the annotations and
   * the status all at once: nothing is left that says they ever uploaded, so they are new to any
   * operator and upload again (README). Exempt from "one CSR per resource and CSR" and the leak
   * check.
   */
  final Set<String> amnesia = new HashSet<>();

  /**
   * A status loss: what the status recorded then, and what the restore that followed looked up (the
   * CSR in the Secret then, under the resource's own name, in the account that selects it). A
   * restore finds only that: CSRs of other CSRs, or in another account, recorded or in flight at
   * the loss, are forgotten (README) and exempt from the clean-up checks; that one is not.
   */
  static final class Loss {
    final Instant at;
    final Set<Long> recorded;
    String restoreSha;
    String restoreName;
    String restoreStore;

    Loss(Instant at, Set<Long> recorded) {
      this.at = at;
      this.recorded = recorded;
    }
  }

  final Map<String, List<Loss>> losses = new HashMap<>();

  /**
   * CSRs a handle left behind when it switched to another store: a CSR the handle no longer reaches
   * is deleted as NotFound, so it stays in the store it was uploaded to.
   */
  final Set<Long> switchedAway = new HashSet<>();

  final Map<String, DeletionPolicy> policyAtRemoval = new HashMap<>();

  /**
   * spec.csrId of resources when they went: an adopted CSR is someone else's upload, deleted only
   * with proof of possession, else released (not a leak).
   */
  final Map<String, Long> adoptedAtRemoval = new HashMap<>();

  /** Accounts (keys) whose status ever held a record for each UID. */
  final Map<String, Set<String>> recordedUnder = new HashMap<>();

  /** The last UID whose status recorded each CsrId (current or superseded). */
  final Map<Long, String> lastRecorder = new HashMap<>();

  /**
   * Restored resources (new UID, same namespace/name/spec/Secret, with the original's finalizer or
   * annotations) whose original's CSR was in CAS: the CsrId they must re-attach to, without an
   * UploadCsr. Dropped when something that changes the answer happens (a tenant edit, the CSR
   * deleted in the console, the account switched or no longer selecting).
   */
  final Map<String, Long> restoreExpect = new LinkedHashMap<>();

  /** A restore under way: the original is gone; the copy from the backup comes back later. */
  record PendingRestore(
      AliyunCsr backup, String traces, int logIndex, Instant due, String originalUid) {}

  final List<PendingRestore> pendingRestores = new ArrayList<>();

  final ArrayDeque<String> trace = new ArrayDeque<>();

  /** A replay's whole trace (the console may drop the end of a long one): target/sim-trace-S. */
  private final List<String> fullTrace = new ArrayList<>();

  private final List<String> warnings = new ArrayList<>();
  private int crashes;
  int edits;
  int attacks;
  private int accountEvents;

  // ---- drift, pause and the budget's Later --------------------------------------------------

  private int consoleEvents;
  private int steers;
  long requests;

  /** How often the upload gate answers Later (Queued): seeded, lower once faults stop. */
  private int laterPercent = 20;

  /** What happened in the world besides CAS calls, for the summary line. */
  final Map<String, Integer> events = new TreeMap<>();

  /** Uploading resources whose current CSR (as status recorded it) the console deleted. */
  private final Set<String> consoleHit = new HashSet<>();

  /**
   * "uid/CsrId" of adopting resources whose status recorded their adopted CsrId since their status
   * was last lost: when the console deletes that CSR, they must end AdoptedCsrGone (else
   * AdoptionTargetNotFound).
   */
  private final Set<String> adoptedRecorded = new HashSet<>();

  /** uid/CsrId pairs a confirmation (the protocol's GetCsrDetail) found live in CAS. */
  private final Set<String> confirmedLive = new HashSet<>();

  private final Tenants tenants;

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
              restoreExpect.remove(removed.getMetadata().getUid());
              if (removed.getSpec() != null && removed.getSpec().getCsrId() != null) {
                adoptedAtRemoval.put(removed.getMetadata().getUid(), removed.getSpec().getCsrId());
              }
            });
    this.cas = new SimCas(random, () -> now, CONNECT_TIMEOUT, MAX_CALL);
    this.tenants = new Tenants(this);
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
        observeOnInterval();
        progressRestores(false);
        String v = check();
        if (v != null) {
          return fail(v);
        }
      }
      cas.faults = false;
      laterPercent = 10;
      unpauseAll();
      String suspected = whileSuspected();
      if (suspected != null) {
        return fail(suspected);
      }
      resolveAlarms();
      String unsettled =
          settle(
              SETTLE_STEPS,
              () -> {
                progressRestores(true);
                return pendingRestores.isEmpty() ? settled() : "a restore is under way";
              });
      if (unsettled != null) {
        return fail(notSettled(unsettled));
      }
      events.merge("objectsAtEnd", kube.all().size(), Integer::sum);
      String unconfirmed = finalConfirmation();
      if (unconfirmed != null) {
        return fail(notSettled(unconfirmed));
      }
      String drift = endState();
      if (drift != null) {
        return fail(drift);
      }
      String drill = random.nextInt(100) < 35 ? adoptionDrill() : null;
      if (drill == null && random.nextInt(100) < 50) {
        drill = restoreDrill();
      }
      if (drill == null && random.nextInt(100) < 35) {
        drill = migrationDrill();
      }
      if (drill != null) {
        return fail(drill);
      }
      for (AliyunCsr r : kube.all()) {
        note("user deletes " + InMemoryKube.key(r));
        kube.delete(InMemoryKube.key(r), now);
      }
      String stuck =
          settle(SETTLE_STEPS, () -> kube.all().isEmpty() ? null : "deletion not finished");
      if (stuck != null) {
        return fail(notSettled(stuck));
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
    if (verbose) {
      // A replay ends with the objects as the API server has them, and what CAS holds.
      for (AliyunCsr r : kube.all()) {
        note("object " + InMemoryKube.tree(r));
      }
      for (SimCas.Stored s : cas.live.values()) {
        note("cas " + s + " owner " + s.owner + " (" + s.ownerKey + ") via " + s.via);
      }
      note("accounts: " + accounts.describeAll());
    }
    return new Result(seed, violation, new ArrayList<>(trace), cas.calls, events);
  }

  void note(String line) {
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

  void count(String event) {
    events.merge(event, 1, Integer::sum);
  }

  // ---- the world at the start -----------------------------------------------------------------

  private void setUp() {
    int tenantCount = 2 + random.nextInt(2);
    namespaces.addAll(TENANTS.subList(0, tenantCount));
    for (int k = 0; k < SimPool.FOREIGN_KEY; k++) {
      tenantKeys.computeIfAbsent(namespaces.get(k % tenantCount), n -> new ArrayList<>()).add(k);
    }
    // Two AliyunCasAccounts: acct-x selects the first namespace (and maybe more), acct-y some;
    // sometimes both are handles on one store (two keys of one Alibaba Cloud account).
    Set<String> x = new TreeSet<>(List.of(namespaces.get(0)));
    Set<String> y = new TreeSet<>();
    for (String ns : namespaces.subList(1, tenantCount)) {
      if (random.nextInt(100) < 30) {
        x.add(ns);
      }
      if (random.nextInt(100) < 60) {
        y.add(ns);
      }
    }
    accounts.add("acct-x", "store-x", x);
    accounts.add("acct-y", random.nextInt(100) < 35 ? "store-x" : "store-y", y);
    // Another team's CSRs in each store: one under an unrelated name, one under a name a resource
    // may use; no tenant here holds their key.
    var other = SimPool.entry(2 * SimPool.FOREIGN_KEY + 1);
    for (String store : accounts.stores()) {
      foreign.add(cas.plant(store, "other-team", other).id);
      foreign.add(cas.plant(store, "shared_name", other).id);
    }
    int resources = 1 + random.nextInt(3);
    for (int i = 0; i < resources; i++) {
      String ns = pick(namespaces);
      String name = freeName(ns);
      if (name != null) {
        createResource(ns, name, random.nextInt(100));
      }
    }
    // A copied manifest: the same spec.name and Secret, created later in the same namespace.
    for (AliyunCsr r : kube.all()) {
      String ns = r.getMetadata().getNamespace();
      if (r.getSpec().getName() != null && random.nextInt(100) < 40) {
        now = now.plusSeconds(1);
        AliyunCsr copy = newResource(ns, "copy-" + r.getMetadata().getName());
        copy.setSpec(r.getSpec());
        AliyunCsr created = kube.create(copy, now);
        track(created);
        note(
            "tenant "
                + ns
                + " copies "
                + r.getMetadata().getName()
                + " with spec.name "
                + r.getSpec().getName());
        break;
      }
    }
    note("accounts: " + accounts.describeAll());
    int processes = 2 + random.nextInt(2);
    for (int i = 0; i < processes; i++) {
      Operator op = new Operator("op" + i, random.nextInt(4001) - 2000);
      operators.add(op);
      op.deliver(Integer.MAX_VALUE);
    }
  }

  /** An object name not in use in {@code ns}; null when all are. */
  String freeName(String ns) {
    List<String> free = new ArrayList<>();
    for (String name : OBJECT_NAMES) {
      if (kube.get(ns, name).isEmpty()) {
        free.add(name);
      }
    }
    return free.isEmpty() ? null : pick(free);
  }

  static AliyunCsr newResource(String ns, String name) {
    AliyunCsr r = new AliyunCsr();
    r.getMetadata().setNamespace(ns);
    r.getMetadata().setName(name);
    return r;
  }

  /**
   * A tenant's new resource: its own CSR (and key) in a Secret of its own; some name spec.name,
   * some adopt a CSR planted for them, some name an account (one that may not select them).
   */
  void createResource(String ns, String name, int kind) {
    AliyunCsr r = newResource(ns, name);
    AliyunCsrSpec spec = new AliyunCsrSpec();
    String secret = "s-" + name;
    spec.setCsrSecretRef(new SecretKeyRef(secret, null));
    if (random.nextBoolean()) {
      spec.setKeySecretRef(new SecretKeyRef(secret, null));
    }
    spec.setDeletionPolicy(
        random.nextInt(100) < 80 ? DeletionPolicy.Delete : DeletionPolicy.Orphan);
    spec.setAccountRef(pickAccountRef(ns));
    int key = pick(tenantKeys.get(ns));
    int entry = 2 * key;
    if (kind < 20) {
      spec.setName(random.nextBoolean() ? "shared_name" : "named_" + name);
    } else if (kind < 35) {
      String store =
          accounts.exists(spec.accountName()) ? accounts.store(spec.accountName()) : DEFAULT_STORE;
      long id = cas.plant(store, "adopt-me", SimPool.entry(entry)).id;
      planted.add(id);
      spec.setCsrId(id);
    }
    r.setSpec(spec);
    putSecret(ns + "/" + secret, new SecretContent(entry, key));
    AliyunCsr created = kube.create(r, now);
    track(created);
    note("tenant " + ns + " creates " + name + " " + describe(spec));
  }

  /** Mostly an account that selects the namespace; sometimes any, or one that does not exist. */
  AccountRef pickAccountRef(String ns) {
    List<String> selecting = new ArrayList<>();
    for (String a : accounts.named) {
      if (accounts.selects(a, ns)) {
        selecting.add(a);
      }
    }
    int roll = random.nextInt(100);
    if (roll < 40) {
      return null;
    }
    if (roll < 80 && !selecting.isEmpty()) {
      return new AccountRef(pick(selecting));
    }
    List<String> any = new ArrayList<>(accounts.named);
    any.add(SimAccounts.NONE);
    return new AccountRef(pick(any));
  }

  void track(AliyunCsr created) {
    String uid = created.getMetadata().getUid();
    SecretContent content = secretOf(created);
    if (content != null && content.csr() >= 0) {
      usedEntries.computeIfAbsent(uid, u -> new HashSet<>()).add(content.csr());
      csrsHeld
          .computeIfAbsent(uid, u -> new HashSet<>())
          .add(SimPool.entry(content.csr()).csr().csrSha256());
    }
    policySet(uid, created.getSpec().effectiveDeletionPolicy());
  }

  /** The resource's deletionPolicy is {@code policy} from now on. */
  void policySet(String uid, DeletionPolicy policy) {
    List<Instant[]> periods = orphanPeriods.computeIfAbsent(uid, u -> new ArrayList<>());
    Instant[] last = periods.isEmpty() ? null : periods.get(periods.size() - 1);
    boolean open = last != null && last[1] == null;
    if (policy == DeletionPolicy.Orphan && !open) {
      periods.add(new Instant[] {now, null});
    } else if (policy == DeletionPolicy.Delete && open) {
      last[1] = now;
    }
  }

  /**
   * The holder's deletionPolicy was Orphan at some moment while it held {@code s} (since its upload
   * began, or since its status first recorded it): the protocol may have released it then.
   */
  boolean orphanedWhileHeld(String holder, SimCas.Stored s) {
    Instant from = holder.equals(s.owner) ? s.calledAt : firstRecorded.get(holder + "/" + s.id);
    if (from == null) {
      return false;
    }
    for (Instant[] p : orphanPeriods.getOrDefault(holder, List.of())) {
      if (p[1] == null || from.isBefore(p[1])) {
        return true;
      }
    }
    return false;
  }

  static String describe(AliyunCsrSpec spec) {
    return (spec.getName() == null ? "" : "name=" + spec.getName() + " ")
        + (spec.getCsrId() == null ? "" : "csrId=" + spec.getCsrId() + " ")
        + (spec.getAccountRef() == null ? "" : "account=" + spec.accountName() + " ")
        + (spec.getKeySecretRef() == null ? "" : "withKey ")
        + spec.effectiveDeletionPolicy();
  }

  // ---- Secrets ---------------------------------------------------------------------------------

  SecretContent secretOf(AliyunCsr r) {
    return secrets.get(
        r.getMetadata().getNamespace() + "/" + r.getSpec().getCsrSecretRef().getName());
  }

  /** A tenant writes a Secret: the resources that read it now hold its CSR. */
  void putSecret(String key, SecretContent content) {
    secrets.put(key, content);
    if (content.key() >= 0) {
      keysEverHeld.computeIfAbsent(key, k -> new TreeSet<>()).add(content.key());
    }
    for (AliyunCsr r : kube.all()) {
      String uid = r.getMetadata().getUid();
      String own = r.getMetadata().getNamespace() + "/" + r.getSpec().getCsrSecretRef().getName();
      if (own.equals(key)) {
        restoreExpect.remove(uid);
        if (content.csr() >= 0) {
          usedEntries.computeIfAbsent(uid, u -> new HashSet<>()).add(content.csr());
          csrsHeld
              .computeIfAbsent(uid, u -> new HashSet<>())
              .add(SimPool.entry(content.csr()).csr().csrSha256());
        }
      }
    }
  }

  /** The pool entry the resource's Secret holds now; -1 when none usable. */
  int currentEntry(AliyunCsr r) {
    SecretContent c = secretOf(r);
    return c == null ? -1 : c.csr();
  }

  /** The public keys whose private key the resource's keySecretRef Secret ever held. */
  Set<String> keysPossessed(AliyunCsr r) {
    Set<String> out = new HashSet<>();
    if (r.getSpec() == null || r.getSpec().getKeySecretRef() == null) {
      return out;
    }
    String key = r.getMetadata().getNamespace() + "/" + r.getSpec().getKeySecretRef().getName();
    for (int k : keysEverHeld.getOrDefault(key, Set.of())) {
      out.add(SimPool.publicKey(k));
    }
    return out;
  }

  /** What SecretInputs would load for {@code r}. */
  Validated<SecretInputs.Inputs> inputsOf(AliyunCsr r) {
    String ns = r.getMetadata().getNamespace();
    String secret = r.getSpec().getCsrSecretRef().getName();
    SecretContent content = secrets.get(ns + "/" + secret);
    if (content == null) {
      return Validated.invalid(Reasons.SECRET_NOT_FOUND, "Secret " + secret + " does not exist");
    }
    if (content.csr() < 0) {
      return Validated.invalid(Reasons.INVALID_CSR, "Secret " + secret + " holds no CSR");
    }
    var e = SimPool.entry(content.csr());
    if (r.getSpec().getKeySecretRef() == null) {
      return Validated.valid(new SecretInputs.Inputs(e.csr(), Optional.empty()));
    }
    SecretContent keyContent = secrets.get(ns + "/" + r.getSpec().getKeySecretRef().getName());
    if (keyContent == null) {
      return Validated.invalid(Reasons.SECRET_NOT_FOUND, "key Secret does not exist");
    }
    if (keyContent.key() < 0) {
      return Validated.invalid(Reasons.SECRET_KEY_MISSING, "Secret has no key");
    }
    if (keyContent.key() != e.keyIndex()) {
      return Validated.invalid(Reasons.KEY_MISMATCH, "the key is not the CSR's");
    }
    return Validated.valid(
        new SecretInputs.Inputs(e.csr(), Optional.of(SimPool.entry(2 * keyContent.key()).key())));
  }

  /** Whether the inputs of {@code r} are valid now. */
  boolean inputsValid(AliyunCsr r) {
    return inputsOf(r).isValid();
  }

  // ---- steps ---------------------------------------------------------------------------------

  private void chaosStep() {
    int roll = random.nextInt(100);
    if (roll < 47) {
      Operator op = pick(operators);
      scheduler.resume(op.actor);
    } else if (roll < 61) {
      pick(operators).deliver(1 + random.nextInt(4));
    } else if (roll < 72) {
      long seconds = random.nextInt(100) < 80 ? random.nextInt(8) : 10 + random.nextInt(40);
      now = now.plusSeconds(seconds).plusMillis(random.nextInt(1000));
    } else if (roll < 75) {
      if (crashes < 4) {
        Operator op = pick(operators);
        crashes++;
        note(op.name + " crashes");
        scheduler.crash(op.actor);
      }
    } else if (roll < 84) {
      if (edits < 8) {
        edits++;
        userEdit();
      }
    } else if (roll < 92) {
      if (attacks < 10) {
        attacks++;
        tenants.act();
      }
    } else if (roll < 94) {
      if (accountEvents < 3) {
        accountEvents++;
        accountEvent();
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

  /**
   * How long a world may take to settle once faults stop: an unknown result costs a missing window
   * (a minute) before it counts as never stored, and an upload can still time out (its process
   * waits for its turn while time passes), so a few in a row take a quarter of an hour.
   */
  private static final int SETTLE_STEPS = 2400;

  /** Marks what {@link #settle} returns when an invariant failed, as opposed to not settling. */
  private static final String VIOLATION = "\0";

  /** "liveness: " and what did not settle, or the violation found while settling. */
  private static String notSettled(String what) {
    return what.startsWith(VIOLATION) ? what.substring(1) : "liveness: " + what;
  }

  /**
   * Runs without faults until {@code done} says null, or fails with what it said last (or the
   * violation a check found, marked with {@link #VIOLATION}).
   */
  private String settle(int steps, java.util.function.Supplier<String> done) {
    String last = null;
    for (int step = 0; step < steps; step++) {
      count("settleStep");
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
      observeOnInterval();
      String v = check();
      if (v != null) {
        return VIOLATION + v;
      }
      last = done.get();
      if (last == null) {
        return null;
      }
    }
    return last;
  }

  <T> T pick(List<T> items) {
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
    String ns = r.getMetadata().getNamespace();
    String name = key;
    String secret = ns + "/" + r.getSpec().getCsrSecretRef().getName();
    int roll = random.nextInt(100);
    if (roll < 22) {
      int entry = newEntryFor(r);
      if (entry >= 0) {
        putSecret(secret, withCsr(secret, entry));
        note("tenant puts CSR " + entry + " in " + secret);
      }
    } else if (roll < 30) {
      putSecret(secret, withCsr(secret, -1));
      note("tenant breaks " + secret);
    } else if (roll < 40) {
      DeletionPolicy next =
          r.getSpec().effectiveDeletionPolicy() == DeletionPolicy.Delete
              ? DeletionPolicy.Orphan
              : DeletionPolicy.Delete;
      kube.userReplace(key, n -> ((ObjectNode) n.get("spec")).put("deletionPolicy", next.name()));
      policySet(uid, next);
      note("tenant sets " + name + " deletionPolicy " + next);
    } else if (roll < 52) {
      long target = forgedTarget(uid);
      edited(key, n -> annotations(n).put(CasAnnotations.CSR_ID, Long.toString(target)));
      note("tenant forges " + name + " csr-id=" + target);
    } else if (roll < 60) {
      long target = forgedTarget(uid);
      edited(
          key, n -> annotations(n).put(CasAnnotations.SUPERSEDED_CSR_IDS, Long.toString(target)));
      note("tenant forges " + name + " superseded-csr-ids=" + target);
    } else if (roll < 72) {
      edited(
          key,
          n -> {
            ObjectNode meta = (ObjectNode) n.get("metadata");
            meta.remove("annotations");
            meta.remove("finalizers");
          });
      note("tenant replaces " + name + " without annotations and finalizers");
    } else if (roll < 82) {
      loseStatus(r);
    } else if (roll < 90) {
      kube.delete(key, now);
      restoreExpect.remove(uid);
      note("tenant deletes " + name);
    } else if (roll < 95) {
      // Only the CSR in the Secret changes back to a usable one.
      if (secrets.get(secret) != null && secrets.get(secret).csr() == -1) {
        int entry = newEntryFor(r);
        if (entry >= 0) {
          putSecret(secret, withCsr(secret, entry));
          note("tenant fixes " + secret + " with CSR " + entry);
        }
      }
    }
  }

  /** The status goes (a restore without status, a replace of it): what it recorded is noted. */
  void loseStatus(AliyunCsr r) {
    String uid = r.getMetadata().getUid();
    Optional<AliyunCsr> current =
        kube.get(r.getMetadata().getNamespace(), r.getMetadata().getName());
    Set<Long> recorded = new HashSet<>();
    current.map(AliyunCsr::getStatus).ifPresent(st -> recorded.addAll(recordedIds(st)));
    kube.userWriteStatus(InMemoryKube.key(r), null);
    losses.computeIfAbsent(uid, u -> new ArrayList<>()).add(new Loss(now, recorded));
    adoptedRecorded.removeIf(p -> p.startsWith(uid + "/"));
    count("statusLost");
    note("status of " + InMemoryKube.key(r) + " is lost (a restore without status)");
  }

  /** A tenant's edit of metadata or spec: a restore's expectation no longer holds. */
  AliyunCsr edited(String key, java.util.function.Consumer<ObjectNode> change) {
    AliyunCsr written = kube.userReplace(key, change);
    if (written != null) {
      restoreExpect.remove(written.getMetadata().getUid());
    }
    return written;
  }

  SecretContent withCsr(String secret, int entry) {
    SecretContent c = secrets.get(secret);
    return new SecretContent(entry, c == null ? -1 : c.key());
  }

  /** A CSR this resource never had, of its tenant's own keys (an adopting one: mostly its key). */
  int newEntryFor(AliyunCsr r) {
    String uid = r.getMetadata().getUid();
    Set<Integer> used = usedEntries.computeIfAbsent(uid, u -> new HashSet<>());
    List<Integer> keys = tenantKeys.get(r.getMetadata().getNamespace());
    int current = currentEntry(r);
    if (r.getSpec().getCsrId() != null && current >= 0) {
      int entry =
          random.nextInt(100) < 75 ? SimPool.sibling(current) : 2 * pick(keys) + random.nextInt(2);
      used.add(entry);
      return entry;
    }
    for (int attempt = 0; attempt < 20; attempt++) {
      int entry = 2 * pick(keys) + random.nextInt(2);
      if (!used.contains(entry)) {
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

  static ObjectNode annotations(ObjectNode object) {
    ObjectNode meta = (ObjectNode) object.get("metadata");
    if (!meta.has("annotations")) {
      meta.putObject("annotations");
    }
    return (ObjectNode) meta.get("annotations");
  }

  // ---- accounts: selectors, switched handles, the migration guard -------------------------

  /**
   * An account stops (or starts) selecting a namespace; a handle switches to another store (the
   * guard is suspected when none of the CSRs recorded under it is there); an administrator confirms
   * a suspected migration, or switches the handle back.
   */
  private void accountEvent() {
    int roll = random.nextInt(100);
    List<String> blocked = new ArrayList<>();
    for (String k : accounts.keys()) {
      if (accounts.block(SimAccounts.account(k)).isPresent()) {
        blocked.add(k);
      }
    }
    if (!blocked.isEmpty() && roll < 20) {
      adminResolves(SimAccounts.account(pick(blocked)));
      return;
    }
    if (roll < 70) {
      String account = pick(accounts.named);
      Set<String> selected = new TreeSet<>(accounts.selected(account));
      boolean stop = !selected.isEmpty() && random.nextBoolean();
      String ns = stop ? pick(new ArrayList<>(selected)) : pick(namespaces);
      if (stop) {
        selected.remove(ns);
      } else {
        selected.add(ns);
      }
      accounts.select(account, selected);
      dropExpectations(account);
      count("selectorChange");
      note(
          "admin: "
              + account
              + (stop ? " stops selecting " : " selects ")
              + ns
              + " ("
              + accounts.describeAll()
              + ")");
      return;
    }
    // Mostly an account that holds CSRs: its guard has something to miss.
    List<String> holding = new ArrayList<>();
    for (AliyunCsr r : kube.all()) {
      if (r.getStatus() != null && r.getStatus().getCsrId() != null) {
        holding.add(SimAccounts.key(r.getStatus().getAccount()));
      }
    }
    String account =
        SimAccounts.account(
            !holding.isEmpty() && random.nextInt(100) < 80 ? pick(holding) : pick(accounts.keys()));
    List<String> targets = new ArrayList<>(accounts.stores());
    targets.add(SimAccounts.SPARE_STORE);
    targets.remove(accounts.store(account));
    switchHandle(account, pick(targets));
  }

  /** The handle of {@code account} reaches {@code store} from now on. */
  private void switchHandle(String account, String store) {
    String from = accounts.store(account);
    String k = SimAccounts.key(account);
    for (SimCas.Stored s : cas.live.values()) {
      if (k.equals(s.via) && s.store.equals(from)) {
        switchedAway.add(s.id);
      }
    }
    // The guard asks for a few recorded CsrIds through the new handle: none there, suspected.
    List<Long> recorded = new ArrayList<>();
    for (AliyunCsr r : kube.all()) {
      AliyunCsrStatus st = r.getStatus();
      if (st != null && st.getCsrId() != null && Objects.equals(st.getAccount(), account)) {
        recorded.add(st.getCsrId());
      }
    }
    boolean seen = recorded.stream().anyMatch(id -> cas.in(store, id).isPresent());
    boolean suspect = !recorded.isEmpty() && !seen;
    accounts.switchTo(account, store, suspect);
    dropExpectations(account);
    count("handleSwitch");
    note(
        "admin: "
            + SimAccounts.describe(account)
            + " now reaches "
            + store
            + (suspect ? " (migration suspected: re-uploads blocked)" : ""));
  }

  private void adminResolves(String account) {
    adminResolves(account, random.nextBoolean());
  }

  /** The administrator confirms the migration of {@code account}, or switches its handle back. */
  private void adminResolves(String account, boolean confirm) {
    if (confirm) {
      accounts.confirm(account);
      count("migrationConfirmed");
      note("admin confirms the migration of " + SimAccounts.describe(account));
    } else {
      String from = accounts.store(account);
      String k = SimAccounts.key(account);
      for (SimCas.Stored s : cas.live.values()) {
        if (k.equals(s.via) && s.store.equals(from)) {
          switchedAway.add(s.id);
        }
      }
      accounts.switchBack(account);
      dropExpectations(account);
      count("handleSwitchedBack");
      note(
          "admin switches "
              + SimAccounts.describe(account)
              + " back to "
              + accounts.store(account));
    }
  }

  /** Faults stop: every suspected account is confirmed or switched back. */
  private void resolveAlarms() {
    for (String k : accounts.keys()) {
      if (accounts.block(SimAccounts.account(k)).isPresent()) {
        adminResolves(SimAccounts.account(k));
      }
    }
  }

  /** Restores through {@code account} no longer promise a re-attach. */
  private void dropExpectations(String account) {
    for (AliyunCsr r : kube.all()) {
      if (r.getSpec() != null && Objects.equals(r.getSpec().accountName(), account)) {
        restoreExpect.remove(r.getMetadata().getUid());
      }
    }
  }

  // ---- restores from a backup ---------------------------------------------------------------

  /**
   * The second half of a restore: once every process has seen the original go and none is still
   * reconciling it, the copy from the backup is created with a new UID, no status, and the
   * original's finalizer and annotations as {@code traces} says.
   */
  private void progressRestores(boolean now) {
    for (var it = pendingRestores.iterator(); it.hasNext(); ) {
      PendingRestore p = it.next();
      boolean seen = operators.stream().allMatch(op -> op.delivered >= p.logIndex());
      boolean idle =
          operators.stream()
              .noneMatch(
                  op ->
                      op.reconciling != null
                          && op.reconciling.getMetadata().getUid().equals(p.originalUid()));
      String ns = p.backup().getMetadata().getNamespace();
      String name = p.backup().getMetadata().getName();
      if (!seen || !idle || (!now && this.now.isBefore(p.due()))) {
        continue;
      }
      it.remove();
      if (kube.get(ns, name).isPresent()) {
        note("restore of " + ns + "/" + name + " skipped: the name is taken again");
        continue;
      }
      restoreFromBackup(p);
    }
  }

  private void restoreFromBackup(PendingRestore p) {
    AliyunCsr backup = p.backup();
    String ns = backup.getMetadata().getNamespace();
    AliyunCsr copy = newResource(ns, backup.getMetadata().getName());
    copy.setSpec(backup.getSpec());
    boolean annotations = p.traces().contains("annotations");
    boolean finalizer = p.traces().contains("finalizer");
    if (annotations && backup.getMetadata().getAnnotations() != null) {
      Map<String, String> restored = new LinkedHashMap<>(backup.getMetadata().getAnnotations());
      if (!cas.faults) {
        restored.remove(CasAnnotations.PAUSED); // everything is unpaused once faults stop
      }
      copy.getMetadata().setAnnotations(restored);
    }
    if (finalizer && backup.hasFinalizer(CasAnnotations.FINALIZER)) {
      copy.getMetadata().setFinalizers(new ArrayList<>(List.of(CasAnnotations.FINALIZER)));
    }
    AliyunCsr created = kube.create(copy, now);
    track(created);
    String uid = created.getMetadata().getUid();
    count("restore");
    Long expected = expectedReattach(backup, created);
    if (expected != null) {
      restoreExpect.put(uid, expected);
      count("restoreExpectingReattach");
    }
    note(
        "restore from backup: "
            + InMemoryKube.key(created)
            + " ("
            + uid
            + ", was "
            + p.originalUid()
            + ") with "
            + p.traces()
            + (expected == null ? "" : "; must re-attach CsrId " + expected));
  }

  /**
   * The CsrId a restored resource must re-attach to: the original recorded it (settled, nothing in
   * flight), it is still in the store its account reaches, it is the only CSR there of its name and
   * CSR, it is the CSR in the Secret now, nobody records it, and the restored resource has a trace
   * and an account that selects it. Null when any of that is not so.
   */
  private Long expectedReattach(AliyunCsr backup, AliyunCsr restored) {
    AliyunCsrStatus st = backup.getStatus();
    boolean traces =
        restored.hasFinalizer(CasAnnotations.FINALIZER)
            || CasAnnotations.intent(restored).isPresent()
            || CasAnnotations.csrId(restored).isPresent();
    if (!traces
        || st == null
        || st.getObservedGeneration() == null
        || st.getCsrId() == null
        || st.getLease() != null
        || !list(st.getPendingUploads()).isEmpty()
        || restored.getSpec().getCsrId() != null) {
      return null;
    }
    String account = st.getAccount();
    String ns = restored.getMetadata().getNamespace();
    if (!Objects.equals(restored.getSpec().accountName(), account)
        || !accounts.selects(account, ns)
        || accounts.block(account).isPresent()) {
      return null;
    }
    String store = accounts.store(account);
    Optional<SimCas.Stored> held = cas.in(store, st.getCsrId());
    int entry = currentEntry(restored);
    if (held.isEmpty() || entry < 0 || !inputsValid(restored)) {
      return null;
    }
    String sha = SimPool.entry(entry).csr().csrSha256();
    String name = NAMES.of(restored);
    long same =
        cas.live.values().stream()
            .filter(s -> s.store.equals(store) && name.equals(s.name) && sha.equals(s.csrSha256))
            .count();
    boolean recordedElsewhere =
        kube.all().stream()
            .filter(o -> !o.getMetadata().getUid().equals(restored.getMetadata().getUid()))
            .anyMatch(
                o -> o.getStatus() != null && recordedIds(o.getStatus()).contains(held.get().id));
    if (!sha.equals(held.get().csrSha256)
        || !name.equals(held.get().name)
        || same != 1
        || recordedElsewhere) {
      return null;
    }
    return held.get().id;
  }

  /**
   * A disaster-recovery drill once everything is settled: some Ready resources go at once and come
   * back from a backup (mostly with their finalizer and annotations), another may lose its status,
   * while faults, crashes and stale caches return for a while. Then every restored resource whose
   * original's CSR is still there must be Ready with it, without an UploadCsr (checked at the
   * call).
   */
  private String restoreDrill() {
    List<AliyunCsr> ready = new ArrayList<>();
    for (AliyunCsr r : kube.all()) {
      if (isReady(r) && r.getSpec().getCsrId() == null) {
        ready.add(r);
      }
    }
    if (ready.isEmpty()) {
      return null;
    }
    count("drill");
    AliyunCsr lose = random.nextInt(100) < 30 ? pick(kube.all()) : null;
    for (AliyunCsr r : ready) {
      if (r == lose || random.nextInt(100) >= 70) {
        continue;
      }
      int roll = random.nextInt(100);
      String traces = roll < 80 ? "annotations+finalizer" : roll < 90 ? "finalizer" : "no traces";
      int logIndex = kube.log().size();
      kube.vanish(InMemoryKube.key(r));
      pendingRestores.add(
          new PendingRestore(r, traces, logIndex + 1, now, r.getMetadata().getUid()));
      note("drill: " + InMemoryKube.key(r) + " (" + r.getMetadata().getUid() + ") is gone");
    }
    if (lose != null) {
      loseStatus(lose);
    }
    cas.faults = true;
    int burst = 20 + random.nextInt(40);
    for (int step = 0; step < burst; step++) {
      int roll = random.nextInt(100);
      if (roll < 60) {
        scheduler.resume(pick(operators).actor);
      } else if (roll < 80) {
        pick(operators).deliver(1 + random.nextInt(4));
      } else if (roll < 96) {
        now = now.plusSeconds(random.nextInt(10)).plusMillis(random.nextInt(1000));
      } else if (crashes < 6) {
        Operator op = pick(operators);
        crashes++;
        note(op.name + " crashes");
        scheduler.crash(op.actor);
      }
      progressRestores(false);
      String v = check();
      if (v != null) {
        return v;
      }
    }
    cas.faults = false;
    String unsettled =
        settle(
            SETTLE_STEPS,
            () -> {
              progressRestores(true);
              return pendingRestores.isEmpty() ? settled() : "a restore is under way";
            });
    if (unsettled != null) {
      return notSettled(unsettled).replaceFirst("^liveness: ", "liveness after the drill: ");
    }
    for (AliyunCsr r : kube.all()) {
      Long expected = restoreExpect.get(r.getMetadata().getUid());
      if (expected == null) {
        continue;
      }
      if (!isReady(r) || !Objects.equals(r.getStatus().getCsrId(), expected)) {
        return "invariant 3: restored "
            + InMemoryKube.key(r)
            + " should be Ready with its original's CsrId "
            + expected
            + " but is "
            + reason(r)
            + " with CsrId "
            + r.getStatus().getCsrId();
      }
      count("drillReattached");
    }
    return null;
  }

  /**
   * Once settled: an account whose handle holds Ready resources' CSRs suddenly reaches another
   * store. Its guard is suspected; observer passes find the CSRs missing and windows pass, yet
   * nothing may be uploaded again (checked at the call). Then the administrator switches the handle
   * back (every resource must be Ready with the CsrId it had) or confirms the migration (they are
   * uploaded again, once, into the new store).
   */
  private String migrationDrill() {
    Map<String, Map<String, Long>> readyByAccount = new TreeMap<>();
    for (AliyunCsr r : kube.all()) {
      AliyunCsrStatus st = r.getStatus();
      if (isReady(r) && cas.in(accounts.store(st.getAccount()), st.getCsrId()).isPresent()) {
        readyByAccount
            .computeIfAbsent(SimAccounts.key(st.getAccount()), k -> new TreeMap<>())
            .put(r.getMetadata().getUid(), st.getCsrId());
      }
    }
    if (readyByAccount.isEmpty()) {
      return null;
    }
    String key = pick(new ArrayList<>(readyByAccount.keySet()));
    String account = SimAccounts.account(key);
    Map<String, Long> before = readyByAccount.get(key);
    List<String> targets = new ArrayList<>(accounts.stores());
    targets.add(SimAccounts.SPARE_STORE);
    targets.removeIf(t -> before.values().stream().anyMatch(id -> cas.in(t, id).isPresent()));
    if (targets.isEmpty()) {
      return null;
    }
    count("migrationDrill");
    switchHandle(account, pick(targets));
    String v = whileSuspected();
    if (v != null) {
      return v;
    }
    boolean confirm = random.nextBoolean();
    adminResolves(account, confirm);
    String unsettled = settle(SETTLE_STEPS, this::settled);
    if (unsettled != null) {
      return notSettled(unsettled).replaceFirst("^liveness: ", "liveness after the migration: ");
    }
    if (confirm) {
      return null;
    }
    for (AliyunCsr r : kube.all()) {
      Long had = before.get(r.getMetadata().getUid());
      if (had != null
          && cas.live.containsKey(had)
          && !(isReady(r) && had.equals(r.getStatus().getCsrId()))) {
        return "invariant 5: "
            + InMemoryKube.key(r)
            + " had CsrId "
            + had
            + " before its account's handle went and came back, and is "
            + reason(r)
            + " with CsrId "
            + r.getStatus().getCsrId();
      }
    }
    count("migrationDrillBack");
    return null;
  }

  /**
   * Once settled: a tenant adopts another tenant's CSR, through an account that reaches its store
   * when there is one, with the victim's public CSR in its own Secret. Either the victim still
   * records it, or the victim went under Orphan first, leaving it in CAS under the victim's mark.
   * The adoption must end Stalled AdoptionConflict, and the victim keep its CSR.
   */
  private String adoptionDrill() {
    List<AliyunCsr> victims = new ArrayList<>();
    for (AliyunCsr r : kube.all()) {
      if (isReady(r) && r.getSpec().getCsrId() == null) {
        victims.add(r);
      }
    }
    if (victims.isEmpty()) {
      return null;
    }
    AliyunCsr victim = pick(victims);
    String victimNs = victim.getMetadata().getNamespace();
    List<String> others = new ArrayList<>(namespaces);
    others.remove(victimNs);
    String tenant = pick(others);
    String name = freeName(tenant);
    if (name == null) {
      return null;
    }
    long target = victim.getStatus().getCsrId();
    String store = accounts.store(victim.getStatus().getAccount());
    // An account of the attacker's that reaches the victim's store: two handles on one store.
    List<String> reaching = new ArrayList<>();
    for (String k : accounts.keys()) {
      String a = SimAccounts.account(k);
      if (accounts.selects(a, tenant) && accounts.store(a).equals(store)) {
        reaching.add(k);
      }
    }
    String account =
        reaching.isEmpty() ? victim.getStatus().getAccount() : SimAccounts.account(pick(reaching));
    count("adoptionDrill");
    boolean orphan = random.nextBoolean();
    if (orphan) {
      String key = InMemoryKube.key(victim);
      kube.userReplace(key, n -> ((ObjectNode) n.get("spec")).put("deletionPolicy", "Orphan"));
      policySet(victim.getMetadata().getUid(), DeletionPolicy.Orphan);
      kube.delete(key, now);
      note("drill: tenant deletes " + key + " under Orphan: CsrId " + target + " stays in CAS");
      String gone =
          settle(
              SETTLE_STEPS,
              () ->
                  kube.get(victimNs, victim.getMetadata().getName()).isPresent() ? "victim" : null);
      if (gone != null) {
        return notSettled(gone);
      }
      count("adoptionDrillOrphan");
    }
    AliyunCsr attacker = newResource(tenant, name);
    AliyunCsrSpec spec = new AliyunCsrSpec();
    spec.setCsrSecretRef(new SecretKeyRef("s-" + name, null));
    spec.setCsrId(target);
    spec.setDeletionPolicy(DeletionPolicy.Delete);
    if (account != null) {
      spec.setAccountRef(new AccountRef(account));
    }
    attacker.setSpec(spec);
    SimCas.Stored stored = anyStored(target);
    int entry = -1;
    for (int i = 0; i < SimPool.ENTRIES.size(); i++) {
      if (SimPool.entry(i).csr().csrSha256().equals(stored.csrSha256)) {
        entry = i;
      }
    }
    putSecret(tenant + "/s-" + name, new SecretContent(entry, -1));
    AliyunCsr created = kube.create(attacker, now);
    track(created);
    note(
        "drill: tenant "
            + tenant
            + " adopts "
            + (orphan ? "orphaned " : "")
            + "CsrId "
            + target
            + " of "
            + InMemoryKube.key(victim)
            + " as "
            + InMemoryKube.key(created)
            + " through "
            + SimAccounts.describe(account)
            + ", with its public CSR");
    String unsettled = settle(SETTLE_STEPS, this::settled);
    if (unsettled != null) {
      return notSettled(unsettled).replaceFirst("^liveness: ", "liveness after the adoption: ");
    }
    AliyunCsr now =
        kube.get(tenant, name).orElseThrow(() -> new IllegalStateException("attacker gone"));
    if (accounts.refusal(now) == null && !Reasons.ADOPTION_CONFLICT.equals(reason(now))) {
      return "invariant 4: "
          + InMemoryKube.key(now)
          + " adopting "
          + (orphan ? "orphaned " : "recorded ")
          + "CsrId "
          + target
          + " of "
          + InMemoryKube.key(victim)
          + " is "
          + reason(now);
    }
    count(accounts.refusal(now) == null ? "adoptionDrillConflict" : "adoptionDrillRefused");
    return null;
  }

  // ---- the CAS console, the observer and steering --------------------------------------------

  /**
   * A person at the CAS console deletes a CSR or drops its private key (never another team's CSR:
   * the leak check keeps those). Then the observer asks for a confirmation of the resources whose
   * status records it, or the user asks for a reconcile, or nobody notices yet.
   */
  private void consoleEvent() {
    List<SimCas.Stored> candidates = new ArrayList<>();
    for (SimCas.Stored s : cas.live.values()) {
      if (s.owner != null || planted.contains(s.id)) {
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
      count("consoleDelete");
      for (AliyunCsr r : affected) {
        if (r.getSpec().getCsrId() == null) {
          consoleHit.add(r.getMetadata().getUid());
        }
      }
      restoreExpect.values().removeIf(id -> id == target.id);
      note("console deletes CsrId " + target + " (recorded by " + names(affected) + ")");
    } else {
      cas.consoleDropKey(target.id);
      count("consoleDropKey");
      note("console drops the key of CsrId " + target + " (recorded by " + names(affected) + ")");
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

  static String names(List<AliyunCsr> resources) {
    return resources.stream().map(InMemoryKube::key).toList().toString();
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

  void togglePause(AliyunCsr r) {
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
      note("tenant unpauses " + key);
    } else {
      String value = random.nextInt(100) < 80 ? "true" : " TRUE";
      kube.userReplace(key, n -> annotations(n).put(CasAnnotations.PAUSED, value));
      count("pause");
      note(
          "tenant pauses "
              + key
              + (r.isMarkedForDeletion()
                  ? " while it is deleted under " + r.getSpec().effectiveDeletionPolicy()
                  : ""));
    }
  }

  /** A new value of the project's reconcile-request annotation, or of Flux's. */
  void requestReconcile(AliyunCsr r) {
    String annotation =
        random.nextInt(100) < 70
            ? CasAnnotations.RECONCILE_REQUESTED_AT
            : CasAnnotations.FLUX_REQUESTED_AT;
    String value = "req-" + (++requests);
    kube.userReplace(InMemoryKube.key(r), n -> annotations(n).put(annotation, value));
    count("reconcileRequest");
    note("tenant sets " + annotation + "=" + value + " on " + InMemoryKube.key(r));
  }

  /**
   * What {@code CasObserver} concludes from a pass over its cache: a Ready resource whose CsrId is
   * not in its account's list (as the list reads now, lag included), or lacks the key it sent, is
   * to be confirmed. {@code lagging}: a listing that missed one more (pages shift), so a live CSR
   * is confirmed too.
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
      Optional<SimCas.Stored> held =
          cas.in(accounts.store(r.getStatus().getAccount()), r.getStatus().getCsrId())
              .filter(cas::visible);
      boolean keyLost =
          held.isPresent()
              && Boolean.TRUE.equals(r.getStatus().getPrivateKeyUploaded())
              && !held.get().hasKey;
      if (held.isEmpty() || keyLost) {
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

  /** When an observer pass last ran. */
  private Instant lastObservation = now;

  /**
   * CasObserver runs on an interval: a pass at least every {@link #OBSERVE_INTERVAL} of simulated
   * time, on one of the processes (each process observes only while it leads; any may).
   */
  private void observeOnInterval() {
    if (!now.isBefore(lastObservation.plus(OBSERVE_INTERVAL))) {
      lastObservation = now;
      observerPass(pick(operators), false);
    }
  }

  static final Duration OBSERVE_INTERVAL = Duration.ofSeconds(45);

  /**
   * Faults have stopped, but an account is still suspected (its handle reaches another store): for
   * a while, with observer passes and windows passing, nothing may be uploaded again into it. Then
   * the administrators act.
   */
  private String whileSuspected() {
    boolean any = false;
    for (String k : accounts.keys()) {
      any |= accounts.block(SimAccounts.account(k)).isPresent();
    }
    if (!any) {
      return null;
    }
    count("suspectedPhase");
    for (int step = 0; step < 150; step++) {
      int roll = random.nextInt(100);
      if (roll < 65) {
        scheduler.resume(pick(operators).actor);
      } else if (roll < 80) {
        pick(operators).deliver(Integer.MAX_VALUE);
      } else {
        now = now.plusSeconds(1 + random.nextInt(15));
      }
      observeOnInterval();
      progressRestores(false);
      String v = check();
      if (v != null) {
        return v;
      }
    }
    return null;
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
        note("tenant unpauses " + InMemoryKube.key(r) + " (faults stop)");
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
      if (last == null || last.startsWith(VIOLATION)) {
        return last;
      }
    }
    return "after the final confirmations: " + last;
  }

  private String unconfirmedReady() {
    for (AliyunCsr r : kube.all()) {
      if (isReady(r)
          && !confirmedLive.contains(r.getMetadata().getUid() + "/" + r.getStatus().getCsrId())) {
        return InMemoryKube.key(r)
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
      String name = InMemoryKube.key(r);
      String uid = r.getMetadata().getUid();
      AliyunCsrStatus st = r.getStatus();
      if (Reasons.ADOPTED_CSR_GONE.equals(reason(r))) {
        count("endAdoptedCsrGone");
      }
      if (Reasons.ADOPTION_CONFLICT.equals(reason(r))) {
        count("endAdoptionConflict");
      }
      if (Reasons.ACCOUNT_NOT_PERMITTED.equals(reason(r))) {
        count("endAccountNotPermitted");
      }
      // 3. A restore whose original's CSR is still in CAS re-attaches to it.
      Long expected = restoreExpect.get(uid);
      if (expected != null) {
        if (!isReady(r) || !Objects.equals(st.getCsrId(), expected)) {
          return "invariant 3: restored "
              + name
              + " should be Ready with its original's CsrId "
              + expected
              + " but is "
              + reason(r)
              + " with CsrId "
              + (st == null ? null : st.getCsrId());
        }
        count("endReattached");
      }
      if (!isReady(r)) {
        continue;
      }
      if (Reasons.REUPLOADED.equals(reason(r))) {
        count("endReuploaded");
      }
      // Ready never names a CsrId that CAS does not hold (in the store its account reaches).
      String store = accounts.store(st.getAccount());
      Optional<SimCas.Stored> held = cas.in(store, st.getCsrId());
      if (held.isEmpty()) {
        return "invariant 7: "
            + name
            + " ends Ready with CsrId "
            + st.getCsrId()
            + ", which is not live in "
            + store
            + (cas.deletedByConsole.containsKey(st.getCsrId()) ? " (the console deleted it)" : "");
      }
      // 8. CAS holds the key of every Ready resource whose Secret has one (dropped keys resent).
      int entry = currentEntry(r);
      if (r.getSpec().getKeySecretRef() != null
          && entry >= 0
          && inputsValid(r)
          && !held.get().hasKey) {
        return "invariant 8: "
            + name
            + " ends Ready, but CAS holds no private key for CsrId "
            + held.get().id
            + (cas.keyDroppedByConsole.contains(held.get().id) ? " (the console dropped it)" : "");
      }
      // 9. A CSR the console deleted was uploaded again: exactly one live CSR for the resource.
      if (consoleHit.contains(uid) && r.getSpec().getCsrId() == null && entry >= 0) {
        String sha = SimPool.entry(entry).csr().csrSha256();
        String uploadName = NAMES.of(r);
        long own =
            cas.live.values().stream()
                .filter(c -> uid.equals(c.owner) && sha.equals(c.csrSha256))
                .filter(c -> uploadName.equals(c.name) && c.store.equals(store))
                .count();
        boolean inherited = !uid.equals(held.get().owner);
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

  static boolean isStalled(AliyunCsr r) {
    return r.getStatus() != null
        && r.getStatus().condition("Stalled").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  // ---- invariants -----------------------------------------------------------------------------

  /** The invariants that hold after every step; null when they do. */
  private String check() {
    if (!cas.violations.isEmpty()) {
      return cas.violations.get(0);
    }
    List<AliyunCsr> all = kube.all();
    Map<Long, String> current = new HashMap<>();
    for (AliyunCsr r : all) {
      String uid = r.getMetadata().getUid();
      AliyunCsrStatus st = r.getStatus();
      Long adopted = r.getSpec() == null ? null : r.getSpec().getCsrId();
      if (adopted != null && st != null && Objects.equals(st.getCsrId(), adopted)) {
        adoptedRecorded.add(uid + "/" + adopted);
      }
      // Resources that, having uploaded or recorded, lose every trace at once (README).
      boolean traceless =
          !r.hasFinalizer(CasAnnotations.FINALIZER)
              && CasAnnotations.intent(r).isEmpty()
              && CasAnnotations.csrId(r).isEmpty()
              && (st == null || st.getObservedGeneration() == null);
      if (traceless && (recordedUnder.containsKey(uid) || uploaded(uid))) {
        amnesia.add(uid);
      }
      if (st == null || st.getCsrId() == null) {
        continue;
      }
      // 4. One CSR has one owner: no two live statuses record one CsrId as current.
      String other = current.put(st.getCsrId(), InMemoryKube.key(r));
      if (other != null) {
        return "invariant 4: "
            + other
            + " and "
            + InMemoryKube.key(r)
            + " both record CsrId "
            + st.getCsrId()
            + " as their current CSR";
      }
      // 4. An adopted CSR is never one CAS names under another object's mark.
      SimCas.Stored s = anyStored(st.getCsrId());
      if (adopted != null
          && adopted.equals(st.getCsrId())
          && s != null
          && s.ownerKey != null
          && !s.ownerKey.equals(InMemoryKube.key(r))) {
        return "invariant 4: "
            + InMemoryKube.key(r)
            + " adopted CsrId "
            + s
            + ", the upload of "
            + s.ownerKey;
      }
      // An adopted CSR is deleted only with its resource.
      if (adopted != null
          && adopted.equals(st.getCsrId())
          && !r.isMarkedForDeletion()
          && cas.deletedByOperator.containsKey(adopted)) {
        return "invariant 2: adopted CSR " + adopted + " deleted while " + uid + " lives";
      }
      // Ready never names a CsrId the operator deleted.
      if (isReady(r) && cas.deletedByOperator.containsKey(st.getCsrId())) {
        return "invariant 7: "
            + InMemoryKube.key(r)
            + " is Ready with deleted CsrId "
            + st.getCsrId();
      }
    }
    // At most one CSR in CAS per resource and CSR.
    Map<String, Integer> perResourceAndCsr = new HashMap<>();
    for (SimCas.Stored s : cas.live.values()) {
      // A CSR a switched handle left behind is uploaded again once an admin confirms the move;
      // one a restore did not look up (README) is uploaded again too.
      if (s.owner != null
          && !amnesia.contains(s.owner)
          && !switchedAway.contains(s.id)
          && !forgottenAtLoss(s.owner, s)) {
        String k = s.owner + "/" + s.csrSha256;
        if (perResourceAndCsr.merge(k, 1, Integer::sum) > 1) {
          return "invariant 10: two CSRs in CAS for resource "
              + s.owner
              + " and one CSR ("
              + k
              + ")";
        }
      }
    }
    return null;
  }

  private boolean uploaded(String uid) {
    for (SimCas.Stored s : cas.live.values()) {
      if (uid.equals(s.owner)) {
        return true;
      }
    }
    return false;
  }

  /** A CSR this world stored, live or deleted. */
  SimCas.Stored anyStored(long id) {
    SimCas.Stored s = cas.live.get(id);
    if (s == null) {
      s = cas.deletedByOperator.get(id);
    }
    if (s == null) {
      s = cas.deletedByConsole.get(id);
    }
    return s;
  }

  static Set<Long> recordedIds(AliyunCsrStatus st) {
    Set<Long> ids = new LinkedHashSet<>();
    if (st.getCsrId() != null) {
      ids.add(st.getCsrId());
    }
    for (CasCsrRef ref : list(st.getSupersededCsrs())) {
      if (ref.getCsrId() != null) {
        ids.add(ref.getCsrId());
      }
    }
    return ids;
  }

  static boolean isReady(AliyunCsr r) {
    return r.getStatus() != null
        && r.getStatus().condition("Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  static String reason(AliyunCsr r) {
    return r.getStatus() == null
        ? null
        : r.getStatus().condition("Ready").map(c -> c.getReason()).orElse(null);
  }

  /**
   * Whether {@code s} is {@code r}'s to delete or send a key to (invariant 2): its own upload, its
   * predecessor's (same namespace/name) of a CSR its Secret held, or the CSR spec.csrId adopts when
   * its Secret held the private key.
   */
  String ownership(AliyunCsr r, SimCas.Stored s, boolean requireKey) {
    String uid = r.getMetadata().getUid();
    if (uid.equals(s.owner)) {
      return null;
    }
    if (s.ownerKey != null
        && s.ownerKey.equals(InMemoryKube.key(r))
        && csrsHeld.getOrDefault(uid, Set.of()).contains(s.csrSha256)) {
      return null;
    }
    boolean adopts = isAdopting(r, s.id);
    if (adopts && (!requireKey || keysPossessed(r).contains(s.publicKeySha256))) {
      return null;
    }
    return s.owner == null
        ? (adopts ? "adopted without its private key" : "another tool's CSR")
        : "the upload of " + s.ownerKey + " (" + s.owner + ")";
  }

  /** spec.csrId of {@code r}, as the reconcile began or as the API server has it now. */
  boolean isAdopting(AliyunCsr r, long id) {
    if (r.getSpec() != null && Long.valueOf(id).equals(r.getSpec().getCsrId())) {
      return true;
    }
    return kube.get(r.getMetadata().getNamespace(), r.getMetadata().getName())
        .filter(o -> o.getMetadata().getUid().equals(r.getMetadata().getUid()))
        .map(o -> o.getSpec() != null && Long.valueOf(id).equals(o.getSpec().getCsrId()))
        .orElse(false);
  }

  /** Null when every resource is where it must end up without faults; else what is not. */
  private String settled() {
    for (AliyunCsr r : kube.all()) {
      String name = InMemoryKube.key(r);
      String uid = r.getMetadata().getUid();
      AliyunCsrStatus st = r.getStatus();
      if (r.isMarkedForDeletion()) {
        return name + " is still being deleted";
      }
      if (st == null) {
        return name + " has no status";
      }
      Outcome refused = accounts.refusal(r);
      if (refused != null) {
        // The account spec names is not usable: the resource says why, and calls nothing.
        if (!refused.reason().equals(reason(r)) || isReady(r)) {
          return name + " should say " + refused.reason() + " but is " + reason(r);
        }
        continue;
      }
      int entry = currentEntry(r);
      if (entry < 0 || !inputsValid(r)) {
        // Bad input stalls and calls nothing; pending uploads wait for a good CSR or deletion.
        if (isReady(r)) {
          return name + " is Ready with a broken Secret";
        }
        continue;
      }
      String store = accounts.store(r.getSpec().accountName());
      var csr = SimPool.entry(entry).csr();
      if (Reasons.DUPLICATE_EXTERNAL_RESOURCES.equals(reason(r))) {
        // Right only when CAS does hold two CSRs of this name and CSR (a predecessor's kept by
        // Orphan, or a second upload after every trace of the first was lost).
        String uploadName = NAMES.of(r);
        long same =
            cas.live.values().stream()
                .filter(c -> c.store.equals(store))
                .filter(c -> uploadName.equals(c.name) && csr.csrSha256().equals(c.csrSha256))
                .count();
        if (same < 2) {
          return name + " says DuplicateExternalResources, but CAS holds " + same;
        }
        continue;
      }
      if (st.getLease() != null || !list(st.getPendingUploads()).isEmpty()) {
        return name + " has an upload lease or pending uploads";
      }
      if (r.getSpec().getCsrId() != null) {
        String adoption = adoptionSettled(r, store, csr);
        if (adoption != null) {
          return adoption;
        }
        continue;
      }
      if (!isReady(r) || st.getCsrId() == null) {
        return name + " is not Ready: " + reason(r);
      }
      Optional<SimCas.Stored> held = cas.in(store, st.getCsrId());
      if (held.isEmpty()
          || ownership(r, held.get(), false) != null
          || !held.get().name.endsWith("-" + markOf(r))
          || !csr.csrSha256().equals(held.get().csrSha256)) {
        return name + " is Ready with CsrId " + st.getCsrId() + ", which is not its current CSR";
      }
      if (!amnesia.contains(uid)) {
        long others =
            cas.live.values().stream()
                .filter(s -> uid.equals(s.owner) && s.id != held.get().id)
                .filter(s -> !exempt(uid, s))
                .count();
        if (others != 0 || !list(st.getSupersededCsrs()).isEmpty()) {
          return "invariant 11: " + name + " holds " + (others + 1) + " CSRs in CAS under Delete";
        }
      }
    }
    return null;
  }

  /**
   * Where an adopting resource must end: Ready with the CSR spec.csrId names when it is in the
   * account, nobody else records it or adopts it first, CAS does not name it under another object's
   * mark and the Secret has its public key; else Stalled with the reason that says which.
   */
  private String adoptionSettled(
      AliyunCsr r, String store, dev.aliyuncsr.operator.csr.CsrFacts csr) {
    String name = InMemoryKube.key(r);
    String uid = r.getMetadata().getUid();
    AliyunCsrStatus st = r.getStatus();
    long target = r.getSpec().getCsrId();
    Optional<SimCas.Stored> t = cas.in(store, target);
    if (Objects.equals(st.getCsrId(), target)) {
      boolean keyMatches = csr.publicKeySha256().equals(st.getPublicKeySha256());
      if (keyMatches && !isReady(r)) {
        return name + " records its adopted CsrId " + target + " but is " + reason(r);
      }
      if (!keyMatches && !Reasons.ADOPTION_MISMATCH.equals(reason(r))) {
        return name + " should be AdoptionKeyMismatch but is " + reason(r);
      }
      return null;
    }
    boolean recordedByOther = false;
    boolean earlierAdopter = false;
    for (AliyunCsr o : kube.all()) {
      if (o.getMetadata().getUid().equals(uid)) {
        continue;
      }
      if (o.getStatus() != null && recordedIds(o.getStatus()).contains(target)) {
        recordedByOther = true;
      }
      if (o.getSpec() != null
          && Long.valueOf(target).equals(o.getSpec().getCsrId())
          && earlier(o, r)) {
        earlierAdopter = true;
      }
    }
    if (recordedByOther || earlierAdopter) {
      if (!(isStalled(r) && Reasons.ADOPTION_CONFLICT.equals(reason(r)))) {
        return "invariant 4: "
            + name
            + " adopts CsrId "
            + target
            + ", which another resource "
            + (recordedByOther ? "records" : "adopts first")
            + ", but is "
            + reason(r);
      }
      return null;
    }
    if (t.isEmpty()) {
      SimCas.Stored gone = anyStored(target);
      boolean sameKey = gone != null && csr.publicKeySha256().equals(gone.publicKeySha256);
      String expected =
          adoptedRecorded.contains(uid + "/" + target)
              ? Reasons.ADOPTED_CSR_GONE
              : Reasons.ADOPTION_NOT_FOUND;
      if (isReady(r)) {
        return name + " is Ready, but its adopted CsrId " + target + " is not in " + store;
      }
      if (sameKey && !(isStalled(r) && expected.equals(reason(r)))) {
        return name
            + " should be Stalled "
            + expected
            + " (adopted CsrId "
            + target
            + " not in "
            + store
            + ") but is "
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
      return null;
    }
    if (t.get().ownerKey != null && !t.get().ownerKey.equals(name)) {
      if (!(isStalled(r) && Reasons.ADOPTION_CONFLICT.equals(reason(r)))) {
        return "invariant 4: "
            + name
            + " adopts CsrId "
            + t.get()
            + ", the upload of "
            + t.get().ownerKey
            + ", but is "
            + reason(r);
      }
      return null;
    }
    boolean keyMatches = csr.publicKeySha256().equals(t.get().publicKeySha256);
    if (keyMatches) {
      return name + " should be Ready with adopted CsrId " + target + " but is " + reason(r);
    }
    if (!Reasons.ADOPTION_MISMATCH.equals(reason(r))) {
      return name + " should be AdoptionKeyMismatch but is " + reason(r);
    }
    return null;
  }

  /**
   * The resource's ownership mark: its upload names end with it, whatever spec.name said when it
   * uploaded (spec.name may change while status names no CsrId, with a lookup pending).
   */
  static String markOf(AliyunCsr r) {
    return MARKS.computeIfAbsent(
        InMemoryKube.key(r),
        k -> NAMES.mark(r.getMetadata().getNamespace(), r.getMetadata().getName()));
  }

  /** Marks by namespace/name: an HMAC each is too dear for checks after every step. */
  private static final Map<String, String> MARKS = new java.util.concurrent.ConcurrentHashMap<>();

  static boolean earlier(AliyunCsr a, AliyunCsr b) {
    int byTime =
        Instant.parse(a.getMetadata().getCreationTimestamp())
            .compareTo(Instant.parse(b.getMetadata().getCreationTimestamp()));
    return byTime != 0
        ? byTime < 0
        : a.getMetadata().getUid().compareTo(b.getMetadata().getUid()) < 0;
  }

  /**
   * Whether {@code s} may stay in CAS after {@code holder} went under Delete: the holder released
   * it (Orphan, a user's finalizer removal, a restore), forgot that it ever uploaded (every trace
   * lost), forgot it with a lost status (it was not what the restore looked up), or a switched
   * handle left it behind.
   */
  boolean exempt(String holder, SimCas.Stored s) {
    if (orphanedWhileHeld(holder, s)
        || releasedByUser.contains(holder)
        || amnesia.contains(holder)
        || switchedAway.contains(s.id)) {
      return true;
    }
    return forgottenAtLoss(holder, s);
  }

  /**
   * {@code s} was recorded by {@code holder}, or its upload in flight, when the holder's status was
   * lost, and the restore that followed did not look it up (another CSR, another name after a
   * spec.name change, another account): the README's limitation.
   */
  boolean forgottenAtLoss(String holder, SimCas.Stored s) {
    for (Loss loss : losses.getOrDefault(holder, List.of())) {
      boolean atLoss =
          (holder.equals(s.owner) && !s.calledAt.isAfter(loss.at)) || loss.recorded.contains(s.id);
      boolean lookedUp =
          loss.restoreSha != null
              && loss.restoreSha.equals(s.csrSha256)
              && loss.restoreName.equals(s.name)
              && loss.restoreStore.equals(s.store);
      if (atLoss && !lookedUp) {
        return true;
      }
    }
    return false;
  }

  /** Nothing leaks: a resource deleted under Delete leaves no CSR of its own in CAS. */
  private String leaks() {
    for (SimCas.Stored s : cas.live.values()) {
      if (s.owner == null) {
        continue;
      }
      Set<String> holders = new LinkedHashSet<>();
      holders.add(s.owner);
      if (lastRecorder.containsKey(s.id)) {
        holders.add(lastRecorder.get(s.id));
      }
      for (String holder : holders) {
        if (Objects.equals(adoptedAtRemoval.get(holder), s.id)) {
          continue;
        }
        if (policyAtRemoval.get(holder) == DeletionPolicy.Delete && !exempt(holder, s)) {
          return "invariant 11: CsrId "
              + s
              + " of deleted resource "
              + holder
              + " left in CAS"
              + (holder.equals(s.owner) ? "" : " (it re-attached it)");
        }
      }
    }
    for (long id : foreign) {
      if (!cas.live.containsKey(id)) {
        return "invariant 2: another team's CsrId " + id + " is gone";
      }
    }
    return null;
  }

  static <T> List<T> list(List<T> values) {
    return values == null ? List.of() : values;
  }

  // ---- operator processes ---------------------------------------------------------------------

  /** One operator process: the real protocol, its own clock skew, and a cache that lags. */
  final class Operator {
    final String name;
    final long skewMillis;
    final Scheduler.Actor actor;
    final Map<String, ObjectNode> cache = new TreeMap<>();

    /** The cache's objects parsed, for peers: parsed once per cached version. */
    private final Map<ObjectNode, AliyunCsr> parsed = new java.util.IdentityHashMap<>();

    int delivered;
    int generation;
    UploadProtocol protocol;
    AliyunCsr reconciling;
    final Clock clock;

    /** The selector version when the reconcile under way began: its view of the accounts. */
    int selectorsAtStart;

    /**
     * The reconcile under way began on a copy with paused="true" (and was it an Orphan deletion).
     */
    boolean pausedAtStart;

    boolean orphaningAtStart;

    /** The protocol announced a confirmation: its next GetCsrDetail is it. */
    boolean confirmNext;

    boolean confirmCall;

    /**
     * "CsrId@store" CAS answered NOT_FOUND for in the reconcile under way: gone for good from that
     * store (a store the account's handle no longer reaches says nothing).
     */
    final Map<String, Instant> seenMissing = new HashMap<>();

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
      UploadProtocol.UploadGate gate = gate();
      return new UploadProtocol(
          kubeView(),
          accounts.route(
              (k, store) -> {
                SimCas.Handle handle =
                    new SimCas.Handle() {
                      @Override
                      public String account() {
                        return k;
                      }

                      @Override
                      public String store() {
                        return store;
                      }
                    };
                return new CasClient[] {
                  cas.client(scheduler, this::caller, handle),
                  cas.client(scheduler, this::caller, handle)
                };
              },
              gate),
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
          new UploadProtocol.Settings(
              holder, LEASE, MAX_CALL, () -> holder + "#" + (++tokens[0]), MISSING_WINDOW),
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

    private UploadProtocol.UploadGate gate() {
      return new UploadProtocol.UploadGate() {
        @Override
        public dev.aliyuncsr.operator.cloud.CallBudget.Admission admit(String tenant, String key) {
          scheduler.yieldNow();
          if (random.nextInt(100) < laterPercent) {
            // The budget's place is further than the longest park: come back then (Queued).
            events.merge("later", 1, Integer::sum);
            // Or every concurrency slot is busy for a moment (no Queued write).
            return new dev.aliyuncsr.operator.cloud.CallBudget.Later(
                Duration.ofMillis(300 + random.nextInt(3000)), random.nextBoolean());
          }
          if (random.nextBoolean()) {
            // An upload's place in the rate: its slot is claimed after its lease is written.
            return new dev.aliyuncsr.operator.cloud.CallBudget.Placed(
                () -> {
                  scheduler.yieldNow(); // the wait for a slot: time may pass, the process dies
                  return slot();
                });
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
      };
    }

    void reconcileOne() {
      if (cache.isEmpty()) {
        return;
      }
      List<String> keys = new ArrayList<>(cache.keySet());
      String key = keys.get(random.nextInt(keys.size()));
      AliyunCsr copy = InMemoryKube.read(cache.get(key));
      reconciling = copy;
      selectorsAtStart = accounts.version();
      seenMissing.clear();
      pausedAtStart = CasAnnotations.paused(copy);
      orphaningAtStart =
          copy.isMarkedForDeletion()
              && copy.getSpec() != null
              && copy.getSpec().effectiveDeletionPolicy() == DeletionPolicy.Orphan;
      note(
          name
              + " reconciles "
              + key
              + " ("
              + copy.getMetadata().getUid()
              + ") rv "
              + copy.getMetadata().getResourceVersion());
      UploadProtocol.Result result =
          protocol.reconcile(
              copy,
              (before, after) -> {
                if (!after.isMarkedForDeletion() || after.getMetadata().getFinalizers() != null) {
                  cache.put(InMemoryKube.key(after), InMemoryKube.tree(after));
                }
              });
      note(name + " settles " + key + ": " + result.outcome().reason());
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
      String key = InMemoryKube.key(r);
      return new SimCas.Caller() {
        @Override
        public String uid() {
          return uid;
        }

        @Override
        public String key() {
          return key;
        }

        @Override
        public void calling(String action, String account) {
          // 6. A reconcile that began on a paused copy calls nothing in CAS (an Orphan deletion
          // included: it only lets the finalizer go).
          if (pausedAtStart) {
            cas.violations.add(
                "invariant 6: "
                    + action
                    + " by "
                    + name
                    + " in a reconcile of "
                    + key
                    + " that began on a copy with paused=true"
                    + (orphaningAtStart ? " (a deletion under Orphan)" : ""));
          }
          // 1. No call on behalf of an unselected namespace, except to clean up or look up what
          // the resource's own status recorded in that account.
          String ns = r.getMetadata().getNamespace();
          boolean deleting =
              r.isMarkedForDeletion()
                  || kube.get(ns, r.getMetadata().getName())
                      .filter(o -> o.getMetadata().getUid().equals(uid))
                      .map(AliyunCsr::isMarkedForDeletion)
                      .orElse(true);
          boolean cleanUp =
              deleting
                  && Set.of("ListCsr", "GetCsrDetail", "DeleteCsr").contains(action)
                  && recordedUnder.getOrDefault(uid, Set.of()).contains(account);
          if (!accounts.selectedSince(SimAccounts.account(account), ns, selectorsAtStart)
              && !cleanUp) {
            cas.violations.add(
                "invariant 1: "
                    + action
                    + " through "
                    + account
                    + " for "
                    + key
                    + " ("
                    + uid
                    + "): the account does not select "
                    + ns
                    + (deleting
                        ? " and the status never recorded anything there"
                        : " and the object is not being deleted"));
          }
          if ("GetCsrDetail".equals(action)) {
            confirmCall = confirmNext;
            confirmNext = false;
          }
        }

        @Override
        public void answered(long csrId, boolean found, String store) {
          SimCas.Stored held = cas.live.get(csrId);
          // Confirmed as it should be: live, and with the key when the Secret has one (else the
          // protocol is about to send it again, and the confirmation is not the last word).
          if (confirmCall
              && found
              && (held.hasKey || r.getSpec() == null || r.getSpec().getKeySecretRef() == null)) {
            confirmedLive.add(uid + "/" + csrId);
          }
          confirmCall = false;
          if (!found) {
            seenMissing.merge(csrId + "@" + store, clock.instant(), (a, b) -> a.isAfter(b) ? a : b);
          }
        }

        @Override
        public void touching(String action, SimCas.Stored csr, String keyPem) {
          // 2. Ownership a tenant cannot forge: copied names, CSRs and annotations prove nothing.
          String notOwn = ownership(r, csr, true);
          if (notOwn != null) {
            cas.violations.add(
                "invariant 2: " + action + " " + csr + " for " + key + " (" + uid + "): " + notOwn);
          }
          if (keyPem != null && !Objects.equals(SimPool.publicKeyOf(keyPem), csr.publicKeySha256)) {
            cas.violations.add(
                "invariant 2: UpdateCsr sends " + key + "'s key to " + csr + ", of another key");
          }
        }

        @Override
        public void stored(SimCas.Stored csr) {
          // An upload through a handle taken before a switch lands in the old store: left behind.
          if (!csr.store.equals(accounts.store(SimAccounts.account(csr.via)))) {
            switchedAway.add(csr.id);
          }
        }

        @Override
        public void uploading(String account, String uploadName, String sha) {
          AliyunCsr live =
              kube.get(r.getMetadata().getNamespace(), r.getMetadata().getName())
                  .filter(o -> o.getMetadata().getUid().equals(uid))
                  .orElse(null);
          if (r.getSpec() != null
              && r.getSpec().getCsrId() != null
              && live != null
              && live.getSpec().getCsrId() != null) {
            cas.violations.add("invariant 4: UploadCsr for adopting resource " + key);
          }
          // 3. A restore re-attaches, never uploads.
          if (restoreExpect.containsKey(uid)) {
            cas.violations.add(
                "invariant 3: UploadCsr for restored "
                    + key
                    + " ("
                    + uid
                    + "), whose original's CsrId "
                    + restoreExpect.get(uid)
                    + " is in CAS");
          }
          // 5. Missing means missing: not lagging behind the write, not on another handle.
          String acct = SimAccounts.account(account);
          Long missing =
              live == null || live.getStatus() == null ? null : live.getStatus().getMissingCsrId();
          if (missing != null
              && !accounts.everSwitched(acct)
              && cas.in(accounts.store(acct), missing).isPresent()) {
            cas.violations.add(
                "invariant 5: UploadCsr for "
                    + key
                    + " again, but its CsrId "
                    + missing
                    + " is in CAS (read-after-write lag)");
          }
          if (accounts.block(acct).isPresent()) {
            for (SimCas.Stored s : cas.live.values()) {
              boolean same =
                  uploadName.equals(s.name)
                      && sha.equals(s.csrSha256)
                      && key.equals(s.ownerKey)
                      && !s.store.equals(accounts.store(acct))
                      && accounts.reached(acct).contains(s.store);
              if (same || Objects.equals(missing, s.id) && !s.store.equals(accounts.store(acct))) {
                cas.violations.add(
                    "invariant 5: UploadCsr for "
                        + key
                        + " through "
                        + account
                        + " while its re-upload block is up; "
                        + s
                        + " is in a store the handle reached before");
                break;
              }
            }
          }
        }
      };
    }

    private Validated<SecretInputs.Inputs> inputs(AliyunCsr r) {
      scheduler.yieldNow();
      return inputsOf(r);
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
          AliyunCsrStatus before =
              kube.get(at.getMetadata().getNamespace(), at.getMetadata().getName())
                  .map(AliyunCsr::getStatus)
                  .orElse(null);
          AliyunCsr written = kube.patch(at, patch, true);
          readyAfterMissing(at, patch, written);
          recorded(before, written);
          return written;
        }
      };
    }

    /**
     * A status this process wrote: (1) a record goes into an account only while it selects the
     * namespace; (2) a CsrId goes into a status only when it is the resource's own upload, its
     * predecessor's of a CSR its Secret held, or its spec.csrId. Also notes what the leak checks
     * and the exemptions need: who recorded what, under which account, and what a restore after a
     * status loss looked up.
     */
    private void recorded(AliyunCsrStatus before, AliyunCsr written) {
      AliyunCsrStatus st = written.getStatus();
      String uid = written.getMetadata().getUid();
      String key = InMemoryKube.key(written);
      String ns = written.getMetadata().getNamespace();
      if (st == null) {
        return;
      }
      if (StatusBuilder.holdsRecord(st)) {
        String account = SimAccounts.key(st.getAccount());
        Set<String> under = recordedUnder.computeIfAbsent(uid, u -> new TreeSet<>());
        if (!under.contains(account)
            && !accounts.selectedSince(st.getAccount(), ns, selectorsAtStart)) {
          cas.violations.add(
              "invariant 1: "
                  + name
                  + " records into "
                  + account
                  + " for "
                  + key
                  + ", which that account does not select");
        }
        under.add(account);
      }
      Set<Long> had = before == null ? Set.of() : recordedIds(before);
      for (long id : recordedIds(st)) {
        lastRecorder.put(id, uid);
        firstRecorded.putIfAbsent(uid + "/" + id, now);
        if (had.contains(id)) {
          continue;
        }
        SimCas.Stored s = anyStored(id);
        String notOwn = s == null ? "a CsrId CAS never had" : ownership(written, s, false);
        if (notOwn != null && !isAdopting(reconciling, id)) {
          cas.violations.add(
              "invariant 2: " + name + " records CsrId " + id + " for " + key + ": " + notOwn);
        }
      }
      boolean lostBefore = before == null || before.getObservedGeneration() == null;
      if (lostBefore
          && st.getLease() != null
          && "status-restore".equals(st.getLease().getHolder())) {
        List<Loss> mine = losses.get(uid);
        if (mine != null && !mine.isEmpty()) {
          Loss last = mine.get(mine.size() - 1);
          if (last.restoreSha == null) {
            last.restoreSha = st.getLease().getCsrSha256();
            last.restoreName = st.getLease().getUploadName();
            last.restoreStore = accounts.store(st.getAccount());
          }
        }
      }
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
                  + InMemoryKube.key(at)
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
                    + InMemoryKube.key(at)
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
      Instant answered = seenMissing.get(st.getCsrId() + "@" + accounts.store(st.getAccount()));
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
              + InMemoryKube.key(written)
              + " after CAS answered NOT_FOUND for it in the same reconcile"
              + (st.getNotFoundAt() == null
                  ? " without recording it"
                  : ", a window after the first NotFound (" + st.getNotFoundAt() + ")"));
    }

    private List<AliyunCsr> cached() {
      List<AliyunCsr> out = new ArrayList<>(cache.size());
      for (ObjectNode node : cache.values()) {
        out.add(parsed.computeIfAbsent(node, InMemoryKube::read));
      }
      if (parsed.size() > 4 * cache.size() + 16) {
        Set<ObjectNode> keep =
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        keep.addAll(cache.values());
        parsed.keySet().retainAll(keep);
      }
      return out;
    }

    private Peers peers() {
      return new Peers() {
        @Override
        public Optional<String> recorder(AliyunCsr self, long csrId) {
          return cached().stream()
              .filter(o -> !o.getMetadata().getUid().equals(self.getMetadata().getUid()))
              .filter(o -> records(o, csrId))
              .map(InMemoryKube::key)
              .findFirst();
        }

        @Override
        public Optional<String> earlierAdopter(AliyunCsr self, long csrId) {
          return cached().stream()
              .filter(o -> !o.getMetadata().getUid().equals(self.getMetadata().getUid()))
              .filter(
                  o -> o.getSpec() != null && Long.valueOf(csrId).equals(o.getSpec().getCsrId()))
              .filter(o -> earlier(o, self))
              .map(InMemoryKube::key)
              .findFirst();
        }
      };
    }
  }

  private static boolean records(AliyunCsr o, long csrId) {
    AliyunCsrStatus st = o.getStatus();
    return st != null && recordedIds(st).contains(csrId);
  }

  Map<String, Integer> calls() {
    return new LinkedHashMap<>(cas.calls);
  }

  List<String> warnings() {
    return warnings;
  }
}
