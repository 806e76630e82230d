package dev.aliyuncsr.operator.testing;

import dev.aliyuncsr.operator.AliyunCsrOperator;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.cloud.AlibabaCasClient;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasSettings;
import dev.aliyuncsr.operator.config.OperatorConfig;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The operator, in-process, against the real API server and the real SDK talking to the CAS
 * emulator. Tests create what they need in namespaces of their own.
 */
public final class OperatorHarness implements AutoCloseable {
  public static final String ACCESS_KEY_ID = "LTAI5tTestAccessKey";
  public static final String ACCESS_KEY_SECRET = "test-access-key-secret-0123456789";

  public final CasEmulator emulator;
  public final KubernetesClient client;
  private final Map<String, String> env;
  private final String signingSecret;
  private AliyunCsrOperator operator;

  private OperatorHarness(Map<String, String> env, String signingSecret) {
    this.env = env;
    this.signingSecret = signingSecret;
    this.emulator = newEmulator();
    this.client = KubeApiServerFixture.newClient();
  }

  public static OperatorHarness start() {
    return start(Map.of());
  }

  /** Starts with extra operator environment, e.g. CAS_QPS. */
  public static OperatorHarness start(Map<String, String> extraEnv) {
    return start(extraEnv, ACCESS_KEY_SECRET);
  }

  /** Starts an operator that signs its CAS calls with {@code signingSecret}. */
  public static OperatorHarness start(Map<String, String> extraEnv, String signingSecret) {
    Map<String, String> env = new HashMap<>();
    env.put("CAS_QPS", "50");
    env.put("CAS_MAX_CONCURRENCY", "8");
    env.put("RECONCILE_THREADS", "8");
    env.putAll(extraEnv);
    OperatorHarness harness = new OperatorHarness(env, signingSecret);
    harness.startOperator();
    return harness;
  }

  public OperatorConfig config() {
    Map<String, String> all = new HashMap<>(env);
    all.put("CAS_ENDPOINT", emulator.endpoint());
    all.put("CAS_PROTOCOL", "http");
    return OperatorConfig.fromEnvironment(all);
  }

  /** A real SDK client on the emulator with static AccessKey credentials. */
  public CasClient casClient(String accessKeySecret) {
    OperatorConfig config = config();
    CasSettings cas = config.cas();
    try {
      var credentials = OperatorHarness.accessKeyCredentials(ACCESS_KEY_ID, accessKeySecret);
      return AlibabaCasClient.create(cas, credentials);
    } catch (CasException e) {
      throw new IllegalStateException(e);
    }
  }

  public synchronized void startOperator() {
    if (operator == null) {
      operator = AliyunCsrOperator.start(client, casClient(signingSecret), config());
    }
  }

  public synchronized AliyunCsrOperator operator() {
    return operator;
  }

  public synchronized void stopOperator() {
    if (operator != null) {
      operator.close();
      operator = null;
    }
  }

  public void restartOperator() {
    stopOperator();
    startOperator();
  }

  public String newNamespace() {
    return newNamespace(client, "t-");
  }

  public Secret secret(String namespace, String name, Map<String, String> stringData) {
    return secret(client, namespace, name, stringData);
  }

  /** Static AccessKey credentials, as the SDK's chain would resolve them from the environment. */
  public static com.aliyun.credentials.Client accessKeyCredentials(String id, String secret) {
    return new com.aliyun.credentials.Client(
        new com.aliyun.credentials.models.Config()
            .setType("access_key")
            .setAccessKeyId(id)
            .setAccessKeySecret(secret));
  }

  /** An emulator that accepts {@link #ACCESS_KEY_ID}, started. */
  public static CasEmulator newEmulator() {
    return CasEmulator.builder().accessKey(ACCESS_KEY_ID, ACCESS_KEY_SECRET).build().start();
  }

  public static String newNamespace(KubernetesClient client, String prefix) {
    String name = prefix + UUID.randomUUID().toString().substring(0, 8);
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return name;
  }

  public static Secret secret(
      KubernetesClient client, String namespace, String name, Map<String, String> stringData) {
    Secret secret =
        new SecretBuilder()
            .withMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build())
            .withStringData(stringData)
            .build();
    return client.resource(secret).serverSideApply();
  }

  public static AliyunCsr aliyunCsr(
      String namespace, String name, String csrSecret, String keySecret) {
    AliyunCsr resource = new AliyunCsr();
    resource.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    AliyunCsrSpec spec = new AliyunCsrSpec();
    spec.setCsrSecretRef(new SecretKeyRef(csrSecret, null));
    if (keySecret != null) {
      spec.setKeySecretRef(new SecretKeyRef(keySecret, null));
    }
    resource.setSpec(spec);
    return resource;
  }

  /**
   * Runs a read-modify-write of a test, again when the operator wrote the object in between (409):
   * tests edit objects the operator is writing to.
   */
  public static void retryOnConflict(Runnable write) {
    for (int attempt = 1; ; attempt++) {
      try {
        write.run();
        return;
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() != 409 || attempt >= 20) {
          throw e;
        }
      }
    }
  }

  /**
   * The name this operator uploads {@code namespace/name} under (with {@code specName} as
   * spec.name, or none): read from the mark key Secret the operator created in its namespace.
   */
  public String uploadName(String namespace, String name, String specName) {
    return uploadNames().of(withSpecName(aliyunCsr(namespace, name, "csr", null), specName));
  }

  /** The operator's upload names, with its mark key. */
  public dev.aliyuncsr.operator.upload.UploadNames uploadNames() {
    String ns =
        config().operatorNamespace().isEmpty()
            ? client.getNamespace()
            : config().operatorNamespace();
    Secret key =
        client
            .secrets()
            .inNamespace(ns == null ? "default" : ns)
            .withName(config().markKeySecret())
            .get();
    return new dev.aliyuncsr.operator.upload.UploadNames(
        java.util.Base64.getDecoder()
            .decode(key.getData().get(dev.aliyuncsr.operator.upload.MarkKey.DATA_KEY)));
  }

  private static AliyunCsr withSpecName(AliyunCsr r, String specName) {
    r.getSpec().setName(specName);
    return r;
  }

  public AliyunCsr create(AliyunCsr resource) {
    return client.resource(resource).create();
  }

  public AliyunCsr get(String namespace, String name) {
    return client.resources(AliyunCsr.class).inNamespace(namespace).withName(name).get();
  }

  public static Duration timeout() {
    return Duration.ofSeconds(60);
  }

  public static Set<String> readyConditionTypes() {
    return Set.of("Ready", "Reconciling", "Stalled");
  }

  /**
   * Deletes every AliyunCsr as Orphan, with this operator still running to release them, so the
   * next test class starts from an API server with none left and no teardown calls CAS.
   */
  public void deleteAllAsOrphans() {
    for (AliyunCsr r : client.resources(AliyunCsr.class).inAnyNamespace().list().getItems()) {
      retryOnConflict(
          () ->
              client
                  .resources(AliyunCsr.class)
                  .inNamespace(r.getMetadata().getNamespace())
                  .withName(r.getMetadata().getName())
                  .edit(
                      current -> {
                        current.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
                        return current;
                      }));
    }
    client.resources(AliyunCsr.class).inAnyNamespace().delete();
    org.awaitility.Awaitility.await()
        .atMost(timeout())
        .until(
            () -> client.resources(AliyunCsr.class).inAnyNamespace().list().getItems().isEmpty());
  }

  /** Waits until the AliyunCasAccount says Ready=True. */
  public void awaitAccountReady(String name, Duration wait) {
    org.awaitility.Awaitility.await()
        .atMost(wait)
        .until(
            () ->
                client
                    .resources(dev.aliyuncsr.operator.api.AliyunCasAccount.class)
                    .withName(name)
                    .get(),
            a ->
                a != null
                    && a.getStatus() != null
                    && a.getStatus()
                        .condition("Ready")
                        .map(c -> "True".equals(c.getStatus()))
                        .orElse(false));
  }

  /**
   * Deletes every AliyunCasAccount, taking its finalizer off first: the next test class starts with
   * none, and its operator does not manage accounts whose emulator is gone.
   */
  public void deleteAllAccounts() {
    for (var a :
        client.resources(dev.aliyuncsr.operator.api.AliyunCasAccount.class).list().getItems()) {
      var account =
          client
              .resources(dev.aliyuncsr.operator.api.AliyunCasAccount.class)
              .withName(a.getMetadata().getName());
      retryOnConflict(
          () ->
              account.edit(
                  x -> {
                    x.getMetadata().setFinalizers(java.util.List.of());
                    return x;
                  }));
      account.delete();
    }
  }

  @Override
  public void close() {
    if (operator != null) {
      deleteAllAsOrphans();
    }
    stopOperator();
    emulator.close();
    client.close();
  }
}
