package dev.aliyuncsr.operator.certificate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.CsrRef;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi.WriteRefused;
import dev.aliyuncsr.operator.kube.ResourceEvents;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import dev.aliyuncsr.operator.testing.TestCa;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.upload.simulation.Scheduler;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;

/**
 * One seeded world of the certificate simulation: two operator processes run the real {@link
 * CertificateProtocol} (observer, decider, executor, status writer) against an in-memory API server
 * ({@link InMemoryCertificateKube}: 409/422 fences) and simulated CAS instances ({@link
 * SimInstances}: lost answers, 5xx before and after, throttling, late answers), one actor at a time
 * on the {@link Scheduler} of the upload simulation. The seed chooses every step: which process
 * reconciles which certificate on a fresh or a stale copy, crashes at any call or write, the clock,
 * the CA completing or failing validation (or issuing for the wrong key), a person's retry values,
 * a renewal to a new instance, a new key and CSR for the AliyunCsr, and a Secret of someone else's
 * put where the certificate's Secret goes.
 *
 * <p>Invariants, checked at the moment of each call or write and after every step: at most one
 * ApplyCertificate per instance and CSR (one more per failed validation a person retried); no
 * UpdateInstance on an instance holding another CSR or an application, no ApplyCertificate on one
 * holding an application; a written Secret's tls.key always matches its tls.crt; a Secret without
 * this certificate's annotation is never written; the reconcile never throws. Once the world calms
 * (no faults, validation completed), a certificate whose instance issued for its CSR ends Issued
 * with that certificate in its Secret.
 */
final class CertificateSimWorld {
  static final String NS = "team";
  static final Duration LEASE = Duration.ofSeconds(45);
  static final Duration MAX_CALL = Duration.ofSeconds(30);
  static final Duration CONNECT = Duration.ofSeconds(5);
  static final int STEPS = 120;
  static final int SETTLE_STEPS = 400;

  /** Keys and CSRs made once per JVM: the shop's, its next one, a rival's, a stranger's. */
  static final List<TestPki.Material> POOL =
      List.of(
          TestPki.rsaCsr(2048, "shop.example.com", "www.shop.example.com"),
          TestPki.rsaCsr(2048, "shop.example.com"),
          TestPki.rsaCsr(2048, "rival.example.com"),
          TestPki.rsaCsr(2048, "someone-else.example.com"));

  static final Map<String, TestPki.Material> BY_CSR = new HashMap<>();
  static final Map<String, TestPki.Material> BY_KEY = new HashMap<>();
  static final TestCa CA = TestCa.create("Simulation");

  static {
    for (TestPki.Material m : POOL) {
      BY_CSR.put(m.csrPem().strip(), m);
      BY_KEY.put(m.pkcs8KeyPem().strip(), m);
    }
  }

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

  private final long seed;
  private final boolean verbose;
  private final Random random;
  private final CertificateProtocolTest.MutableClock clock =
      new CertificateProtocolTest.MutableClock(Instant.parse("2026-12-03T08:00:00Z"));
  private final InMemoryCertificateKube kube = new InMemoryCertificateKube();
  private final Scheduler scheduler = new Scheduler();
  private final List<String> trace = new ArrayList<>();
  private final Map<String, Integer> events = new TreeMap<>();
  private final SimInstances cas;
  private final Map<String, AliyunCsr> csrs = new LinkedHashMap<>();
  private final List<String> certificates = new ArrayList<>();
  private final List<Scheduler.Actor> actors = new ArrayList<>();
  private String violation;
  private int tokens;
  private int retryValues;
  private boolean renewed;
  private int rekeyStep;
  private boolean mayRenew;
  private boolean mayRekey;
  private final Map<String, Boolean> wrongKey = new HashMap<>();

  CertificateSimWorld(long seed, boolean verbose) {
    this.seed = seed;
    this.verbose = verbose;
    this.random = new Random(seed);
    this.cas =
        new SimInstances(random, clock::instant, scheduler, CONNECT, MAX_CALL, CA, BY_CSR, trace);
  }

  Result run() {
    long started = System.nanoTime();
    try {
      build();
      for (int i = 0; i < STEPS && violation() == null; i++) {
        step(false);
      }
      // The world calms: no faults, the CA completes what is pending, time goes on.
      cas.faults = false;
      trace.add("-- settling");
      for (int i = 1; i <= SETTLE_STEPS && violation() == null; i++) {
        step(true);
        if (i % 10 == 0 && settled().orElse(i >= 60)) {
          break;
        }
      }
      if (violation() == null) {
        checkSettled();
      }
    } catch (RuntimeException | Error e) {
      violate("the world failed: " + e);
    } finally {
      scheduler.shutdown();
    }
    if (verbose) {
      trace.forEach(System.out::println);
      System.out.println(
          "seed " + seed + " ran in " + (System.nanoTime() - started) / 1_000_000 + " ms");
    }
    return new Result(seed, violation(), trace, cas.calls, events);
  }

  private String violation() {
    return violation != null ? violation : cas.violation;
  }

  // ---- the world at the start ---------------------------------------------------------------

  private void build() {
    cas.buy("cas_dv-cn-sim00001");
    cas.buy("cas_dv-cn-sim00002");
    putKeySecret("tls-shop", POOL.get(0));
    putKeySecret("tls-rival", POOL.get(2));
    csrs.put("shop", csr("shop", "tls-shop", POOL.get(0)));
    csrs.put("rival", csr("rival", "tls-rival", POOL.get(2)));
    boolean externalDns = random.nextBoolean();
    create("shop", "shop", "cas_dv-cn-sim00001", externalDns, "2026-12-03T07:00:00Z");
    if (random.nextBoolean()) {
      // A second certificate names the same instance later, with another CSR: it must wait its
      // turn (InstanceConflict), and once shop moves on, find the instance in use.
      create("rival", "rival", "cas_dv-cn-sim00001", false, "2026-12-03T07:00:01Z");
    }
    if (random.nextBoolean()) {
      // An instance someone applied for in the console with a CSR of their own.
      cas.buyTaken("cas_dv-cn-sim00003", POOL.get(3).csrPem());
      create("taken", "shop", "cas_dv-cn-sim00003", false, "2026-12-03T07:00:02Z");
    }
    if (random.nextInt(8) == 0) {
      putForeignSecret();
    }
    mayRenew = random.nextBoolean();
    mayRekey = random.nextInt(3) == 0;
    cas.faults = random.nextInt(5) != 0;
    trace.add(
        "seed "
            + seed
            + ": certificates "
            + certificates
            + ", faults "
            + cas.faults
            + ", externalDns "
            + externalDns
            + ", renewal "
            + mayRenew
            + ", new key "
            + mayRekey);
    for (String name : List.of("process-a", "process-b")) {
      Process p = new Process(name);
      actors.add(scheduler.spawn(name, p));
    }
  }

  private void create(
      String name, String csr, String instanceId, boolean externalDns, String createdAt) {
    AliyunCertificate r = CertificateWorld.certificate();
    r.getMetadata().setName(name);
    r.getMetadata().setNamespace(NS);
    r.getMetadata().setUid("uid-" + name);
    r.getMetadata().setResourceVersion(null);
    r.getSpec().setCsrRef(new CsrRef(csr));
    r.getSpec().setInstanceId(instanceId);
    r.getSpec().setSecretName(name + "-cert");
    r.getSpec().setExternalDns(externalDns);
    r.setStatus(null);
    kube.create(r, createdAt);
    certificates.add(name);
  }

  private static AliyunCsr csr(String name, String secret, TestPki.Material m) {
    AliyunCsr csr = CertificateWorld.readyCsr();
    csr.getMetadata().setName(name);
    csr.getMetadata().setNamespace(NS);
    AliyunCsrSpec spec = new AliyunCsrSpec();
    spec.setCsrSecretRef(new SecretKeyRef(secret, null));
    spec.setKeySecretRef(new SecretKeyRef(secret, null));
    csr.setSpec(spec);
    csr.getStatus().setCsrSha256(CsrValidator.validate(m.csrPem()).value().csrSha256());
    return csr;
  }

  private void putKeySecret(String name, TestPki.Material m) {
    kube.putSecret(
        new SecretBuilder()
            .withMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build())
            .withData(Map.of("tls.csr", base64(m.csrPem()), "tls.key", base64(m.pkcs8KeyPem())))
            .build());
  }

  /** Someone else's Secret where shop's goes: the operator must never write it. */
  private void putForeignSecret() {
    if (kube.secret(NS, "shop-cert").isPresent()) {
      return;
    }
    kube.putSecret(
        new SecretBuilder()
            .withMetadata(new ObjectMetaBuilder().withNamespace(NS).withName("shop-cert").build())
            .withType("kubernetes.io/tls")
            .withData(Map.of("tls.crt", base64("theirs"), "tls.key", base64("theirs")))
            .build());
    trace.add("world: someone else's Secret shop-cert");
    count("foreignSecret");
  }

  // ---- one step -------------------------------------------------------------------------------

  private void step(boolean settling) {
    int r = random.nextInt(100);
    if (r < (settling ? 75 : 60)) {
      Scheduler.Actor a = actors.get(random.nextInt(actors.size()));
      scheduler.resume(a);
    } else if (settling) {
      settleWorld();
    } else if (r < 63) {
      Scheduler.Actor a = actors.get(random.nextInt(actors.size()));
      trace.add("world: crash " + a.name);
      count("crash");
      scheduler.crash(a);
    } else if (r < 80) {
      // Mostly the seconds a call takes; now and then long enough for a lease or a poll.
      Duration d =
          random.nextInt(5) == 0
              ? Duration.ofSeconds(30 + random.nextInt(60))
              : Duration.ofMillis(200 + random.nextInt(4000));
      clock.advance(d);
      trace.add("world: clock +" + d.toMillis() + "ms");
    } else {
      person();
    }
    checkSecrets();
  }

  /** What a person, the CA or the network does. */
  private void person() {
    List<SimInstances.Instance> pending =
        cas.instances.values().stream().filter(i -> i.status.equals("pending")).toList();
    int r = random.nextInt(pending.isEmpty() ? 60 : 100) + (pending.isEmpty() ? 40 : 0);
    if (r < 25) {
      SimInstances.Instance i = pending.get(random.nextInt(pending.size()));
      boolean wrong = random.nextInt(10) == 0;
      cas.completeValidation(
          i.id, wrong ? Optional.of(POOL.get(3).keyPair().getPublic()) : Optional.empty());
      wrongKey.put(i.id, wrong);
      trace.add("world: CA issues " + i.id + (wrong ? " for the wrong key" : ""));
      count(wrong ? "issuedWrongKey" : "issued");
    } else if (r < 40) {
      SimInstances.Instance i = pending.get(random.nextInt(pending.size()));
      cas.failValidation(i.id);
      trace.add("world: validation of " + i.id + " fails");
      count("validationFailed");
    } else if (r < 45) {
      String name = certificates.get(random.nextInt(certificates.size()));
      String value = "r" + (++retryValues);
      String instanceId = kube.get(NS, name).orElseThrow().getSpec().getInstanceId();
      cas.retries.merge(instanceId, 1, Integer::sum);
      kube.edit(
          NS,
          name,
          n -> {
            ObjectNode meta = (ObjectNode) n.get("metadata");
            if (!meta.has("annotations") || meta.get("annotations").isNull()) {
              meta.putObject("annotations");
            }
            ((ObjectNode) meta.get("annotations"))
                .put(CertificateAnnotations.RETRY_APPLICATION, value);
          });
      trace.add("world: " + name + " retry-application " + value);
      count("retry");
    } else if (r < 62 && mayRenew && !renewed) {
      renewed = true;
      kube.edit(
          NS, "shop", n -> ((ObjectNode) n.get("spec")).put("instanceId", "cas_dv-cn-sim00002"));
      trace.add("world: shop renews on cas_dv-cn-sim00002");
      count("renewal");
    } else if (r < 68 && mayRekey && rekeyStep < 2) {
      rekeyStep++;
      if (rekeyStep == 1) {
        // A new key and CSR in the Secret; the AliyunCsr records it a moment later.
        putKeySecret("tls-shop", POOL.get(1));
        trace.add("world: tls-shop holds a new key and CSR");
      } else {
        csrs.put("shop", csr("shop", "tls-shop", POOL.get(1)));
        trace.add("world: AliyunCsr shop records the new CSR");
      }
      count("rekey" + rekeyStep);
    } else if (r < 71) {
      Optional<Secret> s = kube.secret(NS, "shop-cert");
      if (s.isEmpty()) {
        putForeignSecret();
      } else {
        kube.deleteSecret(NS, "shop-cert");
        trace.add("world: Secret shop-cert deleted");
        count("secretDeleted");
      }
    } else if (r < 80) {
      cas.faults = !cas.faults;
      trace.add("world: faults " + cas.faults);
    } else {
      clock.advance(Duration.ofSeconds(30));
      trace.add("world: clock +30s");
    }
  }

  /** The calm world: the CA issues what is pending, for the right key. */
  private void settleWorld() {
    for (SimInstances.Instance i : cas.instances.values()) {
      if (i.status.equals("pending")) {
        cas.completeValidation(i.id, Optional.empty());
        wrongKey.put(i.id, false);
        trace.add("world: CA issues " + i.id);
      }
    }
    Optional<Secret> s = kube.secret(NS, "shop-cert");
    if (s.isPresent() && owner(s.get()) == null) {
      kube.deleteSecret(NS, "shop-cert");
      trace.add("world: someone else's Secret shop-cert deleted");
    }
    if (cas.inFlight == 0) {
      // Calm: no call outlives its timeouts.
      clock.advance(Duration.ofSeconds(30));
      trace.add("world: clock +30s");
    }
  }

  // ---- the operator's processes ---------------------------------------------------------------

  /** One operator process: reconciles a certificate the seed picks, on a fresh or stale copy. */
  private final class Process implements Scheduler.Body {
    private final String name;
    private int incarnation = 1;
    private CertificateProtocol protocol;
    private final Map<String, AliyunCertificate> seen = new HashMap<>();

    Process(String name) {
      this.name = name;
      this.protocol = protocol(holder());
    }

    String holder() {
      return name + "/" + incarnation;
    }

    @Override
    public void step() {
      String cert = certificates.get(random.nextInt(certificates.size()));
      AliyunCertificate copy;
      if (random.nextInt(4) == 0 && seen.containsKey(cert)) {
        copy = seen.get(cert); // the informer's copy, behind the API server
      } else {
        scheduler.yieldNow();
        copy = kube.get(NS, cert).orElse(null);
      }
      if (copy == null) {
        return;
      }
      seen.put(cert, copy);
      CertificateProtocol.Result result;
      try {
        result = protocol.reconcile(copy, CertificateProtocol.WriteListener.NONE);
      } catch (RuntimeException e) {
        violate(holder() + " reconcile of " + cert + " threw " + e);
        throw e;
      }
      String line =
          holder()
              + " "
              + cert
              + ": "
              + result.outcome().state()
              + " "
              + result.outcome().reason()
              + " - "
              + result.outcome().message();
      trace.add(line.length() > 220 ? line.substring(0, 220) + "..." : line);
      count("reason:" + result.outcome().reason());
    }

    @Override
    public void restart() {
      incarnation++;
      seen.clear();
      protocol = protocol(holder());
    }
  }

  private CertificateProtocol protocol(String holder) {
    var client = cas.client(holder);
    ResourceEvents noEvents =
        new ResourceEvents() {
          @Override
          public void normal(HasMetadata resource, String reason, String message) {}

          @Override
          public void warning(HasMetadata resource, String reason, String message) {}
        };
    return new CertificateProtocol(
        yielding(holder),
        new CertificatePeers() {
          @Override
          public Optional<AliyunCsr> csr(String namespace, String name) {
            return Optional.ofNullable(csrs.get(name)).map(c -> Serialization.clone(c));
          }

          @Override
          public Optional<AliyunCertificate> earlierNaming(
              AliyunCertificate self, String instanceId, String account) {
            return certificates.stream()
                .map(n -> kube.get(NS, n).orElse(null))
                .filter(Objects::nonNull)
                .filter(c -> !c.getMetadata().getUid().equals(self.getMetadata().getUid()))
                .filter(c -> instanceId.equals(c.getSpec().getInstanceId()))
                .filter(c -> earlier(c, self))
                .min(
                    Comparator.comparing(
                            (AliyunCertificate c) -> c.getMetadata().getCreationTimestamp())
                        .thenComparing(c -> c.getMetadata().getUid()));
          }
        },
        (namespace, account) ->
            new CertificateRoute.Route(
                Optional.of(new CertificateRoute.InstanceAccess(null, client, client)),
                Optional.empty(),
                Optional.empty(),
                List.of("example.com")),
        Settings.defaults(),
        noEvents,
        clock,
        new RetryBackoff(Duration.ofSeconds(1), Duration.ofMinutes(5), bound -> 0),
        CertificateCrashPoints.none(),
        new CertificateProtocol.LeaseSettings(
            holder, LEASE, MAX_CALL, () -> holder + "-token-" + (++tokens)),
        () -> true);
  }

  private static boolean earlier(AliyunCertificate a, AliyunCertificate b) {
    int c =
        a.getMetadata().getCreationTimestamp().compareTo(b.getMetadata().getCreationTimestamp());
    return c < 0 || (c == 0 && a.getMetadata().getUid().compareTo(b.getMetadata().getUid()) < 0);
  }

  /** The API server one process talks to: each request a yield point, each Secret write checked. */
  private CertificateKube yielding(String process) {
    return new CertificateKube() {
      @Override
      public Optional<AliyunCertificate> get(String namespace, String name) {
        scheduler.yieldNow();
        return kube.get(namespace, name);
      }

      @Override
      public AliyunCertificate patchStatus(AliyunCertificate at, JsonPatch patch)
          throws WriteRefused {
        scheduler.yieldNow();
        return kube.patchStatus(at, patch);
      }

      @Override
      public Optional<Secret> secret(String namespace, String name) {
        scheduler.yieldNow();
        return kube.secret(namespace, name);
      }

      @Override
      public Secret createSecret(Secret secret) throws WriteRefused {
        scheduler.yieldNow();
        Secret after = kube.createSecret(secret);
        written(process, null, after);
        return after;
      }

      @Override
      public Secret patchSecret(String namespace, String name, JsonPatch patch)
          throws WriteRefused {
        scheduler.yieldNow();
        Secret before = kube.secret(namespace, name).orElse(null);
        Secret after = kube.patchSecret(namespace, name, patch);
        written(process, before, after);
        return after;
      }

      @Override
      public Optional<GenericKubernetesResource> dnsEndpoint(String namespace, String name) {
        scheduler.yieldNow();
        return kube.dnsEndpoint(namespace, name);
      }

      @Override
      public void createDnsEndpoint(GenericKubernetesResource endpoint) throws WriteRefused {
        scheduler.yieldNow();
        kube.createDnsEndpoint(endpoint);
      }

      @Override
      public void patchDnsEndpoint(String namespace, String name, JsonPatch patch)
          throws WriteRefused {
        scheduler.yieldNow();
        kube.patchDnsEndpoint(namespace, name, patch);
      }

      @Override
      public void deleteDnsEndpoint(String namespace, String name, String resourceVersion)
          throws WriteRefused {
        scheduler.yieldNow();
        kube.deleteDnsEndpoint(namespace, name, resourceVersion);
      }
    };
  }

  // ---- invariants -----------------------------------------------------------------------------

  /** A Secret write: never over one without this certificate's annotation; key matches cert. */
  private void written(String process, Secret before, Secret after) {
    String name = after.getMetadata().getName();
    String owner = owner(after);
    trace.add("  Secret " + name + " written by " + process + " for " + owner);
    count("secretWrites");
    if (owner == null || !name.equals(owner + "-cert")) {
      violate("Secret " + name + " written without its certificate's annotation (" + owner + ")");
    }
    if (before != null && !Objects.equals(owner(before), owner)) {
      violate(
          "Secret "
              + name
              + " of "
              + (owner(before) == null ? "someone else" : owner(before))
              + " overwritten by "
              + process);
    }
    checkSecrets();
  }

  /** Every Secret the operator wrote pairs its certificate with the certificate's own key. */
  private void checkSecrets() {
    for (String name : certificates) {
      Optional<Secret> s = kube.secret(NS, name + "-cert");
      if (s.isEmpty() || owner(s.get()) == null) {
        continue;
      }
      Map<String, String> data = s.get().getData();
      String crt = decode(data.get("tls.crt"));
      String key = decode(data.get("tls.key"));
      TestPki.Material m = key == null ? null : BY_KEY.get(key.strip());
      if (m == null) {
        violate("Secret " + name + "-cert holds a key the world never made");
        return;
      }
      try {
        X509Certificate leaf =
            (X509Certificate)
                CertificateFactory.getInstance("X.509")
                    .generateCertificate(
                        new ByteArrayInputStream(crt.getBytes(StandardCharsets.UTF_8)));
        if (!Arrays.equals(
            leaf.getPublicKey().getEncoded(), m.keyPair().getPublic().getEncoded())) {
          violate("Secret " + name + "-cert pairs a certificate with a key that is not its own");
        }
      } catch (Exception e) {
        violate("Secret " + name + "-cert holds no readable certificate: " + e);
      }
    }
  }

  /**
   * Whether shop is where the calm world must bring it: empty when its instance did not issue for
   * its current CSR's key (a failed validation, the wrong key, a CSR that changed), so nothing is
   * owed.
   */
  private Optional<Boolean> settled() {
    AliyunCertificate shop = kube.get(NS, "shop").orElseThrow();
    SimInstances.Instance i = cas.instances.get(shop.getSpec().getInstanceId());
    String currentCsr = POOL.get(rekeyStep == 2 ? 1 : 0).csrPem().strip();
    if (!i.status.equals("normal")
        || wrongKey.getOrDefault(i.id, false)
        || i.csrPem == null
        || !i.csrPem.strip().equals(currentCsr)
        || rekeyStep == 1) {
      return Optional.empty();
    }
    var ready = shop.getStatus() == null ? null : shop.getStatus().condition("Ready").orElse(null);
    return Optional.of(
        ready != null
            && "True".equals(ready.getStatus())
            && Objects.equals(shop.getStatus().getCertificateId(), i.certificateId));
  }

  /** At the end, calm: a certificate whose instance issued for its CSR's key is Issued. */
  private void checkSettled() {
    Optional<Boolean> settled = settled();
    if (settled.isEmpty()) {
      count("settled:notApplicable");
    } else if (settled.get()) {
      count("settled:issued");
    } else {
      AliyunCertificate shop = kube.get(NS, "shop").orElseThrow();
      var ready =
          shop.getStatus() == null ? null : shop.getStatus().condition("Ready").orElse(null);
      violate(
          "liveness: shop's instance issued for its CSR, yet shop is "
              + (ready == null ? "without status" : ready.getReason() + ": " + ready.getMessage()));
    }
  }

  private static String owner(Secret s) {
    Map<String, String> a = s.getMetadata().getAnnotations();
    return a == null ? null : a.get(CertificateAnnotations.SECRET_OWNER);
  }

  private void violate(String what) {
    if (violation == null) {
      violation = what;
    }
    trace.add("  VIOLATION " + what);
  }

  private void count(String what) {
    events.merge(what, 1, Integer::sum);
  }

  private static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String s) {
    return s == null ? null : new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
  }
}
