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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One real kube-apiserver + etcd per test JVM (fabric8 kube-api-test), with the project's CRD
 * installed. Binaries come from ~/.kubeapitest, put there by src/build/kube-binaries.sh.
 */
public final class KubeApiServerFixture {
  private static KubeAPIServer server;
  private static String kubeConfigYaml;
  private static LoopbackTcpProxy proxy;

  private KubeApiServerFixture() {}

  public static synchronized String kubeConfigYaml() {
    if (server == null) {
      String version = System.getProperty("kube.version", "1.36.3");
      var config =
          KubeAPIServerConfigBuilder.anAPIServerConfig()
              .withApiServerVersion(version)
              .withOfflineMode(true)
              .withUpdateKubeConfig(false)
              .withStartupTimeout(120_000);
      // Extra kube-apiserver flags, e.g. the benchmark's audit log: "--a=b --c=d".
      for (String flag : System.getProperty("kube.apiserver.flags", "").split(" ")) {
        if (flag.startsWith("--") && flag.contains("=")) {
          config.withApiServerFlag(
              flag.substring(0, flag.indexOf('=')), flag.substring(flag.indexOf('=') + 1));
        }
      }
      server = new KubeAPIServer(config.build());
      server.start();
      kubeConfigYaml = server.getKubeConfigYaml();
      Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "kube-api-test-stop"));
      try (KubernetesClient client = newClient()) {
        installCrd(client);
      }
    }
    return kubeConfigYaml;
  }

  /**
   * A kubeconfig whose server is a {@link LoopbackTcpProxy} in front of the API server, so that it
   * stays valid across {@link #restartApiServer()}.
   */
  public static synchronized String proxiedKubeConfigYaml() {
    String direct = kubeConfigYaml();
    try {
      if (proxy == null) {
        proxy = new LoopbackTcpProxy(serverPort(direct));
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    return withServerPort(direct, proxy.port());
  }

  /**
   * Stops kube-apiserver and starts it again on the same etcd, as a control-plane restart does.
   * kube-api-test has no API for it (its stop() also wipes etcd), so this reaches into its process
   * objects; the restarted server listens on a new port, which the proxy follows.
   */
  public static synchronized void restartApiServer() {
    kubeConfigYaml();
    try {
      Object apiServerProcess = field(server, "kubeApiServerProcess");
      Process process = (Process) field(apiServerProcess, "apiServerProcess");
      // The etcd port is only in the running server's command line.
      String cmdline = Files.readString(Path.of("/proc", Long.toString(process.pid()), "cmdline"));
      List<String> args = List.of(cmdline.split("\u0000"));
      int flag = args.indexOf("--etcd-servers");
      if (flag < 0 || flag + 1 >= args.size()) {
        throw new IllegalStateException("kube-apiserver runs without --etcd-servers");
      }
      String etcdUrl = args.get(flag + 1);
      int etcdPort = Integer.parseInt(etcdUrl.substring(etcdUrl.lastIndexOf(':') + 1));
      apiServerProcess.getClass().getMethod("stopApiServer").invoke(apiServerProcess);
      int port =
          (int)
              apiServerProcess
                  .getClass()
                  .getMethod("startApiServer", int.class)
                  .invoke(apiServerProcess, etcdPort);
      apiServerProcess.getClass().getMethod("waitUntilReady").invoke(apiServerProcess);
      kubeConfigYaml = withServerPort(kubeConfigYaml, port);
      if (proxy != null) {
        proxy.retarget(port);
      }
    } catch (ReflectiveOperationException | IOException e) {
      throw new IllegalStateException("cannot restart kube-apiserver", e);
    }
  }

  private static Object field(Object target, String name) throws ReflectiveOperationException {
    var field = target.getClass().getDeclaredField(name);
    field.setAccessible(true);
    return field.get(target);
  }

  private static final java.util.regex.Pattern SERVER =
      java.util.regex.Pattern.compile("(server: *\"?https://127\\.0\\.0\\.1:)(\\d+)");

  static int serverPort(String kubeConfig) {
    var m = SERVER.matcher(kubeConfig);
    if (!m.find()) {
      throw new IllegalStateException("no 127.0.0.1 server in the kubeconfig");
    }
    return Integer.parseInt(m.group(2));
  }

  static String withServerPort(String kubeConfig, int port) {
    return SERVER.matcher(kubeConfig).replaceAll("$1" + port);
  }

  public static KubernetesClient newClient() {
    Config config = Config.fromKubeconfig(kubeConfigYaml());
    config.setRequestTimeout((int) Duration.ofSeconds(30).toMillis());
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  public static Path crdFile() {
    return Path.of(System.getProperty("user.dir"), "crds", "aliyuncsrs.cas.aliyuncsr.dev-v1.yml");
  }

  /** Every committed CRD: AliyunCsr, AliyunCasAccount and AliyunCertificate. */
  public static java.util.List<Path> crdFiles() {
    return java.util.List.of(
        crdFile(),
        Path.of(
            System.getProperty("user.dir"), "crds", "aliyuncasaccounts.cas.aliyuncsr.dev-v1.yml"),
        Path.of(
            System.getProperty("user.dir"), "crds", "aliyuncertificates.cas.aliyuncsr.dev-v1.yml"));
  }

  /**
   * Installs external-dns's DNSEndpoint CRD (a test resource; not shipped), once established. Not
   * installed by default: an operator started before it says that DNSEndpoints are unavailable.
   */
  public static void installDnsEndpointCrd(KubernetesClient client) {
    try {
      java.net.URL resource =
          KubeApiServerFixture.class.getResource("/crds/dnsendpoints.externaldns.k8s.io.yaml");
      installCrd(client, Path.of(resource.toURI()));
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static void installCrd(KubernetesClient client) {
    for (Path file : crdFiles()) {
      installCrd(client, file);
    }
  }

  private static void installCrd(KubernetesClient client, Path file) {
    try (InputStream in = Files.newInputStream(file)) {
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
                      && c.getStatus().getConditions() != null
                      && c.getStatus().getConditions().stream()
                          .anyMatch(
                              cond ->
                                  "Established".equals(cond.getType())
                                      && "True".equals(cond.getStatus())),
              60,
              TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file, e);
    }
  }
}
