package dev.aliyuncsr.operator.testing;

import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AccessKeySecretRef;
import dev.aliyuncsr.operator.api.AccountCredentials;
import dev.aliyuncsr.operator.api.AccountNamespaceSelector;
import dev.aliyuncsr.operator.api.AccountRef;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCasAccountSpec;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A multi-tenant cluster for tests: the operator (in-process, its own namespace for credentials and
 * the mark key), the tenants' Alibaba Cloud as one CAS emulator in which each test opens accounts
 * of its own (so per-account counters belong to one test), AliyunCasAccounts an admin creates, and
 * namespace users ({@link NamespaceUser}) who write only what {@code edit} allows them.
 */
public final class Tenancy implements AutoCloseable {
  public static final Duration WAIT = Duration.ofSeconds(90);

  /** An AccessKey of an Alibaba Cloud account (an emulator account id). */
  public record CloudKey(String accountId, String id, String secret) {}

  public final String operatorNamespace =
      "csr-operator-" + UUID.randomUUID().toString().substring(0, 6);
  public final OperatorHarness harness;

  /** The tenants' Alibaba Cloud. */
  public final CasEmulator cas;

  private final List<NamespaceUser> users = new ArrayList<>();
  private final List<CasEmulator> emulators = new ArrayList<>();

  private Tenancy(Map<String, String> env) {
    try (var admin = KubeApiServerFixture.newClient()) {
      // The operator's namespace exists before the operator: its mark key Secret lives there.
      admin
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName(operatorNamespace)
                  .endMetadata()
                  .build())
          .create();
    }
    Map<String, String> all = new HashMap<>(env);
    all.put("POD_NAMESPACE", operatorNamespace);
    this.harness = OperatorHarness.start(all);
    this.cas = emulator();
  }

  /** Starts the operator with this extra environment (e.g. CAS_MISSING_WINDOW). */
  public static Tenancy start(Map<String, String> env) {
    return new Tenancy(env);
  }

  /** Another emulator (another cloud, or one a test switches faults on), closed with this. */
  public CasEmulator emulator() {
    CasEmulator emulator = CasEmulator.builder().build().start();
    emulators.add(emulator);
    return emulator;
  }

  /** A new namespace and its user. */
  public NamespaceUser user() {
    NamespaceUser user = NamespaceUser.inNewNamespace(harness.client, "tenant-");
    users.add(user);
    return user;
  }

  /** A new Alibaba Cloud account in {@code emulator}, with one AccessKey. */
  public static CloudKey cloudAccount(CasEmulator emulator) {
    return accessKey(
        emulator, Long.toString(ThreadLocalRandom.current().nextLong(1L << 52, 1L << 53)));
  }

  /** Another AccessKey of the account (a rotation's new key, or a second handle). */
  public static CloudKey accessKey(CasEmulator emulator, String accountId) {
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    CloudKey key = new CloudKey(accountId, "LTAI" + suffix, "secret-" + suffix);
    emulator.addAccessKey(accountId, key.id(), key.secret());
    return key;
  }

  /**
   * An admin's AliyunCasAccount on {@code emulator} with {@code key}, selecting these namespaces by
   * name; waits until it is Ready.
   */
  public void casAccount(
      String name, CasEmulator emulator, CloudKey key, double qps, String... namespaces) {
    credentials(name, key);
    AliyunCasAccount account = new AliyunCasAccount();
    account.setMetadata(new ObjectMetaBuilder().withName(name).build());
    AliyunCasAccountSpec spec = new AliyunCasAccountSpec();
    AccountCredentials creds = new AccountCredentials();
    AccessKeySecretRef ref = new AccessKeySecretRef();
    ref.setName(credentialSecret(name));
    creds.setAccessKeySecretRef(ref);
    spec.setCredentials(creds);
    spec.setEndpoint(emulator.endpoint());
    spec.setProtocol("HTTP");
    spec.setQps(qps);
    spec.setMaxConcurrency(4);
    AccountNamespaceSelector selector = new AccountNamespaceSelector();
    selector.setNames(List.of(namespaces));
    spec.setNamespaceSelector(selector);
    account.setSpec(spec);
    harness.client.resource(account).create();
    harness.awaitAccountReady(name, WAIT);
  }

  /**
   * The admin writes the account's credential Secret (a rotation, or a mistake); its new
   * resourceVersion.
   */
  public String credentials(String account, CloudKey key) {
    return harness
        .client
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withNamespace(operatorNamespace)
                .withName(credentialSecret(account))
                .endMetadata()
                .withStringData(
                    Map.of("access-key-id", key.id(), "access-key-secret", key.secret()))
                .build())
        .serverSideApply()
        .getMetadata()
        .getResourceVersion();
  }

  private static String credentialSecret(String account) {
    return "creds-" + account;
  }

  public AliyunCasAccount account(String name) {
    return harness.client.resources(AliyunCasAccount.class).withName(name).get();
  }

  /** Edits an AliyunCasAccount as an admin. */
  public void editAccount(String name, UnaryOperator<AliyunCasAccount> edit) {
    OperatorHarness.retryOnConflict(
        () -> harness.client.resources(AliyunCasAccount.class).withName(name).edit(edit));
  }

  /** Waits until the account's status satisfies {@code condition}. */
  public AliyunCasAccount awaitAccount(String name, Predicate<AliyunCasAccount> condition) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> account(name), a -> a != null && a.getStatus() != null && condition.test(a));
  }

  /** A Secret the user writes in their namespace: the CSR, and the key when not null. */
  public void secret(NamespaceUser user, String name, String csrPem, String keyPem) {
    Map<String, String> data = new HashMap<>();
    if (csrPem != null) {
      data.put("tls.csr", csrPem);
    }
    if (keyPem != null) {
      data.put("tls.key", keyPem);
    }
    user.client
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withNamespace(user.namespace)
                .withName(name)
                .endMetadata()
                .withStringData(data)
                .build())
        .createOr(existing -> existing.update());
  }

  /** An AliyunCsr of {@code namespace} reading the CSR from {@code csrSecret}, on the account. */
  public static AliyunCsr aliyunCsr(
      String namespace, String name, String csrSecret, String account) {
    AliyunCsr resource = new AliyunCsr();
    resource.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    AliyunCsrSpec spec = new AliyunCsrSpec();
    spec.setCsrSecretRef(new SecretKeyRef(csrSecret, null));
    if (account != null) {
      spec.setAccountRef(new AccountRef(account));
    }
    resource.setSpec(spec);
    return resource;
  }

  /** Creates the object as the user. */
  public AliyunCsr create(NamespaceUser user, AliyunCsr resource) {
    return user.client.resource(resource).create();
  }

  /** Edits the user's object as the user, again on a conflict with the operator's writes. */
  public void edit(NamespaceUser user, String name, UnaryOperator<AliyunCsr> edit) {
    OperatorHarness.retryOnConflict(
        () ->
            user.client
                .resources(AliyunCsr.class)
                .inNamespace(user.namespace)
                .withName(name)
                .edit(edit));
  }

  /** Deletes the user's object as the user. */
  public void delete(NamespaceUser user, String name) {
    user.client.resources(AliyunCsr.class).inNamespace(user.namespace).withName(name).delete();
  }

  public AliyunCsr get(String namespace, String name) {
    return harness.get(namespace, name);
  }

  public AliyunCsr awaitReady(String namespace, String name) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> get(namespace, name), Tenancy::isReady);
  }

  /** Waits until the Ready condition has this reason. */
  public AliyunCsr awaitReason(String namespace, String name, String reason) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> get(namespace, name), r -> hasReason(r, reason));
  }

  /**
   * Waits for a verdict on the current generation: Ready=True or Stalled=True (a status kept as
   * lost has conditions only, each with its observedGeneration).
   */
  public AliyunCsr awaitVerdict(String namespace, String name) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> get(namespace, name),
            r ->
                r != null
                    && r.getStatus() != null
                    && (isCurrentAndTrue(r, "Ready") || isCurrentAndTrue(r, "Stalled")));
  }

  private static boolean isCurrentAndTrue(AliyunCsr r, String type) {
    return r.getStatus()
        .condition(type)
        .filter(c -> Objects.equals(c.getObservedGeneration(), r.getMetadata().getGeneration()))
        .map(c -> "True".equals(c.getStatus()))
        .orElse(false);
  }

  /** "Ready Reason" or "Stalled Reason": what a verdict says, for assertions. */
  public static String verdict(AliyunCsr r) {
    String type = isTrue(r, "Stalled") ? "Stalled" : "Ready";
    return type + " " + r.getStatus().condition(type).orElseThrow().getReason();
  }

  private static boolean isTrue(AliyunCsr r, String type) {
    return r.getStatus().condition(type).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  public void awaitGone(String namespace, String name) {
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> get(namespace, name) == null);
  }

  /**
   * An admin removes the object's status through the status subresource, as a restore without
   * status or a replace leaves it.
   */
  public void loseStatus(String namespace, String name) {
    OperatorHarness.retryOnConflict(
        () ->
            harness
                .client
                .resources(AliyunCsr.class)
                .inNamespace(namespace)
                .withName(name)
                .subresource("status")
                .patch(
                    PatchContext.of(PatchType.JSON), "[{\"op\":\"remove\",\"path\":\"/status\"}]"));
  }

  /** The reasons of the object's Warning Events. */
  public List<String> warnings(String namespace, String name) {
    return events(namespace, name).stream()
        .filter(e -> "Warning".equals(e.getType()))
        .map(Event::getReason)
        .toList();
  }

  public List<Event> events(String namespace, String name) {
    return harness.client.v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  /** Waits for a Warning Event with this reason on the object; returns its message. */
  public String awaitWarning(String namespace, String name, String reason) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                events(namespace, name).stream()
                    .filter(e -> "Warning".equals(e.getType()) && reason.equals(e.getReason()))
                    .map(Event::getMessage)
                    .findFirst()
                    .orElse(null),
            m -> m != null);
  }

  public static boolean isReady(AliyunCsr r) {
    return r != null
        && r.getStatus() != null
        && r.getStatus().condition("Ready").map(c -> "True".equals(c.getStatus())).orElse(false)
        && r.getStatus().getObservedGeneration() != null
        && r.getStatus().getObservedGeneration().equals(r.getMetadata().getGeneration());
  }

  public static boolean hasReason(AliyunCsr r, String reason) {
    return r != null
        && r.getStatus() != null
        && r.getStatus().condition("Ready").map(c -> reason.equals(c.getReason())).orElse(false);
  }

  public static boolean isStalled(AliyunCsr r, String reason) {
    return r != null
        && r.getStatus() != null
        && r.getStatus()
            .condition("Stalled")
            .map(c -> "True".equals(c.getStatus()) && reason.equals(c.getReason()))
            .orElse(false);
  }

  public static String readyMessage(AliyunCsr r) {
    return r.getStatus().condition("Ready").orElseThrow().getMessage();
  }

  @Override
  public void close() {
    harness.deleteAllAsOrphans();
    harness.deleteAllAccounts();
    harness.close();
    users.forEach(NamespaceUser::close);
    emulators.forEach(CasEmulator::close);
  }
}
