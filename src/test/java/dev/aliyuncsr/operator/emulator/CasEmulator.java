package dev.aliyuncsr.operator.emulator;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A local stand-in for Alibaba Cloud CAS (API 2020-04-07: the five CSR operations, and the V2.0
 * certificate-instance actions of cas-instance-api.md) that the real {@code
 * com.aliyun.cas20200407.Client} talks to unchanged: {@code endpoint=127.0.0.1:PORT}, {@code
 * protocol=HTTP}. It verifies ACS3-HMAC-SHA256 signatures, dates and nonces like the gateway, keeps
 * CSRs and instances in memory, and has runtime fault switches for tests. Thread-safe.
 *
 * <p><b>Certificate instances.</b> UpdateInstance, ApplyCertificate, GetInstanceDetail,
 * ListInstances and CancelPendingCertificate (called with tea-openapi's generic {@code callApi})
 * and GetUserCertificateDetail work on instances a test buys ({@link #buyInstance(String,
 * InstanceOptions)}); the state machine, validation records and error codes are {@link
 * InstanceActions}' and {@link InstanceLifecycle}'s. A test CA made when the emulator is built (a
 * root and an intermediate, {@link #caRoot()}) issues the certificate once a test completes
 * validation ({@link #completeValidation(String, Duration)}, or {@link
 * #autoCompleteValidationAfter(Duration)}); {@link #failValidation}, {@link #issueWithWrongKey} and
 * {@link #setChainMode} provoke the operator's failure paths. Every fault switch applies to these
 * actions by name, like to any other. The same controls are served over HTTP under {@code
 * /_emulator/} for a test in another process (listed in {@link CasEmulatorMain}).
 *
 * <p><b>Counting.</b> Every HTTP request that parses is counted once, under its action (the {@code
 * x-acs-action} header, else the query {@code Action}, else {@value #NO_ACTION}) and one outcome:
 * {@value #OK}, the error Code it was answered with (authentication and injected errors included),
 * or {@value #LOST_RESPONSE} when it was processed and its connection then dropped. A request is
 * counted before its answer is written, so after an SDK call returns the counters already include
 * it. An answer the client stopped waiting for (read timeout) still counts by the answer the
 * emulator produced. A call naming a certificate instance (its InstanceId, or a CertId of its) is
 * counted for that instance too ({@link #instanceCalls}), and a call naming a CsrId (GetCsrDetail,
 * DeleteCsr, UpdateCsr) for that CsrId ({@link #csrCalls}), whichever account it came from and
 * whatever its outcome: "no DeleteCsr ever reached CsrId N" is {@code csrCalls(N, "DeleteCsr") ==
 * 0}. When each of an account's requests arrived is kept too ({@link #accountCallTimes}), to check
 * a rate over any one second.
 *
 * <p><b>Read-after-write lag.</b> {@link #setReadAfterWriteLag(Duration)} makes a newly stored CSR
 * invisible to the reads of its account for a while, as an eventually consistent service may: for
 * {@code lag} after its createdAt (the emulator's clock), ListCsr leaves it out and GetCsrDetail
 * answers {@code NotFound.Csr} exactly as for a CSR that does not exist. UploadCsr has stored it
 * and returned its CsrId; UpdateCsr and DeleteCsr see it at once. Whether, and how long, the real
 * service lags is UNCONFIRMED. Off (zero) by default and after {@link #reset()}.
 *
 * <p><b>Accounts.</b> Every AccessKey belongs to an account (a main-account id, the "ParentUid" CAS
 * counts quotas by). Keys registered without one belong to {@value #DEFAULT_ACCOUNT}. An account
 * sees only its own CSRs and instances: another account's CsrId is answered like an unknown one,
 * another account's instance or certificate {@code NotFound}. CsrIds, InstanceIds and
 * CertificateIds are unique across accounts. Rate limits count per account and API; calls are also
 * counted per account (by the AccessKey a request names, when that key is known).
 *
 * <p><b>STS.</b> The same server answers STS 2015-04-01 {@code AssumeRole} and {@code
 * AssumeRoleWithOIDC} (see {@link StsActions} for what is checked and what is UNCONFIRMED) for the
 * roles and OIDC providers registered on the builder; the temporary keys it issues belong to the
 * role's account and expire on the emulator's clock. credentials-java 1.0.3 calls STS only over
 * HTTPS, so {@link Builder#https()} adds a TLS listener on a second port with a self-signed
 * certificate: point a provider's {@code STSEndpoint} at {@link #stsEndpoint()} and make the JVM
 * trust {@link #trustStore()} (see {@link #trustForJvmClients()}).
 *
 * <p><b>Security.</b> The query string carries the private key: nothing here logs request URLs,
 * queries or headers, and error messages never quote request values.
 */
public final class CasEmulator implements AutoCloseable {
  /** The outcome of a call answered 200. */
  public static final String OK = CasGateway.OK;

  /** The outcome of a call processed and then answered with a dropped connection. */
  public static final String LOST_RESPONSE = CasGateway.LOST_RESPONSE;

  /** The action under which requests naming no action are counted. */
  public static final String NO_ACTION = CasGateway.NO_ACTION;

  /** The account of AccessKeys registered without one, and of CSRs seeded without one. */
  public static final String DEFAULT_ACCOUNT = "1000000000000001";

  /**
   * Nonces are kept 15 minutes; past this many the oldest go first. OkHttp re-sends within
   * milliseconds, so the cap costs nothing real and bounds memory to a few tens of MB.
   */
  private static final int NONCE_CAPACITY = 200_000;

  private final SwitchableClock clock;
  private final FaultSwitches faults;
  private final CallCounters counters = new CallCounters();
  private final CsrStore store = new CsrStore();
  private final CsrActions actions;
  private final InstanceLifecycle lifecycle;
  private final InstanceActions instanceActions;
  private final AccessKeyRegistry accessKeys = new AccessKeyRegistry();
  private final List<Runnable> configuredLimits;
  private final StsDirectory sts;
  private final LoopbackHttpServer server;
  private final EmulatorTls tls;
  private final LoopbackHttpServer httpsServer;

  private CasEmulator(Builder builder) {
    this.clock = new SwitchableClock(builder.clock);
    builder.accessKeys.forEach(accessKeys::add);
    this.faults = new FaultSwitches(builder.seed, System::nanoTime);
    this.configuredLimits =
        builder.rateLimits.stream().map(limit -> (Runnable) () -> limit.accept(faults)).toList();
    configuredLimits.forEach(Runnable::run);
    this.actions = new CsrActions(store, clock);
    this.lifecycle = new InstanceLifecycle(clock);
    this.instanceActions = new InstanceActions(lifecycle, clock);
    NonceLedger nonces = new NonceLedger(clock, NONCE_CAPACITY);
    this.sts = builder.sts;
    CasGateway gateway =
        new CasGateway(
            new RequestAuthenticator(accessKeys, nonces, clock),
            faults,
            actions,
            instanceActions,
            new StsActions(sts, accessKeys, clock),
            counters,
            this::endpoint);
    ControlEndpoints controls = new ControlEndpoints(this);
    java.util.function.Function<RawHttpRequest, HttpAnswer> handler =
        request -> controls.handles(request) ? controls.handle(request) : gateway.handle(request);
    this.server = new LoopbackHttpServer(builder.port, handler);
    if (builder.httpsPort >= 0) {
      this.tls = new EmulatorTls();
      this.httpsServer =
          new LoopbackHttpServer(
              builder.httpsPort, handler, tls.serverContext().getServerSocketFactory());
    } else {
      this.tls = null;
      this.httpsServer = null;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Binds 127.0.0.1 (an ephemeral port unless {@link Builder#port} was given) and serves. */
  public CasEmulator start() {
    server.start();
    if (httpsServer != null) {
      httpsServer.start();
    }
    return this;
  }

  /** Stops serving and closes every open connection; requests in flight get no answer. */
  @Override
  public void close() {
    server.close();
    if (httpsServer != null) {
      httpsServer.close();
    }
  }

  public int port() {
    return server.port();
  }

  /** {@code 127.0.0.1:PORT}, as the SDK's {@code Config.endpoint} wants it. */
  public String endpoint() {
    return "127.0.0.1:" + port();
  }

  /**
   * {@code 127.0.0.1:PORT} of the TLS listener ({@link Builder#https()}): the same CAS and STS
   * behind HTTPS.
   */
  public String httpsEndpoint() {
    return "127.0.0.1:" + requireTls(httpsServer).port();
  }

  /**
   * What credentials-java's {@code STSEndpoint(..)} takes: it always prefixes {@code https://}, so
   * this is the TLS listener ({@link Builder#https()} is needed).
   */
  public String stsEndpoint() {
    return httpsEndpoint();
  }

  /** The self-signed certificate the TLS listener presents (SAN IP 127.0.0.1, DNS localhost). */
  public java.security.cert.X509Certificate certificate() {
    return requireTls(tls).certificate();
  }

  /**
   * A PKCS12 trust store (password {@link #trustStorePassword()}) with the JDK's trusted
   * certificates plus the emulator's, e.g. for {@code -Djavax.net.ssl.trustStore=} of an operator
   * process.
   */
  public java.nio.file.Path trustStore() {
    return requireTls(tls).trustStore();
  }

  public String trustStorePassword() {
    return EmulatorTls.TRUST_STORE_PASSWORD;
  }

  /** An SSLContext trusting only the emulator, for clients that take one. */
  public javax.net.ssl.SSLContext clientSslContext() {
    return requireTls(tls).clientContext();
  }

  /**
   * Points this JVM's default trust store ({@code javax.net.ssl.trustStore*}) at {@link
   * #trustStore()} until closed, then restores the previous properties. The JDK re-reads these
   * properties whenever a default TrustManagerFactory is initialised, which credentials-java does
   * for each STS call. JVM-wide: not for tests running in parallel with other TLS clients that
   * change the same properties.
   */
  public AutoCloseable trustForJvmClients() {
    String[] names = {
      "javax.net.ssl.trustStore", "javax.net.ssl.trustStorePassword", "javax.net.ssl.trustStoreType"
    };
    String[] previous = new String[names.length];
    for (int i = 0; i < names.length; i++) {
      previous[i] = System.getProperty(names[i]);
    }
    System.setProperty(names[0], trustStore().toString());
    System.setProperty(names[1], trustStorePassword());
    System.setProperty(names[2], "PKCS12");
    return () -> {
      for (int i = 0; i < names.length; i++) {
        if (previous[i] == null) {
          System.clearProperty(names[i]);
        } else {
          System.setProperty(names[i], previous[i]);
        }
      }
    };
  }

  private static <T> T requireTls(T part) {
    if (part == null) {
      throw new IllegalStateException("build the emulator with https() for a TLS listener");
    }
    return part;
  }

  // ---- STS roles and OIDC providers, also while serving (see the Builder's methods). ----

  /** See {@link Builder#role(String, String...)}. */
  public void addRole(String roleArn, String... trustedAccountIds) {
    sts.trustAccounts(roleArn, java.util.Set.of(trustedAccountIds));
  }

  /** See {@link Builder#roleExternalId(String, String)}. */
  public void setRoleExternalId(String roleArn, String externalId) {
    sts.requireExternalId(roleArn, externalId);
  }

  /** See {@link Builder#oidcRole(String, String, String)}. */
  public void addOidcRole(String roleArn, String oidcProviderArn, String subject) {
    sts.trustOidc(roleArn, oidcProviderArn, subject);
  }

  /** See {@link Builder#oidcProvider(String, String, String...)}. */
  public void addOidcProvider(String providerArn, String issuer, String... audiences) {
    sts.addProvider(providerArn, issuer, List.of(audiences), null);
  }

  // ---- Fault switches: all take effect for the next request, from any thread. ----

  /** Added to every answer, after the work is done (a timed-out UploadCsr is still stored). */
  public void setLatency(Duration latency) {
    faults.setLatency(Objects.requireNonNull(latency));
  }

  /**
   * More than {@code perSecond} calls of the action within any one second from one account answer
   * HTTP 400 {@code Throttling.User}; refused calls do not use up the allowance. Each account is
   * counted on its own (per API and ParentUid, as CAS counts); an account with a limit of its own
   * ({@link #setRateLimit(String, String, int)}) keeps it. 0 removes the limit.
   */
  public void setRateLimit(String action, int perSecond) {
    faults.setRateLimit(action, perSecond);
  }

  /**
   * The account's own limit for the action, e.g. UploadCsr at 1/s for one account and 10/s for
   * another; 0 means unlimited for this account, whatever the default.
   */
  public void setRateLimit(String accountId, String action, int perSecond) {
    faults.setRateLimit(Objects.requireNonNull(accountId), action, perSecond);
  }

  /** The account goes back to the default limit of the action. */
  public void clearRateLimit(String accountId, String action) {
    faults.clearRateLimit(accountId, action);
  }

  /** That fraction of authenticated calls (any action) answer 503 ServiceUnavailable, unchanged. */
  public void setServerErrorRate(double rate) {
    faults.setServerErrorRate(rate);
  }

  /**
   * That fraction of processed calls of the action lose their response (see {@link
   * #loseNextResponses}).
   */
  public void setLostResponseRate(String action, double rate) {
    faults.setLostResponseRate(action, rate);
  }

  /**
   * The next {@code n} calls of the action that get as far as the action itself are fully processed
   * (an UploadCsr is stored), then their connection is closed without a response byte. Calls
   * refused earlier (bad signature, replayed nonce, injected errors) do not use these up.
   */
  public void loseNextResponses(String action, int n) {
    faults.loseNextResponses(action, n);
  }

  /**
   * The next {@code n} authenticated calls of the action answer this status and Code, without
   * touching state. Repeated orders queue up.
   */
  public void failNext(String action, int n, int httpStatus, String code) {
    faults.failNext(action, n, httpStatus, code);
  }

  /**
   * A request that repeats the signature nonce of a request whose response was lost (OkHttp's
   * transparent re-send on a new connection) answers this status and Code instead of {@code
   * SignatureNonceUsed}, and is counted under that Code. This is the soak's trace: stored, answer
   * lost on a pooled connection, re-send answered 503 {@code ServiceUnavailable}.
   */
  public void answerResendsOfLostRequestsWith(int httpStatus, String code) {
    faults.setResendAnswer(httpStatus, code);
  }

  /**
   * The next {@code n} calls of the action that succeed are carried out and then answered 200 with
   * an empty body. Counted as {@value #OK}.
   */
  public void answerNextWithEmptyBody(String action, int n) {
    faults.answerNextWithEmptyBody(action, n);
  }

  /** Calls of the action signed by this AccessKey answer 403 {@code Forbidden.RAM}. */
  public void denyAction(String accessKeyId, String action) {
    faults.denyAction(accessKeyId, action);
  }

  public void allowAction(String accessKeyId, String action) {
    faults.allowAction(accessKeyId, action);
  }

  /**
   * From now on, a CSR stored less than {@code lag} ago (by its createdAt, on the emulator's clock)
   * is invisible to ListCsr and GetCsrDetail (see the class comment); {@link Duration#ZERO} turns
   * it off. Applies to CSRs stored before the call too.
   */
  public void setReadAfterWriteLag(Duration lag) {
    actions.setReadLag(Objects.requireNonNull(lag));
  }

  /** Replaces the clock used for x-acs-date checks and createdAt, e.g. to make callers stale. */
  public void setClock(Clock newClock) {
    clock.set(Objects.requireNonNull(newClock));
  }

  // ---- Observation ----

  /** All counted requests of the action, whatever their outcome (see the class comment). */
  public int calls(String action) {
    return counters.calls(action);
  }

  /** Requests of the action with this outcome: "OK", an error Code, or "LostResponse". */
  public int calls(String action, String outcome) {
    return counters.calls(action, outcome);
  }

  /** action → outcome → count, sorted; a snapshot. */
  public Map<String, Map<String, Integer>> callStats() {
    return counters.snapshot();
  }

  /**
   * The account's requests of the action, whatever their outcome: requests naming one of its
   * AccessKeys (long-term or STS), and STS calls that assume one of its roles.
   */
  public int accountCalls(String accountId, String action) {
    return counters.of(accountId).calls(action);
  }

  /** The account's requests of the action with this outcome. */
  public int accountCalls(String accountId, String action, String outcome) {
    return counters.of(accountId).calls(action, outcome);
  }

  /** All of the account's requests, any action and outcome ("0 calls from account B"). */
  public int accountCalls(String accountId) {
    return counters.of(accountId).total();
  }

  /** The account's action → outcome → count, sorted; a snapshot. */
  public Map<String, Map<String, Integer>> accountCallStats(String accountId) {
    return counters.of(accountId).snapshot();
  }

  /**
   * Requests of the action that named this CsrId (GetCsrDetail, DeleteCsr, UpdateCsr), from any
   * account, whatever their outcome.
   */
  public int csrCalls(long csrId, String action) {
    return counters.ofCsr(csrId).calls(action);
  }

  /** Requests of the action that named this CsrId, with this outcome. */
  public int csrCalls(long csrId, String action, String outcome) {
    return counters.ofCsr(csrId).calls(action, outcome);
  }

  /** The CsrId's action → outcome → count, sorted; a snapshot. */
  public Map<String, Map<String, Integer>> csrCallStats(long csrId) {
    return counters.ofCsr(csrId).snapshot();
  }

  /**
   * When each of the account's requests (any action, any outcome) arrived, by the wall clock, in
   * arrival order; the latest 100,000; a snapshot.
   */
  public List<java.time.Instant> accountCallTimes(String accountId) {
    return counters.arrivals(accountId);
  }

  /** Every account's stored CSRs in CsrId order; a snapshot. */
  public List<StoredCsr> csrs() {
    List<StoredCsr> csrs = new ArrayList<>();
    store.all().forEach(entry -> csrs.add(entry.csr()));
    return List.copyOf(csrs);
  }

  /** The account's CSRs in CsrId order, as its console lists them; a snapshot. */
  public List<StoredCsr> csrs(String accountId) {
    return store.all(accountId).stream().map(CsrStore.Entry::csr).toList();
  }

  /** A CSR of any account. */
  public Optional<StoredCsr> csr(long csrId) {
    return store.get(csrId).map(CsrStore.Entry::csr);
  }

  /** The account that holds the CSR. */
  public Optional<String> accountOf(long csrId) {
    return store.get(csrId).map(CsrStore.Entry::accountId);
  }

  /**
   * Pre-seeds a CSR as UploadCsr would store it (for adoption tests). Throws {@link
   * IllegalArgumentException} for what UploadCsr would refuse.
   *
   * @param name nullable
   * @param privateKeyPem nullable
   */
  public StoredCsr putCsr(String name, String csrPem, String privateKeyPem) {
    return putCsr(DEFAULT_ACCOUNT, name, csrPem, privateKeyPem);
  }

  /** Pre-seeds a CSR in the account, as UploadCsr with one of its keys would store it. */
  public StoredCsr putCsr(String accountId, String name, String csrPem, String privateKeyPem) {
    try {
      return actions.store(csrPem, name, privateKeyPem, Objects.requireNonNull(accountId));
    } catch (CasError e) {
      throw new IllegalArgumentException(e.code() + ": " + e.getMessage());
    }
  }

  /**
   * Stores a CSR exactly as given, under its own CsrId, which must be free; later uploads get
   * higher ids. UpdateCsr works on it only if its csrPem parses.
   */
  public void putCsr(StoredCsr csr) {
    putCsr(DEFAULT_ACCOUNT, csr);
  }

  /** {@link #putCsr(StoredCsr)} in the given account. */
  public void putCsr(String accountId, StoredCsr csr) {
    Objects.requireNonNull(accountId);
    Objects.requireNonNull(csr);
    ParsedCsr parsed = null;
    try {
      parsed = ParsedCsr.parse(csr.csrPem());
    } catch (CasError unreadable) {
      // stored anyway: tests may seed what the real service would hold
    }
    store.put(
        new CsrStore.Entry(
            csr,
            parsed == null ? null : parsed.publicKeyInfo(),
            parsed == null ? Map.of() : parsed.subjectDetails(),
            accountId));
  }

  /**
   * Deletes a CSR, whichever account holds it, as a person in the CAS console would: no API call,
   * nothing counted.
   */
  public boolean deleteInConsole(long csrId) {
    return store.remove(csrId);
  }

  /** Deletes a CSR in the account's console; false when the account holds no such CSR. */
  public boolean deleteInConsole(String accountId, long csrId) {
    return store.remove(accountId, csrId);
  }

  // ---- AccessKeys, as the RAM console manages them: take effect for the next request. ----

  /** Adds a long-term AccessKey to the account (key rotation: the new key). */
  public void addAccessKey(String accountId, String accessKeyId, String accessKeySecret) {
    accessKeys.add(
        new AccessKeyRegistry.AccessKey(
            Objects.requireNonNull(accessKeyId),
            Objects.requireNonNull(accessKeySecret),
            null,
            Objects.requireNonNull(accountId),
            null));
  }

  /**
   * Disables a key (long-term or STS): its requests answer 400 {@code InvalidAccessKeyId.Inactive}.
   * False when there is no such key.
   */
  public boolean disableAccessKey(String accessKeyId) {
    return accessKeys.setDisabled(accessKeyId, true);
  }

  public boolean enableAccessKey(String accessKeyId) {
    return accessKeys.setDisabled(accessKeyId, false);
  }

  /** Deletes a key: its requests answer 404 {@code InvalidAccessKeyId.NotFound}. */
  public boolean removeAccessKey(String accessKeyId) {
    return accessKeys.remove(accessKeyId);
  }

  /** The ids of the account's AccessKeys, long-term and issued STS ones, sorted. */
  public java.util.Set<String> accessKeyIds(String accountId) {
    return accessKeys.idsOf(accountId);
  }

  /** The account an AccessKey (long-term or STS) belongs to. */
  public Optional<String> accountOfAccessKey(String accessKeyId) {
    return accessKeys.find(accessKeyId).map(AccessKeyRegistry.AccessKey::accountId);
  }

  /** Drops a CSR's private key, as CAS would show a CSR whose key it no longer holds. */
  public boolean dropPrivateKeyInConsole(long csrId) {
    return store.updatePrivateKey(csrId, null);
  }

  // ---- Certificate instances (CAS V2.0): what a person does in the console, and the CA. ----

  /** Buys a new, empty DV instance in the account: one exact name, no wildcard. */
  public String buyInstance(String accountId) {
    return buyInstance(accountId, InstanceOptions.defaults());
  }

  /**
   * Buys an instance in the account, as far along as the options say (e.g. already {@code pending}
   * with someone else's CSR). Returns its InstanceId. Throws {@link IllegalArgumentException} for
   * an application UpdateInstance would refuse, or an id that is taken.
   */
  public String buyInstance(String accountId, InstanceOptions options) {
    Objects.requireNonNull(accountId);
    return lifecycle.buy(accountId, options, instanceActions.purchasedApplication(options));
  }

  /**
   * The CA finds the domains of a {@code pending} instance validated and issues at once: the
   * instance becomes {@code normal} with a certificate. Throws {@link
   * java.util.NoSuchElementException} for an unknown instance and {@link IllegalStateException}
   * unless it is {@code pending} with validation open.
   */
  public void completeValidation(String instanceId) {
    completeValidation(instanceId, Duration.ZERO);
  }

  /**
   * As {@link #completeValidation(String)}, but the CA reviews for {@code reviewDelay} (on the
   * emulator's clock) before it issues; meanwhile the instance is {@code pending} with an empty
   * DomainValidationList.
   */
  public void completeValidation(String instanceId, Duration reviewDelay) {
    if (reviewDelay.isNegative()) {
      throw new IllegalArgumentException("reviewDelay must not be negative");
    }
    lifecycle.completeValidation(instanceId, reviewDelay);
  }

  /**
   * Every {@code pending} instance is validated {@code delay} after its ApplyCertificate and issued
   * at once, including instances pending already; null switches it off (the default).
   */
  public void autoCompleteValidationAfter(Duration delay) {
    if (delay != null && delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative");
    }
    lifecycle.autoCompleteValidationAfter(delay);
  }

  /**
   * Validation (or review) of a {@code pending} instance fails: it goes back to {@code inactive}
   * with PendingResult = the message, its application data kept.
   */
  public void failValidation(String instanceId, String message) {
    if (message == null || message.isBlank()) {
      throw new IllegalArgumentException("a failure has a message");
    }
    lifecycle.failValidation(instanceId, message);
  }

  /**
   * The instance's next certificate is issued for a fresh key instead of its CSR's (a
   * CertificateMismatch for the operator).
   */
  public void issueWithWrongKey(String instanceId) {
    lifecycle.issueWithWrongKey(instanceId);
  }

  /** What GetUserCertificateDetail's {@code Cert} holds from now on. */
  public void setChainMode(ChainMode mode) {
    lifecycle.chainMode(mode);
  }

  /** An instance of any account, its time-driven steps taken. */
  public Optional<CertificateInstance> instance(String instanceId) {
    return lifecycle.find(instanceId);
  }

  /** Every account's instances, in the order they were bought. */
  public List<CertificateInstance> instances() {
    return lifecycle.all();
  }

  /** An issued certificate by CertificateId, of any account. */
  public Optional<IssuedCertificate> certificate(long certificateId) {
    return lifecycle.certificate(certificateId);
  }

  /** The test CA's root, made when the emulator was built; trust it to verify a chain. */
  public java.security.cert.X509Certificate caRoot() {
    return lifecycle.ca().root();
  }

  /** The test CA's intermediate, the issuer of every leaf. */
  public java.security.cert.X509Certificate caIntermediate() {
    return lifecycle.ca().intermediate();
  }

  /**
   * Calls of the action that named the instance (its InstanceId, or a CertId of its), any outcome.
   */
  public int instanceCalls(String instanceId, String action) {
    return counters.ofInstance(instanceId).calls(action);
  }

  /** Calls of the action that named the instance, with this outcome. */
  public int instanceCalls(String instanceId, String action, String outcome) {
    return counters.ofInstance(instanceId).calls(action, outcome);
  }

  /** The instance's action → outcome → count, sorted; a snapshot. */
  public Map<String, Map<String, Integer>> instanceCallStats(String instanceId) {
    return counters.ofInstance(instanceId).snapshot();
  }

  /**
   * Forgets CSRs, instances and their certificates, counters and faults (runtime rate limits,
   * automatic validation, the chain mode and the read-after-write lag included). AccessKeys, the
   * builder's rate limits, the clock, the test CA, remembered nonces and the CsrId, InstanceId and
   * CertificateId sequences stay: an id from before the reset never names something new.
   */
  public void reset() {
    faults.clear();
    actions.setReadLag(Duration.ZERO);
    configuredLimits.forEach(Runnable::run);
    store.clear();
    lifecycle.reset();
    counters.clear();
  }

  /** Configures an emulator; {@link #build()} does not bind yet. */
  public static final class Builder {
    private final List<AccessKeyRegistry.AccessKey> accessKeys = new ArrayList<>();
    private final List<java.util.function.Consumer<FaultSwitches>> rateLimits = new ArrayList<>();
    private final StsDirectory sts = new StsDirectory();
    private Clock clock = Clock.systemUTC();
    private int port;
    private int httpsPort = -1;
    private long seed = System.nanoTime();

    private Builder() {}

    /** Accepts requests signed with this long-term AccessKey, of {@value #DEFAULT_ACCOUNT}. */
    public Builder accessKey(String accessKeyId, String accessKeySecret) {
      return accessKey(DEFAULT_ACCOUNT, accessKeyId, accessKeySecret);
    }

    /** A long-term AccessKey of the account (any id string, e.g. a 16-digit UID). Repeatable. */
    public Builder accessKey(String accountId, String accessKeyId, String accessKeySecret) {
      accessKeys.add(
          new AccessKeyRegistry.AccessKey(
              Objects.requireNonNull(accessKeyId),
              Objects.requireNonNull(accessKeySecret),
              null,
              Objects.requireNonNull(accountId),
              null));
      return this;
    }

    /** Accepts requests signed with this STS key, and only when they carry this token. */
    public Builder stsCredential(String accessKeyId, String accessKeySecret, String securityToken) {
      return stsCredential(DEFAULT_ACCOUNT, accessKeyId, accessKeySecret, securityToken);
    }

    /** A fixed, never-expiring STS key of the account, accepted only with this token. */
    public Builder stsCredential(
        String accountId, String accessKeyId, String accessKeySecret, String securityToken) {
      accessKeys.add(
          new AccessKeyRegistry.AccessKey(
              Objects.requireNonNull(accessKeyId),
              Objects.requireNonNull(accessKeySecret),
              Objects.requireNonNull(securityToken),
              Objects.requireNonNull(accountId),
              null));
      return this;
    }

    /**
     * The account's own limit for the action (see {@link CasEmulator#setRateLimit(String, String,
     * int)}); kept across {@link CasEmulator#reset()}.
     */
    public Builder rateLimit(String accountId, String action, int perSecond) {
      Objects.requireNonNull(accountId);
      Objects.requireNonNull(action);
      if (perSecond < 0) {
        throw new IllegalArgumentException("perSecond must not be negative");
      }
      rateLimits.add(faults -> faults.setRateLimit(accountId, action, perSecond));
      return this;
    }

    /** The default limit of the action for every account; kept across reset. */
    public Builder rateLimit(String action, int perSecond) {
      Objects.requireNonNull(action);
      if (perSecond < 0) {
        throw new IllegalArgumentException("perSecond must not be negative");
      }
      rateLimits.add(faults -> faults.setRateLimit(action, perSecond));
      return this;
    }

    /** For x-acs-date checks, nonce expiry and createdAt. Default: the system UTC clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    /** A fixed port; default 0, an ephemeral one. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port out of range");
      }
      this.port = port;
      return this;
    }

    /**
     * A RAM role (ARN {@code acs:ram::<account>:role/<name>}, in that account) that AssumeRole
     * callers from the listed accounts may assume; none listed: the role's own account. Repeatable,
     * adding accounts.
     */
    public Builder role(String roleArn, String... trustedAccountIds) {
      sts.trustAccounts(roleArn, java.util.Set.of(trustedAccountIds));
      return this;
    }

    /** The role's trust policy requires this {@code ExternalId} (sts:ExternalId) in AssumeRole. */
    public Builder roleExternalId(String roleArn, String externalId) {
      sts.requireExternalId(roleArn, externalId);
      return this;
    }

    /** The role's maximum session (DurationSeconds upper bound), 1 h by default, at most 12 h. */
    public Builder roleMaxSessionDuration(String roleArn, Duration max) {
      sts.maxSessionDuration(roleArn, max);
      return this;
    }

    /**
     * An OIDC identity provider ({@code acs:ram::<account>:oidc-provider/<name>}) whose tokens must
     * carry this {@code iss} and one of these {@code aud}s (RRSA: the cluster's issuer URL and
     * {@code sts.aliyuncs.com}). Signatures are not verified unless {@link #oidcProviderSigningKey}
     * gives a key.
     */
    public Builder oidcProvider(String providerArn, String issuer, String... audiences) {
      sts.addProvider(providerArn, issuer, List.of(audiences), null);
      return this;
    }

    /** Verifies the provider's tokens as RS256 with this RSA public key. */
    public Builder oidcProviderSigningKey(String providerArn, java.security.PublicKey key) {
      sts.providerSigningKey(providerArn, key);
      return this;
    }

    /**
     * The role trusts the OIDC provider for AssumeRoleWithOIDC; {@code subject} (the token's {@code
     * sub}, for RRSA {@code system:serviceaccount:<namespace>:<name>}) null for any.
     */
    public Builder oidcRole(String roleArn, String oidcProviderArn, String subject) {
      sts.trustOidc(roleArn, oidcProviderArn, subject);
      return this;
    }

    /** Also serves HTTPS on an ephemeral port (see {@link CasEmulator#stsEndpoint()}). */
    public Builder https() {
      return httpsPort(0);
    }

    /** Also serves HTTPS on this port (0: ephemeral). */
    public Builder httpsPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port out of range");
      }
      this.httpsPort = port;
      return this;
    }

    /** Seeds the random faults (server errors, lost responses) for repeatable runs. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public CasEmulator build() {
      return new CasEmulator(this);
    }
  }
}
