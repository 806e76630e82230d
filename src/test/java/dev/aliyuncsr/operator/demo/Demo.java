package dev.aliyuncsr.operator.demo;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.ValidationRecord;
import dev.aliyuncsr.operator.certificate.CertificateAnnotations;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.InstanceOptions;
import dev.aliyuncsr.operator.testing.Certificates;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * {@code ./mvnw -Pdemo}: the real operator on a local kube-apiserver + etcd with the CAS emulator.
 * Applies the examples in deploy/examples (their Secrets filled with a key and CSR generated now),
 * plus one broken CSR, and prints what the operator made of them. Then the AliyunCertificates of
 * the examples: once their AliyunCsrs are Ready, it buys their instances in the emulator (what a
 * person does in the CAS console), applies them, shows the validation records CAS asks for,
 * completes validation as the CA would on seeing them, and prints the certificate in each Secret.
 */
public final class Demo {
  private Demo() {}

  public static void main(String[] args) throws Exception {
    Path examples = Path.of(args.length > 0 ? args[0] : "deploy/examples");
    step("starting kube-apiserver and etcd " + System.getProperty("kube.version", ""));
    KubeApiServerFixture.kubeConfigYaml();
    step("starting the CAS emulator and the operator");
    int exit;
    // Certificate polling in seconds rather than the default minutes, for a demo that waits.
    try (OperatorHarness harness =
        OperatorHarness.start(Map.of("CERTIFICATE_POLL_MIN", "1s", "CERTIFICATE_POLL_MAX", "2s"))) {
      step("CAS emulator listening on " + harness.emulator.endpoint());
      List<String[]> applied = new ArrayList<>();
      List<AliyunCertificate> certificates = new ArrayList<>();
      try (Stream<Path> files = Files.list(examples)) {
        for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
          step("applying " + file);
          try (InputStream in = Files.newInputStream(file)) {
            for (HasMetadata item : harness.client.load(in).items()) {
              if (item instanceof Secret secret) {
                fillWithGeneratedMaterial(secret);
              }
              if ("AliyunCertificate".equals(item.getKind())) {
                // Applied once its AliyunCsr is Ready and its instance is bought, below.
                step(
                    "holding AliyunCertificate "
                        + item.getMetadata().getNamespace()
                        + "/"
                        + item.getMetadata().getName()
                        + " until its AliyunCsr is Ready and its instance is bought");
                certificates.add(
                    harness
                        .client
                        .getKubernetesSerialization()
                        .convertValue(item, AliyunCertificate.class));
                continue;
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
      exit |= certificates(harness, certificates);
      System.out.printf(
          "%nCAS emulator: %d CSRs stored; calls %s%n",
          harness.emulator.csrs().size(), harness.emulator.callStats());
    }
    System.out.println(
        exit == 0
            ? "\nDemo finished: every example is Ready; the broken one is Stalled; every"
                + " AliyunCertificate's Secret holds its certificate."
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

  /**
   * Each example AliyunCertificate, from a bought instance to its Secret; 0 when every one is
   * Issued with a certificate for its CSR's key in the Secret.
   */
  private static int certificates(OperatorHarness harness, List<AliyunCertificate> certificates)
      throws Exception {
    int unexpected = 0;
    for (AliyunCertificate wanted : certificates) {
      String ns = wanted.getMetadata().getNamespace();
      String name = wanted.getMetadata().getName();
      String instanceId = wanted.getSpec().getInstanceId();
      System.out.println();
      step(
          "buying certificate instance "
              + instanceId
              + " in the emulator (a person does this in the CAS console; the operator never buys)");
      harness.emulator.buyInstance(
          CasEmulator.DEFAULT_ACCOUNT,
          InstanceOptions.defaults().instanceId(instanceId).fullDomainCount(2));
      step("applying AliyunCertificate " + ns + "/" + name);
      harness.client.resource(wanted).serverSideApply();

      step("waiting for CAS to ask for domain validation");
      AliyunCertificate pending =
          awaitCertificate(harness, ns, name, Reasons.AWAITING_VALIDATION, Duration.ofSeconds(60));
      if (pending == null) {
        unexpected++;
        printCertificate(Certificates.get(harness.client, ns, name));
        continue;
      }
      System.out.printf("%n%s/%s status.validation (what to create, and where):%n", ns, name);
      for (ValidationRecord v : pending.getStatus().getValidation()) {
        System.out.printf(
            "  %-26s %-4s %-36s %s%n", v.getDomain(), v.getType(), v.getRecordName(), v.getValue());
      }
      System.out.printf(
          "  Ready: %s%n", Certificates.ready(pending).map(c -> c.getMessage()).orElse("-"));

      step("completing validation in the emulator, as the CA does once it sees the records");
      harness.emulator.completeValidation(instanceId);
      AliyunCertificate issued =
          awaitCertificate(harness, ns, name, Reasons.ISSUED, Duration.ofSeconds(60));
      printCertificate(issued == null ? Certificates.get(harness.client, ns, name) : issued);
      if (issued == null) {
        unexpected++;
        continue;
      }
      Secret secret =
          harness.client.secrets().inNamespace(ns).withName(wanted.getSpec().getSecretName()).get();
      List<X509Certificate> chain = chain(secret.getData().get("tls.crt"));
      X509Certificate leaf = chain.get(0);
      System.out.printf(
          "%nSecret %s/%s (%s, annotated %s=%s):%n",
          ns,
          secret.getMetadata().getName(),
          secret.getType(),
          CertificateAnnotations.SECRET_OWNER,
          secret.getMetadata().getAnnotations().get(CertificateAnnotations.SECRET_OWNER));
      System.out.printf("  keys      %s%n", new TreeSet<>(secret.getData().keySet()));
      System.out.printf("  subject   %s%n", leaf.getSubjectX500Principal().getName());
      System.out.printf("  SANs      %s%n", dnsNames(leaf));
      System.out.printf("  issuer    %s%n", leaf.getIssuerX500Principal().getName());
      System.out.printf("  notAfter  %s%n", leaf.getNotAfter().toInstant());
      System.out.printf("  chain     %d certificates (leaf, then intermediates)%n", chain.size());
    }
    return unexpected == 0 ? 0 : 1;
  }

  /** The resource once its Ready reason is {@code reason} for its generation; null on timeout. */
  private static AliyunCertificate awaitCertificate(
      OperatorHarness harness, String ns, String name, String reason, Duration wait)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(wait);
    while (Instant.now().isBefore(deadline)) {
      AliyunCertificate r = Certificates.get(harness.client, ns, name);
      if (Certificates.reason(r).filter(reason::equals).isPresent()) {
        return r;
      }
      Thread.sleep(200); // polling the API server for the printout, not synchronising tests
    }
    return null;
  }

  private static void printCertificate(AliyunCertificate r) {
    String ns = r.getMetadata().getNamespace();
    String name = r.getMetadata().getName();
    var status = r.getStatus();
    System.out.printf(
        "%n%s/%s: instance %s (%s), certificate %s, serial %s, notAfter %s%n",
        ns,
        name,
        r.getSpec().getInstanceId(),
        status == null ? "-" : status.getInstanceStatus(),
        status == null ? "-" : status.getCertificateId(),
        status == null ? "-" : status.getSerialNumber(),
        status == null ? "-" : status.getNotAfter());
    if (status != null) {
      for (CsrCondition c : status.getConditions()) {
        System.out.printf(
            "  %-12s %-6s %-14s %s%n", c.getType(), c.getStatus(), c.getReason(), c.getMessage());
      }
    }
  }

  private static List<X509Certificate> chain(String base64Pem) throws Exception {
    byte[] pem = Base64.getDecoder().decode(base64Pem);
    return CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(pem))
        .stream()
        .map(c -> (X509Certificate) c)
        .toList();
  }

  private static List<String> dnsNames(X509Certificate certificate) throws Exception {
    var names = certificate.getSubjectAlternativeNames();
    return names == null
        ? List.of()
        : names.stream().filter(n -> (Integer) n.get(0) == 2).map(n -> (String) n.get(1)).toList();
  }

  private static void step(String message) {
    System.out.println("[demo] " + message);
  }
}
