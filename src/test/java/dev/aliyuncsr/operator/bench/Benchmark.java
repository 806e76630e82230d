package dev.aliyuncsr.operator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aliyuncsr.operator.api.AccessKeySecretRef;
import dev.aliyuncsr.operator.api.AccountCredentials;
import dev.aliyuncsr.operator.api.AccountNamespaceSelector;
import dev.aliyuncsr.operator.api.AccountRef;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCasAccountSpec;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.cloud.AlibabaCasClient;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasSettings;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.OperatorProcess;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * {@code ./mvnw -Pbench}: the operator as its own JVM (with the container's JVM settings) on a real
 * API server and the CAS emulator, measured against a minimal client doing the same calls, each
 * figure over several runs. Writes target/bench/report.md and report.json.
 */
public final class Benchmark {
  /** The Dockerfile's JVM settings, with the Deployment's 384 MiB limit standing in for cgroups. */
  static final List<String> CONTAINER_JVM =
      List.of(
          "-XX:MaxRAM=384m",
          "-XX:MaxRAMPercentage=70",
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-XX:CompileThresholdScaling=0.1",
          "-XX:+ExitOnOutOfMemoryError",
          "-XX:-UsePerfData");

  static final Path OUT = Path.of("target", "bench");
  static final ObjectMapper JSON = new ObjectMapper();

  private final int runs = Integer.getInteger("bench.runs", 3);
  private final int heavyRuns = Integer.getInteger("bench.heavy.runs", 2);
  private final int latencyResources = Integer.getInteger("bench.latency.resources", 200);

  /** Resources created and awaited before the measured ones: a running operator is warm. */
  private final int warmup = Integer.getInteger("bench.warmup", 50);

  private final int burstResources = Integer.getInteger("bench.burst.resources", 1000);

  /** How many objects the queued-status burst sends at once (the outside check's 150). */
  private final int queuedResources = Integer.getInteger("bench.queued.resources", 150);

  /** Which bursts run: {@code limited} (CAS at 10 UploadCsr/s), {@code free} (no limit); both. */
  private final String burstModes = System.getProperty("bench.burst.modes", "limited,free");

  private final int largeResources = Integer.getInteger("bench.large.resources", 10_000);
  private final int unrelatedSecrets = Integer.getInteger("bench.secrets", 10_000);
  private final int observeResources = Integer.getInteger("bench.observe.resources", 10_000);

  /** Issue 11: resources split evenly over two AliyunCasAccounts, and how often to run it. */
  private final int accountsResources = Integer.getInteger("bench.accounts.resources", 1000);

  private final int accountsRuns = Integer.getInteger("bench.accounts.runs", 1);

  /** Scenarios to run (idle, latency, burst, large, secrets, observe, accounts); all by default. */
  private final List<String> only =
      List.of(
          System.getProperty(
                  "bench.only", "idle,latency,burst,queued,large,secrets,observe,accounts")
              .split(","));

  /** Extra environment for every operator process, "K=V,K=V": for experiments. */
  private final String operatorEnv = System.getProperty("bench.operator.env", "");

  /** When true, each operator JVM records a JFR profile under target/bench/jfr/. */
  private final boolean jfr = Boolean.getBoolean("bench.jfr");

  private final Map<String, Row> rows = new LinkedHashMap<>();
  private final Map<String, Long> floorStart = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<Long> floorUploadNanos = new ArrayList<>();
  private KubernetesClient client;
  private String kubeConfig;
  private CasEmulator emulator;
  private KeyPair keyPair;
  private Path auditLog;

  /** One line of the report: a figure over runs, its target, and the floor when there is one. */
  static final class Row {
    final String scenario;
    final String figure;
    final String unit;
    final String target;
    final List<Double> values = new ArrayList<>();
    final List<Double> floor = new ArrayList<>();
    Boolean met;

    Row(String scenario, String figure, String unit, String target) {
      this.scenario = scenario;
      this.figure = figure;
      this.unit = unit;
      this.target = target;
    }
  }

  public static void main(String[] args) {
    int exit = 2;
    try {
      exit = new Benchmark().run();
    } catch (Exception e) {
      e.printStackTrace();
    } finally {
      System.exit(exit);
    }
  }

  private int run() throws Exception {
    Files.createDirectories(OUT);
    auditLog = OUT.resolve("audit.log").toAbsolutePath();
    Files.deleteIfExists(auditLog);
    Path policy = OUT.resolve("audit-policy.yaml").toAbsolutePath();
    Files.writeString(
        policy,
        """
        apiVersion: audit.k8s.io/v1
        kind: Policy
        omitStages: ["RequestReceived"]
        rules:
          - level: Metadata
            verbs: ["create", "update", "patch", "delete"]
            resources:
              - group: "cas.aliyuncsr.dev"
                resources: ["aliyuncsrs", "aliyuncsrs/status"]
              - group: ""
                resources: ["events"]
          - level: Metadata
            verbs: ["get"]
            resources:
              - group: "cas.aliyuncsr.dev"
                resources: ["aliyuncsrs"]
              - group: ""
                resources: ["secrets"]
          - level: None
        """);
    System.setProperty(
        "kube.apiserver.flags",
        "--audit-log-path="
            + auditLog
            + " --audit-policy-file="
            + policy
            + " --audit-log-format=json --audit-log-maxsize=100000");
    say("starting kube-apiserver + etcd (with an audit log for counting writes)");
    kubeConfig = KubeApiServerFixture.kubeConfigYaml();
    client = KubeApiServerFixture.newClient();
    emulator = OperatorHarness.newEmulator();
    keyPair = TestPki.rsa(2048);

    for (int run = 1; run <= runs; run++) {
      if (only.contains("idle")) {
        say("run %d/%d: idle and startup", run, runs);
        idleAndStartup();
      }
      if (only.contains("latency")) {
        say("run %d/%d: latency, %d resources at 10/s, and the floor", run, runs, latencyResources);
        latencyAndFloor();
      }
      if (only.contains("burst")) {
        if (burstModes.contains("limited")) {
          say("run %d/%d: %d at once, CAS limited to 10 UploadCsr/s", run, runs, burstResources);
          burst(true);
        }
        if (burstModes.contains("free")) {
          say("run %d/%d: %d at once, CAS without limit", run, runs, burstResources);
          burst(false);
        }
      }
      if (only.contains("queued")) {
        say("run %d/%d: %d at once from 16 clients, CAS_QPS=9", run, runs, queuedResources);
        queued();
      }
    }
    for (int run = 1; run <= heavyRuns; run++) {
      if (only.contains("large")) {
        say("heavy run %d/%d: %d resources, restart on them", run, heavyRuns, largeResources);
        large();
      }
      if (only.contains("secrets")) {
        say("heavy run %d/%d: %d unrelated 10 KiB Secrets", run, heavyRuns, unrelatedSecrets);
        unrelatedSecrets();
      }
    }
    if (only.contains("observe")) {
      say(
          "observation: %d Ready resources, one pass at the defaults, a deletion",
          observeResources);
      observation();
    }
    for (int run = 1; run <= accountsRuns; run++) {
      if (only.contains("accounts")) {
        say(
            "accounts run %d/%d: %d resources over two accounts, each CAS 10 UploadCsr/s",
            run, accountsRuns, accountsResources);
        accounts(run);
      }
    }
    judge();
    write();
    emulator.close();
    return 0;
  }

  // --- scenarios

  private void idleAndStartup() throws Exception {
    String idleNs = OperatorHarness.newNamespace(client, "bench-idle-");
    int port = freePort();
    try (OperatorProcess op = start(idleNs, Map.of("HTTP_PORT", Integer.toString(port)), "idle")) {
      waitFor(Duration.ofSeconds(60), () -> ready(port));
      settle(Duration.ofSeconds(5));
      row("Idle", "operator RSS, no resources", "MiB", "≤ 150").values.add(mib(op.rssBytes()));
    }
    String ns = OperatorHarness.newNamespace(client, "bench-start-");
    createSecrets(ns, 1);
    createResources(ns, 1, Duration.ZERO, new long[1]);
    try (ReadyWatch watch = new ReadyWatch(client, ns)) {
      long start = System.nanoTime();
      try (OperatorProcess op = start(ns, Map.of(), "startup")) {
        waitFor(Duration.ofSeconds(60), () -> watch.readyCount() == 1);
        row("Startup", "process start → first resource Ready", "s", "≤ 3")
            .values
            .add((watch.lastReadyNanos() - start) / 1e9);
      }
    }
  }

  private void latencyAndFloor() throws Exception {
    String ns = OperatorHarness.newNamespace(client, "bench-lat-");
    createSecrets(ns, latencyResources);
    int port = freePort();
    Map<String, Map<String, Integer>> casBefore;
    List<Double> latencies = new ArrayList<>();
    try (ReadyWatch watch = new ReadyWatch(client, ns);
        OperatorProcess op =
            start(ns, Map.of("HTTP_PORT", Integer.toString(port), "CAS_QPS", "50"), "latency")) {
      waitFor(Duration.ofSeconds(60), () -> ready(port));
      createSecretsNamed(ns, "warm-", warmup);
      try (ReadyWatch warm = new ReadyWatch(client, ns)) {
        for (int i = 0; i < warmup; i++) {
          client.resource(OperatorHarness.aliyunCsr(ns, "warm-" + i, "warm-" + i, null)).create();
        }
        waitFor(Duration.ofSeconds(120), () -> warm.readyCount() >= warmup);
      }
      casBefore = emulator.callStats();
      double[] uploadBefore = uploadTimer(port);
      long[] sent = new long[latencyResources];
      createResources(ns, latencyResources, Duration.ofMillis(100), sent);
      waitFor(Duration.ofSeconds(120), () -> watch.readyCount() == latencyResources + warmup);
      for (int i = 0; i < latencyResources; i++) {
        latencies.add((watch.readyAt("r-" + i) - sent[i]) / 1e6);
      }
      double[] uploadAfter = uploadTimer(port);
      row("Latency", "UploadCsr mean, as timed by the caller", "ms", "(reported)")
          .values
          .add(1000 * (uploadAfter[1] - uploadBefore[1]) / (uploadAfter[0] - uploadBefore[0]));
    }
    Map<String, Double> casPerResource = casDelta(casBefore, latencyResources);
    row("Latency", "create → Ready p50", "ms", "≤ 100, ≤ 2× floor")
        .values
        .add(Stats.percentileOf(latencies, 50));
    row("Latency", "create → Ready p99", "ms", "≤ 300")
        .values
        .add(Stats.percentileOf(latencies, 99));
    for (String action :
        List.of("UploadCsr", "ListCsr", "GetCsrDetail", "UpdateCsr", "DeleteCsr")) {
      row(
              "Happy path",
              action + " calls per resource",
              "calls",
              action.equals("UploadCsr") ? "= 1" : "= 0")
          .values
          .add(casPerResource.getOrDefault(action, 0.0));
    }
    settle(Duration.ofSeconds(2)); // the audit log is written asynchronously
    Map<String, Double> writes = auditWrites(ns, latencyResources + warmup);
    row("Happy path", "writes to the AliyunCsr per resource", "writes", "≤ 4")
        .values
        .add(writes.get("object"));
    row("Happy path", "Events per resource", "writes", "(reported)")
        .values
        .add(writes.get("events"));
    row(
            "Happy path",
            "reads (GET of the AliyunCsr or a Secret) per resource",
            "reads",
            "(reported)")
        .values
        .add(writes.get("reads"));

    // The floor: the same calls for one resource, in sequence, no framework.
    String floorNs = OperatorHarness.newNamespace(client, "bench-floor-");
    createSecrets(floorNs, latencyResources);
    List<Double> floor = new ArrayList<>();
    CasClient cas = sdkClient();
    for (int i = 0; i < warmup; i++) {
      floorResourceNamed(cas, floorNs, "warm-" + i);
    }
    try (ReadyWatch watch = new ReadyWatch(client, floorNs)) {
      long[] sent = new long[latencyResources];
      long next = System.nanoTime();
      for (int i = 0; i < latencyResources; i++) {
        sleepUntil(next);
        next += Duration.ofMillis(100).toNanos();
        floorResource(cas, floorNs, i);
        sent[i] = floorStart.get("r-" + i);
      }
      waitFor(Duration.ofSeconds(60), () -> watch.readyAt("r-" + (latencyResources - 1)) != null);
      for (int i = 0; i < latencyResources; i++) {
        floor.add((watch.readyAt("r-" + i) - sent[i]) / 1e6);
      }
    }
    rows.get("Latency|create → Ready p50").floor.add(Stats.percentileOf(floor, 50));
    rows.get("Latency|create → Ready p99").floor.add(Stats.percentileOf(floor, 99));
    // The floor's mean UploadCsr over its measured resources (the warm-up ones come first).
    List<Long> measured = floorUploadNanos.subList(warmup, floorUploadNanos.size());
    rows.get("Latency|UploadCsr mean, as timed by the caller")
        .floor
        .add(measured.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6);
    floorUploadNanos.clear();
  }

  /** What the operator must do for one resource, done by hand: create, UploadCsr, patch status. */
  private void floorResource(CasClient cas, String ns, int i) throws Exception {
    floorResourceNamed(cas, ns, "r-" + i);
  }

  private void floorResourceNamed(CasClient cas, String ns, String name) throws Exception {
    // The CSR is made before the clock starts, as the operator's are (they wait in Secrets).
    String csrPem = TestPki.csr(keyPair, name + ".bench.example.com").csrPem();
    long start = System.nanoTime();
    floorStart.put(name, start);
    AliyunCsr resource = OperatorHarness.aliyunCsr(ns, name, "csr-0", null);
    client.resource(resource).create();
    long uploadStart = System.nanoTime();
    var uploaded = cas.uploadCsr("floor-" + ns + "-" + name, csrPem, Optional.empty());
    floorUploadNanos.add(System.nanoTime() - uploadStart);
    AliyunCsr patch = new AliyunCsr();
    patch.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    AliyunCsrStatus status = new AliyunCsrStatus();
    status.setCsrId(uploaded.csrId());
    status.setObservedGeneration(1L);
    status.setConditions(
        List.of(
            new CsrCondition("Ready", "True", "Uploaded", "floor", 1L, Instant.now().toString())));
    patch.setStatus(status);
    client.resource(patch).patchStatus();
  }

  private void burst(boolean limited) throws Exception {
    String ns = OperatorHarness.newNamespace(client, limited ? "bench-lim-" : "bench-free-");
    createSecrets(ns, burstResources);
    emulator.setRateLimit("UploadCsr", limited ? 10 : 0);
    int port = freePort();
    Map<String, Map<String, Integer>> before = emulator.callStats();
    Map<String, String> env =
        limited
            // CAS's real limit, 10 UploadCsr/s per account, in the operator as in the emulator.
            ? Map.of("HTTP_PORT", Integer.toString(port), "CAS_QPS", "10")
            // As the outside check runs it: CAS_QPS=1000, every other setting at its default
            // (CAS_MAX_CONCURRENCY 4, RECONCILE_THREADS 48).
            : Map.of("HTTP_PORT", Integer.toString(port), "CAS_QPS", "1000");
    try (ReadyWatch watch = new ReadyWatch(client, ns);
        OperatorProcess op = start(ns, env, limited ? "burst-limited" : "burst-free")) {
      waitFor(Duration.ofSeconds(60), () -> ready(port));
      long start = System.nanoTime();
      createResources(ns, burstResources, Duration.ZERO, new long[burstResources]);
      waitFor(Duration.ofSeconds(600), () -> watch.readyCount() == burstResources);
      double seconds = (watch.lastReadyNanos() - start) / 1e9;
      if (limited) {
        row("Burst, CAS 10/s", burstResources + " created at once → all Ready", "s", "≤ 105")
            .values
            .add(seconds);
        int uploads = delta(before, "UploadCsr", null);
        int throttled = delta(before, "UploadCsr", "Throttling.User");
        row("Burst, CAS 10/s", "UploadCsr answered Throttling.User", "%", "≤ 1")
            .values
            .add(uploads == 0 ? 0 : 100.0 * throttled / uploads);
      } else {
        row("Burst, no CAS limit", burstResources + " created at once → all Ready", "s", "≤ 15")
            .values
            .add(seconds);
      }
    } finally {
      emulator.setRateLimit("UploadCsr", 0);
    }
  }

  /**
   * The outside check of issue 19: {@code queuedResources} created at once from 16 clients against
   * CAS_QPS=9 (the emulator at 10 UploadCsr/s), every other setting at its default. Counts the
   * objects with no status (no observedGeneration) 3 s after the last create, and how long each
   * took to say where it stands (Reconciling with a reason, or Ready) after its create was sent.
   */
  private void queued() throws Exception {
    String ns = OperatorHarness.newNamespace(client, "bench-queued-");
    createSecrets(ns, queuedResources);
    emulator.setRateLimit("UploadCsr", 10);
    int port = freePort();
    Map<String, String> env = Map.of("HTTP_PORT", Integer.toString(port), "CAS_QPS", "9");
    Map<String, Long> firstSaid = new java.util.concurrent.ConcurrentHashMap<>();
    Watcher<AliyunCsr> said =
        new Watcher<>() {
          @Override
          public void eventReceived(Action action, AliyunCsr r) {
            long now = System.nanoTime();
            var status = r.getStatus();
            boolean says =
                status != null
                    && status.getObservedGeneration() != null
                    && status
                        .condition("Reconciling")
                        .or(() -> status.condition("Ready"))
                        .map(c -> c.getReason() != null)
                        .orElse(false);
            if (says) {
              firstSaid.putIfAbsent(r.getMetadata().getName(), now);
            }
          }

          @Override
          public void onClose(WatcherException cause) {}
        };
    try (Watch watch = client.resources(AliyunCsr.class).inNamespace(ns).watch(said);
        ReadyWatch ready = new ReadyWatch(client, ns);
        OperatorProcess op = start(ns, env, "queued")) {
      waitFor(Duration.ofSeconds(60), () -> ready(port));
      long[] sent = new long[queuedResources];
      ExecutorService clients = Executors.newFixedThreadPool(16);
      for (int i = 0; i < queuedResources; i++) {
        int n = i;
        clients.submit(
            () -> {
              sent[n] = System.nanoTime();
              client.resource(OperatorHarness.aliyunCsr(ns, "r-" + n, "csr-" + n, null)).create();
            });
      }
      clients.shutdown();
      clients.awaitTermination(5, TimeUnit.MINUTES);
      long lastSent = java.util.Arrays.stream(sent).max().orElseThrow();
      sleepUntil(lastSent + Duration.ofSeconds(3).toNanos());
      long silent =
          client.resources(AliyunCsr.class).inNamespace(ns).list().getItems().stream()
              .filter(r -> r.getStatus() == null || r.getStatus().getObservedGeneration() == null)
              .count();
      row(
              "Queued status",
              queuedResources + " at once, CAS_QPS=9: no status 3 s later",
              "objects",
              "≤ 0")
          .values
          .add((double) silent);
      waitFor(Duration.ofSeconds(300), () -> ready.readyCount() == queuedResources);
      List<Double> took = new ArrayList<>();
      for (int i = 0; i < queuedResources; i++) {
        Long at = firstSaid.get("r-" + i);
        took.add(at == null ? Double.NaN : (at - sent[i]) / 1e6);
      }
      List<Double> sorted = took.stream().sorted().toList();
      row("Queued status", "create → first status p50", "ms", "")
          .values
          .add(Stats.percentile(sorted, 50));
      row("Queued status", "create → first status max", "ms", "≤ 2000")
          .values
          .add(sorted.get(sorted.size() - 1));
    } finally {
      emulator.setRateLimit("UploadCsr", 0);
    }
  }

  private void large() throws Exception {
    String ns = OperatorHarness.newNamespace(client, "bench-large-");
    createSecrets(ns, largeResources);
    int port = freePort();
    Map<String, String> env =
        Map.of(
            "HTTP_PORT", Integer.toString(port),
            "CAS_QPS", "500",
            "CAS_MAX_CONCURRENCY", "16",
            "RECONCILE_THREADS", "32");
    try (ReadyWatch watch = new ReadyWatch(client, ns)) {
      try (OperatorProcess op = start(ns, env, "large")) {
        waitFor(Duration.ofSeconds(60), () -> ready(port));
        long start = System.nanoTime();
        createResources(ns, largeResources, Duration.ZERO, new long[largeResources]);
        waitFor(Duration.ofSeconds(1800), () -> watch.readyCount() == largeResources);
        row("Large", largeResources + " created → all Ready", "s", "(reported)")
            .values
            .add((watch.lastReadyNanos() - start) / 1e9);
        settle(Duration.ofSeconds(5));
        diagnose(op, "large");
        row("Large", "operator RSS with " + largeResources + " Ready", "MiB", "≤ 300")
            .values
            .add(mib(op.rssBytes()));
      }
      Map<String, Map<String, Integer>> before = emulator.callStats();
      long start = System.nanoTime();
      try (OperatorProcess op = start(ns, env, "large-restart")) {
        waitFor(Duration.ofSeconds(120), () -> ready(port));
        row("Large", "restart with " + largeResources + " Ready → caches synced", "s", "≤ 10")
            .values
            .add((System.nanoTime() - start) / 1e9);
        // Every resource is reconciled once at start; wait for that, then count CAS calls.
        waitFor(Duration.ofSeconds(300), () -> reconciles(port) >= largeResources);
        row("Large", "CAS calls after the restart", "calls", "= 0")
            .values
            .add((double) delta(before, null, null));
      }
    }
  }

  private void unrelatedSecrets() throws Exception {
    String ns = OperatorHarness.newNamespace(client, "bench-secrets-");
    createSecrets(ns, 1);
    createResources(ns, 1, Duration.ZERO, new long[1]);
    int port = freePort();
    try (ReadyWatch watch = new ReadyWatch(client, ns);
        OperatorProcess op = start(ns, Map.of("HTTP_PORT", Integer.toString(port)), "secrets")) {
      waitFor(Duration.ofSeconds(60), () -> watch.readyCount() == 1);
      settle(Duration.ofSeconds(5));
      gc(op);
      diagnose(op, "secrets-before");
      double before = mib(op.rssBytes());
      String tenKiB = Base64.getEncoder().encodeToString(new byte[10 * 1024 * 3 / 4]);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      for (int i = 0; i < unrelatedSecrets; i++) {
        int n = i;
        pool.submit(
            () ->
                client
                    .resource(
                        new SecretBuilder()
                            .withMetadata(
                                new ObjectMetaBuilder()
                                    .withNamespace(ns)
                                    .withName("unrelated-" + n)
                                    .build())
                            .withData(Map.of("blob", tenKiB))
                            .build())
                    .create());
      }
      pool.shutdown();
      pool.awaitTermination(30, TimeUnit.MINUTES);
      // Watch events arrive in order: once a resource created after them is Ready through its
      // Secret's event, the operator has seen every unrelated Secret.
      createSecretsNamed(ns, "late-", 1);
      client.resource(OperatorHarness.aliyunCsr(ns, "late", "late-0", null)).create();
      waitFor(Duration.ofSeconds(120), () -> watch.readyCount() == 2);
      settle(Duration.ofSeconds(5));
      gc(op);
      diagnose(op, "secrets-after");
      double after = mib(op.rssBytes());
      row(
              "Unrelated Secrets",
              "RSS growth after " + unrelatedSecrets + " × 10 KiB Secrets",
              "%",
              "≤ 10")
          .values
          .add(100.0 * (after - before) / before);
    }
  }

  /**
   * Observation of issue 10 on {@code observeResources} Ready resources, in an emulator account of
   * their own (so a pass pages over exactly these CSRs). The resources are uploaded through the
   * operator at a high CAS_QPS, their lastConfirmedAt is then moved 7 hours back (a status patch by
   * the harness, the only state not made by the operator), and an operator with the default
   * CAS_QPS, CAS_OBSERVE_SHARE and CAS_OBSERVE_INTERVAL finds them all due. Then one CSR is deleted
   * in the console under an operator with a 1-minute interval.
   */
  private void observation() throws Exception {
    int n = observeResources;
    String scenario = "Observation, " + n + " Ready";
    try (CasEmulator cas = OperatorHarness.newEmulator()) {
      String ns = OperatorHarness.newNamespace(client, "bench-obs-");
      createSecrets(ns, n);
      int port = freePort();
      Map<String, String> fast =
          Map.of(
              "HTTP_PORT", Integer.toString(port),
              "CAS_QPS", "500",
              "CAS_MAX_CONCURRENCY", "16",
              "RECONCILE_THREADS", "32");
      long prepared = System.nanoTime();
      try (ReadyWatch watch = new ReadyWatch(client, ns);
          OperatorProcess op = start(cas, ns, fast, "observe-upload")) {
        waitFor(Duration.ofSeconds(60), () -> ready(port));
        createResources(ns, n, Duration.ZERO, new long[n]);
        waitFor(Duration.ofSeconds(1800), () -> watch.readyCount() == n);
      }
      say("observation: %d uploaded through the operator in %.0f s", n, secondsSince(prepared));
      Instant backDated = Instant.now().minus(Duration.ofHours(7)).truncatedTo(ChronoUnit.SECONDS);
      backDate(ns, n, backDated);
      say("observation: lastConfirmedAt of %d moved back to %s", n, backDated);
      long victimId =
          client
              .resources(AliyunCsr.class)
              .inNamespace(ns)
              .withName("r-" + n / 2)
              .get()
              .getStatus()
              .getCsrId();

      // One pass at the defaults: CAS_QPS 5, CAS_OBSERVE_SHARE 0.2, CAS_OBSERVE_INTERVAL 6h.
      Map<String, Map<String, Integer>> before = cas.callStats();
      Map<String, String> defaults = Map.of("HTTP_PORT", Integer.toString(port));
      try (StatusWatch watch = new StatusWatch(client, ns, backDated);
          CallClock lists = new CallClock(cas, "ListCsr");
          OperatorProcess op = start(cas, ns, defaults, "observe-pass")) {
        waitFor(Duration.ofSeconds(120), () -> ready(port));
        // Every resource is reconciled once at start; none may cost a CAS call.
        waitFor(Duration.ofSeconds(300), () -> reconciles(port) >= n);
        row(scenario, "CAS calls after the start, but ListCsr", "calls", "= 0")
            .values
            .add((double) delta(cas, before, null, null) - delta(cas, before, "ListCsr", null));
        row(scenario, "UploadCsr calls after the start", "calls", "= 0")
            .values
            .add((double) delta(cas, before, "UploadCsr", null));
        settle(Duration.ofSeconds(5));
        diagnose(op, "observe-before");
        row(scenario, "operator RSS before the pass", "MiB", "(reported)")
            .values
            .add(mib(op.rssBytes()));
        waitFor(Duration.ofSeconds(1200), () -> watch.confirmedCount() == n);
        settle(Duration.ofSeconds(2)); // metrics and the emulator's counters after the last write
        row(scenario, "ListCsr calls of the pass (emulator)", "calls", "≤ 200")
            .values
            .add((double) delta(cas, before, "ListCsr", null));
        row(scenario, "ListCsr calls of the pass (operator metric)", "calls", "≤ 200")
            .values
            .add(observationCalls(port, "ListCsr"));
        row(scenario, "other CAS calls during the pass (emulator)", "calls", "= 0")
            .values
            .add((double) delta(cas, before, null, null) - delta(cas, before, "ListCsr", null));
        row(scenario, "resources confirmed (operator metric)", "resources", "= " + n)
            .values
            .add(observed(port, "confirmed"));
        row(scenario, "pass: first → last ListCsr (emulator)", "s", "(reported)")
            .values
            .add((lists.lastNanos() - lists.firstNanos()) / 1e9);
        row(scenario, "lastConfirmedAt writes: first → last, seen by a watch", "s", "(reported)")
            .values
            .add((watch.lastConfirmedNanos() - watch.firstConfirmedNanos()) / 1e9);
        row(scenario, "pass: first ListCsr → last lastConfirmedAt seen", "s", "(reported)")
            .values
            .add((watch.lastConfirmedNanos() - lists.firstNanos()) / 1e9);
        diagnose(op, "observe-after");
        row(scenario, "operator RSS after the pass", "MiB", "(reported)")
            .values
            .add(mib(op.rssBytes()));
      }

      // A CSR deleted in the console, under CAS_OBSERVE_INTERVAL=1m (tick 3 s), defaults otherwise.
      before = cas.callStats();
      Map<String, String> minute =
          Map.of("HTTP_PORT", Integer.toString(port), "CAS_OBSERVE_INTERVAL", "1m");
      try (StatusWatch watch = new StatusWatch(client, ns, Instant.now());
          CallClock lists = new CallClock(cas, "ListCsr");
          OperatorProcess op = start(cas, ns, minute, "observe-detect")) {
        waitFor(Duration.ofSeconds(120), () -> ready(port));
        waitFor(Duration.ofSeconds(300), () -> reconciles(port) >= n);
        settle(Duration.ofSeconds(5));
        row(scenario, "operator RSS before the 1-minute passes", "MiB", "(reported)")
            .values
            .add(mib(op.rssBytes()));
        if (!cas.deleteInConsole(victimId)) {
          throw new IllegalStateException("CsrId " + victimId + " was not in the emulator");
        }
        long deleted = System.nanoTime();
        String victim = "r-" + n / 2;
        say("observation: deleted CsrId %d (%s) in the console", victimId, victim);
        waitFor(Duration.ofSeconds(1200), () -> watch.reuploadedAt(victim) != null);
        long reuploaded = watch.reuploadedAt(victim);
        long newId = watch.reuploadedCsrId(victim);
        if (newId == victimId) {
          throw new IllegalStateException("Reuploaded with the deleted CsrId " + victimId);
        }
        say("observation: %s Ready, Reuploaded, CsrId %d → %d", victim, victimId, newId);
        settle(Duration.ofSeconds(2));
        row(
                scenario,
                "1-minute interval: deletion → Ready Reuploaded, new CsrId",
                "s",
                "(reported)")
            .values
            .add((reuploaded - deleted) / 1e9);
        row(
                scenario,
                "1-minute interval: first ListCsr, from the deletion (< 0: a pass was under way)",
                "s",
                "(reported)")
            .values
            .add((lists.firstNanos() - deleted) / 1e9);
        row(scenario, "1-minute interval: ListCsr calls until Reuploaded", "calls", "(reported)")
            .values
            .add((double) delta(cas, before, "ListCsr", null));
        for (String action : List.of("GetCsrDetail", "UploadCsr")) {
          row(scenario, "1-minute interval: " + action + " calls until Reuploaded", "calls", "= 1")
              .values
              .add((double) delta(cas, before, action, null));
        }
        row(scenario, "operator RSS after the 1-minute passes", "MiB", "(reported)")
            .values
            .add(mib(op.rssBytes()));
      }
    }
  }

  /**
   * Issue 11: {@code accountsResources} AliyunCsrs, half in each of two namespaces, each namespace
   * selected by an AliyunCasAccount of its own (qps 10). One emulator of its own holds the two
   * accounts (separate AccessKeys, separate CSRs), each limited to 10 UploadCsr/s, plus the
   * operator's own default account (no limit, unused here). Measured: first create → all Ready.
   */
  private void accounts(int run) throws Exception {
    int n = accountsResources;
    int[] counts = {n / 2, n - n / 2};
    String scenario = "Two accounts, CAS 10/s each";
    String[] ids = {"1000000000000011", "1000000000000012"};
    String[] keys = {"LTAI5tBenchAccountA", "LTAI5tBenchAccountB"};
    String[] secrets = {"bench-account-a-secret-0123456789", "bench-account-b-secret-0123456789"};
    try (CasEmulator cas =
        CasEmulator.builder()
            .accessKey(OperatorHarness.ACCESS_KEY_ID, OperatorHarness.ACCESS_KEY_SECRET)
            .accessKey(ids[0], keys[0], secrets[0])
            .accessKey(ids[1], keys[1], secrets[1])
            .rateLimit(ids[0], "UploadCsr", 10)
            .rateLimit(ids[1], "UploadCsr", 10)
            .build()
            .start()) {
      String operatorNs = OperatorHarness.newNamespace(client, "bench-acct-op-");
      String[] ns = {
        OperatorHarness.newNamespace(client, "bench-acct-a-"),
        OperatorHarness.newNamespace(client, "bench-acct-b-")
      };
      String[] names = new String[2];
      for (int a = 0; a < 2; a++) {
        names[a] = "bench-" + (a == 0 ? "a-" : "b-") + ns[a];
        createAccount(cas, operatorNs, names[a], keys[a], secrets[a], ns[a], 10.0);
        createSecrets(ns[a], counts[a]);
      }
      int port = freePort();
      Map<String, String> env =
          Map.of("HTTP_PORT", Integer.toString(port), "POD_NAMESPACE", operatorNs);
      try (ReadyWatch watchA = new ReadyWatch(client, ns[0]);
          ReadyWatch watchB = new ReadyWatch(client, ns[1]);
          OperatorProcess op = start(cas, ns[0] + "," + ns[1], env, "accounts-" + run)) {
        waitFor(Duration.ofSeconds(60), () -> ready(port));
        waitFor(Duration.ofSeconds(60), () -> accountReady(names[0]) && accountReady(names[1]));
        settle(Duration.ofSeconds(2));
        List<Map<String, Map<String, Integer>>> before =
            List.of(cas.accountCallStats(ids[0]), cas.accountCallStats(ids[1]));
        ReadyWatch[] watches = {watchA, watchB};
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        for (int i = 0; i < n; i++) {
          int a = i % 2;
          int k = i / 2;
          pool.submit(
              () -> {
                AliyunCsr r = OperatorHarness.aliyunCsr(ns[a], "r-" + k, "csr-" + k, null);
                r.getSpec().setAccountRef(new AccountRef(names[a]));
                client.resource(r).create();
              });
        }
        pool.shutdown();
        pool.awaitTermination(30, TimeUnit.MINUTES);
        double created = (System.nanoTime() - start) / 1e9;
        waitFor(
            Duration.ofSeconds(600),
            () -> watchA.readyCount() == counts[0] && watchB.readyCount() == counts[1]);
        long last = Math.max(watchA.lastReadyNanos(), watchB.lastReadyNanos());
        double seconds = (last - start) / 1e9;
        say(
            "accounts: %d created in %.1f s, all Ready %.1f s after the first create",
            n, created, seconds);
        row(scenario, n + " over 2 accounts: first create → all Ready", "s", "≤ 55")
            .values
            .add(seconds);
        row(scenario, "creating the " + n + " AliyunCsrs (harness, 8 threads)", "s", "(reported)")
            .values
            .add(created);
        settle(Duration.ofSeconds(2)); // late calls, metrics
        String metrics = get(port, "/metrics").map(HttpResponse::body).orElse("");
        Files.writeString(OUT.resolve("accounts-metrics-" + run + ".txt"), metrics);
        for (int a = 0; a < 2; a++) {
          String label = a == 0 ? "account A" : "account B";
          String tag = "account=\"" + names[a] + "\"";
          row(scenario, label + ": first create → its " + counts[a] + " Ready", "s", "(reported)")
              .values
              .add((watches[a].lastReadyNanos() - start) / 1e9);
          row(scenario, label + ": UploadCsr answered OK (emulator)", "calls", "= " + counts[a])
              .values
              .add((double) accountDelta(cas, ids[a], before.get(a), "UploadCsr", "OK"));
          row(scenario, label + ": CSRs the account holds (emulator)", "CSRs", "= " + counts[a])
              .values
              .add((double) cas.csrs(ids[a]).size());
          row(
                  scenario,
                  label + ": UploadCsr answered Throttling.User (emulator)",
                  "calls",
                  "(reported)")
              .values
              .add(
                  (double)
                      accountDelta(cas, ids[a], before.get(a), "UploadCsr", "Throttling.User"));
          row(scenario, label + ": UploadCsr calls, all outcomes (emulator)", "calls", "(reported)")
              .values
              .add((double) accountDelta(cas, ids[a], before.get(a), "UploadCsr", null));
          row(scenario, label + ": CAS calls, UploadCsr aside (emulator)", "calls", "(reported)")
              .values
              .add(
                  (double)
                      (accountDelta(cas, ids[a], before.get(a), null, null)
                          - accountDelta(cas, ids[a], before.get(a), "UploadCsr", null)));
          row(
                  scenario,
                  label + ": aliyuncsr_cas_calls_seconds_count UploadCsr OK (operator)",
                  "calls",
                  "(reported)")
              .values
              .add(
                  sum(
                      metrics,
                      l ->
                          l.startsWith("aliyuncsr_cas_calls_seconds_count")
                              && l.contains(tag)
                              && l.contains("action=\"UploadCsr\"")
                              && l.contains("outcome=\"OK\"")));
        }
        row(scenario, "UploadCsr into the operator's own default account", "calls", "= 0")
            .values
            .add((double) cas.accountCalls(CasEmulator.DEFAULT_ACCOUNT, "UploadCsr"));
        row(scenario, "reconciles answered Queued (operator metric)", "reconciles", "(reported)")
            .values
            .add(
                sum(
                    metrics,
                    l ->
                        l.startsWith("aliyuncsr_reconciles_total")
                            && l.contains("reason=\"Queued\"")));
        row(scenario, "reconciles, all (operator metric)", "reconciles", "(reported)")
            .values
            .add(sum(metrics, l -> l.startsWith("aliyuncsr_reconciles_total")));
        diagnose(op, "accounts");
        row(scenario, "operator RSS with " + n + " Ready", "MiB", "(reported)")
            .values
            .add(mib(op.rssBytes()));
      }
      // The accounts go (the operator is stopped, nothing will upload into them again), so that
      // a later operator on this API server does not manage accounts whose emulator is closed.
      for (String name : names) {
        var account = client.resources(AliyunCasAccount.class).withName(name);
        account.edit(
            x -> {
              x.getMetadata().setFinalizers(List.of());
              return x;
            });
        account.delete();
      }
    }
  }

  private void createAccount(
      CasEmulator cas,
      String operatorNs,
      String name,
      String keyId,
      String keySecret,
      String namespace,
      double qps) {
    OperatorHarness.secret(
        client,
        operatorNs,
        "creds-" + name,
        Map.of("access-key-id", keyId, "access-key-secret", keySecret));
    AliyunCasAccount account = new AliyunCasAccount();
    account.setMetadata(new ObjectMetaBuilder().withName(name).build());
    AliyunCasAccountSpec spec = new AliyunCasAccountSpec();
    AccountCredentials credentials = new AccountCredentials();
    AccessKeySecretRef ref = new AccessKeySecretRef();
    ref.setName("creds-" + name);
    credentials.setAccessKeySecretRef(ref);
    spec.setCredentials(credentials);
    spec.setEndpoint(cas.endpoint());
    spec.setProtocol("HTTP");
    spec.setQps(qps);
    AccountNamespaceSelector selector = new AccountNamespaceSelector();
    selector.setNames(List.of(namespace));
    spec.setNamespaceSelector(selector);
    account.setSpec(spec);
    client.resource(account).create();
  }

  private boolean accountReady(String name) {
    AliyunCasAccount a = client.resources(AliyunCasAccount.class).withName(name).get();
    return a != null
        && a.getStatus() != null
        && a.getStatus().condition("Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  private static int accountDelta(
      CasEmulator cas,
      String accountId,
      Map<String, Map<String, Integer>> before,
      String action,
      String outcome) {
    int total = 0;
    for (var entry : cas.accountCallStats(accountId).entrySet()) {
      if (action != null && !action.equals(entry.getKey())) {
        continue;
      }
      for (var count : entry.getValue().entrySet()) {
        if (outcome != null && !outcome.equals(count.getKey())) {
          continue;
        }
        int earlier = before.getOrDefault(entry.getKey(), Map.of()).getOrDefault(count.getKey(), 0);
        total += count.getValue() - earlier;
      }
    }
    return total;
  }

  /** The sum of the Prometheus samples on the lines of a scrape that match. */
  private static double sum(String scrape, Predicate<String> line) {
    return scrape
        .lines()
        .filter(line)
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  /** Moves every r-i's status.lastConfirmedAt to {@code at}: a merge patch of the status. */
  private void backDate(String ns, int count, Instant at) throws InterruptedException {
    String patch = "{\"status\":{\"lastConfirmedAt\":\"" + at + "\"}}";
    ExecutorService pool = Executors.newFixedThreadPool(8);
    for (int i = 0; i < count; i++) {
      String name = "r-" + i;
      pool.submit(
          () -> {
            AliyunCsr target = new AliyunCsr();
            target.getMetadata().setNamespace(ns);
            target.getMetadata().setName(name);
            client
                .resource(target)
                .subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
          });
    }
    pool.shutdown();
    pool.awaitTermination(30, TimeUnit.MINUTES);
  }

  private static double observationCalls(int port, String action) {
    return metricSum(
        port,
        l ->
            l.startsWith("aliyuncsr_observation_cas_calls_total")
                && l.contains("action=\"" + action + "\""));
  }

  private static double observed(int port, String result) {
    return metricSum(
        port,
        l ->
            l.startsWith("aliyuncsr_observations_total")
                && l.contains("result=\"" + result + "\""));
  }

  private static double secondsSince(long nanos) {
    return (System.nanoTime() - nanos) / 1e9;
  }

  // --- helpers

  private OperatorProcess start(String ns, Map<String, String> env, String name)
      throws IOException {
    return start(emulator, ns, env, name);
  }

  private OperatorProcess start(CasEmulator cas, String ns, Map<String, String> env, String name)
      throws IOException {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("WATCH_NAMESPACES", ns);
    all.put("HTTP_PORT", "0");
    all.putAll(env);
    for (String pair : operatorEnv.split(",")) {
      if (pair.contains("=")) {
        all.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
      }
    }
    List<String> jvm = new ArrayList<>(CONTAINER_JVM);
    if (jfr) {
      Path dir = Files.createDirectories(OUT.resolve("jfr")).toAbsolutePath();
      jvm.add(
          "-XX:StartFlightRecording=settings=profile,filename="
              + dir.resolve(name + "-" + System.currentTimeMillis() + ".jfr"));
    }
    return OperatorProcess.start(
        kubeConfig, cas.endpoint(), all, OUT.resolve("logs").resolve(name + ".log"), jvm);
  }

  private void createSecrets(String ns, int count) throws InterruptedException {
    createSecretsNamed(ns, "csr-", count);
  }

  private void createSecretsNamed(String ns, String prefix, int count) throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    for (int i = 0; i < count; i++) {
      int n = i;
      pool.submit(
          () -> {
            var pki = TestPki.csr(keyPair, prefix + n + "." + ns + ".example.com");
            OperatorHarness.secret(client, ns, prefix + n, Map.of("tls.csr", pki.csrPem()));
          });
    }
    pool.shutdown();
    pool.awaitTermination(30, TimeUnit.MINUTES);
  }

  /** Creates r-0..r-(count-1), spaced by {@code interval} (zero: as fast as 8 threads go). */
  private void createResources(String ns, int count, Duration interval, long[] sentNanos)
      throws InterruptedException {
    if (interval.isZero()) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      for (int i = 0; i < count; i++) {
        int n = i;
        pool.submit(
            () -> {
              sentNanos[n] = System.nanoTime();
              client.resource(OperatorHarness.aliyunCsr(ns, "r-" + n, "csr-" + n, null)).create();
            });
      }
      pool.shutdown();
      pool.awaitTermination(30, TimeUnit.MINUTES);
      return;
    }
    long next = System.nanoTime();
    for (int i = 0; i < count; i++) {
      sleepUntil(next);
      next += interval.toNanos();
      sentNanos[i] = System.nanoTime();
      client.resource(OperatorHarness.aliyunCsr(ns, "r-" + i, "csr-" + i, null)).create();
    }
  }

  private CasClient sdkClient() throws Exception {
    var settings =
        new CasSettings(
            emulator.endpoint(),
            "HTTP",
            "cn-hangzhou",
            1000,
            16,
            Duration.ofSeconds(5),
            Duration.ofSeconds(10));
    var credentials =
        OperatorHarness.accessKeyCredentials(
            OperatorHarness.ACCESS_KEY_ID, OperatorHarness.ACCESS_KEY_SECRET);
    return AlibabaCasClient.create(settings, credentials);
  }

  private Map<String, Double> casDelta(Map<String, Map<String, Integer>> before, int resources) {
    Map<String, Double> perResource = new LinkedHashMap<>();
    for (String action : emulator.callStats().keySet()) {
      perResource.put(action, delta(before, action, null) / (double) resources);
    }
    return perResource;
  }

  /** Calls since {@code before}: of one action (or all), with one outcome (or any). */
  private int delta(Map<String, Map<String, Integer>> before, String action, String outcome) {
    return delta(emulator, before, action, outcome);
  }

  private static int delta(
      CasEmulator cas, Map<String, Map<String, Integer>> before, String action, String outcome) {
    int total = 0;
    for (var entry : cas.callStats().entrySet()) {
      if (action != null && !action.equals(entry.getKey())) {
        continue;
      }
      for (var count : entry.getValue().entrySet()) {
        if (outcome != null && !outcome.equals(count.getKey())) {
          continue;
        }
        int earlier = before.getOrDefault(entry.getKey(), Map.of()).getOrDefault(count.getKey(), 0);
        total += count.getValue() - earlier;
      }
    }
    return total;
  }

  /** From the audit log, per resource in a namespace: writes to the AliyunCsr, Events, GETs. */
  private Map<String, Double> auditWrites(String ns, int resources) throws IOException {
    int object = 0;
    int events = 0;
    int reads = 0;
    for (String line : Files.readAllLines(auditLog)) {
      JsonNode event = JSON.readTree(line);
      JsonNode ref = event.path("objectRef");
      if (!ns.equals(ref.path("namespace").asText())) {
        continue;
      }
      String verb = event.path("verb").asText();
      if ("get".equals(verb)) {
        reads++; // the harness never GETs: every read is the operator's
      } else if ("aliyuncsrs".equals(ref.path("resource").asText()) && !"create".equals(verb)) {
        object++; // the harness only creates; every update or patch is the operator's
      } else if ("events".equals(ref.path("resource").asText()) && "create".equals(verb)) {
        events++;
      }
    }
    return Map.of(
        "object",
        object / (double) resources,
        "events",
        events / (double) resources,
        "reads",
        reads / (double) resources);
  }

  private static boolean ready(int port) {
    return get(port, "/readyz").map(r -> r.statusCode() == 200).orElse(false);
  }

  private static long reconciles(int port) {
    return (long) metricSum(port, l -> l.startsWith("aliyuncsr_reconciles_total"));
  }

  /** The operator's UploadCsr timer (OK outcomes): {count, sum of seconds}. */
  private static double[] uploadTimer(int port) {
    Predicate<String> upload =
        l -> l.contains("action=\"UploadCsr\"") && l.contains("outcome=\"OK\"");
    return new double[] {
      metricSum(port, upload.and(l -> l.startsWith("aliyuncsr_cas_calls_seconds_count"))),
      metricSum(port, upload.and(l -> l.startsWith("aliyuncsr_cas_calls_seconds_sum")))
    };
  }

  /** The sum of the operator's Prometheus samples on the lines that match. */
  private static double metricSum(int port, Predicate<String> line) {
    return get(port, "/metrics")
        .map(
            r ->
                r.body()
                    .lines()
                    .filter(line)
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                    .sum())
        .orElse(0.0);
  }

  private static Optional<HttpResponse<String>> get(int port, String path) {
    try {
      return Optional.of(
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** A full GC in the operator before an RSS reading, so both readings see live data only. */
  private static void gc(OperatorProcess op) throws Exception {
    jcmd(op, "GC.run");
    settle(Duration.ofSeconds(2));
  }

  private static String jcmd(OperatorProcess op, String... command) throws Exception {
    List<String> line = new ArrayList<>();
    line.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
    line.add(Long.toString(op.pid()));
    line.addAll(List.of(command));
    Process jcmd = new ProcessBuilder(line).redirectErrorStream(true).start();
    String out = new String(jcmd.getInputStream().readAllBytes());
    jcmd.waitFor(60, TimeUnit.SECONDS);
    return out;
  }

  /**
   * With -Dbench.diagnose=true, where the operator's memory is at a reading: the heap, a class
   * histogram and (when the operator runs with -XX:NativeMemoryTracking=summary) native memory, in
   * target/bench/diagnose/.
   */
  private static void diagnose(OperatorProcess op, String label) throws Exception {
    if (!Boolean.getBoolean("bench.diagnose")) {
      return;
    }
    Path dir = Files.createDirectories(OUT.resolve("diagnose"));
    String stamp = label + "-" + System.currentTimeMillis();
    Files.writeString(
        dir.resolve(stamp + ".txt"),
        "RSS "
            + op.rssBytes() / 1024 / 1024
            + " MiB\n\n"
            + jcmd(op, "GC.heap_info")
            + "\n"
            + jcmd(op, "VM.native_memory", "summary")
            + "\n"
            + jcmd(op, "GC.class_histogram").lines().limit(40).reduce("", (a, b) -> a + b + "\n"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static void waitFor(Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("timed out after " + timeout);
      }
      Thread.sleep(20); // polling with a deadline
    }
  }

  /** Lets the process reach a steady state before a reading: part of the measurement. */
  private static void settle(Duration duration) throws InterruptedException {
    Thread.sleep(duration.toMillis());
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long wait = nanoTime - System.nanoTime();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }

  private static double mib(long bytes) {
    return bytes / 1024.0 / 1024.0;
  }

  private Row row(String scenario, String figure, String unit, String target) {
    return rows.computeIfAbsent(
        scenario + "|" + figure, k -> new Row(scenario, figure, unit, target));
  }

  // --- verdicts and the report

  private void judge() {
    for (Row row : rows.values()) {
      double median = Stats.of(row.values).median();
      String t = row.target;
      if (t.startsWith("≤ ")) {
        double limit = Double.parseDouble(t.substring(2).split(",")[0].trim());
        row.met = median <= limit;
        if (t.contains("2× floor") && !row.floor.isEmpty()) {
          row.met = row.met && median <= 2 * Stats.of(row.floor).median();
        }
      } else if (t.startsWith("= ")) {
        row.met =
            Math.abs(median - Double.parseDouble(t.substring(2))) < 1e-9
                && Stats.of(row.values).max() == Stats.of(row.values).min();
      }
    }
  }

  private void write() throws IOException {
    int cores = Runtime.getRuntime().availableProcessors();
    long memory = memTotalBytes();
    StringBuilder md = new StringBuilder();
    md.append("# Benchmark report\n\n")
        .append("Date ")
        .append(LocalDate.now())
        .append("; machine: ")
        .append(cores)
        .append(" cores, ")
        .append(String.format("%.1f", memory / 1024.0 / 1024 / 1024))
        .append(" GiB; operator JVM: `")
        .append(String.join(" ", CONTAINER_JVM))
        .append("`; runs: ")
        .append(runs)
        .append(" (heavy scenarios: ")
        .append(heavyRuns)
        .append(").\n\n")
        .append(
            "| Scenario | Figure | median | min | max | target | floor median | × floor | met |\n")
        .append("|---|---|---|---|---|---|---|---|---|\n");
    ObjectNode json = JSON.createObjectNode();
    json.put("date", LocalDate.now().toString());
    json.put("cores", cores);
    json.put("memoryBytes", memory);
    json.put("runs", runs);
    json.put("heavyRuns", heavyRuns);
    ArrayNode figures = json.putArray("figures");
    for (Row row : rows.values()) {
      Stats s = Stats.of(row.values);
      String floorMedian = "";
      String ratio = "";
      ObjectNode f = figures.addObject();
      f.put("scenario", row.scenario).put("figure", row.figure).put("unit", row.unit);
      f.put("median", s.median()).put("min", s.min()).put("max", s.max()).put("target", row.target);
      row.values.forEach(f.putArray("values")::add);
      if (!row.floor.isEmpty()) {
        double fm = Stats.of(row.floor).median();
        floorMedian = fmt(fm);
        ratio = String.format("%.2f", s.median() / fm);
        f.put("floorMedian", fm);
        row.floor.forEach(f.putArray("floorValues")::add);
      }
      if (row.met != null) {
        f.put("met", row.met);
      }
      md.append(
          String.format(
              "| %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s |%n",
              row.scenario,
              row.figure,
              row.unit,
              fmt(s.median()),
              fmt(s.min()),
              fmt(s.max()),
              row.target,
              floorMedian,
              ratio,
              row.met == null ? "" : row.met ? "yes" : "**no**"));
    }
    Files.writeString(OUT.resolve("report.md"), md.toString());
    JSON.writerWithDefaultPrettyPrinter().writeValue(OUT.resolve("report.json").toFile(), json);
    System.out.println();
    System.out.println(md);
    say("wrote %s and %s", OUT.resolve("report.md"), OUT.resolve("report.json"));
  }

  private static String fmt(double v) {
    return Math.abs(v) >= 100 ? String.format("%.0f", v) : String.format("%.2f", v);
  }

  private static long memTotalBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
      if (line.startsWith("MemTotal:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return 0;
  }

  private static void say(String format, Object... args) {
    System.out.printf("[bench] " + format + "%n", args);
  }
}
