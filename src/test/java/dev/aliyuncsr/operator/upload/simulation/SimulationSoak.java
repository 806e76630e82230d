package dev.aliyuncsr.operator.upload.simulation;

/**
 * The benchmark command's longer run of the simulation ({@code ./mvnw -Pbench}): {@code
 * -Dsim.seeds} seeds (the bench profile's {@code bench.sim.seeds}, 0 skips it) from {@code
 * -Dsim.firstSeed}, past the 10,000 that every build runs. Exits 1 when a seed breaks an invariant;
 * each failing seed replays with {@code ./mvnw test -Dtest=UploadProtocolSimulationTest
 * -Dsim.seed=S}.
 */
public final class SimulationSoak {
  private SimulationSoak() {}

  public static void main(String[] args) throws Exception {
    if (Integer.getInteger("sim.seeds", 0) <= 0) {
      System.out.println("simulation soak: skipped (bench.sim.seeds=0)");
      return;
    }
    try {
      new UploadProtocolSimulationTest().invariantsHoldOverManySeeds();
    } catch (AssertionError e) {
      System.out.println("simulation soak: FAILED");
      System.exit(1);
    }
    System.exit(0);
  }
}
