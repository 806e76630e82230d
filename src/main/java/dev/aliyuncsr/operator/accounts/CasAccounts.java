package dev.aliyuncsr.operator.accounts;

import dev.aliyuncsr.operator.api.AccountIssuance;
import dev.aliyuncsr.operator.api.AccountNamespaceSelector;
import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCasAccountSpec;
import dev.aliyuncsr.operator.api.AliyunCasAccountStatus;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.certificate.CertificateRoute;
import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasInstances;
import dev.aliyuncsr.operator.cloud.CasSettings;
import dev.aliyuncsr.operator.cloud.NanoClock;
import dev.aliyuncsr.operator.kube.LeanItemStore;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.upload.CasRoute;
import dev.aliyuncsr.operator.upload.CasRoute.Access;
import dev.aliyuncsr.operator.upload.CasRoute.Routes;
import dev.aliyuncsr.operator.upload.StatusBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The accounts the operator can call CAS with: its own credentials (the default account, unless
 * DEFAULT_ACCOUNT=none), and one per AliyunCasAccount, each with its SDK client and call budget. An
 * account is rebuilt when its spec or its credential Secret changes, and when its credentials are
 * probed again; its budget is not: it lives as long as the account, and a new spec changes its
 * limits in place, so that no rebuild lets calls above the rate or loses a waiting caller's place.
 *
 * <p>As a {@link CasRoute} it decides, for each reconcile, which account a resource's calls go to:
 * a resource that holds CSRs calls the account that holds them (status.account), for a deletion
 * even when its namespace is no longer selected; everything else must name an account that exists,
 * works and selects its namespace. Refusals call nothing.
 *
 * <p>It also keeps each AliyunCasAccount's status (Ready, CSRs held, namespaces selected, call
 * rate) and its finalizer, which stays while any AliyunCsr holds a CSR in the account.
 *
 * <p>As a {@link CertificateRoute} it answers, for an AliyunCertificate, the account of its
 * AliyunCsr under the same rules as an AliyunCsr's desired account (no cleanup route: applying
 * leaves nothing to clean up), with what the account lets its namespaces spend and publish.
 */
public final class CasAccounts implements CasRoute, CertificateRoute, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CasAccounts.class);

  /** How often account statuses are brought up to date, and a failed account is tried again. */
  static final Duration STATUS_PERIOD = Duration.ofSeconds(5);

  /** The account's Ready/Stalled reason while its migration alarm waits for a confirmation. */
  static final String MIGRATION_SUSPECTED = "MigrationSuspected";

  /** How often a working account's credentials are checked again with a harmless call. */
  static final Duration PROBE_PERIOD = Duration.ofMinutes(5);

  /** Builds an account's CAS client; production: the SDK on its own credentials. */
  public interface ClientFactory {
    CasClient create(
        String account, CasSettings settings, com.aliyun.credentials.Client credentials)
        throws CasException;

    /**
     * The account's clients: the CSR actions, and the certificate-instance actions on the same SDK
     * client. By default the client {@link #create} makes, which has both when it is the SDK's.
     */
    default AccountClients clients(
        String account, CasSettings settings, com.aliyun.credentials.Client credentials)
        throws CasException {
      CasClient client = create(account, settings, credentials);
      return new AccountClients(client, NoInstanceActions.of(client));
    }
  }

  /** One account's clients, both on its one SDK client (and its one set of credentials). */
  public record AccountClients(CasClient csr, CasInstances instances) {}

  /** Told when an account or a namespace changed, so that the resources it concerns reconcile. */
  public interface Listener {
    void accountChanged(String account);

    void namespaceChanged(String namespace);
  }

  /**
   * What the operator's settings say about accounts.
   *
   * @param observeShare the part of each account's qps (and concurrency) observation may use
   * @param certificatesShare the part AliyunCertificate polling may use
   * @param maxPark the longest a reconcile thread parks for its call's place in the rate
   */
  public record Settings(
      String operatorNamespace,
      String stsEndpoint,
      String oidcTokenFile,
      CasSettings defaults,
      double observeShare,
      double certificatesShare,
      Duration maxPark,
      String markKeySecret,
      List<String> dnsValidationZones) {

    /** The share of AliyunCertificate polling until the operator's settings name one. */
    public static final double DEFAULT_CERTIFICATES_SHARE = 0.2;

    /** Without DNS zones for the default account's validation records. */
    public Settings(
        String operatorNamespace,
        String stsEndpoint,
        String oidcTokenFile,
        CasSettings defaults,
        double observeShare,
        double certificatesShare,
        Duration maxPark,
        String markKeySecret) {
      this(
          operatorNamespace,
          stsEndpoint,
          oidcTokenFile,
          defaults,
          observeShare,
          certificatesShare,
          maxPark,
          markKeySecret,
          List.of());
    }
  }

  /**
   * An account as last built: its client, or why it does not work.
   *
   * @param secretVersion the resourceVersion of the credential Secret it was built from (null: no
   *     Secret, or none was found); status.credentialsSecretVersion shows it
   */
  record Entry(
      CasAccount account,
      String builtFrom,
      boolean ready,
      String reason,
      String problem,
      Instant probedAt,
      String secretVersion) {}

  private final KubernetesClient client;
  private final Settings settings;
  private final CasAccount defaultAccount;
  private final ClientFactory factory;
  private final Listener listener;
  private final ToIntFunction<String> holders;
  private final Function<String, List<Long>> recordedCsrIds;

  /** Per account ("" for the default one): whether its handle still reaches its CSRs. */
  private final Map<String, MigrationGuard> guards = new ConcurrentHashMap<>();

  private final BooleanSupplier leading;
  private final Clock clock;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  /** Each AliyunCasAccount's budget, by name: kept across rebuilds, dropped with the account. */
  private final Map<String, CallBudget> budgets = new ConcurrentHashMap<>();

  private final Map<String, CallRate> callRates = new ConcurrentHashMap<>();

  private final ScheduledExecutorService worker;
  private final AccountCredentialsFactory credentials;
  private SharedIndexInformer<AliyunCasAccount> accounts;
  private SharedIndexInformer<Secret> secrets;
  private SharedIndexInformer<Namespace> namespaces;

  /**
   * @param defaultAccount the operator's own credentials; null with DEFAULT_ACCOUNT=none
   * @param holders how many AliyunCsrs hold a CSR in the named account
   * @param recordedCsrIds the CsrIds AliyunCsrs record in the named account (null: the default)
   * @param leading whether this process reconciles (writes account statuses)
   */
  public CasAccounts(
      KubernetesClient client,
      Settings settings,
      CasAccount defaultAccount,
      ClientFactory factory,
      Listener listener,
      ToIntFunction<String> holders,
      Function<String, List<Long>> recordedCsrIds,
      BooleanSupplier leading,
      Clock clock) {
    this.client = client;
    this.settings = settings;
    this.defaultAccount = defaultAccount;
    this.factory = factory;
    this.listener = listener;
    this.holders = holders;
    this.recordedCsrIds = recordedCsrIds;
    this.leading = leading;
    this.clock = clock;
    this.worker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "cas-accounts");
              t.setDaemon(true);
              return t;
            });
    this.credentials =
        new AccountCredentialsFactory(
            settings.operatorNamespace(),
            settings.stsEndpoint(),
            settings.oidcTokenFile(),
            name -> {
              Secret known =
                  secrets == null
                      ? null
                      : secrets.getStore().getByKey(settings.operatorNamespace() + "/" + name);
              return known == null ? null : known.getMetadata().getResourceVersion();
            },
            name ->
                client.secrets().inNamespace(settings.operatorNamespace()).withName(name).get());
  }

  /** The operator's default account: its own credentials, with today's settings. */
  public static CasAccount defaultAccount(CasClient client, Settings settings) {
    return defaultAccount(client, NoInstanceActions.of(client), settings);
  }

  /**
   * The operator's default account with its certificate-instance actions; its AliyunCertificates
   * may use any instance and publish validation records in DNS_VALIDATION_ZONES.
   */
  public static CasAccount defaultAccount(
      CasClient client, CasInstances instances, Settings settings) {
    AccountIssuance issuance = new AccountIssuance();
    issuance.setDnsZones(settings.dnsValidationZones());
    return new CasAccount(
        null,
        settings.defaults(),
        null,
        client,
        instances == null ? NoInstanceActions.of(client) : instances,
        issuance,
        newBudget(settings.defaults(), settings),
        new CallRate(() -> System.currentTimeMillis() / 1000));
  }

  private static CallBudget newBudget(CasSettings cas, Settings settings) {
    return new CallBudget(
        cas.qps(),
        cas.maxConcurrentCalls(),
        settings.maxPark(),
        Map.of(
            CasAccount.OBSERVE,
            settings.observeShare(),
            CasAccount.CERTIFICATES,
            settings.certificatesShare()),
        NanoClock.SYSTEM);
  }

  /**
   * The account {@code name} as built from its spec and SDK client, on the budget it has had since
   * it first appeared (its limits brought up to date).
   */
  CasAccount newAccount(
      String name, CasSettings cas, AccountNamespaceSelector selector, CasClient sdk) {
    return newAccount(name, cas, selector, sdk, NoInstanceActions.of(sdk), null);
  }

  /** As above, with the account's certificate-instance actions and spec.issuance. */
  CasAccount newAccount(
      String name,
      CasSettings cas,
      AccountNamespaceSelector selector,
      CasClient sdk,
      CasInstances instances,
      AccountIssuance issuance) {
    CallBudget budget = budgets.computeIfAbsent(name, n -> newBudget(cas, settings));
    budget.setLimits(cas.qps(), cas.maxConcurrentCalls());
    // The call rate, like the budget, lives as long as the account: status.callRate does not
    // start over at each rebuild.
    CallRate rate =
        callRates.computeIfAbsent(name, n -> new CallRate(() -> System.currentTimeMillis() / 1000));
    return new CasAccount(name, cas, selector, sdk, instances, issuance, budget, rate);
  }

  /**
   * Starts watching accounts, the credential Secrets of the operator's namespace and namespaces.
   */
  public CasAccounts start() {
    accounts = client.resources(AliyunCasAccount.class).inform(handler(this::accountEvent), 0);
    // Credentials are read from the operator's own namespace only (a Role there). The watch keeps
    // no Secret data, only versions: credentials are read with a GET when they change.
    secrets = client.secrets().inNamespace(settings.operatorNamespace()).runnableInformer(0);
    secrets.itemStore(LeanItemStore.secretsMetadataOnly());
    secrets.addEventHandler(handler(this::secretEvent));
    secrets.run();
    namespaces = client.namespaces().inform(handler(this::namespaceEvent), 0);
    if (defaultAccount != null && guard(null).built("default")) {
      worker.execute(
          () ->
              guard(null)
                  .check(defaultAccount.calls(), recordedCsrIds.apply(null), clock.instant()));
    }
    worker.scheduleWithFixedDelay(
        this::maintainSafely,
        STATUS_PERIOD.toMillis(),
        STATUS_PERIOD.toMillis(),
        TimeUnit.MILLISECONDS);
    return this;
  }

  private static <T> ResourceEventHandler<T> handler(Consumer<T> onChange) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        onChange.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        onChange.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        onChange.accept(obj);
      }
    };
  }

  private void accountEvent(AliyunCasAccount account) {
    String name = account.getMetadata().getName();
    worker.execute(
        () -> {
          rebuild(name, false);
          if (leading.getAsBoolean()) {
            accountObject(name).ifPresent(a -> maintain(a, entries.get(name)));
          }
        });
  }

  private void secretEvent(Secret secret) {
    String name = secret.getMetadata().getName();
    // Only accounts whose credentials live in this Secret are rebuilt (a rotation, say).
    for (AliyunCasAccount account : accountList()) {
      var ref = account.getSpec() == null ? null : account.getSpec().getCredentials();
      if (ref != null
          && ref.getAccessKeySecretRef() != null
          && name.equals(ref.getAccessKeySecretRef().getName())) {
        String accountName = account.getMetadata().getName();
        worker.execute(
            () -> {
              rebuild(accountName, false);
              // The status says at once which version of the Secret the account now uses.
              if (leading.getAsBoolean()) {
                accountObject(accountName).ifPresent(a -> maintain(a, entries.get(accountName)));
              }
            });
      }
    }
  }

  private void namespaceEvent(Namespace namespace) {
    listener.namespaceChanged(namespace.getMetadata().getName());
  }

  private List<AliyunCasAccount> accountList() {
    return accounts == null ? List.of() : accounts.getStore().list();
  }

  private Optional<AliyunCasAccount> accountObject(String name) {
    return Optional.ofNullable(accounts == null ? null : accounts.getStore().getByKey(name));
  }

  /** Builds (or keeps) the account's client; tells the listener when anything changed. */
  private void rebuild(String name, boolean probeAgain) {
    Optional<AliyunCasAccount> object = accountObject(name);
    if (object.isEmpty()) {
      budgets.remove(name);
      callRates.remove(name);
      if (entries.remove(name) != null) {
        log.info("AliyunCasAccount {} is gone", name);
        listener.accountChanged(name);
      }
      return;
    }
    AliyunCasAccount account = object.get();
    String version = credentials.version(account);
    String from = account.getMetadata().getGeneration() + "/" + version;
    Entry before = entries.get(name);
    if (!probeAgain && before != null && before.builtFrom().equals(from)) {
      return;
    }
    Entry after = build(account, from, AccountCredentialsFactory.secretVersion(version));
    entries.put(name, after);
    if (after.ready() && guard(name).built(from)) {
      // A new handle (endpoint, credentials, a rotated key): does it still see what is recorded?
      guard(name).check(after.account().calls(), recordedCsrIds.apply(name), clock.instant());
    }
    if (before == null
        || before.ready() != after.ready()
        || !Objects.equals(before.problem(), after.problem())
        || !before.builtFrom().equals(from)) {
      log.info(
          "AliyunCasAccount {}: {}",
          name,
          after.ready() ? "ready" : "not ready: " + after.problem());
      listener.accountChanged(name);
    }
  }

  private Entry build(AliyunCasAccount account, String from, String secretVersion) {
    String name = account.getMetadata().getName();
    Instant now = clock.instant();
    CasSettings cas = settingsOf(account.getSpec());
    CasAccount built;
    try {
      var creds = credentials.create(account);
      AccountClients clients = factory.clients(name, cas, creds);
      built =
          newAccount(
              name,
              cas,
              account.getSpec().getNamespaceSelector(),
              clients.csr(),
              clients.instances(),
              account.getSpec().getIssuance());
    } catch (AccountCredentialsFactory.Problem e) {
      return new Entry(null, from, false, e.reason, e.getMessage(), now, secretVersion);
    } catch (CasException e) {
      return new Entry(null, from, false, "CredentialsFailed", e.getMessage(), now, secretVersion);
    } catch (RuntimeException e) {
      return new Entry(
          null, from, false, "CredentialsFailed", firstLine(e.getMessage()), now, secretVersion);
    }
    try {
      // A harmless call: the first page of ListCsr, one item.
      built.calls().listCsrPage(1, 1);
      return new Entry(
          built, from, true, "CredentialsWork", "ListCsr answered", now, secretVersion);
    } catch (CasException e) {
      return new Entry(built, from, false, e.reason(), e.getMessage(), now, secretVersion);
    }
  }

  private CasSettings settingsOf(AliyunCasAccountSpec spec) {
    CasSettings d = settings.defaults();
    return new CasSettings(
        spec.getEndpoint() == null ? d.endpoint() : spec.getEndpoint(),
        spec.getProtocol() == null ? d.protocol() : spec.getProtocol(),
        spec.getRegion() == null ? d.region() : spec.getRegion(),
        spec.getQps() == null ? d.qps() : spec.getQps(),
        spec.getMaxConcurrency() == null ? d.maxConcurrentCalls() : spec.getMaxConcurrency(),
        d.connectTimeout(),
        d.readTimeout());
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unknown error";
    }
    String line = message.lines().findFirst().orElse("");
    return line.length() > 200 ? line.substring(0, 200) : line;
  }

  // ---- routing ---------------------------------------------------------------------------------

  @Override
  public Routes routes(AliyunCsr r) {
    AliyunCsrStatus status = r.getStatus();
    boolean holds = StatusBuilder.holdsRecord(status);
    String namespace = r.getMetadata().getNamespace();
    // Cleanup goes through the account that holds the record, whatever the selector says now.
    Optional<Access> holding =
        holds
            ? Optional.of(
                account(status.getAccount())
                    .map(a -> guarded(status.getAccount(), a.access(namespace)))
                    .orElseGet(() -> gone(status.getAccount())))
            : Optional.empty();
    String desired = r.getSpec() == null ? null : r.getSpec().accountName();
    if (r.getSpec() == null) {
      return Routes.refused(
          Outcome.stalled(Reasons.INVALID_SPEC, "spec is required", null), holding);
    }
    if (holds && !Objects.equals(status.getAccount(), desired)) {
      return Routes.refused(
          Outcome.stalled(
              Reasons.INVALID_SPEC,
              "spec.accountRef names "
                  + describe(desired)
                  + ", but this resource's CSRs are held in "
                  + describe(status.getAccount())
                  + "; set it back",
              null),
          holding);
    }
    if (desired == null && defaultAccount == null) {
      return Routes.refused(
          Outcome.stalled(
              Reasons.INVALID_SPEC,
              "spec.accountRef is required: this operator has no default account"
                  + " (DEFAULT_ACCOUNT=none)",
              null),
          holding);
    }
    if (desired == null) {
      return new Routes(
          Optional.of(guarded(null, defaultAccount.access(namespace))), Optional.empty(), holding);
    }
    Optional<AliyunCasAccount> object = accountObject(desired);
    Entry entry = entries.get(desired);
    if (object.isEmpty()) {
      return Routes.refused(
          Outcome.progressing(
              Reasons.ACCOUNT_NOT_FOUND,
              "AliyunCasAccount " + desired + " does not exist; waiting for it",
              null),
          holding);
    }
    if (!holds && !object.get().hasFinalizer(AliyunCasAccount.FINALIZER)) {
      // Nothing goes into an account before its finalizer is on: its deletion must wait for
      // the CSRs in it.
      return Routes.refused(
          Outcome.progressing(
              Reasons.ACCOUNT_NOT_READY,
              "AliyunCasAccount " + desired + " is not ready: the operator has not taken it up yet",
              Duration.ofSeconds(1)),
          holding);
    }
    if (object.get().isMarkedForDeletion() && !holds) {
      return Routes.refused(
          Outcome.progressing(
              Reasons.ACCOUNT_NOT_FOUND,
              "AliyunCasAccount " + desired + " is being deleted; nothing new is uploaded into it",
              null),
          holding);
    }
    if (!CasAccount.selects(
        object.get().getSpec().getNamespaceSelector(), namespace, labels(namespace))) {
      return Routes.refused(
          Outcome.stalled(
              Reasons.ACCOUNT_NOT_PERMITTED,
              "AliyunCasAccount "
                  + desired
                  + " does not select namespace "
                  + namespace
                  + " (spec.namespaceSelector); nothing is sent to CAS",
              null),
          holding);
    }
    if (entry == null || !entry.ready() || entry.account() == null) {
      return Routes.refused(
          Outcome.progressing(
              Reasons.ACCOUNT_NOT_READY,
              "AliyunCasAccount "
                  + desired
                  + " is not ready"
                  + (entry == null ? "" : ": " + entry.problem()),
              Duration.ofSeconds(30)),
          holding);
    }
    return new Routes(
        Optional.of(guarded(desired, entry.account().access(namespace))),
        Optional.empty(),
        holding);
  }

  @Override
  public CertificateRoute.Route route(String namespace, String account) {
    if (account == null) {
      if (defaultAccount == null) {
        return CertificateRoute.Route.refused(
            Outcome.stalled(
                Reasons.INVALID_SPEC,
                "The AliyunCsr uses the operator's default account, and this operator has none"
                    + " (DEFAULT_ACCOUNT=none)",
                null));
      }
      return routeTo(defaultAccount, namespace);
    }
    Optional<AliyunCasAccount> object = accountObject(account);
    if (object.isEmpty()) {
      return CertificateRoute.Route.refused(
          Outcome.progressing(
              Reasons.ACCOUNT_NOT_FOUND,
              "AliyunCasAccount " + account + " does not exist; waiting for it",
              null));
    }
    if (!object.get().hasFinalizer(AliyunCasAccount.FINALIZER)) {
      return CertificateRoute.Route.refused(
          Outcome.progressing(
              Reasons.ACCOUNT_NOT_READY,
              "AliyunCasAccount " + account + " is not ready: the operator has not taken it up yet",
              Duration.ofSeconds(1)));
    }
    if (object.get().isMarkedForDeletion()) {
      return CertificateRoute.Route.refused(
          Outcome.progressing(
              Reasons.ACCOUNT_NOT_FOUND,
              "AliyunCasAccount " + account + " is being deleted; nothing is applied with it",
              null));
    }
    if (!CasAccount.selects(
        object.get().getSpec().getNamespaceSelector(), namespace, labels(namespace))) {
      return CertificateRoute.Route.refused(
          Outcome.stalled(
              Reasons.ACCOUNT_NOT_PERMITTED,
              "AliyunCasAccount "
                  + account
                  + " does not select namespace "
                  + namespace
                  + " (spec.namespaceSelector); nothing is sent to CAS",
              null));
    }
    Entry entry = entries.get(account);
    if (entry == null || !entry.ready() || entry.account() == null) {
      return CertificateRoute.Route.refused(
          Outcome.progressing(
              Reasons.ACCOUNT_NOT_READY,
              "AliyunCasAccount "
                  + account
                  + " is not ready"
                  + (entry == null ? "" : ": " + entry.problem()),
              Duration.ofSeconds(30)));
    }
    return routeTo(entry.account(), namespace);
  }

  private static CertificateRoute.Route routeTo(CasAccount account, String namespace) {
    return new CertificateRoute.Route(
        Optional.of(account.certificateAccess(namespace)),
        Optional.empty(),
        account.allowedInstances(),
        account.dnsZones());
  }

  private Map<String, String> labels(String namespace) {
    Namespace ns = namespaces == null ? null : namespaces.getStore().getByKey(namespace);
    return ns == null || ns.getMetadata().getLabels() == null
        ? Map.of()
        : ns.getMetadata().getLabels();
  }

  private static String describe(String account) {
    return account == null ? "the operator's default account" : "AliyunCasAccount " + account;
  }

  /** The account's clients, with what its migration guard says about uploading again. */
  private Access guarded(String account, Access access) {
    return new Access(
        access.account(),
        access.cas(),
        access.uploads(),
        access.gate(),
        guard(account).reuploadBlock());
  }

  private MigrationGuard guard(String account) {
    return guards.computeIfAbsent(
        account == null ? "" : account,
        key ->
            new MigrationGuard(
                describe(account),
                account == null
                    ? "kubectl -n "
                        + settings.operatorNamespace()
                        + " annotate --overwrite secret "
                        + settings.markKeySecret()
                        + " "
                        + MigrationGuard.CONFIRM_ANNOTATION
                        + "=%s"
                    : "kubectl annotate --overwrite aliyuncasaccount "
                        + account
                        + " "
                        + MigrationGuard.CONFIRM_ANNOTATION
                        + "=%s"));
  }

  /**
   * An observation pass over {@code account} (null: the default) found {@code missing} of its
   * {@code recorded} CSRs not listed: many at once raise the migration alarm.
   */
  public void missingInPass(String account, int missing, int recorded) {
    int all = Math.max(recorded, recordedCsrIds.apply(account).size());
    if (guard(account).missingInPass(missing, all, clock.instant())) {
      log.warn(
          "{}: {} of {} recorded CSRs missing in one observation pass; nothing is uploaded again"
              + " until an administrator confirms",
          describe(account),
          missing,
          recorded);
      listener.accountChanged(account);
    }
  }

  /** The calls of a resource whose account is gone: each one fails, and deletion says why. */
  private static Access gone(String account) {
    CasClient failing = GoneAccountClient.of(describe(account));
    return new Access(account, failing, failing, GoneAccountClient.gate());
  }

  /** The account by status.account's name (null: the default); empty when it does not work. */
  public Optional<CasAccount> account(String name) {
    if (name == null) {
      return Optional.ofNullable(defaultAccount);
    }
    Entry entry = entries.get(name);
    return entry == null ? Optional.empty() : Optional.ofNullable(entry.account());
  }

  /** The observation client of the named account, if it works. */
  public Optional<CasClient> observeClient(String name) {
    return account(name).map(CasAccount::observeClient);
  }

  @Override
  public void cancel(String uid) {
    if (defaultAccount != null) {
      defaultAccount.gate().cancel(uid);
    }
    budgets.values().forEach(b -> b.cancel(uid));
  }

  // ---- account status and finalizer -------------------------------------------------------------

  private void maintainSafely() {
    try {
      Instant now = clock.instant();
      confirmDefaultMigration();
      for (AliyunCasAccount account : accountList()) {
        String name = account.getMetadata().getName();
        Entry entry = entries.get(name);
        boolean probeDue =
            entry != null
                && now.isAfter(
                    entry.probedAt().plus(entry.ready() ? PROBE_PERIOD : Duration.ofSeconds(30)));
        if (entry == null || probeDue) {
          rebuild(name, true);
        }
        if (leading.getAsBoolean()) {
          maintain(account, entries.get(name));
        }
      }
    } catch (RuntimeException e) {
      log.warn("keeping account statuses failed: {}", e.toString());
    }
  }

  /**
   * The default account has no object of its own: its migration alarm is confirmed on the mark key
   * Secret of the operator's namespace, read only while the alarm is up.
   */
  private void confirmDefaultMigration() {
    MigrationGuard guard = guards.get("");
    if (guard == null || guard.state() != MigrationGuard.State.SUSPECTED) {
      return;
    }
    try {
      Secret keySecret =
          client
              .secrets()
              .inNamespace(settings.operatorNamespace())
              .withName(settings.markKeySecret())
              .get();
      String value =
          keySecret == null || keySecret.getMetadata().getAnnotations() == null
              ? null
              : keySecret.getMetadata().getAnnotations().get(MigrationGuard.CONFIRM_ANNOTATION);
      if (guard.confirm(value)) {
        log.info("the default account's migration alarm was confirmed; missing CSRs go up again");
        listener.accountChanged(null);
      }
    } catch (KubernetesClientException e) {
      log.debug("the mark key Secret could not be read (HTTP {})", e.getCode());
    }
  }

  private void maintain(AliyunCasAccount account, Entry entry) {
    String name = account.getMetadata().getName();
    MigrationGuard guard = guard(name);
    String confirmation =
        account.getMetadata().getAnnotations() == null
            ? null
            : account.getMetadata().getAnnotations().get(MigrationGuard.CONFIRM_ANNOTATION);
    if (guard.confirm(confirmation)) {
      log.info("AliyunCasAccount {}: migration alarm confirmed; missing CSRs go up again", name);
      listener.accountChanged(name);
    }
    int held = holders.applyAsInt(name);
    var resource = client.resources(AliyunCasAccount.class).withName(name);
    try {
      boolean hasFinalizer = account.hasFinalizer(AliyunCasAccount.FINALIZER);
      if (!account.isMarkedForDeletion() && !hasFinalizer) {
        resource.edit(
            a -> {
              a.addFinalizer(AliyunCasAccount.FINALIZER);
              return a;
            });
      } else if (account.isMarkedForDeletion() && hasFinalizer && held > 0) {
        unheldSince.remove(name);
      } else if (account.isMarkedForDeletion() && hasFinalizer && heldByNoneFor(name)) {
        resource.edit(
            a -> {
              a.removeFinalizer(AliyunCasAccount.FINALIZER);
              return a;
            });
        log.info("AliyunCasAccount {} released: no AliyunCsr holds a CSR in it", name);
        return;
      }
      AliyunCasAccountStatus next = statusOf(account, entry, held);
      if (!sameStatus(account.getStatus(), next)) {
        resource
            .subresource("status")
            .patch(
                PatchContext.of(PatchType.JSON_MERGE),
                Serialization.asJson(Map.of("status", next)));
      }
    } catch (KubernetesClientException e) {
      log.debug("AliyunCasAccount {}: status not written (HTTP {})", name, e.getCode());
    }
  }

  /** When each account being deleted was first seen holding nothing. */
  private final Map<String, Instant> unheldSince = new ConcurrentHashMap<>();

  /**
   * True once an account being deleted has held nothing for a whole status period: a resource that
   * just took an upload lease into it may not be in the cache yet.
   */
  private boolean heldByNoneFor(String name) {
    Instant now = clock.instant();
    Instant since = unheldSince.putIfAbsent(name, now);
    if (since == null || now.isBefore(since.plus(STATUS_PERIOD))) {
      return false;
    }
    unheldSince.remove(name);
    return true;
  }

  AliyunCasAccountStatus statusOf(AliyunCasAccount account, Entry entry, int held) {
    AliyunCasAccountStatus status = new AliyunCasAccountStatus();
    status.setObservedGeneration(account.getMetadata().getGeneration());
    status.setCsrCount(held);
    status.setNamespaceCount(selectedNamespaces(account));
    double rate = entry == null || entry.account() == null ? 0 : entry.account().callRate();
    status.setCallRate(Math.round(rate * 100) / 100.0);
    status.setLastProbeAt(entry == null ? null : StatusBuilder.rfc3339(entry.probedAt()));
    // lastProbeAt has whole seconds: a rotated key taken up within the second of the last build
    // leaves it as it was. The Secret's version the account was built from tells every rebuild.
    status.setCredentialsSecretVersion(entry == null ? null : entry.secretVersion());
    Optional<String> alarm = guard(account.getMetadata().getName()).reuploadBlock();
    boolean ready = entry != null && entry.ready() && alarm.isEmpty();
    String reason =
        entry == null ? "Building" : alarm.isPresent() ? MIGRATION_SUSPECTED : entry.reason();
    String message =
        entry == null
            ? "Resolving the credentials"
            : alarm.isPresent()
                ? alarm.get()
                : (entry.ready() ? "The credentials resolve and ListCsr answers" : entry.problem());
    if (account.isMarkedForDeletion()) {
      message =
          "Being deleted: waiting for the "
              + held
              + " AliyunCsr(s) that hold CSRs in it to be deleted or released";
    }
    String since =
        Optional.ofNullable(account.getStatus())
            .flatMap(s -> s.condition("Ready"))
            .filter(c -> Objects.equals(c.getStatus(), ready ? "True" : "False"))
            .map(CsrCondition::getLastTransitionTime)
            .orElse(StatusBuilder.rfc3339(clock.instant()));
    List<CsrCondition> conditions = new ArrayList<>();
    conditions.add(
        new CsrCondition(
            "Ready",
            ready ? "True" : "False",
            reason,
            message,
            account.getMetadata().getGeneration(),
            since));
    // kstatus: Stalled while a person must confirm the migration alarm.
    String stalledSince =
        Optional.ofNullable(account.getStatus())
            .flatMap(s -> s.condition("Stalled"))
            .filter(c -> Objects.equals(c.getStatus(), alarm.isPresent() ? "True" : "False"))
            .map(CsrCondition::getLastTransitionTime)
            .orElse(StatusBuilder.rfc3339(clock.instant()));
    conditions.add(
        new CsrCondition(
            "Stalled",
            alarm.isPresent() ? "True" : "False",
            alarm.isPresent() ? MIGRATION_SUSPECTED : "NotStalled",
            alarm.orElse("Not stalled"),
            account.getMetadata().getGeneration(),
            stalledSince));
    status.setConditions(conditions);
    return status;
  }

  private int selectedNamespaces(AliyunCasAccount account) {
    if (namespaces == null || account.getSpec() == null) {
      return 0;
    }
    int n = 0;
    for (Namespace ns : namespaces.getStore().list()) {
      if (CasAccount.selects(
          account.getSpec().getNamespaceSelector(),
          ns.getMetadata().getName(),
          ns.getMetadata().getLabels())) {
        n++;
      }
    }
    return n;
  }

  static boolean sameStatus(AliyunCasAccountStatus a, AliyunCasAccountStatus b) {
    if (a == null) {
      return false;
    }
    return Objects.equals(a.getObservedGeneration(), b.getObservedGeneration())
        && Objects.equals(a.getCsrCount(), b.getCsrCount())
        && Objects.equals(a.getNamespaceCount(), b.getNamespaceCount())
        && Objects.equals(a.getCallRate(), b.getCallRate())
        && Objects.equals(a.getLastProbeAt(), b.getLastProbeAt())
        && Objects.equals(a.getCredentialsSecretVersion(), b.getCredentialsSecretVersion())
        && Objects.equals(a.getConditions(), b.getConditions());
  }

  @Override
  public void close() {
    worker.shutdownNow();
    for (SharedIndexInformer<?> informer :
        new SharedIndexInformer<?>[] {accounts, secrets, namespaces}) {
      if (informer != null) {
        informer.close();
      }
    }
  }
}
