package dev.aliyuncsr.operator.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The operator as a separate JVM ({@code java -jar target/aliyun-csr-operator.jar}), for tests that
 * kill it: a crash must be a real process death, not a stopped thread pool.
 */
public final class OperatorProcess implements AutoCloseable {
  private final Process process;
  private final Path log;

  private OperatorProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * @param env operator environment on top of the API server and emulator settings
   */
  public static OperatorProcess start(String casEndpoint, Map<String, String> env, Path log)
      throws IOException {
    return start(KubeApiServerFixture.kubeConfigYaml(), casEndpoint, env, log);
  }

  public static OperatorProcess start(
      String kubeConfigYaml, String casEndpoint, Map<String, String> env, Path log)
      throws IOException {
    return start(kubeConfigYaml, casEndpoint, env, log, List.of("-XX:+UseSerialGC", "-Xmx256m"));
  }

  /**
   * @param jvmArgs JVM options, e.g. the container's: {@code -XX:MaxRAM=384m
   *     -XX:MaxRAMPercentage=70 -XX:+UseSerialGC}
   */
  public static OperatorProcess start(
      String kubeConfigYaml,
      String casEndpoint,
      Map<String, String> env,
      Path log,
      List<String> jvmArgs)
      throws IOException {
    Path kubeconfig = Files.createTempFile("kubeconfig", ".yaml");
    Files.writeString(kubeconfig, kubeConfigYaml);
    kubeconfig.toFile().deleteOnExit();
    String jar =
        System.getProperty("operator.jar", Path.of("target", "aliyun-csr-operator.jar").toString());
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.add("-jar");
    command.add(jar);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("CAS_ENDPOINT", casEndpoint);
    builder.environment().put("CAS_PROTOCOL", "http");
    builder.environment().put("ALIBABA_CLOUD_ACCESS_KEY_ID", OperatorHarness.ACCESS_KEY_ID);
    builder.environment().put("ALIBABA_CLOUD_ACCESS_KEY_SECRET", OperatorHarness.ACCESS_KEY_SECRET);
    builder.environment().put("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
    builder.environment().putAll(env);
    Files.createDirectories(log.getParent());
    builder
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new OperatorProcess(builder.start(), log);
  }

  /** Waits for the process to end by itself; returns its exit code, or -1 on timeout. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  /** SIGKILL. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  public long pid() {
    return process.pid();
  }

  /** Resident set size of the process, from /proc. */
  public long rssBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS for process " + pid());
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String log() throws IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        kill();
      }
    }
  }
}
