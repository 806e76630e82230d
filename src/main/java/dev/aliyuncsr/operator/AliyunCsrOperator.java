package dev.aliyuncsr.operator;

import dev.aliyuncsr.operator.accounts.CasAccount;
import dev.aliyuncsr.operator.accounts.CasAccounts;
import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.certificate.CertificateCrashPoints;
import dev.aliyuncsr.operator.certificate.CertificateProtocol;
import dev.aliyuncsr.operator.certificate.CertificateReconciler;
import dev.aliyuncsr.operator.certificate.DnsEndpoints;
import dev.aliyuncsr.operator.certificate.FabricCertificateKube;
import dev.aliyuncsr.operator.cloud.AlibabaCasClient;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasInstances;
import dev.aliyuncsr.operator.cloud.CasSettings;
import dev.aliyuncsr.operator.config.OperatorConfig;
import dev.aliyuncsr.operator.kube.ApiAccess;
import dev.aliyuncsr.operator.kube.EventRecorder;
import dev.aliyuncsr.operator.kube.FabricKubeApi;
import dev.aliyuncsr.operator.kube.LeanItemStore;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import dev.aliyuncsr.operator.observability.MeteredCasClient;
import dev.aliyuncsr.operator.observability.MeteredCasInstances;
import dev.aliyuncsr.operator.observability.OperatorMetrics;
import dev.aliyuncsr.operator.upload.AliyunCsrReconciler;
import dev.aliyuncsr.operator.upload.CasObserver;
import dev.aliyuncsr.operator.upload.CrashPoints;
import dev.aliyuncsr.operator.upload.MarkKey;
import dev.aliyuncsr.operator.upload.SecretInputs;
import dev.aliyuncsr.operator.upload.UploadNames;
import dev.aliyuncsr.operator.upload.UploadProtocol;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the reconciler to a Kubernetes client and a CAS client and runs it. Used by {@link
 * OperatorMain} and, in-process, by the tests and the demo.
 */
public final class AliyunCsrOperator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AliyunCsrOperator.class);

  private final Operator operator;
  private final OperatorMetrics metrics;
  private final KubernetesClient client;
  private final OperatorConfig config;
  private final EventRecorder events;
  private final AtomicBoolean closing;
  private final CasObserver observer;
  private final CasAccounts accounts;

  /**
   * The longest a reconcile thread waits for its place in the CAS rate; further away, the resource
   * says Queued and comes back at its time.
   */
  static final Duration MAX_PARK = Duration.ofMillis(250);

  /** Beyond the longest CAS call, for the result's status write. */
  static final Duration TERMINATION_MARGIN = Duration.ofSeconds(5);

  private AliyunCsrOperator(
      Operator operator,
      OperatorMetrics metrics,
      KubernetesClient client,
      OperatorConfig config,
      EventRecorder events,
      AtomicBoolean closing,
      CasObserver observer,
      CasAccounts accounts) {
    this.accounts = accounts;
    this.operator = operator;
    this.observer = observer;
    this.closing = closing;
    this.events = events;
    this.metrics = metrics;
    this.client = client;
    this.config = config;
  }

  /**
   * Starts with the SDK for AliyunCasAccounts.
   *
   * @param cas the operator's own (default) account; null when DEFAULT_ACCOUNT=none
   */
  public static AliyunCsrOperator start(
      KubernetesClient client, CasClient cas, OperatorConfig config) {
    return start(
        client,
        cas,
        config,
        (account, settings, credentials) -> AlibabaCasClient.create(settings, credentials));
  }

  /**
   * @param cas the operator's own (default) account; null when DEFAULT_ACCOUNT=none
   * @param accountClients builds the CAS client of each AliyunCasAccount
   */
  public static AliyunCsrOperator start(
      KubernetesClient client,
      CasClient cas,
      OperatorConfig config,
      CasAccounts.ClientFactory accountClients) {
    Clock clock = Clock.systemUTC();
    OperatorMetrics metrics = new OperatorMetrics();
    AtomicBoolean closing = new AtomicBoolean();
    AtomicBoolean leading = new AtomicBoolean(!config.leaderElection());
    Operator operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withCloseClientOnStop(false)
                  .withUseSSAToPatchPrimaryResource(false)
                  .withConcurrentReconciliationThreads(config.reconcileThreads())
                  .withStopOnInformerErrorDuringStartup(true)
                  .withCacheSyncTimeout(Duration.ofMinutes(2))
                  // A graceful stop lets reconciles in flight finish their CAS call and record its
                  // result (the call is bounded by connect + read timeout) before the Lease goes.
                  .withReconciliationTerminationTimeout(
                      config.cas().maxCallTime().plus(TERMINATION_MARGIN))
                  .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(metrics.registry()));
              if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(
                        config.leaseName(),
                        config.leaseNamespace().isEmpty() ? null : config.leaseNamespace(),
                        LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
                        LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
                        LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
                        config.identity(),
                        // JOSDK's own exit on losing the lease calls System.exit, which blocks for
                        // good when it happens inside our shutdown hook (a SIGTERM): exit here
                        // instead, and only when the lease was lost, not given up by close().
                        new LeaderCallbacks(
                            () -> {
                              leading.set(true);
                              log.info("leading as {}", config.identity());
                            },
                            () -> {
                              leading.set(false);
                              if (!closing.get()) {
                                log.error(
                                    "lost the leader Lease; exiting so that a new process"
                                        + " starts as a standby");
                                new Thread(() -> System.exit(1), "lost-lease-exit").start();
                              }
                            },
                            leader -> log.info("leader is {}", leader)),
                        false));
              }
            });
    EventRecorder events = new EventRecorder(client, clock);
    RetryBackoff backoff = new RetryBackoff(Duration.ofSeconds(1), Duration.ofMinutes(5));
    var settings =
        UploadProtocol.Settings.of(
            config.identity() + "/" + ProcessHandle.current().pid(),
            config.cas().leaseDuration(),
            config.cas().maxCallTime(),
            config.missingWindow());
    // Each account has one budget for every call: a rate in turns between namespaces and a cap on
    // calls in flight. An upload takes its turn before its lease is written (waiting for the budget
    // never holds a lease) and a slot only for the call; every other call waits for a turn of its
    // own. Observation and certificate polling are background classes within their shares.
    var accountSettings =
        new CasAccounts.Settings(
            config.operatorNamespace().isEmpty()
                ? java.util.Objects.requireNonNullElse(client.getNamespace(), "default")
                : config.operatorNamespace(),
            config.stsEndpoint(),
            config.oidcTokenFile(),
            config.cas(),
            config.observeShare(),
            config.certificatesShare(),
            MAX_PARK,
            config.markKeySecret(),
            config.dnsValidationZones());
    // The key of the ownership marks, before anything can upload: every replica reads the same.
    UploadNames names =
        new UploadNames(
            MarkKey.loadOrCreate(
                client, accountSettings.operatorNamespace(), config.markKeySecret()));
    // The SDK client serves the CSR actions and the certificate-instance actions alike.
    CasAccount defaultAccount =
        cas == null
            ? null
            : CasAccounts.defaultAccount(
                new MeteredCasClient(cas, metrics, CasAccount.DEFAULT_LABEL),
                cas instanceof CasInstances instances
                    ? new MeteredCasInstances(instances, metrics, CasAccount.DEFAULT_LABEL)
                    : null,
                accountSettings);
    AtomicReference<AliyunCsrReconciler> reconcilerRef = new AtomicReference<>();
    AtomicReference<CertificateReconciler> certificatesRef = new AtomicReference<>();
    CasAccounts accounts =
        new CasAccounts(
            client,
            accountSettings,
            defaultAccount,
            new CasAccounts.ClientFactory() {
              @Override
              public CasClient create(
                  String name, CasSettings casSettings, com.aliyun.credentials.Client credentials)
                  throws CasException {
                return clients(name, casSettings, credentials).csr();
              }

              @Override
              public CasAccounts.AccountClients clients(
                  String name, CasSettings casSettings, com.aliyun.credentials.Client credentials)
                  throws CasException {
                CasAccounts.AccountClients sdk =
                    accountClients.clients(name, casSettings, credentials);
                return new CasAccounts.AccountClients(
                    new MeteredCasClient(sdk.csr(), metrics, name),
                    new MeteredCasInstances(sdk.instances(), metrics, name));
              }
            },
            new CasAccounts.Listener() {
              @Override
              public void accountChanged(String account) {
                var r = reconcilerRef.get();
                if (r != null) {
                  r.accountChanged(account);
                }
                var c = certificatesRef.get();
                if (c != null) {
                  c.accountChanged(account);
                }
              }

              @Override
              public void namespaceChanged(String namespace) {
                var r = reconcilerRef.get();
                if (r != null) {
                  r.namespaceChanged(namespace);
                }
                var c = certificatesRef.get();
                if (c != null) {
                  c.namespaceChanged(namespace);
                }
              }
            },
            account -> {
              var r = reconcilerRef.get();
              return r == null ? 0 : r.holders(account);
            },
            account -> {
              var r = reconcilerRef.get();
              return r == null ? java.util.List.of() : r.recordedCsrIds(account);
            },
            () -> leading.get() && !closing.get(),
            clock);
    var reconciler =
        new AliyunCsrReconciler(
            peers ->
                new UploadProtocol(
                    new FabricKubeApi(client),
                    accounts,
                    new SecretInputs(client)::load,
                    peers,
                    names,
                    events,
                    clock,
                    backoff,
                    CertificateCrashPoints.of(config.crashAt()).isPresent()
                        ? CrashPoints.none()
                        : CrashPoints.fromEnvironment(config.crashAt()),
                    settings,
                    new UploadProtocol.DriftListener() {
                      @Override
                      public void observed(String result) {
                        metrics.observed(result, 1);
                      }

                      @Override
                      public void observationCall(String action) {
                        metrics.observationCall(action);
                      }
                    }),
            backoff,
            metrics);
    reconcilerRef.set(reconciler);
    CertificateReconciler certificates =
        certificateReconciler(client, config, accounts, events, clock, metrics, settings.holder());
    certificatesRef.set(certificates);
    accounts.start();
    operator.register(
        reconciler,
        o -> {
          // The reconciler handles its finalizer itself: it is added in the intent's update, not
          // in a separate write before the first reconcile, and removed after cleanup.
          o.withTriggerReconcilerOnAllEvents(true)
              .withGenerationAware(false)
              .withOnUpdateFilter(reconciler::acceptUpdate)
              .withInformerListLimit(AliyunCsrReconciler.LIST_PAGE)
              .withReconciliationMaxInterval(config.resyncInterval())
              // Kubernetes API errors only: CAS failures are rescheduled by the reconciler.
              .withRetry(
                  new GenericRetry()
                      .setInitialInterval(500)
                      .setIntervalMultiplier(2)
                      .setMaxInterval(60_000)
                      .withoutMaxAttempts());
          // JOSDK hands the same ItemStore instance to the informer of every watched namespace,
          // and each namespace's list empties the others' entries from a shared store. So the
          // lean store is used only where there is one informer: all namespaces, or one.
          if (config.watchNamespaces().size() <= 1) {
            o.withItemStore(LeanItemStore.withoutManagedFields());
          }
          if (config.watchNamespaces().isEmpty()) {
            o.watchingAllNamespaces();
          } else {
            o.settingNamespaces(config.watchNamespaces());
          }
        });
    if (certificates != null) {
      operator.register(
          certificates,
          o -> {
            // As for AliyunCsr: every event reaches the reconciler, which needs no finalizer.
            o.withTriggerReconcilerOnAllEvents(true)
                .withGenerationAware(false)
                .withOnUpdateFilter(CertificateReconciler::acceptUpdate)
                .withInformerListLimit(CertificateReconciler.LIST_PAGE)
                .withReconciliationMaxInterval(config.resyncInterval())
                .withRetry(
                    new GenericRetry()
                        .setInitialInterval(500)
                        .setIntervalMultiplier(2)
                        .setMaxInterval(60_000)
                        .withoutMaxAttempts());
            if (config.watchNamespaces().isEmpty()) {
              o.watchingAllNamespaces();
            } else {
              o.settingNamespaces(config.watchNamespaces());
            }
          });
    }
    operator.start();
    CasObserver observer = null;
    if (!config.observeInterval().isZero()) {
      // Observation is a background class in each account's budget, within its share of the
      // rate: it never takes more than that from uploads. It calls ListCsr and GetCsrDetail only.
      observer =
          new CasObserver(
                  new FabricKubeApi(client),
                  new CasObserver.Host() {
                    @Override
                    public java.util.List<dev.aliyuncsr.operator.api.AliyunCsr> resources() {
                      return reconciler.cachedResources();
                    }

                    @Override
                    public void confirm(dev.aliyuncsr.operator.api.AliyunCsr resource) {
                      reconciler.confirm(resource);
                    }

                    @Override
                    public java.util.Optional<CasClient> observeClient(String account) {
                      return accounts.observeClient(account);
                    }

                    @Override
                    public void missingInPass(String account, int missing, int recorded) {
                      accounts.missingInPass(account, missing, recorded);
                    }
                  },
                  new CasObserver.Metrics() {
                    @Override
                    public void observed(String result, int count) {
                      metrics.observed(result, count);
                    }

                    @Override
                    public void observationCall(String action) {
                      metrics.observationCall(action);
                    }

                    @Override
                    public void confirmationAge(Duration age) {
                      metrics.confirmationAge(age);
                    }
                  },
                  clock,
                  config.observeInterval(),
                  () -> leading.get() && !closing.get() && operator.getRuntimeInfo().isStarted())
              .start();
    }
    return new AliyunCsrOperator(
        operator, metrics, client, config, events, closing, observer, accounts);
  }

  /**
   * The AliyunCertificate controller, when the cluster serves that kind to the operator: its CRD is
   * installed and the operator may list and watch it (an older chart's RBAC leaves the AliyunCsr
   * controller running, and says what is missing). DNSEndpoints are published only when the cluster
   * serves external-dns's kind too.
   */
  private static CertificateReconciler certificateReconciler(
      KubernetesClient client,
      OperatorConfig config,
      CasAccounts accounts,
      EventRecorder events,
      Clock clock,
      OperatorMetrics metrics,
      String holder) {
    if (!ApiAccess.serves(
        client, AliyunCsr.GROUP + "/" + AliyunCsr.VERSION, "aliyuncertificates")) {
      log.warn("AliyunCertificates are not served: their CRD is not installed");
      return null;
    }
    if (!ApiAccess.allowed(
        client,
        AliyunCsr.GROUP,
        "aliyuncertificates",
        List.of("get", "list", "watch", "patch"),
        config.watchNamespaces())) {
      log.error(
          "AliyunCertificates are not served: the operator may not get, list, watch and patch"
              + " aliyuncertificates; apply the RBAC of this version");
      return null;
    }
    // An older release's RBAC reads Secrets only: without this, a certificate would be applied
    // for (paid) and then never written.
    if (!ApiAccess.allowed(
        client, "", "secrets", List.of("create", "patch"), config.watchNamespaces())) {
      log.error(
          "AliyunCertificates are not served: the operator may not create and patch Secrets where"
              + " it watches, to write their kubernetes.io/tls Secrets; apply the RBAC of this"
              + " version");
      return null;
    }
    boolean dnsEndpoints =
        ApiAccess.serves(client, DnsEndpoints.API_VERSION, DnsEndpoints.PLURAL)
            && ApiAccess.allowed(
                client,
                DnsEndpoints.GROUP,
                DnsEndpoints.PLURAL,
                List.of("get", "list", "watch", "create", "patch", "delete"),
                config.watchNamespaces());
    log.info(
        "AliyunCertificates are served; external-dns DNSEndpoints {}",
        dnsEndpoints
            ? "are published for spec.externalDns"
            : "are not available (no CRD, or no RBAC for dnsendpoints)");
    RetryBackoff backoff = new RetryBackoff(Duration.ofSeconds(1), Duration.ofMinutes(5));
    return new CertificateReconciler(
        peers ->
            new CertificateProtocol(
                new FabricCertificateKube(client),
                peers,
                accounts,
                config.certificateSettings(),
                events,
                clock,
                backoff,
                CertificateCrashPoints.fromEnvironment(config.crashAt()),
                CertificateProtocol.LeaseSettings.of(
                    holder, config.cas().leaseDuration(), config.cas().maxCallTime()),
                () -> dnsEndpoints),
        metrics,
        dnsEndpoints);
  }

  public OperatorMetrics metrics() {
    return metrics;
  }

  /** Whether this operator serves AliyunCertificates (their CRD and its RBAC were found). */
  public boolean servesCertificates() {
    return operator.getRuntimeInfo().getRegisteredControllers().stream()
        .anyMatch(c -> c.getConfiguration().getResourceClass() == AliyunCertificate.class);
  }

  /** The caches are synced and this replica reconciles (a standby is not ready). */
  public boolean isReady() {
    var info = operator.getRuntimeInfo();
    return info.isStarted() && info.allEventSourcesAreHealthy();
  }

  @Override
  public void close() {
    closing.set(true);
    if (observer != null) {
      observer.close();
    }
    operator.stop();
    accounts.close();
    events.close();
    if (config.leaderElection()) {
      releaseLease();
    }
  }

  /**
   * JOSDK does not release the Lease when it stops, so a successor would wait for it to expire;
   * clearing the holder lets a standby take over at its next retry.
   */
  private void releaseLease() {
    String namespace =
        config.leaseNamespace().isEmpty() ? client.getNamespace() : config.leaseNamespace();
    try {
      var lease = client.resources(Lease.class).inNamespace(namespace).withName(config.leaseName());
      Lease current = lease.get();
      if (current != null
          && current.getSpec() != null
          && config.identity().equals(current.getSpec().getHolderIdentity())) {
        lease.edit(
            l -> {
              l.getSpec().setHolderIdentity(null);
              l.getSpec().setLeaseDurationSeconds(1);
              return l;
            });
        log.info("released leader Lease {}/{}", namespace, config.leaseName());
      }
    } catch (KubernetesClientException e) {
      log.warn("could not release leader Lease: HTTP {}", e.getCode());
    }
  }
}
