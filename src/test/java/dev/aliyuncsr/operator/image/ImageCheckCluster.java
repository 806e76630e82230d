package dev.aliyuncsr.operator.image;

import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * The cluster side of {@code src/build/image-check.sh}: a real kube-apiserver + etcd with the CRD,
 * deploy/'s namespace, ServiceAccount and RBAC, and the CAS emulator, all on loopback, running
 * until the process gets SIGTERM. The container under test is then run by the script.
 *
 * <p>Usage: {@code ImageCheckCluster STATE_DIR [DEPLOY_DIR]}. Writes into STATE_DIR:
 *
 * <ul>
 *   <li>{@code operator.kubeconfig}: the API server with a token of deploy/'s ServiceAccount, so
 *       the container has exactly the RBAC that deploy/ grants;
 *   <li>{@code admin.kubeconfig}: the API server as its admin, for the script's kubectl;
 *   <li>{@code cas-endpoint}, {@code access-key-id}, {@code access-key-secret}: the emulator;
 *   <li>{@code examples.yaml}: deploy/examples with a key and CSR generated now in each Secret;
 *   <li>{@code ready}: written last, when all of the above exist.
 * </ul>
 */
public final class ImageCheckCluster {
  static final String NAMESPACE = "aliyun-csr-operator";
  static final String SERVICE_ACCOUNT = "aliyun-csr-operator";

  private ImageCheckCluster() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: ImageCheckCluster STATE_DIR [DEPLOY_DIR]");
      System.exit(2);
    }
    Path state = Path.of(args[0]);
    Path deploy = Path.of(args.length > 1 ? args[1] : "deploy");
    Files.createDirectories(state);
    Files.deleteIfExists(state.resolve("ready"));

    step("starting kube-apiserver and etcd " + System.getProperty("kube.version", ""));
    String adminKubeConfig = KubeApiServerFixture.kubeConfigYaml();
    write(state.resolve("admin.kubeconfig"), adminKubeConfig);

    CasEmulator emulator = OperatorHarness.newEmulator();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.printf(
                      "[cluster] stopping; CAS emulator: %d CSRs stored; calls %s%n",
                      emulator.csrs().size(), emulator.callStats());
                  emulator.close();
                  stopped.countDown();
                },
                "image-check-cluster-stop"));
    step("CAS emulator listening on " + emulator.endpoint());
    write(state.resolve("cas-endpoint"), emulator.endpoint());
    write(state.resolve("access-key-id"), OperatorHarness.ACCESS_KEY_ID);
    write(state.resolve("access-key-secret"), OperatorHarness.ACCESS_KEY_SECRET);

    try (KubernetesClient client = KubeApiServerFixture.newClient()) {
      for (String file : List.of("00-namespace.yaml", "01-serviceaccount.yaml", "02-rbac.yaml")) {
        step("applying " + deploy.resolve(file));
        try (InputStream in = Files.newInputStream(deploy.resolve(file))) {
          for (HasMetadata item : client.load(in).items()) {
            client.resource(item).serverSideApply();
          }
        }
      }
      step("requesting a token for ServiceAccount " + NAMESPACE + "/" + SERVICE_ACCOUNT);
      TokenRequest request =
          new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build();
      String token =
          client
              .serviceAccounts()
              .inNamespace(NAMESPACE)
              .withName(SERVICE_ACCOUNT)
              .tokenRequest(request)
              .getStatus()
              .getToken();
      write(state.resolve("operator.kubeconfig"), serviceAccountKubeConfig(adminKubeConfig, token));

      Path examples = deploy.resolve("examples");
      step("preparing " + examples + " with a key and CSR generated now");
      write(state.resolve("examples.yaml"), filledExamples(client, examples));
    }
    write(state.resolve("ready"), "ready");
    step("ready; stop with SIGTERM");
    stopped.await();
  }

  /** A kubeconfig for the same API server that authenticates with the ServiceAccount's token. */
  static String serviceAccountKubeConfig(String adminKubeConfig, String token) {
    Config admin = Config.fromKubeconfig(adminKubeConfig);
    String ca = admin.getCaCertData();
    if ((ca == null || ca.isEmpty()) && admin.getCaCertFile() != null) {
      try {
        ca = Base64.getEncoder().encodeToString(Files.readAllBytes(Path.of(admin.getCaCertFile())));
      } catch (IOException e) {
        throw new IllegalStateException("cannot read " + admin.getCaCertFile(), e);
      }
    }
    String caLine =
        ca == null || ca.isEmpty()
            ? "    insecure-skip-tls-verify: true\n"
            : "    certificate-authority-data: " + ca + "\n";
    String server = admin.getMasterUrl().replaceAll("/+$", "");
    return "apiVersion: v1\n"
        + "kind: Config\n"
        + "clusters:\n"
        + "- name: local\n"
        + "  cluster:\n"
        + "    server: "
        + server
        + "\n"
        + caLine
        + "users:\n"
        + "- name: "
        + SERVICE_ACCOUNT
        + "\n"
        + "  user:\n"
        + "    token: "
        + token
        + "\n"
        + "contexts:\n"
        + "- name: local\n"
        + "  context:\n"
        + "    cluster: local\n"
        + "    user: "
        + SERVICE_ACCOUNT
        + "\n"
        + "    namespace: "
        + NAMESPACE
        + "\n"
        + "current-context: local\n";
  }

  /** deploy/examples as one YAML stream, each Secret's placeholders replaced with real PEM. */
  static String filledExamples(KubernetesClient client, Path examples) throws IOException {
    List<String> documents = new ArrayList<>();
    try (Stream<Path> files = Files.list(examples)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        try (InputStream in = Files.newInputStream(file)) {
          for (HasMetadata item : client.load(in).items()) {
            if (item instanceof Secret secret) {
              fillWithGeneratedMaterial(secret);
            }
            documents.add(Serialization.asYaml(item).replaceFirst("^---\n", ""));
          }
        }
      }
    }
    if (documents.stream()
        .noneMatch(d -> d.contains("kind: \"AliyunCsr\"") || d.contains("kind: AliyunCsr"))) {
      throw new IllegalStateException("no AliyunCsr found in " + examples);
    }
    return String.join("---\n", documents);
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

  /** Written whole or not at all, so that the script never reads half a file. */
  private static void write(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void step(String message) {
    System.out.println("[cluster] " + message);
  }
}
