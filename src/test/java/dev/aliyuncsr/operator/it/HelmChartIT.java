package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.Release;
import com.marcnuri.helm.TemplateCommand;
import dev.aliyuncsr.operator.AliyunCsrOperator;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.config.OperatorConfig;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Helm chart: lint, templates, its schema, and an install whose RBAC is proven. */
class HelmChartIT {
  static final Path CHART =
      Path.of(System.getProperty("user.dir"), "deploy", "helm", "aliyun-csr-operator");
  static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
    harness.stopOperator(); // the operator runs here under the chart's identity instead
    AliyunCsrIT.harness = harness;
  }

  @AfterAll
  static void stop() {
    harness.startOperator();
    harness.close();
  }

  static List<HasMetadata> render(UnaryOperator<TemplateCommand> values) {
    String yaml =
        values
            .apply(new Helm(CHART).template().withName("acsr").withNamespace("csr-system"))
            .call();
    return harness
        .client
        .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)))
        .items();
  }

  static TemplateCommand withNamespaces(TemplateCommand t, String... namespaces) {
    for (int i = 0; i < namespaces.length; i++) {
      t = t.set("watchNamespaces[" + i + "]", namespaces[i]);
    }
    return t;
  }

  static List<String> kinds(List<HasMetadata> objects) {
    return objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
  }

  static Map<String, String> env(List<HasMetadata> objects) {
    Deployment deployment =
        objects.stream()
            .filter(Deployment.class::isInstance)
            .map(Deployment.class::cast)
            .findFirst()
            .orElseThrow();
    Map<String, String> env = new HashMap<>();
    deployment
        .getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .getEnv()
        .forEach(e -> env.put(e.getName(), e.getValue()));
    return env;
  }

  @Test
  void lintIsCleanInStrictMode() {
    LintResult result = new Helm(CHART).lint().strict().call();
    assertThat(result.isFailed()).as("%s", result.getMessages()).isFalse();
  }

  @Test
  void defaultsAreClusterWideWithOneReplicaAndLeaderElectionForRollingUpgrades() {
    List<HasMetadata> objects = render(t -> t);
    assertThat(kinds(objects))
        .contains(
            "ServiceAccount/acsr-aliyun-csr-operator",
            "ClusterRole/acsr-aliyun-csr-operator",
            "ClusterRoleBinding/acsr-aliyun-csr-operator",
            "Deployment/acsr-aliyun-csr-operator",
            "Service/acsr-aliyun-csr-operator-metrics",
            "Role/acsr-aliyun-csr-operator-leader-election")
        .noneMatch(k -> k.startsWith("ServiceMonitor/"));
    assertThat(kinds(objects).stream().filter(k -> k.startsWith("Role/")))
        .containsExactly("Role/acsr-aliyun-csr-operator-leader-election");
    Map<String, String> env = env(objects);
    assertThat(env).containsEntry("LEADER_ELECTION", "true").containsEntry("CAS_QPS", "5");
    assertThat(env).containsKey("ALIBABA_CLOUD_ACCESS_KEY_ID");
  }

  @Test
  void leaderElectionCanBeSwitchedOffAndThenNeedsNoLeaseRole() {
    List<HasMetadata> objects = render(t -> t.set("leaderElection.enabled", false));
    assertThat(kinds(objects)).noneMatch(k -> k.startsWith("Role/"));
    assertThat(env(objects)).containsEntry("LEADER_ELECTION", "false");
  }

  @Test
  void namespacedReplicatedInstallGetsRolesAndLeaderElection() {
    List<HasMetadata> objects =
        render(
            t ->
                withNamespaces(t, "team-a", "team-b")
                    .set("replicaCount", 2)
                    .set("metrics.serviceMonitor.enabled", true));
    assertThat(objects.stream().filter(ClusterRole.class::isInstance)).isEmpty();
    assertThat(
            objects.stream()
                .filter(Role.class::isInstance)
                .map(o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName()))
        .containsExactlyInAnyOrder(
            "team-a/acsr-aliyun-csr-operator",
            "team-b/acsr-aliyun-csr-operator",
            "csr-system/acsr-aliyun-csr-operator-leader-election");
    assertThat(kinds(objects)).contains("ServiceMonitor/acsr-aliyun-csr-operator");
    assertThat(env(objects))
        .containsEntry("LEADER_ELECTION", "true")
        .containsEntry("WATCH_NAMESPACES", "team-a,team-b");
  }

  @Test
  void rrsaAnnotatesTheServiceAccountOrProjectsTheToken() {
    List<HasMetadata> webhook =
        render(
            t ->
                t.set("rrsa.enabled", true)
                    .set("rrsa.roleName", "csr-uploader")
                    .set("credentials.existingSecret", ""));
    HasMetadata sa =
        webhook.stream()
            .filter(o -> o.getKind().equals("ServiceAccount"))
            .findFirst()
            .orElseThrow();
    assertThat(sa.getMetadata().getAnnotations())
        .containsEntry("pod-identity.alibabacloud.com/role-name", "csr-uploader");
    assertThat(env(webhook)).doesNotContainKey("ALIBABA_CLOUD_ACCESS_KEY_ID");

    List<HasMetadata> manual =
        render(
            t ->
                t.set("rrsa.enabled", true)
                    .set("credentials.existingSecret", "")
                    .set("rrsa.roleArn", "acs:ram::123456789:role/csr-uploader")
                    .set("rrsa.oidcProviderArn", "acs:ram::123456789:oidc-provider/ack-rrsa-c1")
                    .set("rrsa.stsRegion", "cn-hangzhou")
                    .set("rrsa.vpcEndpoint", true));
    assertThat(env(manual))
        .containsEntry("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::123456789:role/csr-uploader")
        .containsEntry(
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token")
        .containsEntry("ALIBABA_CLOUD_STS_REGION", "cn-hangzhou")
        .containsEntry("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "true");
  }

  @Test
  void wrongValuesFailAtInstallTime() {
    assertThatThrownBy(() -> render(t -> t.set("cas.qps", "fast"))).hasMessageContaining("qps");
    assertThatThrownBy(() -> render(t -> t.set("logFormat", "xml")))
        .hasMessageContaining("logFormat");
    assertThatThrownBy(() -> render(t -> t.set("replicas", 2))).hasMessageContaining("replicas");
    assertThatThrownBy(() -> render(t -> withNamespaces(t, "Not_A_Namespace")))
        .hasMessageContaining("watchNamespaces");
    assertThatThrownBy(
            () -> render(t -> t.set("credentials.existingSecret", "").set("rrsa.enabled", false)))
        .hasMessageContaining("credentials.existingSecret");
  }

  @Test
  void installedNamespacedTheOperatorWorksAndIsRefusedEverythingElse() throws Exception {
    String release = harness.newNamespace().replace("t-", "r");
    String teamA = harness.newNamespace();
    String teamB = harness.newNamespace();
    String other = harness.newNamespace();
    Release installed =
        new Helm(CHART)
            .install()
            .withName(release)
            .withNamespace(release)
            .createNamespace()
            .withKubeConfigContents(KubeApiServerFixture.kubeConfigYaml())
            .set("watchNamespaces[0]", teamA)
            .set("watchNamespaces[1]", teamB)
            .call();
    assertThat(installed.getStatus()).isEqualTo("deployed");
    String fullname = release + "-aliyun-csr-operator";
    assertThat(harness.client.apps().deployments().inNamespace(release).withName(fullname).get())
        .isNotNull();
    assertThat(harness.client.rbac().roles().inNamespace(teamA).withName(fullname).get())
        .isNotNull();
    assertThat(harness.client.rbac().clusterRoles().withName(fullname).get()).isNull();

    Config config = Config.fromKubeconfig(KubeApiServerFixture.kubeConfigYaml());
    config.setImpersonateUsername("system:serviceaccount:" + release + ":" + fullname);
    config.setImpersonateGroups(
        "system:serviceaccounts", "system:serviceaccounts:" + release, "system:authenticated");
    try (KubernetesClient asOperator = new KubernetesClientBuilder().withConfig(config).build()) {
      var pki = TestPki.ecCsr("secp256r1", "helm.example.com");
      harness.secret(teamA, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
      harness.secret(other, "elsewhere", Map.of("a", "b"));
      harness.create(aliyunCsr(teamA, "helm", "tls", "tls"));
      Map<String, String> env = new HashMap<>();
      env.put("WATCH_NAMESPACES", teamA + "," + teamB);
      env.put("CAS_ENDPOINT", harness.emulator.endpoint());
      env.put("CAS_PROTOCOL", "http");
      env.put("HTTP_PORT", "0");
      try (AliyunCsrOperator operator =
          AliyunCsrOperator.start(
              asOperator,
              harness.casClient(OperatorHarness.ACCESS_KEY_SECRET),
              OperatorConfig.fromEnvironment(env))) {
        AliyunCsr ready =
            await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> harness.get(teamA, "helm"), AliyunCsrIT::isReady);
        assertThat(ready.getStatus().getPrivateKeyUploaded()).isTrue();
      }
      assertForbidden(() -> asOperator.secrets().inNamespace(other).withName("elsewhere").get());
      assertForbidden(() -> asOperator.secrets().inNamespace(other).list());
      assertForbidden(() -> asOperator.secrets().inAnyNamespace().list());
      assertForbidden(
          () ->
              asOperator
                  .secrets()
                  .inNamespace(teamA)
                  .resource(
                      new io.fabric8.kubernetes.api.model.SecretBuilder()
                          .withNewMetadata()
                          .withName("new")
                          .endMetadata()
                          .build())
                  .create());
      assertForbidden(() -> asOperator.secrets().inNamespace(teamA).withName("tls").delete());
      assertForbidden(() -> asOperator.resources(AliyunCsr.class).inNamespace(other).list());
    }
    Helm.uninstall(release)
        .withNamespace(release)
        .withKubeConfigContents(KubeApiServerFixture.kubeConfigYaml())
        .call();
  }

  static void assertForbidden(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
  }
}
