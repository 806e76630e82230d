package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.OperatorHarness.aliyunCsr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aliyuncsr.operator.AliyunCsrOperator;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.certificate.DnsEndpoints;
import dev.aliyuncsr.operator.kube.ApiAccess;
import dev.aliyuncsr.operator.testing.CertificatePath;
import dev.aliyuncsr.operator.testing.Certificates;
import dev.aliyuncsr.operator.testing.KubeApiServerFixture;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/ applies with {@code kubectl apply -k} (CRDs included) to a real API server, and the
 * operator works under exactly the RBAC it grants, for AliyunCsrs and AliyunCertificates: it is run
 * as that ServiceAccount (impersonation) and is refused what it must not do.
 */
class DeployManifestsIT {
  static final String SA = "system:serviceaccount:aliyun-csr-operator:aliyun-csr-operator";
  static OperatorHarness harness;
  static KubernetesClient asOperator;

  @BeforeAll
  static void start() throws Exception {
    // Certificate polling in seconds, not minutes: the path to a Secret is waited for below.
    harness =
        OperatorHarness.start(Map.of("CERTIFICATE_POLL_MIN", "1s", "CERTIFICATE_POLL_MAX", "2s"));
    harness.stopOperator(); // this class runs the operator under the ServiceAccount instead
    AliyunCsrIT.harness = harness;
    Path deploy = Path.of(System.getProperty("user.dir"), "deploy");
    kubectl("apply", "-k", deploy.toString()); // with the CRDs, from ../crds
    kubectl("apply", "-f", deploy.toString()); // the same objects but the CRDs, file by file
    Config config = Config.fromKubeconfig(KubeApiServerFixture.kubeConfigYaml());
    config.setImpersonateUsername(SA);
    config.setImpersonateGroups(
        "system:serviceaccounts",
        "system:serviceaccounts:aliyun-csr-operator",
        "system:authenticated");
    asOperator = new KubernetesClientBuilder().withConfig(config).build();
  }

  @AfterAll
  static void stop() {
    Certificates.deleteAll(harness.client);
    asOperator.close();
    harness.startOperator(); // releases what the test left, under the admin identity
    harness.close();
  }

  /** Runs kubectl against the test API server; returns its output, failing on a non-zero exit. */
  static String kubectl(String... args) throws IOException, InterruptedException {
    Path kubeconfig = Files.createTempFile("kubeconfig", ".yaml");
    Files.writeString(kubeconfig, KubeApiServerFixture.kubeConfigYaml());
    String version = System.getProperty("kube.version", "1.36.3");
    Path binary =
        Path.of(
            System.getProperty("user.home"),
            ".kubeapitest",
            "k8s",
            version + "-linux-amd64",
            "kubectl");
    var command = new java.util.ArrayList<String>();
    command.add(binary.toString());
    command.add("--kubeconfig=" + kubeconfig);
    // A discovery cache of its own: one in ~/.kube/cache may be an earlier API server's on the
    // same port, without these CRDs.
    command.add("--cache-dir=" + Files.createTempDirectory("kubectl-cache"));
    command.addAll(java.util.List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("kubectl %s: %s", String.join(" ", args), output).isZero();
    return output;
  }

  @Test
  void kubectlExplainDescribesAliyunCertificates() throws Exception {
    assertThat(kubectl("explain", "acert.spec"))
        .contains("csrRef", "instanceId", "secretName", "privateKeySecretRef", "externalDns")
        .contains("Which CSR, which instance, and where the certificate goes.");
    assertThat(kubectl("explain", "acert.spec.instanceId"))
        .contains("bought in the CAS console", "renewal");
    assertThat(kubectl("explain", "acert.spec.secretName"))
        .contains("cas.aliyuncsr.dev/certificate", "never overwritten");
    assertThat(kubectl("explain", "acert.status.validation.recordName"))
        .contains("Where to create it");
    assertThat(kubectl("explain", "acert.status.conditions.reason")).contains("AliyunCertificate");
    assertThat(kubectl("explain", "aliyuncasaccount.spec.issuance.dnsZones"))
        .contains("DnsZoneNotAllowed");
  }

  @Test
  void theOperatorWorksUnderItsOwnServiceAccount() {
    String ns = harness.newNamespace();
    var pki = TestPki.rsaCsr(2048, "rbac.example.com");
    harness.secret(ns, "tls", Map.of("tls.csr", pki.csrPem(), "tls.key", pki.pkcs8KeyPem()));
    harness.create(aliyunCsr(ns, "rbac", "tls", "tls"));
    try (AliyunCsrOperator operator =
        AliyunCsrOperator.start(
            asOperator, harness.casClient(OperatorHarness.ACCESS_KEY_SECRET), harness.config())) {
      AliyunCsr ready =
          await()
              .atMost(Duration.ofSeconds(60))
              .until(() -> harness.get(ns, "rbac"), AliyunCsrIT::isReady);
      assertThat(ready.getStatus().getPrivateKeyUploaded()).isTrue();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  AliyunCsrIT.events(ns, "rbac").stream()
                      .anyMatch(e -> "Uploaded".equals(e.getReason())));
    }
  }

  @Test
  void theOperatorServesAliyunCertificatesUnderItsOwnServiceAccount() {
    String ns = harness.newNamespace();
    try (AliyunCsrOperator operator =
        AliyunCsrOperator.start(
            asOperator, harness.casClient(OperatorHarness.ACCESS_KEY_SECRET), harness.config())) {
      assertThat(operator.servesCertificates()).isTrue();
      CertificatePath.Issued issued =
          CertificatePath.issue(
              harness, ns, "deployed", "deployed.example.com", Duration.ofSeconds(90));
      assertThat(issued.certificate().getStatus().getCertificateInstanceId())
          .isEqualTo(issued.instanceId());
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> Certificates.events(harness.client, ns, "deployed", "Normal", Reasons.ISSUED),
              e -> !e.isEmpty());
    }
  }

  /**
   * An older release's RBAC (Secrets read only) with this version's CRDs: AliyunCertificates are
   * not served at all, rather than applied for (paid) and never written; AliyunCsrs still are.
   */
  @Test
  void withoutSecretWritesAliyunCertificatesAreNotServed() throws Exception {
    String name = "aliyun-csr-operator-secrets-read-only";
    var rbac = harness.client.rbac();
    var rules =
        rbac.clusterRoles().withName("aliyun-csr-operator").get().getRules().stream()
            .filter(r -> !(r.getResources().contains("secrets") && r.getVerbs().contains("create")))
            .toList();
    assertThat(rules(rules))
        .contains("secrets:get,list,watch")
        .doesNotContain("secrets:create,patch");
    rbac.clusterRoles()
        .resource(
            new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withRules(rules)
                .build())
        .createOr(NonDeletingOperation::update);
    for (String role : List.of(name, "aliyun-csr-operator-accounts")) {
      rbac.clusterRoleBindings()
          .resource(
              new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder()
                  .withNewMetadata()
                  .withName(name + "-" + role)
                  .endMetadata()
                  .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role)
                  .addNewSubject()
                  .withKind("User")
                  .withApiGroup("rbac.authorization.k8s.io")
                  .withName("secrets-reader")
                  .endSubject()
                  .build())
          .createOr(NonDeletingOperation::update);
    }
    Config config = Config.fromKubeconfig(KubeApiServerFixture.kubeConfigYaml());
    config.setImpersonateUsername("secrets-reader");
    config.setImpersonateGroups("system:authenticated");
    try (KubernetesClient reader = new KubernetesClientBuilder().withConfig(config).build()) {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  ApiAccess.allowed(
                      reader, AliyunCsr.GROUP, "aliyuncsrs", List.of("list"), List.of()));
      try (AliyunCsrOperator operator =
          AliyunCsrOperator.start(
              reader, harness.casClient(OperatorHarness.ACCESS_KEY_SECRET), harness.config())) {
        assertThat(operator.servesCertificates()).isFalse();
      }
    } finally {
      for (String role : List.of(name, "aliyun-csr-operator-accounts")) {
        rbac.clusterRoleBindings().withName(name + "-" + role).delete();
      }
      rbac.clusterRoles().withName(name).delete();
    }
  }

  @Test
  void theKustomizationInstallsEveryCrd() {
    for (String crd :
        List.of(
            "aliyuncsrs.cas.aliyuncsr.dev",
            "aliyuncasaccounts.cas.aliyuncsr.dev",
            "aliyuncertificates.cas.aliyuncsr.dev")) {
      var installed =
          harness.client.apiextensions().v1().customResourceDefinitions().withName(crd).get();
      assertThat(installed).as(crd).isNotNull();
      assertThat(installed.getMetadata().getAnnotations())
          .as("%s was applied by kubectl apply -k deploy/", crd)
          .containsKey("kubectl.kubernetes.io/last-applied-configuration");
    }
  }

  @Test
  void theOperatorsClusterRoleCoversAliyunCertificatesAndTheirSecretsButNotDnsEndpoints() {
    assertThat(
            rules(
                harness
                    .client
                    .rbac()
                    .clusterRoles()
                    .withName("aliyun-csr-operator")
                    .get()
                    .getRules()))
        .containsExactlyInAnyOrder(
            "aliyuncsrs:get,list,watch,update,patch",
            "aliyuncsrs/status:get,update,patch",
            "aliyuncsrs/finalizers:update",
            "aliyuncertificates:get,list,watch,update,patch",
            "aliyuncertificates/status:get,update,patch",
            "secrets:get,list,watch",
            "secrets:create,patch",
            "events:create,patch");
    List<String> everywhere = List.of();
    assertThat(
            ApiAccess.allowed(
                asOperator,
                AliyunCsr.GROUP,
                "aliyuncertificates",
                List.of("get", "list", "watch", "patch"),
                everywhere))
        .isTrue();
    // dnsendpoints are opt-in (deploy/external-dns/); waited for, in case the opt-in test's
    // binding, deleted a moment ago, is still in the authorizer's cache.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                !ApiAccess.allowed(
                    asOperator,
                    DnsEndpoints.GROUP,
                    DnsEndpoints.PLURAL,
                    List.of("list"),
                    everywhere));
  }

  @Test
  void theExternalDnsOptInGrantsDnsEndpointsAndNothingElse() throws Exception {
    Path optIn =
        Path.of(System.getProperty("user.dir"), "deploy", "external-dns", "dnsendpoints-rbac.yaml");
    kubectl("apply", "-f", optIn.toString());
    try {
      assertThat(
              rules(
                  harness
                      .client
                      .rbac()
                      .clusterRoles()
                      .withName("aliyun-csr-operator-dnsendpoints")
                      .get()
                      .getRules()))
          .containsExactly("dnsendpoints:get,list,watch,create,patch,delete");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  ApiAccess.allowed(
                      asOperator,
                      DnsEndpoints.GROUP,
                      DnsEndpoints.PLURAL,
                      List.of("get", "list", "watch", "create", "patch", "delete"),
                      List.of()));
    } finally {
      kubectl("delete", "-f", optIn.toString());
    }
  }

  @Test
  void theApiServersTableViewListsTheColumnsInTheDeclaredOrder() throws Exception {
    String ns = harness.newNamespace();
    HttpClient http = harness.client.getHttpClient();
    String url =
        harness.client.getMasterUrl().toString().replaceAll("/$", "")
            + "/apis/"
            + AliyunCsr.GROUP
            + "/"
            + AliyunCsr.VERSION
            + "/namespaces/"
            + ns
            + "/aliyuncsrs";
    HttpResponse<String> response =
        http.sendAsync(
                http.newHttpRequestBuilder()
                    .uri(url)
                    .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
                    .build(),
                String.class)
            .get(30, TimeUnit.SECONDS);
    assertThat(response.code()).as(response.body()).isEqualTo(200);
    JsonNode table = Serialization.jsonMapper().readTree(response.body());
    assertThat(table.path("kind").asText()).isEqualTo("Table");
    assertThat(table.path("columnDefinitions"))
        .extracting(c -> tuple(c.path("name").asText(), c.path("priority").asInt()))
        .containsExactly(
            tuple("Name", 0),
            tuple("Ready", 0),
            tuple("Reason", 0),
            tuple("CsrId", 0),
            tuple("Age", 0),
            tuple("UploadName", 1),
            tuple("LastConfirmed", 1));
  }

  @Test
  void theServiceAccountReadsAccountsAndNamespacesAndCredentialsOnlyInItsNamespace() {
    var rbac = harness.client.rbac();
    assertThat(rules(rbac.clusterRoles().withName("aliyun-csr-operator-accounts").get().getRules()))
        .containsExactlyInAnyOrder(
            "aliyuncasaccounts:get,list,watch,update,patch",
            "aliyuncasaccounts/status:get,update,patch",
            "aliyuncasaccounts/finalizers:update",
            "namespaces:get,list,watch");
    assertThat(
            rules(
                rbac.roles()
                    .inNamespace("aliyun-csr-operator")
                    .withName("aliyun-csr-operator-credentials")
                    .get()
                    .getRules()))
        .containsExactly("secrets:get,list,watch,create");
    assertThat(asOperator.resources(AliyunCasAccount.class).list()).isNotNull();
    assertThat(asOperator.namespaces().list()).isNotNull();
    assertThat(asOperator.secrets().inNamespace("aliyun-csr-operator").list()).isNotNull();
    AliyunCasAccount account = new AliyunCasAccount();
    account.setMetadata(new ObjectMetaBuilder().withName("made-by-the-operator").build());
    assertThatThrownBy(() -> asOperator.resource(account).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
  }

  @Test
  void aggregatedRolesGiveNamespaceUsersAliyunCsrsAndAliyunCertificatesOnly() {
    var edit = harness.client.rbac().clusterRoles().withName("aliyun-csr-operator-edit").get();
    assertThat(edit.getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-admin", "true")
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-edit", "true");
    assertThat(rules(edit.getRules()))
        .containsExactly(
            "aliyuncsrs:create,update,patch,delete,get,list,watch",
            "aliyuncertificates:create,update,patch,delete,get,list,watch");
    var view = harness.client.rbac().clusterRoles().withName("aliyun-csr-operator-view").get();
    assertThat(view.getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-view", "true");
    assertThat(rules(view.getRules()))
        .containsExactly("aliyuncsrs:get,list,watch", "aliyuncertificates:get,list,watch");
  }

  /** Each rule as "resource:verb,verb". */
  static List<String> rules(List<PolicyRule> rules) {
    return rules.stream()
        .flatMap(
            r -> r.getResources().stream().map(res -> res + ":" + String.join(",", r.getVerbs())))
        .toList();
  }

  /**
   * The Secrets of AliyunCertificates are created and patched (the operator writes one only while
   * it carries that certificate's annotation); a Secret is never replaced whole or deleted.
   */
  @Test
  void theServiceAccountCreatesAndPatchesSecretsButNeverReplacesOrDeletesOne() {
    String ns = harness.newNamespace();
    var secret =
        new SecretBuilder()
            .withNewMetadata()
            .withNamespace(ns)
            .withName("created")
            .endMetadata()
            .withStringData(Map.of("a", "b"))
            .build();
    assertThat(asOperator.resource(secret).create()).isNotNull();
    assertThat(
            asOperator
                .secrets()
                .inNamespace(ns)
                .withName("created")
                .edit(
                    s -> {
                      s.getMetadata().setLabels(Map.of("x", "y"));
                      return s;
                    })
                .getMetadata()
                .getLabels())
        .containsEntry("x", "y");
    harness.secret(ns, "existing", Map.of("a", "b"));
    var existing = harness.client.secrets().inNamespace(ns).withName("existing").get();
    existing.getMetadata().setLabels(Map.of("x", "y"));
    assertThatThrownBy(() -> asOperator.secrets().inNamespace(ns).resource(existing).update())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    assertThatThrownBy(() -> asOperator.secrets().inNamespace(ns).withName("existing").delete())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    assertThatThrownBy(() -> asOperator.namespaces().withName(ns).delete())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
  }
}
