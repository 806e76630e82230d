package dev.aliyuncsr.operator.certificate;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Deterministic simulation of the certificate protocol (issue 18: "a lost answer, a 5xx, a crash or
 * two live operator processes never cause a second ApplyCertificate for the same CSR"): for each
 * seed, a {@link CertificateSimWorld} of two operator processes, one to three certificates and
 * three instances, run one actor at a time by the upload simulation's scheduler, so that a seed is
 * one schedule and replays exactly. The invariants are listed on {@link CertificateSimWorld}.
 *
 * <p>{@code -Dsim.cert.seeds=N} sets how many seeds run (default 2,000), {@code
 * -Dsim.cert.firstSeed=K} the first; {@code -Dsim.seed=S} replays one seed with its trace printed.
 */
class CertificateSimulationTest {

  @Test
  void noSecondApplicationAndNoForeignWriteOverManySeeds() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger("dev.aliyuncsr.operator.certificate");
    Level level = logger.getLevel();
    String only = System.getProperty("sim.seed", "").trim();
    logger.setLevel(only.isEmpty() ? Level.OFF : Level.DEBUG);
    try {
      if (!only.isEmpty()) {
        CertificateSimWorld.Result r = new CertificateSimWorld(Long.parseLong(only), true).run();
        System.out.println("simulation: seed " + only + " calls " + r.calls());
        assertThat(r.violation()).as("seed " + only).isNull();
        return;
      }
      runSeeds();
    } finally {
      logger.setLevel(level);
    }
  }

  private void runSeeds() throws Exception {
    int seeds = Integer.getInteger("sim.cert.seeds", 2_000);
    long first = Long.getLong("sim.cert.firstSeed", 1);
    long start = System.nanoTime();
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    Map<String, Integer> calls = new TreeMap<>();
    Map<String, Integer> world = new TreeMap<>();
    List<Future<List<CertificateSimWorld.Result>>> parts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int part = t;
      parts.add(
          pool.submit(
              () -> {
                List<CertificateSimWorld.Result> failures = new ArrayList<>();
                for (long s = first + part; s < first + seeds; s += threads) {
                  CertificateSimWorld.Result r = new CertificateSimWorld(s, false).run();
                  if (r.failed()) {
                    failures.add(r);
                  }
                  synchronized (calls) {
                    r.calls().forEach((k, v) -> calls.merge(k, v, Integer::sum));
                    r.events().forEach((k, v) -> world.merge(k, v, Integer::sum));
                  }
                }
                return failures;
              }));
    }
    List<CertificateSimWorld.Result> failures = new ArrayList<>();
    for (var part : parts) {
      failures.addAll(part.get());
    }
    pool.shutdown();
    System.out.printf(
        "certificate simulation: %d seeds in %.1f s, %d failed; CAS calls %s; world %s%n",
        seeds, (System.nanoTime() - start) / 1e9, failures.size(), calls, world);
    failures.sort(Comparator.comparingLong(CertificateSimWorld.Result::seed));
    failures.stream()
        .limit(50)
        .forEach(f -> System.out.println("simulation: seed " + f.seed() + ": " + f.violation()));
    failures.stream()
        .limit(2)
        .forEach(
            f -> {
              System.out.println(
                  "simulation: seed "
                      + f.seed()
                      + " (replay: ./mvnw test -Dtest=CertificateSimulationTest -Dsim.seed="
                      + f.seed()
                      + ")");
              f.trace().forEach(line -> System.out.println("    " + line));
            });
    // The world must have reached what the invariants are about.
    assertThat(calls.getOrDefault("ApplyCertificate", 0)).isPositive();
    assertThat(calls.getOrDefault("ApplyCertificate:lost", 0)).isPositive();
    assertThat(calls.getOrDefault("ApplyCertificate:5xxAfter", 0)).isPositive();
    assertThat(world.getOrDefault("crash", 0)).isPositive();
    assertThat(world.getOrDefault("settled:issued", 0)).isPositive();
    assertThat(world.getOrDefault("secretWrites", 0)).isPositive();
    assertThat(failures.stream().map(f -> f.seed() + ": " + f.violation()).toList()).isEmpty();
  }
}
