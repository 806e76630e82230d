package dev.aliyuncsr.operator;

import dev.aliyuncsr.operator.cloud.AlibabaCasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.config.OperatorConfig;
import dev.aliyuncsr.operator.observability.HealthServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar aliyun-csr-operator.jar}: configuration from the environment, then run. */
public final class OperatorMain {
  private static final Logger log = LoggerFactory.getLogger(OperatorMain.class);

  private OperatorMain() {}

  /** The common pool's parallelism, unless the JVM was given one. */
  static final String COMMON_POOL_PARALLELISM =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    // With one or two CPUs (a Deployment's usual limit) the common pool's parallelism is 1, and
    // CompletableFuture then runs every async completion on a thread of its own: the Kubernetes
    // client's HTTP responses started about a hundred threads a second in a burst (JFR,
    // BENCHMARKS.md). Two or more keep them on the pool. Set before anything touches the pool.
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(
          COMMON_POOL_PARALLELISM,
          Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
    OperatorConfig config;
    AlibabaCasClient sdkClient;
    try {
      config = OperatorConfig.fromEnvironment(System.getenv());
      // The operator's own credentials serve resources without spec.accountRef, unless
      // DEFAULT_ACCOUNT=none makes every resource name an AliyunCasAccount.
      sdkClient = config.defaultAccount() ? AlibabaCasClient.create(config.cas()) : null;
    } catch (OperatorConfig.InvalidConfigException | CasException e) {
      log.error("cannot start: {}", e.getMessage());
      System.exit(2);
      return;
    }
    if (config.cas().protocol().equalsIgnoreCase("http")) {
      // SDK 2.0.1 sends every parameter, the private key included, in the query string.
      log.warn(
          "CAS_PROTOCOL=http: CAS calls are not encrypted, and the private key travels in the"
              + " query string of UpdateCsr and UploadCsr; use https outside a test setup");
    }
    KubernetesClient client = new KubernetesClientBuilder().build();
    log.info(
        "starting: CAS {}://{} region {}, {} calls/s, namespaces {}",
        config.cas().protocol().toLowerCase(),
        config.cas().endpoint(),
        config.cas().region(),
        config.cas().qps(),
        config.watchNamespaces().isEmpty() ? "all" : config.watchNamespaces());
    AliyunCsrOperator operator = AliyunCsrOperator.start(client, sdkClient, config);
    HealthServer http;
    try {
      http =
          new HealthServer(
              config.httpPort(), () -> true, operator::isReady, operator.metrics()::scrape);
    } catch (IOException e) {
      log.error("cannot listen on HTTP_PORT {}: {}", config.httpPort(), e.getMessage());
      System.exit(2);
      return;
    }
    log.info("serving /healthz, /readyz and /metrics on port {}", http.port());
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("stopping");
                  operator.close();
                  http.close();
                  client.close();
                },
                "shutdown"));
  }
}
