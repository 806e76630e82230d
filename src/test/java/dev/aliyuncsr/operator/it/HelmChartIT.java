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
import dev.aliyuncsr.operator.api.AccountRef;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.certificate.DnsEndpoints;
import dev.aliyuncsr.operator.config.OperatorConfig;
import dev.aliyuncsr.operator.kube.ApiAccess;
import dev.aliyuncsr.operator.testing.CertificatePath;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart: lint, templates, its schema, and an install whose RBAC is proven: the operator,
 * under the chart's ServiceAccount, serves AliyunCsrs and AliyunCertificates where it watches and
 * is refused everything else.
 */
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

  /**
   * Two accounts, as a values file (--set would give qps 2.5 as a string): one on an AccessKey
   * Secret by namespace name, one on RRSA by labels.
   */
  static TemplateCommand withTwoAccounts(TemplateCommand t) {
    try {
      Path values = Files.createTempFile("two-accounts", ".yaml");
      Files.writeString(
          values,
          String.join(
              "\n",
              "accounts:",
              "  - name: team-a",
              "    credentials:",
              "      accessKeySecretRef: {name: cas-team-a, securityTokenKey: security-token}",
              "    endpoint: cas.ap-southeast-1.aliyuncs.com",
              "    region: ap-southeast-1",
              "    qps: 2.5",
              "    maxConcurrency: 2",
              "    namespaceSelector: {names: [team-a]}",
              "  - name: team-b",
              "    credentials:",
              "      rrsa:",
              "        roleArn: acs:ram::123456789:role/csr-team-b",
              "        oidcProviderArn: acs:ram::123456789:oidc-provider/c1",
              "    namespaceSelector:",
              "      matchLabels: {team: b}",
              "      matchExpressions: [{key: env, operator: In, values: [prod]}]",
              ""));
      return t.withValuesFile(values);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Stream<ClusterRole> clusterRoles(List<HasMetadata> objects) {
    return objects.stream().filter(ClusterRole.class::isInstance).map(ClusterRole.class::cast);
  }

  static ClusterRole clusterRole(List<HasMetadata> objects, String name) {
    return clusterRoles(objects)
        .filter(r -> r.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  /** Each rule as "resource:verb,verb". */
  static List<String> rules(List<PolicyRule> rules) {
    return rules.stream()
        .flatMap(
            r -> r.getResources().stream().map(res -> res + ":" + String.join(",", r.getVerbs())))
        .toList();
  }

  /** What the operator gets where it watches (ClusterRole, or a Role per watched namespace). */
  static final List<String> WATCH_RULES =
      List.of(
          "aliyuncsrs:get,list,watch,update,patch",
          "aliyuncsrs/status:get,update,patch",
          "aliyuncsrs/finalizers:update",
          "aliyuncertificates:get,list,watch,update,patch",
          "aliyuncertificates/status:get,update,patch",
          "secrets:get,list,watch",
          "secrets:create,patch",
          "events:create,patch");

  static final String DNS_ENDPOINT_RULE = "dnsendpoints:get,list,watch,create,patch,delete";

  static final List<String> ACCOUNT_RULES =
      List.of(
          "aliyuncasaccounts:get,list,watch,update,patch",
          "aliyuncasaccounts/status:get,update,patch",
          "aliyuncasaccounts/finalizers:update",
          "namespaces:get,list,watch");

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
        .noneMatch(k -> k.startsWith("ServiceMonitor/"))
        .noneMatch(k -> k.startsWith("AliyunCasAccount/"));
    assertThat(kinds(objects).stream().filter(k -> k.startsWith("Role/")))
        .containsExactlyInAnyOrder(
            "Role/acsr-aliyun-csr-operator-leader-election",
            "Role/acsr-aliyun-csr-operator-credentials");
    Map<String, String> env = env(objects);
    assertThat(env).containsEntry("LEADER_ELECTION", "true").containsEntry("CAS_QPS", "5");
    assertThat(env).containsKey("ALIBABA_CLOUD_ACCESS_KEY_ID");
    assertThat(env)
        .containsEntry("DEFAULT_ACCOUNT", "operator")
        .containsEntry("STS_ENDPOINT", "sts.aliyuncs.com")
        .doesNotContainKey("ALIBABA_CLOUD_OIDC_TOKEN_FILE");
  }

  @Test
  void theOperatorAlwaysGetsAccountsClusterWideAndCredentialSecretsInItsNamespace() {
    for (List<HasMetadata> objects :
        List.of(render(t -> t), render(t -> withNamespaces(t, "team-a", "team-b")))) {
      assertThat(kinds(objects))
          .contains(
              "ClusterRole/acsr-aliyun-csr-operator-accounts",
              "ClusterRoleBinding/acsr-aliyun-csr-operator-accounts",
              "Role/acsr-aliyun-csr-operator-credentials",
              "RoleBinding/acsr-aliyun-csr-operator-credentials");
      assertThat(rules(clusterRole(objects, "acsr-aliyun-csr-operator-accounts").getRules()))
          .containsExactlyInAnyOrderElementsOf(ACCOUNT_RULES);
      Role credentials =
          objects.stream()
              .filter(Role.class::isInstance)
              .map(Role.class::cast)
              .filter(r -> r.getMetadata().getName().endsWith("-credentials"))
              .findFirst()
              .orElseThrow();
      assertThat(credentials.getMetadata().getNamespace()).isEqualTo("csr-system");
      assertThat(rules(credentials.getRules())).containsExactly("secrets:get,list,watch,create");
    }
  }

  @Test
  void
      whereItWatchesTheOperatorGetsAliyunCertificatesAndWritesSecretsButDnsEndpointsOnlyWhenEnabled() {
    List<HasMetadata> clusterWide = render(t -> t);
    assertThat(rules(clusterRole(clusterWide, "acsr-aliyun-csr-operator").getRules()))
        .containsExactlyInAnyOrderElementsOf(WATCH_RULES);
    List<HasMetadata> namespaced = render(t -> withNamespaces(t, "team-a", "team-b"));
    for (String ns : List.of("team-a", "team-b")) {
      assertThat(rules(role(namespaced, ns, "acsr-aliyun-csr-operator").getRules()))
          .containsExactlyInAnyOrderElementsOf(WATCH_RULES);
    }
    for (List<HasMetadata> objects : List.of(clusterWide, namespaced)) {
      assertThat(allRules(objects)).noneMatch(r -> r.startsWith("dnsendpoints"));
    }

    List<HasMetadata> clusterWideDns = render(t -> t.set("externalDns.enabled", true));
    assertThat(rules(clusterRole(clusterWideDns, "acsr-aliyun-csr-operator").getRules()))
        .containsExactlyInAnyOrderElementsOf(
            Stream.concat(WATCH_RULES.stream(), Stream.of(DNS_ENDPOINT_RULE)).toList());
    List<HasMetadata> namespacedDns =
        render(t -> withNamespaces(t, "team-a", "team-b").set("externalDns.enabled", true));
    for (String ns : List.of("team-a", "team-b")) {
      assertThat(rules(role(namespacedDns, ns, "acsr-aliyun-csr-operator").getRules()))
          .contains(DNS_ENDPOINT_RULE);
    }
    // Only where it watches: never in the accounts' ClusterRole or the release namespace's Roles.
    assertThat(allRules(namespacedDns).stream().filter(DNS_ENDPOINT_RULE::equals)).hasSize(2);
  }

  @Test
  void certificateSettingsReachTheOperatorsEnvironment() {
    assertThat(env(render(t -> t)))
        .containsEntry("CAS_CERTIFICATES_SHARE", "0.2")
        .containsEntry("CERTIFICATE_RENEW_BEFORE", "720h")
        .containsEntry("CERTIFICATE_POLL_MIN", "1m")
        .containsEntry("CERTIFICATE_POLL_MAX", "10m")
        .containsEntry("DNS_VALIDATION_ZONES", "");
    Map<String, String> env =
        env(
            render(
                t ->
                    // A whole number: --set gives 0.5 as a string, which the schema refuses.
                    t.set("cas.certificatesShare", 1)
                        .set("certificates.renewBefore", "1440h")
                        .set("certificates.pollMin", "30s")
                        .set("certificates.pollMax", "5m")
                        .set("certificates.dnsValidationZones[0]", "example.com")
                        .set("certificates.dnsValidationZones[1]", "example.org")));
    assertThat(env)
        .containsEntry("CAS_CERTIFICATES_SHARE", "1")
        .containsEntry("CERTIFICATE_RENEW_BEFORE", "1440h")
        .containsEntry("CERTIFICATE_POLL_MIN", "30s")
        .containsEntry("CERTIFICATE_POLL_MAX", "5m")
        .containsEntry("DNS_VALIDATION_ZONES", "example.com,example.org");
    // What the chart renders is what the operator accepts.
    OperatorConfig config = OperatorConfig.fromEnvironment(env);
    assertThat(config.dnsValidationZones()).containsExactly("example.com", "example.org");
    assertThat(config.certificatesShare()).isEqualTo(1.0);
    assertThat(config.certificatePollMin()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.certificateRenewBefore()).isEqualTo(Duration.ofDays(60));
    assertThat(OperatorConfig.fromEnvironment(env(render(t -> t))).certificateRenewBefore())
        .isEqualTo(Duration.ofDays(30));

    assertThatThrownBy(() -> render(t -> t.set("certificates.renewBefore", "30d")))
        .hasMessageContaining("renewBefore");
    assertThatThrownBy(() -> render(t -> t.set("cas.certificatesShare", 2)))
        .hasMessageContaining("certificatesShare");
    assertThatThrownBy(
            () -> render(t -> t.set("certificates.dnsValidationZones[0]", "a.com,b.com")))
        .hasMessageContaining("dnsValidationZones");
    assertThatThrownBy(() -> render(t -> t.set("externalDns.enabled", "yes")))
        .hasMessageContaining("externalDns");
  }

  static Role role(List<HasMetadata> objects, String namespace, String name) {
    return objects.stream()
        .filter(Role.class::isInstance)
        .map(Role.class::cast)
        .filter(r -> namespace.equals(r.getMetadata().getNamespace()))
        .filter(r -> name.equals(r.getMetadata().getName()))
        .findFirst()
        .orElseThrow();
  }

  /** Every rule of every Role and ClusterRole, as "resource:verb,verb". */
  static List<String> allRules(List<HasMetadata> objects) {
    return objects.stream()
        .flatMap(
            o ->
                o instanceof Role r
                    ? r.getRules().stream()
                    : o instanceof ClusterRole c ? c.getRules().stream() : Stream.empty())
        .flatMap(r -> rules(List.of(r)).stream())
        .toList();
  }

  @Test
  void aggregatedRolesGiveNamespaceUsersAliyunCsrsAndAliyunCertificatesOnlyAndCanBeSwitchedOff() {
    List<HasMetadata> objects = render(t -> t);
    ClusterRole edit = clusterRole(objects, "acsr-aliyun-csr-operator-edit");
    assertThat(edit.getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-admin", "true")
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-edit", "true")
        .doesNotContainKey("rbac.authorization.k8s.io/aggregate-to-view");
    assertThat(rules(edit.getRules()))
        .containsExactly(
            "aliyuncsrs:create,update,patch,delete,get,list,watch",
            "aliyuncertificates:create,update,patch,delete,get,list,watch");
    ClusterRole view = clusterRole(objects, "acsr-aliyun-csr-operator-view");
    assertThat(view.getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-view", "true")
        .doesNotContainKeys(
            "rbac.authorization.k8s.io/aggregate-to-admin",
            "rbac.authorization.k8s.io/aggregate-to-edit");
    assertThat(rules(view.getRules()))
        .containsExactly("aliyuncsrs:get,list,watch", "aliyuncertificates:get,list,watch");
    assertThat(
            clusterRoles(objects)
                .filter(
                    r ->
                        r.getMetadata().getLabels().keySet().stream()
                            .anyMatch(k -> k.contains("aggregate-to-")))
                .flatMap(r -> r.getRules().stream())
                .flatMap(r -> r.getResources().stream()))
        .containsOnly("aliyuncsrs", "aliyuncertificates");
    assertThat(kinds(render(t -> t.set("aggregatedRoles.enabled", false))))
        .doesNotContain(
            "ClusterRole/acsr-aliyun-csr-operator-edit",
            "ClusterRole/acsr-aliyun-csr-operator-view");
  }

  @Test
  void accountsRenderAliyunCasAccountsMirroringTheCrd() {
    List<HasMetadata> objects = render(HelmChartIT::withTwoAccounts);
    List<GenericKubernetesResource> accounts =
        objects.stream()
            .filter(o -> o.getKind().equals("AliyunCasAccount"))
            .map(
                o ->
                    harness
                        .client
                        .getKubernetesSerialization()
                        .convertValue(o, GenericKubernetesResource.class))
            .toList();
    assertThat(accounts)
        .extracting(a -> a.getMetadata().getName())
        .containsExactly("team-a", "team-b");
    assertThat(accounts)
        .allSatisfy(a -> assertThat(a.getApiVersion()).isEqualTo("cas.aliyuncsr.dev/v1alpha1"));
    assertThat(accounts).allSatisfy(a -> assertThat(a.getMetadata().getNamespace()).isNull());
    Map<String, Object> a = accounts.get(0).get("spec");
    assertThat(a)
        .containsEntry(
            "credentials",
            Map.of(
                "accessKeySecretRef",
                Map.of("name", "cas-team-a", "securityTokenKey", "security-token")))
        .containsEntry("endpoint", "cas.ap-southeast-1.aliyuncs.com")
        .containsEntry("region", "ap-southeast-1")
        .containsEntry("qps", 2.5)
        .containsEntry("maxConcurrency", 2)
        .containsEntry("namespaceSelector", Map.of("names", List.of("team-a")));
    Map<String, Object> b = accounts.get(1).get("spec");
    assertThat(b)
        .containsOnlyKeys("credentials", "namespaceSelector")
        .containsEntry(
            "credentials",
            Map.of(
                "rrsa",
                Map.of(
                    "roleArn", "acs:ram::123456789:role/csr-team-b",
                    "oidcProviderArn", "acs:ram::123456789:oidc-provider/c1")))
        .containsEntry(
            "namespaceSelector",
            Map.of(
                "matchLabels", Map.of("team", "b"),
                "matchExpressions",
                    List.of(Map.of("key", "env", "operator", "In", "values", List.of("prod")))));
    // An RRSA account needs the operator's projected token: without the webhook the chart mounts
    // it.
    assertThat(env(objects))
        .containsEntry(
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token")
        .doesNotContainKey("ALIBABA_CLOUD_ROLE_ARN");
  }

  @Test
  void defaultAccountNoneNeedsNoOperatorCredentials() {
    List<HasMetadata> objects =
        render(
            t ->
                t.set("defaultAccount", "none")
                    .set("credentials.existingSecret", "")
                    .set("stsEndpoint", "sts-vpc.cn-hangzhou.aliyuncs.com"));
    assertThat(env(objects))
        .containsEntry("DEFAULT_ACCOUNT", "none")
        .containsEntry("STS_ENDPOINT", "sts-vpc.cn-hangzhou.aliyuncs.com")
        .doesNotContainKey("ALIBABA_CLOUD_ACCESS_KEY_ID");
  }

  @Test
  void wrongAccountsFailAtInstallTime() {
    UnaryOperator<TemplateCommand> one =
        t ->
            t.set("accounts[0].name", "team-a")
                .set("accounts[0].credentials.accessKeySecretRef.name", "cas-team-a")
                .set("accounts[0].namespaceSelector.names[0]", "team-a");
    assertThat(kinds(render(one))).contains("AliyunCasAccount/team-a");
    assertThatThrownBy(
            () ->
                render(
                    t ->
                        t.set("accounts[0].name", "team-a")
                            .set("accounts[0].credentials.accessKeySecretRef.name", "s")))
        .hasMessageContaining("namespaceSelector");
    assertThatThrownBy(
            () ->
                render(
                    t ->
                        t.set("accounts[0].name", "team-a")
                            .set("accounts[0].namespaceSelector.names[0]", "team-a")))
        .hasMessageContaining("credentials");
    assertThatThrownBy(
            () ->
                render(
                    t ->
                        t.set("accounts[0].credentials.accessKeySecretRef.name", "s")
                            .set("accounts[0].namespaceSelector.names[0]", "team-a")))
        .hasMessageContaining("name");
    assertThatThrownBy(
            () ->
                render(
                    t ->
                        one.apply(t)
                            .set(
                                "accounts[0].credentials.assumeRole.roleArn", "acs:ram::1:role/r")))
        .hasMessageContaining("credentials");
    assertThatThrownBy(() -> render(t -> one.apply(t).set("accounts[0].colour", "red")))
        .hasMessageContaining("colour");
    assertThatThrownBy(
            () -> render(t -> one.apply(t).set("accounts[0].namespaceSelector.labels.a", "b")))
        .hasMessageContaining("labels");
    assertThatThrownBy(() -> render(t -> one.apply(t).set("accounts[0].qps", 0)))
        .hasMessageContaining("qps");
    assertThatThrownBy(() -> render(t -> one.apply(t).set("accounts[0].protocol", "FTP")))
        .hasMessageContaining("protocol");
    assertThatThrownBy(
            () ->
                render(
                    t ->
                        one.apply(t)
                            .set("accounts[1].name", "team-a")
                            .set("accounts[1].credentials.accessKeySecretRef.name", "s")
                            .set("accounts[1].namespaceSelector.names[0]", "x")))
        .hasMessageContaining("used twice");
    assertThatThrownBy(() -> render(t -> t.set("defaultAccount", "maybe")))
        .hasMessageContaining("defaultAccount");
  }

  @Test
  void leaderElectionCanBeSwitchedOffAndThenNeedsNoLeaseRole() {
    List<HasMetadata> objects = render(t -> t.set("leaderElection.enabled", false));
    assertThat(kinds(objects).stream().filter(k -> k.startsWith("Role/")))
        .containsExactly("Role/acsr-aliyun-csr-operator-credentials");
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
    // Nothing cluster-wide on AliyunCsrs or Secrets: only the accounts' ClusterRole, and the
    // aggregated roles of namespace users.
    assertThat(clusterRoles(objects).map(r -> r.getMetadata().getName()))
        .containsExactlyInAnyOrder(
            "acsr-aliyun-csr-operator-accounts",
            "acsr-aliyun-csr-operator-edit",
            "acsr-aliyun-csr-operator-view");
    assertThat(rules(clusterRole(objects, "acsr-aliyun-csr-operator-accounts").getRules()))
        .containsExactlyInAnyOrderElementsOf(ACCOUNT_RULES);
    assertThat(kinds(objects).stream().filter(k -> k.startsWith("ClusterRoleBinding/")))
        .containsExactly("ClusterRoleBinding/acsr-aliyun-csr-operator-accounts");
    assertThat(
            objects.stream()
                .filter(Role.class::isInstance)
                .map(o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName()))
        .containsExactlyInAnyOrder(
            "team-a/acsr-aliyun-csr-operator",
            "team-b/acsr-aliyun-csr-operator",
            "csr-system/acsr-aliyun-csr-operator-credentials",
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
  void installedNamespacedWithTwoAccountsTheOperatorWorksAndIsRefusedEverythingElse()
      throws Exception {
    String release = harness.newNamespace().replace("t-", "r");
    String teamA = harness.newNamespace();
    String teamB = harness.newNamespace();
    String other = harness.newNamespace();
    String accountA = "acct-a-" + release;
    String accountB = "acct-b-" + release;
    // teamB is selected by a label, teamA by its name.
    harness
        .client
        .namespaces()
        .withName(teamB)
        .edit(
            n -> {
              n.getMetadata().setLabels(Map.of("acsr-team", teamB));
              return n;
            });
    Release installed =
        new Helm(CHART)
            .install()
            .withName(release)
            .withNamespace(release)
            .createNamespace()
            .withKubeConfigContents(KubeApiServerFixture.kubeConfigYaml())
            .set("watchNamespaces[0]", teamA)
            .set("watchNamespaces[1]", teamB)
            .set("accounts[0].name", accountA)
            .set("accounts[0].credentials.accessKeySecretRef.name", "cas-a")
            .set("accounts[0].endpoint", harness.emulator.endpoint())
            .set("accounts[0].protocol", "HTTP")
            .set("accounts[0].qps", 20)
            .set("accounts[0].namespaceSelector.names[0]", teamA)
            .set("accounts[1].name", accountB)
            .set("accounts[1].credentials.accessKeySecretRef.name", "cas-b")
            .set("accounts[1].credentials.accessKeySecretRef.accessKeyIdKey", "id")
            .set("accounts[1].credentials.accessKeySecretRef.accessKeySecretKey", "secret")
            .set("accounts[1].endpoint", harness.emulator.endpoint())
            .set("accounts[1].protocol", "HTTP")
            .set("accounts[1].namespaceSelector.matchLabels.acsr-team", teamB)
            .set("externalDns.enabled", true)
            .call();
    assertThat(installed.getStatus()).isEqualTo("deployed");
    String fullname = release + "-aliyun-csr-operator";
    assertThat(harness.client.apps().deployments().inNamespace(release).withName(fullname).get())
        .isNotNull();
    assertThat(harness.client.rbac().roles().inNamespace(teamA).withName(fullname).get())
        .isNotNull();
    assertThat(harness.client.rbac().clusterRoles().withName(fullname).get()).isNull();
    // What the accounts need, cluster-wide even when namespaced, and the credential Secrets' Role.
    ClusterRole accountsRole =
        harness.client.rbac().clusterRoles().withName(fullname + "-accounts").get();
    assertThat(accountsRole).isNotNull();
    assertThat(rules(accountsRole.getRules())).containsExactlyInAnyOrderElementsOf(ACCOUNT_RULES);
    assertThat(harness.client.rbac().clusterRoleBindings().withName(fullname + "-accounts").get())
        .isNotNull();
    assertThat(
            harness
                .client
                .rbac()
                .roles()
                .inNamespace(release)
                .withName(fullname + "-credentials")
                .get())
        .isNotNull();
    assertThat(
            harness
                .client
                .rbac()
                .roleBindings()
                .inNamespace(release)
                .withName(fullname + "-credentials")
                .get())
        .isNotNull();
    assertThat(harness.client.rbac().clusterRoles().withName(fullname + "-edit").get()).isNotNull();
    assertThat(harness.client.rbac().clusterRoles().withName(fullname + "-view").get()).isNotNull();
    // Both accounts, on the API server as the values say.
    AliyunCasAccount a = harness.client.resources(AliyunCasAccount.class).withName(accountA).get();
    AliyunCasAccount b = harness.client.resources(AliyunCasAccount.class).withName(accountB).get();
    assertThat(a.getSpec().getCredentials().getAccessKeySecretRef().getName()).isEqualTo("cas-a");
    assertThat(a.getSpec().getNamespaceSelector().getNames()).containsExactly(teamA);
    assertThat(a.getSpec().getQps()).isEqualTo(20.0);
    assertThat(b.getSpec().getCredentials().getAccessKeySecretRef().idKey()).isEqualTo("id");
    assertThat(b.getSpec().getNamespaceSelector().getMatchLabels())
        .containsExactly(Map.entry("acsr-team", teamB));
    assertThat(b.getSpec().getQps()).as("the CRD's default").isEqualTo(5.0);

    harness.secret(
        release,
        "cas-a",
        Map.of(
            "access-key-id", OperatorHarness.ACCESS_KEY_ID,
            "access-key-secret", OperatorHarness.ACCESS_KEY_SECRET));
    harness.secret(
        release,
        "cas-b",
        Map.of("id", OperatorHarness.ACCESS_KEY_ID, "secret", OperatorHarness.ACCESS_KEY_SECRET));

    Config config = Config.fromKubeconfig(KubeApiServerFixture.kubeConfigYaml());
    config.setImpersonateUsername("system:serviceaccount:" + release + ":" + fullname);
    config.setImpersonateGroups(
        "system:serviceaccounts", "system:serviceaccounts:" + release, "system:authenticated");
    try (KubernetesClient asOperator = new KubernetesClientBuilder().withConfig(config).build()) {
      var pki = TestPki.ecCsr("secp256r1", "helm.example.com");
      harness.secret(teamA, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
      var pkiA = TestPki.ecCsr("secp256r1", "a.helm.example.com");
      harness.secret(teamA, "tls-a", Map.of("tls.csr", pkiA.csrPem()));
      var pkiB = TestPki.ecCsr("secp256r1", "b.helm.example.com");
      harness.secret(teamB, "tls-b", Map.of("tls.csr", pkiB.csrPem()));
      harness.secret(other, "elsewhere", Map.of("a", "b"));
      harness.create(aliyunCsr(teamA, "helm", "tls", "tls"));
      AliyunCsr onA = aliyunCsr(teamA, "helm-a", "tls-a", null);
      onA.getSpec().setAccountRef(new AccountRef(accountA));
      harness.create(onA);
      AliyunCsr onB = aliyunCsr(teamB, "helm-b", "tls-b", null);
      onB.getSpec().setAccountRef(new AccountRef(accountB));
      harness.create(onB);
      Map<String, String> env = new HashMap<>();
      env.put("WATCH_NAMESPACES", teamA + "," + teamB);
      env.put("POD_NAMESPACE", release); // where the chart's Role lets it read credentials
      env.put("CAS_ENDPOINT", harness.emulator.endpoint());
      env.put("CAS_PROTOCOL", "http");
      env.put("HTTP_PORT", "0");
      env.put("CERTIFICATE_POLL_MIN", "1s");
      env.put("CERTIFICATE_POLL_MAX", "2s");
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
        assertThat(
                await()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> harness.get(teamA, "helm-a"), AliyunCsrIT::isReady)
                    .getStatus()
                    .getAccount())
            .isEqualTo(accountA);
        assertThat(
                await()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> harness.get(teamB, "helm-b"), AliyunCsrIT::isReady)
                    .getStatus()
                    .getAccount())
            .isEqualTo(accountB);
        // The operator wrote both accounts' status and finalizer, and counted their namespaces.
        for (String name : List.of(accountA, accountB)) {
          AliyunCasAccount account =
              await()
                  .atMost(Duration.ofSeconds(30))
                  .until(
                      () -> harness.client.resources(AliyunCasAccount.class).withName(name).get(),
                      x ->
                          x.getStatus() != null
                              && Integer.valueOf(1).equals(x.getStatus().getCsrCount())
                              && Integer.valueOf(1).equals(x.getStatus().getNamespaceCount())
                              && x.getStatus()
                                  .condition("Ready")
                                  .map(c -> "True".equals(c.getStatus()))
                                  .orElse(false));
          assertThat(account.getMetadata().getFinalizers()).contains(AliyunCasAccount.FINALIZER);
        }
        // An AliyunCertificate in a watched namespace ends in its kubernetes.io/tls Secret.
        CertificatePath.issue(
            harness, teamA, "helm-cert", "cert.helm.example.com", Duration.ofSeconds(90));
        harness.client.resources(AliyunCertificate.class).inNamespace(teamA).delete();
        // Cleanup while the operator runs: each CSR is deleted through its account.
        for (String[] r :
            new String[][] {
              {teamA, "helm"}, {teamA, "helm-a"}, {teamB, "helm-b"}, {teamA, "helm-cert"}
            }) {
          harness.client.resources(AliyunCsr.class).inNamespace(r[0]).withName(r[1]).delete();
        }
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    harness.get(teamA, "helm") == null
                        && harness.get(teamA, "helm-cert") == null
                        && harness.get(teamA, "helm-a") == null
                        && harness.get(teamB, "helm-b") == null);
      }
      assertForbidden(() -> asOperator.secrets().inNamespace(other).withName("elsewhere").get());
      assertForbidden(() -> asOperator.secrets().inNamespace(other).list());
      assertForbidden(() -> asOperator.secrets().inAnyNamespace().list());
      // Secrets are created and patched where it watches (an AliyunCertificate's), never
      // replaced whole or deleted, and never written anywhere else.
      var created =
          asOperator
              .secrets()
              .inNamespace(teamA)
              .resource(
                  new io.fabric8.kubernetes.api.model.SecretBuilder()
                      .withNewMetadata()
                      .withName("new")
                      .endMetadata()
                      .build())
              .create();
      assertThat(created.getMetadata().getUid()).isNotNull();
      assertForbidden(
          () ->
              asOperator
                  .secrets()
                  .inNamespace(other)
                  .resource(
                      new io.fabric8.kubernetes.api.model.SecretBuilder()
                          .withNewMetadata()
                          .withName("new")
                          .endMetadata()
                          .build())
                  .create());
      assertForbidden(() -> asOperator.secrets().inNamespace(teamA).resource(created).update());
      assertForbidden(() -> asOperator.secrets().inNamespace(teamA).withName("tls").delete());
      // DNSEndpoints (externalDns.enabled) where it watches only; the CRD need not exist for RBAC.
      List<String> dnsVerbs = List.of("get", "list", "watch", "create", "patch", "delete");
      assertThat(
              ApiAccess.allowed(
                  asOperator, DnsEndpoints.GROUP, DnsEndpoints.PLURAL, dnsVerbs, List.of(teamA)))
          .isTrue();
      assertThat(
              ApiAccess.allowed(
                  asOperator,
                  DnsEndpoints.GROUP,
                  DnsEndpoints.PLURAL,
                  List.of("list"),
                  List.of(other)))
          .isFalse();
      assertForbidden(() -> asOperator.secrets().inNamespace(release).withName("cas-a").delete());
      assertForbidden(() -> asOperator.resources(AliyunCsr.class).inNamespace(other).list());
      // Accounts are the admins': the operator neither creates nor deletes one.
      assertForbidden(
          () -> asOperator.resources(AliyunCasAccount.class).withName(accountA).delete());
      AliyunCasAccount copy =
          harness.client.resources(AliyunCasAccount.class).withName(accountA).get();
      copy.getMetadata().setName("made-by-the-operator-" + release);
      copy.getMetadata().setResourceVersion(null);
      copy.getMetadata().setUid(null);
      copy.getMetadata().setFinalizers(null);
      copy.setStatus(null);
      assertForbidden(() -> asOperator.resource(copy).create());
      assertForbidden(() -> asOperator.namespaces().withName(other).delete());
    }

    // A namespace user holding the chart's aggregated edit role manages AliyunCsrs there, and
    // cannot see, let alone make, an AliyunCasAccount.
    harness
        .client
        .rbac()
        .roleBindings()
        .inNamespace(teamA)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("alice-edit")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", fullname + "-edit")
                .addNewSubject()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("User")
                .withName("alice")
                .endSubject()
                .build())
        .create();
    Config alice = Config.fromKubeconfig(KubeApiServerFixture.kubeConfigYaml());
    alice.setImpersonateUsername("alice");
    alice.setImpersonateGroups("system:authenticated");
    try (KubernetesClient asAlice = new KubernetesClientBuilder().withConfig(alice).build()) {
      AliyunCsr mine = aliyunCsr(teamA, "alices", "tls", null);
      mine.getSpec().setAccountRef(new AccountRef(accountA));
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .until(() -> asAlice.resource(mine).create() != null);
      assertThat(asAlice.resources(AliyunCsr.class).inNamespace(teamA).list().getItems())
          .extracting(r -> r.getMetadata().getName())
          .contains("alices");
      asAlice.resources(AliyunCsr.class).inNamespace(teamA).withName("alices").delete();
      assertForbidden(() -> asAlice.resources(AliyunCsr.class).inNamespace(teamB).list());
      assertForbidden(() -> asAlice.resources(AliyunCasAccount.class).list());
      assertForbidden(() -> asAlice.resources(AliyunCasAccount.class).withName(accountA).get());
    }

    Helm.uninstall(release)
        .withNamespace(release)
        .withKubeConfigContents(KubeApiServerFixture.kubeConfigYaml())
        .call();
    // Uninstalling deletes the accounts; with no operator left, their finalizer is removed here.
    for (String name : List.of(accountA, accountB)) {
      var account = harness.client.resources(AliyunCasAccount.class).withName(name);
      if (account.get() != null) {
        account.edit(
            x -> {
              x.getMetadata().setFinalizers(List.of());
              return x;
            });
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> account.get() == null);
    }
  }

  static void assertForbidden(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
  }
}
