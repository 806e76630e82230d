package dev.aliyuncsr.operator.demo;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./mvnw -Pdemo}: the real operator on a local kube-apiserver + etcd with the CAS emulator.
 * Applies the examples in deploy/examples (their Secrets filled with a key and CSR generated now),
 * plus one broken CSR, and prints what the operator made of them.
 */
public final class Demo {
  private Demo() {}

  public static void main(String[] args) throws Exception {
    Path examples = Path.of(args.length > 0 ? args[0] : "deploy/examples");
    step("starting kube-apiserver and etcd " + System.getProperty("kube.version", ""));
    KubeApiServerFixture.kubeConfigYaml();
    step("starting the CAS emulator and the operator");
    int exit;
    try (OperatorHarness harness = OperatorHarness.start()) {
      step("CAS emulator listening on " + harness.emulator.endpoint());
      List<String[]> applied = new ArrayList<>();
      try (Stream<Path> files = Files.list(examples)) {
        for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
          step("applying " + file);
          try (InputStream in = Files.newInputStream(file)) {
            for (HasMetadata item : harness.client.load(in).items()) {
              if (item instanceof Secret secret) {
                fillWithGeneratedMaterial(secret);
              }
              harness.client.resource(item).serverSideApply();
              // By kind: the YAML may load as a generic resource rather than an AliyunCsr.
              if ("AliyunCsr".equals(item.getKind())) {
                applied.add(
                    new String[] {item.getMetadata().getNamespace(), item.getMetadata().getName()});
              }
            }
          }
        }
      }
      if (applied.isEmpty()) {
        throw new IllegalStateException("no AliyunCsr found in " + examples);
      }
      step("applying a broken example: a Secret whose tls.csr holds no CSR");
      harness.secret(
          "default",
          "broken-csr",
          Map.of(
              "tls.csr",
              "-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----\n"));
      harness.create(OperatorHarness.aliyunCsr("default", "broken", "broken-csr", null));
      applied.add(new String[] {"default", "broken"});

      step("waiting for the operator");
      Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
      while (Instant.now().isBefore(deadline) && !allSettled(harness, applied)) {
        Thread.sleep(200); // polling the API server for the printout, not synchronising tests
      }
      exit = print(harness, applied);
      System.out.printf(
          "%nCAS emulator: %d CSRs stored; calls %s%n",
          harness.emulator.csrs().size(), harness.emulator.callStats());
    }
    System.out.println(
        exit == 0
            ? "\nDemo finished: every example is Ready; the broken one is Stalled."
            : "\nDemo finished with unexpected states.");
    System.exit(exit);
  }

  private static void fillWithGeneratedMaterial(Secret secret) {
    Map<String, String> data = secret.getStringData() == null ? Map.of() : secret.getStringData();
    if (!data.containsKey("tls.csr")) {
      return;
    }
    String cn = secret.getMetadata().getName() + ".example.com";
    var material = TestPki.rsaCsr(2048, cn, cn, "www." + cn);
    Map<String, String> filled = new HashMap<>();
    filled.put("tls.csr", material.csrPem());
    if (data.containsKey("tls.key")) {
      filled.put("tls.key", material.pkcs8KeyPem());
    }
    secret.setStringData(filled);
  }

  private static boolean allSettled(OperatorHarness harness, List<String[]> applied) {
    for (String[] ref : applied) {
      AliyunCsr r = harness.get(ref[0], ref[1]);
      if (r == null || r.getStatus() == null) {
        return false;
      }
      boolean settled =
          r.getStatus().condition("Ready").map(c -> "True".equals(c.getStatus())).orElse(false)
              || r.getStatus()
                  .condition("Stalled")
                  .map(c -> "True".equals(c.getStatus()))
                  .orElse(false);
      if (!settled) {
        return false;
      }
    }
    return true;
  }

  private static int print(OperatorHarness harness, List<String[]> applied) {
    int unexpected = 0;
    System.out.printf(
        "%n%-10s %-8s %-6s %-12s %-10s %s%n",
        "NAMESPACE", "NAME", "READY", "REASON", "CSRID", "UPLOAD NAME");
    for (String[] ref : applied) {
      AliyunCsr r = harness.get(ref[0], ref[1]);
      var status = r.getStatus();
      CsrCondition ready = status == null ? null : status.condition("Ready").orElse(null);
      System.out.printf(
          "%-10s %-8s %-6s %-12s %-10s %s%n",
          ref[0],
          ref[1],
          ready == null ? "-" : ready.getStatus(),
          ready == null ? "-" : ready.getReason(),
          status == null || status.getCsrId() == null ? "-" : status.getCsrId(),
          status == null || status.getUploadName() == null ? "-" : status.getUploadName());
      boolean isReady = ready != null && "True".equals(ready.getStatus());
      if (isReady == ref[1].equals("broken")) {
        unexpected++;
      }
    }
    for (String[] ref : applied) {
      AliyunCsr r = harness.get(ref[0], ref[1]);
      System.out.printf("%n%s/%s conditions:%n", ref[0], ref[1]);
      if (r.getStatus() != null) {
        for (CsrCondition c : r.getStatus().getConditions()) {
          System.out.printf(
              "  %-12s %-6s %-14s %s%n", c.getType(), c.getStatus(), c.getReason(), c.getMessage());
        }
      }
    }
    return unexpected == 0 ? 0 : 1;
  }

  private static void step(String message) {
    System.out.println("[demo] " + message);
  }
}
