package dev.aliyuncsr.operator.testing;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One real kube-apiserver + etcd per test JVM (fabric8 kube-api-test), with the project's CRD
 * installed. Binaries come from ~/.kubeapitest, put there by src/build/kube-binaries.sh.
 */
public final class KubeApiServerFixture {
  private static KubeAPIServer server;
  private static String kubeConfigYaml;

  private KubeApiServerFixture() {}

  public static synchronized String kubeConfigYaml() {
    if (server == null) {
      String version = System.getProperty("kube.version", "1.36.3");
      server =
          new KubeAPIServer(
              KubeAPIServerConfigBuilder.anAPIServerConfig()
                  .withApiServerVersion(version)
                  .withOfflineMode(true)
                  .withUpdateKubeConfig(false)
                  .withStartupTimeout(120_000)
                  .build());
      server.start();
      kubeConfigYaml = server.getKubeConfigYaml();
      Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "kube-api-test-stop"));
      try (KubernetesClient client = newClient()) {
        installCrd(client);
      }
    }
    return kubeConfigYaml;
  }

  /** Stops and starts the API server on the same etcd data, as a control-plane restart would. */
  public static synchronized void restart() {
    kubeConfigYaml();
    server.stop();
    server.start();
    kubeConfigYaml = server.getKubeConfigYaml();
  }

  public static KubernetesClient newClient() {
    Config config = Config.fromKubeconfig(kubeConfigYaml());
    config.setRequestTimeout((int) Duration.ofSeconds(30).toMillis());
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  public static Path crdFile() {
    return Path.of(System.getProperty("user.dir"), "crds", "aliyuncsrs.cas.aliyuncsr.dev-v1.yml");
  }

  static void installCrd(KubernetesClient client) {
    try (InputStream in = Files.newInputStream(crdFile())) {
      CustomResourceDefinition crd =
          client.apiextensions().v1().customResourceDefinitions().load(in).item();
      client.resource(crd).serverSideApply();
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .withName(crd.getMetadata().getName())
          .waitUntilCondition(
              c ->
                  c.getStatus() != null
                      && c.getStatus().getConditions().stream()
                          .anyMatch(
                              cond ->
                                  "Established".equals(cond.getType())
                                      && "True".equals(cond.getStatus())),
              60,
              TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + crdFile(), e);
    }
  }
}
