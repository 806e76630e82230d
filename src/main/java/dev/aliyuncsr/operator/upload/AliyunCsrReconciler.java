package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.kube.LeanItemStore;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import dev.aliyuncsr.operator.observability.OperatorMetrics;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.ManagedInformerEventSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The JOSDK side of reconciling an AliyunCsr: hands each event to the {@link UploadProtocol}, shows
 * the protocol's writes to JOSDK's cache at once, and watches the referenced Secrets. The protocol
 * itself (observe, decide, act) knows nothing of JOSDK.
 *
 * <p>JOSDK calls it on every event (triggerReconcilerOnAllEvents) and leaves the finalizer to the
 * protocol, which adds it in its first write and removes it after the cleanup.
 */
public final class AliyunCsrReconciler implements Reconciler<AliyunCsr> {
  static final String SECRET_INDEX = "aliyuncsr-secret-refs";
  static final String CSR_ID_INDEX = "aliyuncsr-csr-ids";
  static final String ADOPTION_INDEX = "aliyuncsr-adoptions";
  static final String ACCOUNT_INDEX = "aliyuncsr-accounts";

  /** Informers list in pages of this size, so a large namespace is never one huge response. */
  public static final long LIST_PAGE = 500;

  private final UploadProtocol protocol;
  private final OperatorMetrics metrics;
  private final RetryBackoff backoff;
  private volatile IndexerResourceCache<AliyunCsr> cache;

  /** Per resource, the resourceVersion of this process's latest write, until its event is seen. */
  private final Map<String, String> ownWrites = new ConcurrentHashMap<>();

  /** Reconciles asked for by the observer, to confirm a CSR it did not find in ListCsr. */
  private final SimpleInboundEventSource<AliyunCsr> confirmations =
      new SimpleInboundEventSource<>("cas-confirmations");

  public AliyunCsrReconciler(
      Function<Peers, UploadProtocol> protocol, RetryBackoff backoff, OperatorMetrics metrics) {
    this.protocol = protocol.apply(new CachePeers());
    this.backoff = backoff;
    this.metrics = metrics;
  }

  @Override
  public UpdateControl<AliyunCsr> reconcile(AliyunCsr resource, Context<AliyunCsr> context) {
    String uid = resource.getMetadata().getUid();
    if (context.isPrimaryResourceDeleted()) {
      forget(uid); // gone from the API server: only this process's state is left
      return UpdateControl.noUpdate();
    }
    var source = context.eventSourceRetriever().getControllerEventSource();
    UploadProtocol.Result result =
        protocol.reconcile(
            resource,
            (before, after) -> {
              wrote(after);
              source.handleRecentResourceUpdate(ResourceID.fromResource(after), after, before);
            });
    if (result.gone()) {
      forget(uid);
      return UpdateControl.noUpdate();
    }
    Outcome outcome = result.outcome();
    metrics.reconciled(uid, outcome.state().name().toLowerCase(Locale.ROOT), outcome.reason());
    if (result.firstReady() && resource.getMetadata().getCreationTimestamp() != null) {
      Instant created = Instant.parse(resource.getMetadata().getCreationTimestamp());
      metrics.becameReady(Duration.between(created, Instant.now()));
    }
    UpdateControl<AliyunCsr> control = UpdateControl.noUpdate();
    outcome.requeueAfter().ifPresent(control::rescheduleAfter);
    return control;
  }

  /** This process wrote {@code after}: its own event is no news ({@link #acceptUpdate}). */
  void wrote(AliyunCsr after) {
    ownWrites.put(after.getMetadata().getUid(), after.getMetadata().getResourceVersion());
  }

  private void forget(String uid) {
    ownWrites.remove(uid);
    backoff.reset(uid);
    metrics.forget(uid);
    protocol.forget(uid);
  }

  /** The resources in the cache: none before the controller starts (a standby). */
  public List<AliyunCsr> cachedResources() {
    var c = cache;
    return c == null ? List.of() : c.list().collect(Collectors.toList());
  }

  /** How many resources hold a CSR (or an upload of unknown result) in the named account. */
  public int holders(String account) {
    var c = cache;
    return c == null ? 0 : c.byIndex(ACCOUNT_INDEX, heldKey(account)).size();
  }

  /** The CsrIds resources record as their current CSR in the named account (null: the default). */
  public List<Long> recordedCsrIds(String account) {
    var c = cache;
    if (c == null) {
      return List.of();
    }
    return c.byIndex(ACCOUNT_INDEX, heldKey(account)).stream()
        .map(r -> r.getStatus().getCsrId())
        .filter(Objects::nonNull)
        .sorted()
        .collect(Collectors.toList());
  }

  private static String heldKey(String account) {
    return "held:" + (account == null ? "" : account);
  }

  /** An account appeared, changed or went: every resource that names it or is held in it looks. */
  public void accountChanged(String account) {
    var c = cache;
    if (c == null) {
      return;
    }
    Set<ResourceID> ids = new java.util.HashSet<>();
    for (String key : new String[] {heldKey(account), "ref:" + account}) {
      c.byIndex(ACCOUNT_INDEX, key).forEach(r -> ids.add(ResourceID.fromResource(r)));
    }
    ids.forEach(confirmations::propagateEvent);
  }

  /** A namespace's labels may have changed: its resources that name an account look again. */
  public void namespaceChanged(String namespace) {
    var c = cache;
    if (c == null) {
      return;
    }
    if (c instanceof ManagedInformerEventSource<?, ?, ?> source && !source.isRunning()) {
      // The namespaces are watched from the start, the resources only once the controller runs:
      // nothing to wake yet, and the controller's first list reconciles every resource anyway.
      return;
    }
    c.list(namespace)
        .filter(r -> r.getSpec() != null && r.getSpec().accountName() != null)
        .forEach(r -> confirmations.propagateEvent(ResourceID.fromResource(r)));
  }

  /** Reconcile {@code resource} soon, confirming its CSR in CAS by GetCsrDetail. */
  public void confirm(AliyunCsr resource) {
    protocol.requestConfirmation(resource.getMetadata().getUid());
    confirmations.propagateEvent(ResourceID.fromResource(resource));
  }

  /**
   * Which updates reach the reconciler: a change of spec or of metadata (a finalizer or annotations
   * taken off by a replace, an edit of the mirror annotations, a deletion), or a status that was
   * lost; not a status write alone, which is what this operator's own writes are (and another
   * process's lease). JOSDK's generation filter, switched off, would drop the metadata changes too.
   * JOSDK passes the new object first (ControllerEventSource.isAcceptedByFilters).
   */
  public boolean acceptUpdate(AliyunCsr updated, AliyunCsr previous) {
    if (previous == null) {
      return true;
    }
    // The version this process's own last write made: the reconcile that wrote it went on from
    // exactly this object, so its event asks for nothing new (the finalizer and intent write of
    // every new object would otherwise cost one more reconcile and Secret read). Any other change
    // has another version.
    String uid = updated.getMetadata().getUid();
    String version = updated.getMetadata().getResourceVersion();
    if (version != null && ownWrites.remove(uid, version)) {
      return false;
    }
    var now = updated.getMetadata();
    var before = previous.getMetadata();
    boolean statusLost =
        (updated.getStatus() == null || updated.getStatus().getObservedGeneration() == null)
            && previous.getStatus() != null
            && previous.getStatus().getObservedGeneration() != null;
    return !Objects.equals(now.getGeneration(), before.getGeneration())
        || !Objects.equals(now.getAnnotations(), before.getAnnotations())
        || !Objects.equals(now.getFinalizers(), before.getFinalizers())
        || !Objects.equals(now.getLabels(), before.getLabels())
        || !Objects.equals(now.getDeletionTimestamp(), before.getDeletionTimestamp())
        || statusLost;
  }

  /** {@link Peers} from the informer cache, by index: no scan of every resource. */
  private final class CachePeers implements Peers {
    @Override
    public Optional<String> recorder(AliyunCsr self, long csrId) {
      var c = cache;
      if (c == null) {
        return Optional.empty();
      }
      return c.byIndex(CSR_ID_INDEX, Long.toString(csrId)).stream()
          .filter(other -> !other.getMetadata().getUid().equals(self.getMetadata().getUid()))
          .map(AliyunCsrReconciler::describe)
          .findFirst();
    }

    @Override
    public Optional<String> earlierAdopter(AliyunCsr self, long csrId) {
      var c = cache;
      if (c == null) {
        return Optional.empty();
      }
      return c.byIndex(ADOPTION_INDEX, Long.toString(csrId)).stream()
          .filter(other -> !other.getMetadata().getUid().equals(self.getMetadata().getUid()))
          .filter(other -> isEarlier(other, self))
          .min(AliyunCsrReconciler::byAge)
          .map(AliyunCsrReconciler::describe);
    }
  }

  private static String describe(AliyunCsr r) {
    return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }

  /** Older first: creationTimestamp, then UID. */
  static int byAge(AliyunCsr a, AliyunCsr b) {
    int byTime =
        Instant.parse(a.getMetadata().getCreationTimestamp())
            .compareTo(Instant.parse(b.getMetadata().getCreationTimestamp()));
    return byTime != 0 ? byTime : a.getMetadata().getUid().compareTo(b.getMetadata().getUid());
  }

  static boolean isEarlier(AliyunCsr other, AliyunCsr self) {
    if (other.getMetadata().getCreationTimestamp() == null
        || self.getMetadata().getCreationTimestamp() == null) {
      return false;
    }
    return byAge(other, self) < 0;
  }

  /**
   * Index keys: the CsrIds a resource records (current, superseded). A CsrId is compared alone,
   * across accounts: two AliyunCasAccounts may reach one Alibaba Cloud account.
   */
  static List<String> recordedCsrIds(AliyunCsr resource) {
    List<String> ids = new ArrayList<>();
    var status = resource.getStatus();
    if (status == null) {
      return ids;
    }
    if (status.getCsrId() != null) {
      ids.add(Long.toString(status.getCsrId()));
    }
    if (status.getSupersededCsrs() != null) {
      status.getSupersededCsrs().stream()
          .filter(r -> r.getCsrId() != null)
          .forEach(r -> ids.add(Long.toString(r.getCsrId())));
    }
    return ids;
  }

  /** Index keys: the CsrId spec.csrId adopts. */
  static List<String> adoptedCsrIds(AliyunCsr resource) {
    return resource.getSpec() == null || resource.getSpec().getCsrId() == null
        ? List.of()
        : List.of(Long.toString(resource.getSpec().getCsrId()));
  }

  /** Index keys: "ref:" the account spec names, "held:" the account status holds CSRs in. */
  static List<String> accountKeys(AliyunCsr resource) {
    List<String> keys = new ArrayList<>();
    if (resource.getSpec() != null && resource.getSpec().accountName() != null) {
      keys.add("ref:" + resource.getSpec().accountName());
    }
    var status = resource.getStatus();
    if (StatusBuilder.holdsRecord(status)) {
      keys.add(heldKey(status.getAccount()));
    }
    return keys;
  }

  @Override
  public List<EventSource<?, AliyunCsr>> prepareEventSources(
      EventSourceContext<AliyunCsr> context) {
    context.getPrimaryCache().addIndexer(SECRET_INDEX, AliyunCsrReconciler::referencedSecrets);
    context.getPrimaryCache().addIndexer(ADOPTION_INDEX, AliyunCsrReconciler::adoptedCsrIds);
    context.getPrimaryCache().addIndexer(CSR_ID_INDEX, AliyunCsrReconciler::recordedCsrIds);
    context.getPrimaryCache().addIndexer(ACCOUNT_INDEX, AliyunCsrReconciler::accountKeys);
    cache = context.getPrimaryCache();
    // One Secret source per watched namespace, each with a store of its own: JOSDK gives one
    // source's ItemStore to each of its namespaces' informers, and they must not share it.
    Set<String> namespaces =
        context.getControllerConfiguration().getInformerConfig().getNamespaces();
    List<EventSource<?, AliyunCsr>> sources = new ArrayList<>();
    sources.add(confirmations);
    if (namespaces.contains(Constants.WATCH_ALL_NAMESPACES)) {
      sources.add(secretSource(context, "secrets", namespaces));
      return sources;
    }
    for (String namespace : new TreeSet<>(namespaces)) {
      sources.add(secretSource(context, "secrets-" + namespace, Set.of(namespace)));
    }
    return sources;
  }

  private static InformerEventSource<Secret, AliyunCsr> secretSource(
      EventSourceContext<AliyunCsr> context, String name, Set<String> namespaces) {
    var configuration =
        InformerEventSourceConfiguration.from(Secret.class, AliyunCsr.class)
            .withName(name)
            .withNamespaces(namespaces)
            .withItemStore(LeanItemStore.secretsMetadataOnly())
            .withInformerListLimit(LIST_PAGE)
            .withSecondaryToPrimaryMapper(
                secret ->
                    context
                        .getPrimaryCache()
                        .byIndex(
                            SECRET_INDEX,
                            secret.getMetadata().getNamespace()
                                + "/"
                                + secret.getMetadata().getName())
                        .stream()
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
            .build();
    return new InformerEventSource<>(configuration, context);
  }

  /** Index keys "namespace/name" of the Secrets a resource references. */
  static List<String> referencedSecrets(AliyunCsr resource) {
    AliyunCsrSpec spec = resource.getSpec();
    List<String> keys = new ArrayList<>();
    if (spec == null) {
      return keys;
    }
    for (SecretKeyRef ref : new SecretKeyRef[] {spec.getCsrSecretRef(), spec.getKeySecretRef()}) {
      if (ref != null && ref.getName() != null) {
        keys.add(resource.getMetadata().getNamespace() + "/" + ref.getName());
      }
    }
    return keys;
  }

  private static String uid(AliyunCsr resource) {
    return resource.getMetadata().getUid();
  }
}
