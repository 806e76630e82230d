package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCertificateSpec;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.kube.LeanItemStore;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.observability.OperatorMetrics;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.GroupVersionKind;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
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
 * The JOSDK side of reconciling an AliyunCertificate: hands each event to the {@link
 * CertificateProtocol}, shows the protocol's writes to JOSDK's cache at once, and watches what a
 * certificate depends on: its AliyunCsr (becoming Ready, another CSR), the Secrets of its key and
 * of its target (metadata only: their data is read with a GET), its DNSEndpoint when the cluster
 * has the kind, and the accounts. The protocol itself knows nothing of JOSDK.
 *
 * <p>No finalizer: deleting a certificate leaves its Secret and its instance as they are, and its
 * DNSEndpoint goes with it through its owner reference.
 */
public final class CertificateReconciler implements Reconciler<AliyunCertificate> {
  static final String INSTANCE_INDEX = "acert-instances";
  static final String CSR_INDEX = "acert-csrs";
  static final String SECRET_INDEX = "acert-secrets";
  static final String CSR_SECRET_INDEX = "acert-csr-secrets";

  /** Informers list in pages of this size, so a large namespace is never one huge response. */
  public static final long LIST_PAGE = 500;

  private static final String ALL = "*";

  private final CertificateProtocol protocol;
  private final OperatorMetrics metrics;
  private final boolean dnsEndpointApi;
  private volatile IndexerResourceCache<AliyunCertificate> cache;

  /** The AliyunCsr sources, by namespace ("*" for all): a certificate reads its AliyunCsr here. */
  private final Map<String, InformerEventSource<AliyunCsr, AliyunCertificate>> csrSources =
      new ConcurrentHashMap<>();

  /** Reconciles asked for when an account or a namespace changed. */
  private final SimpleInboundEventSource<AliyunCertificate> wakeups =
      new SimpleInboundEventSource<>("certificate-wakeups");

  /**
   * @param protocol the protocol, given this reconciler's view of the other resources
   * @param dnsEndpointApi whether the cluster serves DNSEndpoints to the operator
   */
  public CertificateReconciler(
      Function<CertificatePeers, CertificateProtocol> protocol,
      OperatorMetrics metrics,
      boolean dnsEndpointApi) {
    this.protocol = protocol.apply(new CachePeers());
    this.metrics = metrics;
    this.dnsEndpointApi = dnsEndpointApi;
  }

  @Override
  public UpdateControl<AliyunCertificate> reconcile(
      AliyunCertificate resource, Context<AliyunCertificate> context) {
    if (context.isPrimaryResourceDeleted()) {
      forget(resource); // gone from the API server: only this process's state is left
      return UpdateControl.noUpdate();
    }
    var source = context.eventSourceRetriever().getControllerEventSource();
    CertificateProtocol.Result result =
        protocol.reconcile(
            resource,
            (before, after) ->
                source.handleRecentResourceUpdate(ResourceID.fromResource(after), after, before));
    if (result.gone()) {
      forget(resource);
      return UpdateControl.noUpdate();
    }
    Outcome outcome = result.outcome();
    metrics.certificateReconciled(
        resource.getMetadata().getUid(),
        outcome.state().name().toLowerCase(Locale.ROOT),
        outcome.reason());
    metrics.certificateExpiry(
        resource.getMetadata().getNamespace(), resource.getMetadata().getName(), result.expiry());
    UpdateControl<AliyunCertificate> control = UpdateControl.noUpdate();
    outcome.requeueAfter().ifPresent(control::rescheduleAfter);
    return control;
  }

  private void forget(AliyunCertificate resource) {
    protocol.forget(resource.getMetadata().getUid());
    metrics.forgetCertificate(
        resource.getMetadata().getUid(),
        resource.getMetadata().getNamespace(),
        resource.getMetadata().getName());
  }

  /** An account appeared, changed or went: the certificates whose AliyunCsr uses it look again. */
  public void accountChanged(String account) {
    var c = cache;
    if (c == null) {
      return;
    }
    c.list()
        .filter(
            r ->
                r.getSpec() != null
                    && r.getSpec().getCsrRef() != null
                    && csr(r.getMetadata().getNamespace(), r.getSpec().getCsrRef().getName())
                        .filter(csr -> Objects.equals(CertificatePeers.accountOf(csr), account))
                        .isPresent())
        .forEach(r -> wakeups.propagateEvent(ResourceID.fromResource(r)));
  }

  /** A namespace's labels may have changed: its certificates look again. */
  public void namespaceChanged(String namespace) {
    var c = cache;
    if (c != null) {
      c.list(namespace).forEach(r -> wakeups.propagateEvent(ResourceID.fromResource(r)));
    }
  }

  /**
   * Which updates reach the reconciler: a change of spec or of metadata (the retry annotation, a
   * deletion), or a status that was lost; not a status write alone, which is what this operator's
   * own writes are (and another process's lease).
   */
  public static boolean acceptUpdate(AliyunCertificate updated, AliyunCertificate previous) {
    if (previous == null) {
      return true;
    }
    var now = updated.getMetadata();
    var before = previous.getMetadata();
    boolean statusLost =
        (updated.getStatus() == null || updated.getStatus().getObservedGeneration() == null)
            && previous.getStatus() != null
            && previous.getStatus().getObservedGeneration() != null;
    return !Objects.equals(now.getGeneration(), before.getGeneration())
        || !Objects.equals(now.getAnnotations(), before.getAnnotations())
        || !Objects.equals(now.getLabels(), before.getLabels())
        || !Objects.equals(now.getDeletionTimestamp(), before.getDeletionTimestamp())
        || statusLost;
  }

  private Optional<AliyunCsr> csr(String namespace, String name) {
    var source = csrSources.getOrDefault(namespace, csrSources.get(ALL));
    return source == null ? Optional.empty() : source.get(new ResourceID(name, namespace));
  }

  /** {@link CertificatePeers} from the informer caches, by index. */
  private final class CachePeers implements CertificatePeers {
    @Override
    public Optional<AliyunCsr> csr(String namespace, String name) {
      return CertificateReconciler.this.csr(namespace, name);
    }

    @Override
    public Optional<AliyunCertificate> earlierNaming(
        AliyunCertificate self, String instanceId, String account) {
      var c = cache;
      if (c == null) {
        return Optional.empty();
      }
      return c.byIndex(INSTANCE_INDEX, instanceId).stream()
          .filter(other -> !other.getMetadata().getUid().equals(self.getMetadata().getUid()))
          .filter(other -> !other.isMarkedForDeletion())
          .filter(
              other ->
                  csr(other.getMetadata().getNamespace(), other.getSpec().getCsrRef().getName())
                      // null is the default account: compared as it is, not mapped away.
                      .filter(csr -> Objects.equals(CertificatePeers.accountOf(csr), account))
                      .isPresent())
          .filter(other -> goesFirst(other, self, instanceId))
          .min((a, b) -> goesFirst(a, b, instanceId) ? -1 : 1);
    }
  }

  /**
   * Whether {@code a} has the instance before {@code b}: a certificate whose status records an
   * application on it comes first (it may hold the instance already), then the one created first
   * (creationTimestamp, then UID).
   */
  static boolean goesFirst(AliyunCertificate a, AliyunCertificate b, String instanceId) {
    boolean aApplied = appliedOn(a, instanceId);
    boolean bApplied = appliedOn(b, instanceId);
    if (aApplied != bApplied) {
      return aApplied;
    }
    String ta = a.getMetadata().getCreationTimestamp();
    String tb = b.getMetadata().getCreationTimestamp();
    if (ta == null || tb == null) {
      return false;
    }
    int byTime = Instant.parse(ta).compareTo(Instant.parse(tb));
    return byTime != 0
        ? byTime < 0
        : a.getMetadata().getUid().compareTo(b.getMetadata().getUid()) < 0;
  }

  private static boolean appliedOn(AliyunCertificate r, String instanceId) {
    var status = r.getStatus();
    return status != null
        && status.getApplication() != null
        && instanceId.equals(status.getApplication().getInstanceId());
  }

  // ---- indexes ----------------------------------------------------------------------------------

  /** Index key: the instance spec.instanceId names. */
  static List<String> instanceOf(AliyunCertificate r) {
    return r.getSpec() == null || r.getSpec().getInstanceId() == null
        ? List.of()
        : List.of(r.getSpec().getInstanceId());
  }

  /** Index key "namespace/name" of the AliyunCsr spec.csrRef names. */
  static List<String> csrOf(AliyunCertificate r) {
    AliyunCertificateSpec spec = r.getSpec();
    return spec == null || spec.getCsrRef() == null || spec.getCsrRef().getName() == null
        ? List.of()
        : List.of(r.getMetadata().getNamespace() + "/" + spec.getCsrRef().getName());
  }

  /** Index keys "namespace/name" of the Secrets a certificate names itself: target and key. */
  static List<String> secretsOf(AliyunCertificate r) {
    AliyunCertificateSpec spec = r.getSpec();
    List<String> keys = new ArrayList<>();
    if (spec == null) {
      return keys;
    }
    String namespace = r.getMetadata().getNamespace();
    if (spec.getSecretName() != null) {
      keys.add(namespace + "/" + spec.getSecretName());
    }
    if (spec.getPrivateKeySecretRef() != null && spec.getPrivateKeySecretRef().getName() != null) {
      keys.add(namespace + "/" + spec.getPrivateKeySecretRef().getName());
    }
    return keys;
  }

  /** Index keys "namespace/name" of an AliyunCsr's Secrets: its CSR and its key. */
  static List<String> secretsOf(AliyunCsr csr) {
    AliyunCsrSpec spec = csr.getSpec();
    List<String> keys = new ArrayList<>();
    if (spec == null) {
      return keys;
    }
    for (SecretKeyRef ref : new SecretKeyRef[] {spec.getCsrSecretRef(), spec.getKeySecretRef()}) {
      if (ref != null && ref.getName() != null) {
        keys.add(csr.getMetadata().getNamespace() + "/" + ref.getName());
      }
    }
    return keys;
  }

  /**
   * What a certificate reads of an AliyunCsr, and nothing more: identity, generation, spec, and the
   * status fields that say whether (and where) it is Ready with which CSR. The AliyunCsr controller
   * keeps the whole object in its own cache.
   */
  static AliyunCsr lean(AliyunCsr csr) {
    AliyunCsr lean = new AliyunCsr();
    ObjectMeta meta = new ObjectMeta();
    meta.setName(csr.getMetadata().getName());
    meta.setNamespace(csr.getMetadata().getNamespace());
    meta.setUid(csr.getMetadata().getUid());
    meta.setGeneration(csr.getMetadata().getGeneration());
    meta.setResourceVersion(csr.getMetadata().getResourceVersion());
    meta.setCreationTimestamp(csr.getMetadata().getCreationTimestamp());
    meta.setDeletionTimestamp(csr.getMetadata().getDeletionTimestamp());
    lean.setMetadata(meta);
    lean.setSpec(csr.getSpec());
    AliyunCsrStatus status = csr.getStatus();
    if (status != null) {
      AliyunCsrStatus kept = new AliyunCsrStatus();
      kept.setObservedGeneration(status.getObservedGeneration());
      kept.setConditions(status.getConditions());
      kept.setCsrId(status.getCsrId());
      kept.setCsrSha256(status.getCsrSha256());
      kept.setAccount(status.getAccount());
      lean.setStatus(kept);
    }
    return lean;
  }

  // ---- event sources ----------------------------------------------------------------------------

  @Override
  public List<EventSource<?, AliyunCertificate>> prepareEventSources(
      EventSourceContext<AliyunCertificate> context) {
    var primary = context.getPrimaryCache();
    primary.addIndexer(INSTANCE_INDEX, CertificateReconciler::instanceOf);
    primary.addIndexer(CSR_INDEX, CertificateReconciler::csrOf);
    primary.addIndexer(SECRET_INDEX, CertificateReconciler::secretsOf);
    cache = primary;
    // One AliyunCsr and one Secret source per watched namespace, each with a store of its own:
    // JOSDK gives one source's ItemStore to each of its namespaces' informers, and they must not
    // share it.
    Set<String> namespaces =
        context.getControllerConfiguration().getInformerConfig().getNamespaces();
    List<EventSource<?, AliyunCertificate>> sources = new ArrayList<>();
    sources.add(wakeups);
    List<Set<String>> scopes = new ArrayList<>();
    if (namespaces.contains(Constants.WATCH_ALL_NAMESPACES)) {
      scopes.add(namespaces);
    } else {
      new TreeSet<>(namespaces).forEach(n -> scopes.add(Set.of(n)));
    }
    for (Set<String> scope : scopes) {
      String key =
          scope.size() == 1 && !scope.contains(Constants.WATCH_ALL_NAMESPACES)
              ? scope.iterator().next()
              : ALL;
      String suffix = key.equals(ALL) ? "" : "-" + key;
      InformerEventSource<AliyunCsr, AliyunCertificate> csrs =
          csrSource(context, "certificate-csrs" + suffix, scope);
      csrSources.put(key, csrs);
      sources.add(csrs);
      sources.add(secretSource(context, "certificate-secrets" + suffix, scope));
    }
    if (dnsEndpointApi) {
      sources.add(dnsEndpointSource(context, namespaces));
    }
    return sources;
  }

  private InformerEventSource<AliyunCsr, AliyunCertificate> csrSource(
      EventSourceContext<AliyunCertificate> context, String name, Set<String> namespaces) {
    var configuration =
        InformerEventSourceConfiguration.from(AliyunCsr.class, AliyunCertificate.class)
            .withName(name)
            .withNamespaces(namespaces)
            .withItemStore(LeanItemStore.stripping(CertificateReconciler::lean))
            .withInformerListLimit(LIST_PAGE)
            .withSecondaryToPrimaryMapper(
                csr ->
                    byIndex(
                        context,
                        CSR_INDEX,
                        csr.getMetadata().getNamespace() + "/" + csr.getMetadata().getName()))
            .build();
    var source = new InformerEventSource<>(configuration, context);
    source.addIndexers(Map.of(CSR_SECRET_INDEX, CertificateReconciler::secretsOf));
    return source;
  }

  private InformerEventSource<Secret, AliyunCertificate> secretSource(
      EventSourceContext<AliyunCertificate> context, String name, Set<String> namespaces) {
    var configuration =
        InformerEventSourceConfiguration.from(Secret.class, AliyunCertificate.class)
            .withName(name)
            .withNamespaces(namespaces)
            .withItemStore(LeanItemStore.secretsMetadataOnly())
            .withInformerListLimit(LIST_PAGE)
            .withSecondaryToPrimaryMapper(secret -> certificatesUsing(context, secret))
            .build();
    return new InformerEventSource<>(configuration, context);
  }

  /** The certificates whose target or key Secret it is, or whose AliyunCsr's Secret it is. */
  private Set<ResourceID> certificatesUsing(
      EventSourceContext<AliyunCertificate> context, Secret secret) {
    String namespace = secret.getMetadata().getNamespace();
    String key = namespace + "/" + secret.getMetadata().getName();
    Set<ResourceID> ids = new HashSet<>(byIndex(context, SECRET_INDEX, key));
    var csrs = csrSources.getOrDefault(namespace, csrSources.get(ALL));
    if (csrs != null) {
      for (AliyunCsr csr : csrs.byIndex(CSR_SECRET_INDEX, key)) {
        ids.addAll(
            byIndex(
                context,
                CSR_INDEX,
                csr.getMetadata().getNamespace() + "/" + csr.getMetadata().getName()));
      }
    }
    return ids;
  }

  private static InformerEventSource<GenericKubernetesResource, AliyunCertificate>
      dnsEndpointSource(EventSourceContext<AliyunCertificate> context, Set<String> namespaces) {
    var configuration =
        InformerEventSourceConfiguration.from(
                new GroupVersionKind(DnsEndpoints.GROUP, DnsEndpoints.VERSION, DnsEndpoints.KIND),
                AliyunCertificate.class)
            .withName("certificate-dnsendpoints")
            .withNamespaces(namespaces)
            .withLabelSelector(DnsEndpoints.MANAGED_BY_LABEL + "=" + DnsEndpoints.MANAGED_BY)
            .withInformerListLimit(LIST_PAGE)
            .withSecondaryToPrimaryMapper(CertificateReconciler::owners)
            .build();
    return new InformerEventSource<>(configuration, context);
  }

  /** The AliyunCertificates among the owners of a DNSEndpoint. */
  static Set<ResourceID> owners(HasMetadata endpoint) {
    List<OwnerReference> refs = endpoint.getMetadata().getOwnerReferences();
    if (refs == null) {
      return Set.of();
    }
    return refs.stream()
        .filter(r -> "AliyunCertificate".equals(r.getKind()))
        .map(r -> new ResourceID(r.getName(), endpoint.getMetadata().getNamespace()))
        .collect(Collectors.toSet());
  }

  private static Set<ResourceID> byIndex(
      EventSourceContext<AliyunCertificate> context, String index, String key) {
    return context.getPrimaryCache().byIndex(index, key).stream()
        .map(ResourceID::fromResource)
        .collect(Collectors.toSet());
  }
}
