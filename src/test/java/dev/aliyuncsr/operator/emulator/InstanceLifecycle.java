package dev.aliyuncsr.operator.emulator;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * The instance state machine (cas-instance-api.md §2), for the API actions and the test controls
 * alike; one lock around everything, so a read never sees half a transition.
 *
 * <p>Time-driven steps (automatic validation N seconds after ApplyCertificate, issuance after a
 * review delay) happen when the instance is next looked at, on the emulator's clock, and take
 * effect as of their due time: no background thread, and a certificate's NotBefore is the moment it
 * was due, however late it is read.
 */
final class InstanceLifecycle {
  static final String CANCELLED = "The application was cancelled.";

  /** AverageWaitingTime when nothing completes validation automatically; a polling hint only. */
  private static final long DEFAULT_WAITING_SECONDS = 300;

  private final InstanceStore store = new InstanceStore();
  private final ValidationRecords validationRecords = new ValidationRecords();
  private final Clock clock;
  private final TestCa ca;

  private Duration autoValidation;
  private ChainMode chainMode = ChainMode.LEAF_AND_INTERMEDIATE;

  InstanceLifecycle(Clock clock) {
    this.clock = clock;
    this.ca = new TestCa(clock.instant());
  }

  TestCa ca() {
    return ca;
  }

  // ---- The API, on behalf of one account: another account's instance is NotFound. ----

  synchronized CertificateInstance read(String accountId, String instanceId) {
    StoredInstance instance = owned(accountId, instanceId);
    settle(instance);
    return instance.snapshot();
  }

  synchronized List<CertificateInstance> list(String accountId) {
    return snapshots(store.all(accountId));
  }

  /** UpdateInstance: only while {@code inactive}; replaces the data, clears PendingResult. */
  synchronized void fillIn(String accountId, String instanceId, InstanceApplication application) {
    StoredInstance instance = owned(accountId, instanceId);
    settle(instance);
    requireStatus(instance, StoredInstance.INACTIVE);
    DomainNames.requireWithin(
        application.names(), instance.fullDomainCount, instance.wildcardDomainCount);
    instance.application = application;
    instance.pendingResult = null;
  }

  /** ApplyCertificate: a filled-in {@code inactive} instance becomes {@code pending}. */
  synchronized void apply(String accountId, String instanceId) {
    StoredInstance instance = owned(accountId, instanceId);
    settle(instance);
    requireStatus(instance, StoredInstance.INACTIVE);
    if (instance.application == null) {
      throw CasError.applicationIncomplete();
    }
    open(instance);
  }

  /** CancelPendingCertificate: back to {@code inactive}, the data kept. */
  synchronized void cancel(String accountId, String instanceId) {
    StoredInstance instance = owned(accountId, instanceId);
    settle(instance);
    requireStatus(instance, StoredInstance.PENDING);
    close(instance, CANCELLED);
  }

  synchronized IssuedCertificate certificate(String accountId, long certificateId) {
    return store
        .certificate(certificateId)
        .filter(certificate -> certificate.accountId().equals(accountId))
        .orElseThrow(() -> CasError.certificateNotFound(certificateId));
  }

  /** {@code Cert} of GetUserCertificateDetail: leaf first, then what the chain mode adds. */
  synchronized String chainPem(IssuedCertificate certificate) {
    return switch (chainMode) {
      case LEAF_ONLY -> certificate.leafPem();
      case LEAF_AND_INTERMEDIATE -> certificate.leafPem() + ca.intermediatePem();
      case WITH_ROOT -> certificate.leafPem() + ca.intermediatePem() + ca.rootPem();
    };
  }

  synchronized long averageWaitingSeconds() {
    return autoValidation == null
        ? DEFAULT_WAITING_SECONDS
        : Math.max(1, (autoValidation.toMillis() + 999) / 1000);
  }

  // ---- Test controls: any account; unknown ids and wrong states throw. ----

  /** Buys an instance, already as far along as the options say. */
  synchronized String buy(String accountId, InstanceOptions options, InstanceApplication app) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    String id = options.instanceId != null ? options.instanceId : store.newInstanceId();
    StoredInstance instance =
        new StoredInstance(
            id,
            accountId,
            options.fullDomainCount,
            options.wildcardDomainCount,
            now,
            now.plus(Duration.ofDays(365)));
    if (app != null) {
      try {
        DomainNames.requireWithin(
            app.names(), options.fullDomainCount, options.wildcardDomainCount);
      } catch (CasError refused) {
        throw new IllegalArgumentException(refused.code() + ": " + refused.getMessage());
      }
      instance.application = app;
    }
    store.add(instance);
    if (options.stage == InstanceOptions.Stage.PENDING
        || options.stage == InstanceOptions.Stage.NORMAL) {
      open(instance);
    }
    if (options.stage == InstanceOptions.Stage.NORMAL) {
      issue(instance, now);
    }
    return id;
  }

  synchronized Optional<CertificateInstance> find(String instanceId) {
    return store
        .get(instanceId)
        .map(
            instance -> {
              settle(instance);
              return instance.snapshot();
            });
  }

  synchronized List<CertificateInstance> all() {
    return snapshots(store.all());
  }

  synchronized Optional<IssuedCertificate> certificate(long certificateId) {
    return store.certificate(certificateId);
  }

  /**
   * The domains of a {@code pending} instance are validated: the CA issues after {@code
   * reviewDelay} (zero: at once), and until then the instance is {@code pending} with an empty
   * DomainValidationList.
   */
  synchronized void completeValidation(String instanceId, Duration reviewDelay) {
    StoredInstance instance = existing(instanceId);
    settle(instance);
    requireOpenValidation(instance);
    instance.validations = List.of();
    instance.issuesAt = clock.instant().plus(reviewDelay);
    settle(instance);
  }

  /** Validation or review fails: {@code inactive}, PendingResult = the message, data kept. */
  synchronized void failValidation(String instanceId, String message) {
    StoredInstance instance = existing(instanceId);
    settle(instance);
    if (!instance.status.equals(StoredInstance.PENDING)) {
      throw new IllegalStateException(
          "instance " + instanceId + " is " + instance.status + ", not pending");
    }
    close(instance, message);
  }

  /** The instance's next certificate carries a key other than its CSR's. */
  synchronized void issueWithWrongKey(String instanceId) {
    existing(instanceId).wrongKey = true;
  }

  /** Null: only {@link #completeValidation} validates. Applies to instances pending already. */
  synchronized void autoCompleteValidationAfter(Duration delay) {
    this.autoValidation = delay;
  }

  synchronized void chainMode(ChainMode mode) {
    this.chainMode = Objects.requireNonNull(mode);
  }

  synchronized void reset() {
    store.clear();
    autoValidation = null;
    chainMode = ChainMode.LEAF_AND_INTERMEDIATE;
  }

  private List<CertificateInstance> snapshots(List<StoredInstance> instances) {
    List<CertificateInstance> snapshots = new ArrayList<>();
    for (StoredInstance instance : instances) {
      settle(instance);
      snapshots.add(instance.snapshot());
    }
    return snapshots;
  }

  // ---- Transitions ----

  private void open(StoredInstance instance) {
    Instant now = clock.instant();
    instance.status = StoredInstance.PENDING;
    instance.pendingResult = null;
    instance.appliedAt = now.truncatedTo(ChronoUnit.MILLIS);
    instance.issuesAt = null;
    instance.validations =
        validationRecords.forNames(
            instance.application.names(), instance.application.validationMethod(), now);
  }

  private void close(StoredInstance instance, String pendingResult) {
    instance.status = StoredInstance.INACTIVE;
    instance.pendingResult = pendingResult;
    instance.validations = List.of();
    instance.appliedAt = null;
    instance.issuesAt = null;
  }

  /** Takes the steps that came due since the instance was last looked at. */
  private void settle(StoredInstance instance) {
    if (!instance.status.equals(StoredInstance.PENDING)) {
      return;
    }
    Instant now = clock.instant();
    if (instance.issuesAt == null && autoValidation != null) {
      Instant due = instance.appliedAt.plus(autoValidation);
      if (!now.isBefore(due)) {
        instance.validations = List.of();
        instance.issuesAt = due;
      }
    }
    if (instance.issuesAt != null && !now.isBefore(instance.issuesAt)) {
      issue(instance, instance.issuesAt);
    }
  }

  private void issue(StoredInstance instance, Instant at) {
    InstanceApplication app = instance.application;
    SubjectPublicKeyInfo key =
        instance.wrongKey
            ? SubjectPublicKeyInfo.getInstance(TestCa.ecKey().getPublic().getEncoded())
            : app.publicKey();
    TestCa.Leaf leaf = ca.issue(key, app.commonName(), app.names(), at);
    IssuedCertificate certificate =
        new IssuedCertificate(
            store.nextCertificateId(),
            instance.accountId,
            instance.instanceId,
            leaf.pem(),
            app.commonName(),
            app.names(),
            app.keyAlgorithm().family(),
            ca.issuerName(),
            leaf.serialHex(),
            leaf.sha256Hex(),
            leaf.sha1Hex(),
            leaf.notBefore(),
            leaf.notAfter(),
            app.privateKeyPem());
    store.addCertificate(certificate);
    instance.certificate = certificate;
    instance.status = StoredInstance.NORMAL;
    instance.validations = List.of();
    instance.issuesAt = null;
    instance.wrongKey = false;
  }

  private StoredInstance owned(String accountId, String instanceId) {
    return store
        .get(accountId, instanceId)
        .orElseThrow(() -> CasError.instanceNotFound(instanceId));
  }

  private StoredInstance existing(String instanceId) {
    return store
        .get(instanceId)
        .orElseThrow(() -> new NoSuchElementException("no instance " + instanceId));
  }

  private static void requireStatus(StoredInstance instance, String status) {
    if (!instance.status.equals(status)) {
      throw CasError.instanceStatus(instance.status);
    }
  }

  private static void requireOpenValidation(StoredInstance instance) {
    if (!instance.status.equals(StoredInstance.PENDING)) {
      throw new IllegalStateException(
          "instance " + instance.instanceId + " is " + instance.status + ", not pending");
    }
    if (instance.issuesAt != null) {
      throw new IllegalStateException(
          "instance " + instance.instanceId + " is validated already, under review");
    }
  }
}
