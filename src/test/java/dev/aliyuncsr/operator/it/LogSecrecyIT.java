package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.OperatorProcess;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator jar at {@code LOG_LEVEL=TRACE} (and {@code JOSDK_LOG_LEVEL=TRACE}), authenticated
 * with a bearer token, uploads a CSR with its key: its whole output holds no token, no Secret data,
 * no key and no SDK request URL.
 */
class LogSecrecyIT {
  static CasEmulator emulator;
  static KubernetesClient client;

  @BeforeAll
  static void start() {
    emulator = OperatorHarness.newEmulator();
    client = KubeApiServerFixture.newClient();
  }

  @AfterAll
  static void stop() {
    emulator.close();
    client.close();
  }

  @Test
  void atTraceTheOutputHoldsNoTokenNoSecretDataNoKeyAndNoRequestUrl() throws Exception {
    String ns = OperatorHarness.newNamespace(client, "secrecy-");
    String token = bearerToken(client, ns);
    var pki = TestPki.rsaCsr(2048, "secrecy.example.com");
    OperatorHarness.secret(
        client, ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    client.resource(aliyunCsr(ns, "secret-keeper", "tls", "tls")).create();
    Path log = Path.of("target", "log-secrecy", "trace.log");
    Files.deleteIfExists(log);

    try (OperatorProcess operator =
        OperatorProcess.start(
            tokenKubeConfig(token),
            emulator.endpoint(),
            Map.of(
                "WATCH_NAMESPACES", ns,
                "HTTP_PORT", "0",
                "LOG_LEVEL", "TRACE",
                "JOSDK_LOG_LEVEL", "TRACE"),
            log)) {
      await()
          .atMost(Duration.ofSeconds(90))
          .until(
              () ->
                  client.resources(AliyunCsr.class).inNamespace(ns).withName("secret-keeper").get(),
              r -> r != null && AliyunCsrIT.isReady(r));
      assertThat(emulator.calls("UploadCsr", CasEmulator.OK)).isEqualTo(1);
      assertThat(emulator.csrs()).singleElement().satisfies(c -> assertThat(c.hasPrivateKey()));
      String output = operator.log();

      // The run really was at TRACE and over HTTP, so the checks below mean something.
      assertThat(output).contains(" TRACE ");
      assertThat(output).contains("CAS_PROTOCOL=http").contains("query string");

      assertThat(output).as("bearer token").doesNotContain(token);
      assertThat(output).doesNotContainIgnoringCase("Authorization:");
      assertThat(output).doesNotContainIgnoringCase("Bearer ");
      for (String pem : new String[] {pki.csrPem(), pki.pkcs8KeyPem()}) {
        String base64 = Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8));
        assertThat(output).as("Secret data, base64").doesNotContain(base64.substring(0, 48));
        for (String line : pem.split("\n")) {
          if (!line.startsWith("-----") && line.length() > 16) {
            assertThat(output).as("PEM line").doesNotContain(line);
          }
        }
      }
      assertThat(output).doesNotContain("PRIVATE KEY").doesNotContain("CERTIFICATE REQUEST");
      assertThat(output)
          .as("SDK request URL or query")
          .doesNotContain("Csr=")
          .doesNotContain("Key=")
          .doesNotContain("x-acs-signature")
          .doesNotContain(OperatorHarness.ACCESS_KEY_SECRET)
          .doesNotContain("http://" + emulator.endpoint() + "/?");
    }
  }

  /**
   * A ServiceAccount token allowed to do everything, so the operator sends "Bearer ..." headers.
   */
  static String bearerToken(KubernetesClient client, String ns) {
    client
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("op").endMetadata().build())
        .create();
    client
        .rbac()
        .clusterRoleBindings()
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName(ns + "-op")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "cluster-admin")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("op")
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();
    return client
        .serviceAccounts()
        .inNamespace(ns)
        .withName("op")
        .tokenRequest(
            new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
        .getStatus()
        .getToken();
  }

  static String tokenKubeConfig(String token) {
    Config admin = Config.fromKubeconfig(KubeApiServerFixture.kubeConfigYaml());
    String ca =
        admin.getCaCertData() != null
            ? admin.getCaCertData()
            : Base64.getEncoder().encodeToString(readQuietly(admin.getCaCertFile()));
    return String.join(
        "\n",
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: test",
        "  cluster:",
        "    server: " + admin.getMasterUrl(),
        "    certificate-authority-data: " + ca,
        "users:",
        "- name: op",
        "  user:",
        "    token: " + token,
        "contexts:",
        "- name: op",
        "  context:",
        "    cluster: test",
        "    user: op",
        "current-context: op",
        "");
  }

  private static byte[] readQuietly(String file) {
    try {
      return Files.readAllBytes(Path.of(file));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
