package dev.aliyuncsr.operator.soak;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.OperatorProcess;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * {@code ./mvnw -Psoak}: many AliyunCsrs against a faulty CAS (5% 503s, 5% lost UploadCsr answers
 * whose transparent re-send would be answered 503, 10 UploadCsr per second) while the operator
 * process is SIGKILLed at random and the API server is restarted once. {@code -Dsoak.seed=N} fixes
 * the random choices of the run. Prints the counts that must hold at the end, and the CAS calls by
 * action, and exits non-zero otherwise.
 */
public final class Soak {
  private Soak() {}

  public static void main(String[] args) {
    int exit = 2;
    try {
      exit = run();
    } catch (Exception e) {
      e.printStackTrace();
    } finally {
      // The API server fixture and the emulator hold non-daemon threads.
      System.exit(exit);
    }
  }

  private static int run() throws Exception {
    int resources = Integer.getInteger("soak.resources", 200);
    int kills = Integer.getInteger("soak.kills", 20);
    String seedProperty = System.getProperty("soak.seed", "");
    long seed = seedProperty.isBlank() ? System.nanoTime() : Long.parseLong(seedProperty.trim());
    Random random = new Random(seed);
    say("seed %d: %d resources, %d SIGKILLs, one API server restart", seed, resources, kills);

    say("starting kube-apiserver + etcd");
    String kubeConfig = KubeApiServerFixture.proxiedKubeConfigYaml();
    Path logDir = Files.createDirectories(Path.of("target", "soak"));
    try (CasEmulator emulator =
            CasEmulator.builder()
                .accessKey(OperatorHarness.ACCESS_KEY_ID, OperatorHarness.ACCESS_KEY_SECRET)
                .seed(seed)
                .build()
                .start();
        KubernetesClient client = client(kubeConfig)) {
      emulator.setServerErrorRate(0.05);
      emulator.setLostResponseRate("UploadCsr", 0.05);
      // The trace of the soak that once made a duplicate: stored, the answer lost on a pooled
      // keep-alive connection, and a transparent re-send answered 503. The operator's transport
      // no longer re-sends; a re-send would be counted among UploadCsr's ServiceUnavailable.
      emulator.answerResendsOfLostRequestsWith(503, "ServiceUnavailable");
      emulator.setRateLimit("UploadCsr", 10);
      String ns = "soak";
      client
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
          .serverSideApply();

      say("creating %d Secrets and AliyunCsrs", resources);
      var keyPair = TestPki.rsa(2048);
      for (int i = 0; i < resources; i++) {
        var pki = TestPki.csr(keyPair, "soak-" + i + ".example.com");
        OperatorHarness.secret(client, ns, "csr-" + i, Map.of("tls.csr", pki.csrPem()));
        client.resource(OperatorHarness.aliyunCsr(ns, "soak-" + i, "csr-" + i, null)).create();
      }

      Map<String, String> env = Map.of("WATCH_NAMESPACES", ns);
      Path log = logDir.resolve("operator.log");
      OperatorProcess operator = OperatorProcess.start(kubeConfig, emulator.endpoint(), env, log);
      Instant start = Instant.now();
      int killed = 0;
      boolean restartedApiServer = false;
      while (killed < kills) {
        // A random moment to kill, 2 to 8 s after the last start (the JVM itself takes 2-3 s to
        // start reconciling): not a wait for any state.
        Thread.sleep(2000 + random.nextInt(6000));
        operator.kill();
        killed++;
        if (!restartedApiServer && killed == kills / 2) {
          say("restarting kube-apiserver");
          KubeApiServerFixture.restartApiServer();
          restartedApiServer = true;
        }
        say(
            "SIGKILL %d/%d after %ds: %d Ready, %d CSRs in CAS",
            killed,
            kills,
            Duration.between(start, Instant.now()).toSeconds(),
            ready(client, ns),
            emulator.csrs().size());
        operator = OperatorProcess.start(kubeConfig, emulator.endpoint(), env, log);
      }

      say("letting the last operator process finish");
      Instant deadline = Instant.now().plus(Duration.ofMinutes(10));
      while (ready(client, ns) < resources && Instant.now().isBefore(deadline)) {
        Thread.sleep(1000); // polling for the report, with a deadline
      }
      operator.close();

      List<AliyunCsr> all = client.resources(AliyunCsr.class).inNamespace(ns).list().getItems();
      Map<String, List<StoredCsr>> byName =
          emulator.csrs().stream().collect(Collectors.groupingBy(StoredCsr::name));
      long readyCount = all.stream().filter(Soak::isReady).count();
      long duplicates = byName.values().stream().filter(l -> l.size() > 1).count();
      long idMatches =
          all.stream()
              .filter(Soak::isReady)
              .filter(
                  r -> {
                    List<StoredCsr> stored = byName.get(r.getStatus().getUploadName());
                    return stored != null
                        && stored.size() == 1
                        && stored.get(0).csrId() == r.getStatus().getCsrId();
                  })
              .count();
      Map<String, Long> reasons =
          all.stream()
              .collect(
                  Collectors.groupingBy(
                      r ->
                          r.getStatus() == null
                              ? "(none)"
                              : r.getStatus()
                                  .condition("Ready")
                                  .map(c -> c.getReason())
                                  .orElse("(none)"),
                      Collectors.counting()));
      System.out.printf(
          "%nSoak result (seed %d, %ds):%n"
              + "  resources            %d%n"
              + "  Ready                %d%n"
              + "  CSRs in CAS          %d%n"
              + "  status csrId = CAS   %d%n"
              + "  upload names with more than one CSR (duplicates)  %d%n"
              + "  SIGKILLs             %d%n"
              + "  API server restarts  %d%n"
              + "  Ready reasons        %s%n"
              + "  CAS calls            %s%n",
          seed,
          Duration.between(start, Instant.now()).toSeconds(),
          resources,
          readyCount,
          emulator.csrs().size(),
          idMatches,
          duplicates,
          killed,
          restartedApiServer ? 1 : 0,
          reasons,
          emulator.callStats());
      boolean ok =
          readyCount == resources
              && emulator.csrs().size() == resources
              && idMatches == resources
              && duplicates == 0;
      System.out.println(ok ? "SOAK PASSED" : "SOAK FAILED");
      return ok ? 0 : 1;
    }
  }

  private static KubernetesClient client(String kubeConfig) {
    Config config = Config.fromKubeconfig(kubeConfig);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  private static long ready(KubernetesClient client, String ns) {
    try {
      return client.resources(AliyunCsr.class).inNamespace(ns).list().getItems().stream()
          .filter(Soak::isReady)
          .count();
    } catch (RuntimeException e) {
      return -1; // the API server is restarting
    }
  }

  private static boolean isReady(AliyunCsr r) {
    return r.getStatus() != null
        && r.getStatus().condition("Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  private static void say(String format, Object... args) {
    System.out.printf("[soak] " + format + "%n", args);
  }
}
