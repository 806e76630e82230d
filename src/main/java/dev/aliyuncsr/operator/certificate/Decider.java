package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCertificateSpec;
import dev.aliyuncsr.operator.api.AliyunCertificateStatus;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.ApplicationLease;
import dev.aliyuncsr.operator.api.ApplicationRecord;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.ValidationMethod;
import dev.aliyuncsr.operator.api.ValidationRecord;
import dev.aliyuncsr.operator.cloud.CasInstances.InstanceDetail;
import dev.aliyuncsr.operator.csr.CertificateChecks;
import dev.aliyuncsr.operator.csr.CertificateChecks.CheckedCertificate;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.InputProblem;
import dev.aliyuncsr.operator.csr.IssuanceSupport;
import dev.aliyuncsr.operator.csr.IssuanceSupport.Issuance;
import dev.aliyuncsr.operator.csr.KeyPairCheck;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.PublicKeyHash;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.Conditions;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * This kind's decisions: a pure function from an {@link Observation} to the one next {@link
 * Action}. No I/O and no clock but the observation's, so every branch is a table case without a
 * cluster.
 *
 * <p>The invariants it keeps:
 *
 * <ol>
 *   <li><b>Checked before any call.</b> No CAS call (GetInstanceDetail included) is made unless the
 *       spec is there, the AliyunCsr is Ready for its generation and its Secret holds the CSR its
 *       status records, the account serves the namespace and allows the instance, no earlier
 *       AliyunCertificate names the instance, the target Secret is absent or this resource's, CAS
 *       can issue for the CSR, the key for tls.key is there and matches the CSR, and with
 *       externalDns every name lies in an allowed zone.
 *   <li><b>Look before acting.</b> UpdateInstance and the application lease are decided only on
 *       GetInstanceDetail of this pass, never on status alone.
 *   <li><b>Never overwrite another's instance.</b> UpdateInstance only on an inactive instance that
 *       holds no CSR, or this resource's CSR (compared by public key) not applied for, or for a
 *       retry; an instance holding another CSR, or none while pending or issued, is InstanceInUse.
 *       UpdateInstance, too, only under the application lease: a process on a stale copy (an
 *       instanceId changed since) or a second live process never fills an instance beside the
 *       holder, nor clears the PendingResult of an application that just failed.
 *   <li><b>Apply at most once per instance, CSR and retry value.</b> ApplyCertificate only under
 *       the lease this pass took, taken only when the instance is inactive with this CSR and no
 *       PendingResult, no other lease is live, and no accepted application of this CSR on this
 *       instance exists; a lease whose answer was unknown lives out its time first. After a failed
 *       application (PendingResult) nothing is applied again until the retry annotation carries a
 *       value no application used.
 *   <li><b>Trust nothing unchecked.</b> The Secret is written only with a chain that passed {@link
 *       CertificateChecks} against the CSR and a key that matches it, and never over a Secret
 *       without this resource's annotation.
 *   <li><b>Renewal keeps the Secret.</b> Nothing replaces the Secret but the next checked
 *       certificate; a new spec.instanceId starts a new application meanwhile.
 * </ol>
 */
public final class Decider {
  /** How long after a lease's end another process takes over: covers small clock skew. */
  static final Duration TAKEOVER_GRACE = Duration.ofSeconds(1);

  /** A poll due this soon counts as due: a timer may fire a moment early. */
  static final Duration POLL_SLACK = Duration.ofSeconds(1);

  private final Settings settings;

  public Decider(Settings settings) {
    this.settings = settings;
  }

  public Action decide(Observation o) {
    AliyunCertificate resource = o.resource();
    AliyunCertificateStatus record = StatusBuilder.copyRecord(resource.getStatus());
    if (resource.isMarkedForDeletion()) {
      // No finalizer: the Secret and the instance are left alone (a person paid for it).
      return new Action.Settle(
          record,
          Outcome.progressing(
              Reasons.DELETING, "Deleted; the Secret and the instance are left as they are", null));
    }
    AliyunCertificateSpec spec = resource.getSpec();
    if (spec == null || spec.getInstanceId() == null || spec.getCsrRef() == null) {
      return settle(
          record,
          Failures.stalled(Reasons.INVALID_SPEC, "spec.csrRef and spec.instanceId are required"));
    }
    String instanceId = spec.getInstanceId();

    // The lease: held by this pass, by another live process, or over (then dropped from the
    // record).
    ApplicationRecord application = record.getApplication();
    ApplicationLease lease = application == null ? null : application.getLease();
    boolean live = lease != null && isLive(lease, o.now());
    boolean own = live && o.heldLeaseToken().filter(t -> t.equals(lease.getToken())).isPresent();
    if (lease != null && !live) {
      record.setApplication(application.withoutLease());
    }

    // 1. The Secret already holds the certificate of spec.instanceId: nothing to call.
    if (!own
        && !(live && instanceId.equals(application.getInstanceId()))
        && holdsCurrent(o, record)) {
      if (o.published().isPresent()) {
        return new Action.RemoveDnsEndpoint();
      }
      record.setValidation(null);
      return settle(record, issued(o.now(), record));
    }

    // 2. Everything checked before any call.
    Optional<Outcome> refusal = beforeAnyCall(o);
    if (refusal.isPresent()) {
      return settle(record, refusal.get());
    }
    CsrFacts csr = o.csrInput().value();
    PrivateKeyFacts key = o.key().value();
    Issuance issuance = IssuanceSupport.check(csr.pem(), spec.effectiveValidationMethod()).value();

    // 3. The lease: this pass fills and applies under its own; another's is waited out.
    if (own) {
      if (instanceId.equals(application.getInstanceId())
          && csr.csrSha256().equals(application.getCsrSha256())) {
        return underOwnLease(o, record, application, csr, issuance);
      }
      record.setApplication(application.withoutLease());
      return new Action.WriteRecord(
          record,
          Outcome.progressing(
              Reasons.APPLYING,
              "The spec or the CSR changed before applying; nothing applied",
              null),
          "released");
    }
    if (live) {
      Duration wait = Duration.between(o.now(), expiry(lease).plus(TAKEOVER_GRACE));
      return settle(
          record,
          Outcome.progressing(
              Reasons.APPLYING,
              "An application on instance "
                  + application.getInstanceId()
                  + " may be in flight (operator "
                  + lease.getHolder()
                  + "); waiting for it to end",
              wait.isNegative() ? Duration.ofMillis(100) : wait.plusMillis(100)));
    }

    // 4. Look before acting.
    Optional<InstanceDetail> read = o.instance().filter(d -> instanceId.equals(d.instanceId()));
    if (read.isEmpty()) {
      Optional<Action> held = followUntilDue(o, record).or(() -> refusedUntilDue(o, record));
      return held.orElseGet(() -> new Action.ReadInstance(instanceId));
    }
    InstanceDetail instance = read.get();
    List<ValidationRecord> validation = ValidationRecords.of(instance.validation());
    observed(record, instance, validation, o.now());
    boolean ours =
        PublicKeyHash.ofCsrPem(instance.csrPem()).filter(csr.publicKeySha256()::equals).isPresent();
    InstanceFill fill =
        new InstanceFill(
            instanceId,
            csr.pem(),
            issuance.domains(),
            issuance.keyAlgorithm(),
            spec.effectiveValidationMethod().name());
    InstanceState state = InstanceState.of(instance);
    if (state == InstanceState.INACTIVE) {
      return inactive(o, record, instance, ours, fill, csr);
    }
    if (state == InstanceState.PENDING || state.issued()) {
      if (!ours) {
        return settle(record, inUse(instance));
      }
      return state == InstanceState.PENDING
          ? pending(o, record, instance, validation, issuance)
          : issuedOnInstance(o, record, instance, csr, key);
    }
    return settle(
        record,
        Failures.stalled(
            Reasons.INSTANCE_UNUSABLE,
            state == InstanceState.UNKNOWN
                ? "CAS reports instance "
                    + instanceId
                    + " as \""
                    + instance.status()
                    + "\", a status this operator does not know; it does nothing with it"
                : "Instance "
                    + instanceId
                    + " is "
                    + instance.status()
                    + "; name another instance in spec.instanceId"));
  }

  /** The checks made before any call, in the order a person would fix them. */
  private Optional<Outcome> beforeAnyCall(Observation o) {
    AliyunCertificateSpec spec = o.resource().getSpec();
    String csrName = spec.getCsrRef().getName();
    if (o.csr().isEmpty()) {
      return Optional.of(
          Outcome.progressing(
              Reasons.AWAITING_CSR, "AliyunCsr " + csrName + " does not exist (yet)", null));
    }
    AliyunCsr csr = o.csr().get();
    Optional<CsrCondition> ready =
        Optional.ofNullable(csr.getStatus())
            .flatMap(s -> Conditions.find(s.getConditions(), Conditions.READY));
    boolean readyNow =
        ready.filter(c -> "True".equals(c.getStatus())).isPresent()
            && Objects.equals(
                csr.getStatus().getObservedGeneration(), csr.getMetadata().getGeneration())
            && csr.getStatus().getCsrSha256() != null;
    if (!readyNow) {
      return Optional.of(
          Outcome.progressing(
              Reasons.AWAITING_CSR,
              "AliyunCsr "
                  + csrName
                  + " is not Ready yet"
                  + ready.map(c -> " (" + c.getReason() + ": " + c.getMessage() + ")").orElse(""),
              null));
    }
    if (o.account().refusal().isPresent()) {
      return o.account().refusal();
    }
    String instanceId = spec.getInstanceId();
    if (o.account().instanceIds().filter(ids -> !ids.contains(instanceId)).isPresent()) {
      return Optional.of(
          Failures.stalled(
              Reasons.INSTANCE_NOT_ALLOWED,
              "Instance "
                  + instanceId
                  + " is not among the instances account "
                  + accountName(o)
                  + " allows (spec.issuance.instanceIds)"));
    }
    if (o.conflict().isPresent()) {
      AliyunCertificate other = o.conflict().get();
      return Optional.of(
          Failures.stalled(
              Reasons.INSTANCE_CONFLICT,
              "AliyunCertificate "
                  + other.getMetadata().getNamespace()
                  + "/"
                  + other.getMetadata().getName()
                  + " names instance "
                  + instanceId
                  + " first (it applied for it, or was created earlier); name another instance"));
    }
    String name = o.resource().getMetadata().getName();
    if (o.secret().exists() && !o.secret().owner().filter(name::equals).isPresent()) {
      return Optional.of(
          Failures.stalled(
              Reasons.SECRET_CONFLICT,
              "Secret "
                  + spec.getSecretName()
                  + " exists and is not this resource's (no annotation "
                  + CertificateAnnotations.SECRET_OWNER
                  + "="
                  + name
                  + "); it is never overwritten: delete it, or choose another spec.secretName"));
    }
    Validated<CsrFacts> input = o.csrInput();
    if (input == null
        || !input.isValid()
        || !input.value().csrSha256().equals(csr.getStatus().getCsrSha256())) {
      return Optional.of(
          Outcome.progressing(
              Reasons.AWAITING_CSR,
              "The CSR in AliyunCsr "
                  + csrName
                  + "'s Secret is not the one it uploaded"
                  + (input != null && !input.isValid()
                      ? " (" + input.problem().message() + ")"
                      : "")
                  + "; waiting for the AliyunCsr to catch up",
              null));
    }
    Validated<Issuance> issuance =
        IssuanceSupport.check(input.value().pem(), spec.effectiveValidationMethod());
    if (!issuance.isValid()) {
      return Optional.of(Failures.of(issuance.problem()));
    }
    Validated<PrivateKeyFacts> key = o.key();
    if (key == null || !key.isValid()) {
      InputProblem problem =
          key == null
              ? new InputProblem(Reasons.KEY_MISSING, "No private key is named")
              : key.problem();
      boolean missing =
          problem.reason().equals(Reasons.KEY_MISSING)
              || problem.reason().equals(Reasons.SECRET_NOT_FOUND)
              || problem.reason().equals(Reasons.SECRET_KEY_MISSING);
      String message =
          problem.message()
              + "; tls.key comes from spec.privateKeySecretRef, or the AliyunCsr's keySecretRef";
      return Optional.of(
          missing
              ? Outcome.progressing(Reasons.KEY_MISSING, message, Failures.STALLED_RECHECK)
              : Failures.stalled(Reasons.KEY_MISSING, message));
    }
    Optional<InputProblem> mismatch = KeyPairCheck.mismatch(input.value(), key.value());
    if (mismatch.isPresent()) {
      return Optional.of(Failures.of(mismatch.get()));
    }
    if (spec.publishesDns() && spec.effectiveValidationMethod() == ValidationMethod.DNS) {
      List<String> outside =
          DnsZones.outside(
              issuance.value().domains().stream().map(DnsZones::validatedName).toList(),
              o.account().dnsZones());
      if (!outside.isEmpty()) {
        return Optional.of(zoneNotAllowed(o, outside));
      }
    }
    if (spec.publishesDns() && !o.dnsEndpointApi()) {
      return Optional.of(
          Failures.stalled(
              Reasons.DNS_ENDPOINT_UNAVAILABLE,
              "spec.externalDns asks for a DNSEndpoint (externaldns.k8s.io/v1alpha1), but this"
                  + " cluster does not serve that kind to the operator: install external-dns's"
                  + " DNSEndpoint CRD (and let the operator manage dnsendpoints), then restart it;"
                  + " or set spec.externalDns false and create the validation records by hand"));
    }
    return Optional.empty();
  }

  /**
   * Under the lease this pass took: fill the instance (UpdateInstance, which on an inactive
   * instance starts a new application) and apply. The lease was written fenced on the
   * resourceVersion the pass observed, so a process on a stale copy, or a second live process,
   * never fills or applies beside the holder; the instance read before the lease was taken says
   * what is left to do.
   */
  private Action underOwnLease(
      Observation o,
      AliyunCertificateStatus record,
      ApplicationRecord application,
      CsrFacts csr,
      Issuance issuance) {
    String instanceId = application.getInstanceId();
    Optional<InstanceDetail> read = o.instance().filter(d -> instanceId.equals(d.instanceId()));
    if (read.isEmpty()) {
      // Filled a moment ago: look again before applying.
      return new Action.ReadInstance(instanceId);
    }
    InstanceDetail instance = read.get();
    AliyunCertificateSpec spec = o.resource().getSpec();
    InstanceFill fill =
        new InstanceFill(
            instanceId,
            csr.pem(),
            issuance.domains(),
            issuance.keyAlgorithm(),
            spec.effectiveValidationMethod().name());
    if (InstanceState.of(instance) == InstanceState.INACTIVE) {
      if (InstanceState.csrPem(instance).isEmpty() || needsRefill(instance, fill)) {
        return new Action.UpdateInstance(fill);
      }
      boolean ours =
          PublicKeyHash.ofCsrPem(instance.csrPem())
              .filter(csr.publicKeySha256()::equals)
              .isPresent();
      if (!ours) {
        record.setApplication(application.withoutLease());
        return settle(record, inUse(instance));
      }
    }
    return new Action.Apply(instanceId);
  }

  /**
   * An inactive instance holding this CSR is filled again before applying when its last application
   * ended (PendingResult: only a retry takes the lease for it) or its validation method is not the
   * spec's.
   */
  private static boolean needsRefill(InstanceDetail instance, InstanceFill fill) {
    if (InstanceState.hasPendingResult(instance)) {
      return true;
    }
    String method = instance.validationMethod();
    return method != null && !method.isBlank() && !method.equalsIgnoreCase(fill.validationMethod());
  }

  private Action inactive(
      Observation o,
      AliyunCertificateStatus record,
      InstanceDetail instance,
      boolean ours,
      InstanceFill fill,
      CsrFacts csr) {
    String instanceId = instance.instanceId();
    Optional<String> retry = CertificateAnnotations.retry(o.resource());
    if (InstanceState.csrPem(instance).isEmpty()) {
      // Free: filled with this CSR under the application lease; nothing is applied yet.
      return new Action.TakeApplicationLease(instanceId, csr.csrSha256(), retry.orElse(null));
    }
    if (!ours) {
      return settle(record, inUse(instance));
    }
    ApplicationRecord application = record.getApplication();
    boolean here = application != null && instanceId.equals(application.getInstanceId());
    boolean retryWanted =
        retry.isPresent() && !(here && retry.get().equals(application.getRetry()));
    if (InstanceState.hasPendingResult(instance)) {
      // Our application ended without a certificate. Refilling clears PendingResult and opens a
      // new (paid) application: only for a retry value no application used.
      if (retryWanted) {
        return new Action.TakeApplicationLease(instanceId, csr.csrSha256(), retry.get());
      }
      return settle(
          record,
          Failures.stalled(
              Reasons.VALIDATION_FAILED,
              "The application on instance "
                  + instanceId
                  + " ended without a certificate: "
                  + instance.pendingResult()
                  + ". It is not applied for again on its own (it is paid): fix the cause, then"
                  + " set the annotation "
                  + CertificateAnnotations.RETRY_APPLICATION
                  + " to a new value"));
    }
    boolean accepted =
        here
            && csr.csrSha256().equals(application.getCsrSha256())
            && application.getAppliedAt() != null;
    if (accepted && !retryWanted) {
      // CAS accepted this very application: the instance lags, or a person reset it. Never a
      // second application of the same CSR on the same instance without a new retry value.
      return settle(
          record,
          Outcome.progressing(
              Reasons.APPLYING,
              "CAS accepted the application on instance "
                  + instanceId
                  + " at "
                  + application.getAppliedAt()
                  + ", but the instance does not show it; it is not applied again unless the"
                  + " annotation "
                  + CertificateAnnotations.RETRY_APPLICATION
                  + " gets a new value",
              poll(o, record, instance)));
    }
    // Filled with this CSR (with another validation method, it is filled again under the lease).
    return new Action.TakeApplicationLease(instanceId, csr.csrSha256(), retry.orElse(null));
  }

  private Action pending(
      Observation o,
      AliyunCertificateStatus record,
      InstanceDetail instance,
      List<ValidationRecord> validation,
      Issuance issuance) {
    AliyunCertificateSpec spec = o.resource().getSpec();
    if (validation.isEmpty()) {
      if (o.published().isPresent()) {
        return new Action.RemoveDnsEndpoint();
      }
      return settle(
          record,
          Outcome.progressing(
              Reasons.ISSUING,
              "Validation is done; the CA is reviewing the application on instance "
                  + instance.instanceId(),
              poll(o, record, instance)));
    }
    String message = ValidationRecords.message(validation);
    if (spec.publishesDns() && spec.effectiveValidationMethod() == ValidationMethod.DNS) {
      List<ValidationRecord> wanted = ValidationRecords.dnsRecords(validation);
      List<String> outside =
          DnsZones.outside(
              wanted.stream().map(ValidationRecord::getRecordName).toList(),
              o.account().dnsZones());
      if (!outside.isEmpty()) {
        if (o.published().isPresent()) {
          return new Action.RemoveDnsEndpoint();
        }
        return settle(record, zoneNotAllowed(o, outside));
      }
      if (!o.published().filter(p -> DnsEndpoints.sameRecords(p, wanted)).isPresent()) {
        return new Action.PublishDnsEndpoint(wanted);
      }
      message += "; published as a DNSEndpoint for external-dns";
    }
    return settle(
        record,
        Outcome.progressing(Reasons.AWAITING_VALIDATION, message, poll(o, record, instance)));
  }

  /**
   * An open application read earlier by this process whose next poll is not due: nothing is asked
   * of CAS before its time, whatever event brought the resource here. The record says what the last
   * read showed; anything the read would act on (records to publish, a zone no longer allowed) is
   * read afresh instead.
   */
  /**
   * CAS refused the instance for good in this generation (InstanceUnusable, InstanceNotFound):
   * until the recheck is due, say so again and ask nothing, whatever event comes.
   */
  private Optional<Action> refusedUntilDue(Observation o, AliyunCertificateStatus record) {
    Optional<Instant> due = o.pollDue().filter(at -> at.isAfter(o.now().plus(POLL_SLACK)));
    AliyunCertificateStatus status = o.resource().getStatus();
    if (due.isEmpty() || status == null) {
      return Optional.empty();
    }
    Long generation = o.resource().getMetadata().getGeneration();
    Optional<CsrCondition> stalled =
        status
            .condition("Stalled")
            .filter(c -> "True".equals(c.getStatus()))
            .filter(c -> PollHolds.HELD_REFUSALS.contains(c.getReason()))
            .filter(c -> generation == null || generation.equals(c.getObservedGeneration()));
    return stalled.map(
        c ->
            settle(
                record,
                Outcome.stalled(
                    c.getReason(), c.getMessage(), Duration.between(o.now(), due.get()))));
  }

  private Optional<Action> followUntilDue(Observation o, AliyunCertificateStatus record) {
    Optional<Instant> due = o.pollDue().filter(at -> at.isAfter(o.now().plus(POLL_SLACK)));
    if (due.isEmpty() || !"pending".equalsIgnoreCase(record.getInstanceStatus())) {
      return Optional.empty();
    }
    AliyunCertificateSpec spec = o.resource().getSpec();
    List<ValidationRecord> validation =
        record.getValidation() == null ? List.of() : record.getValidation();
    Duration wait = Duration.between(o.now(), due.get());
    boolean publishes =
        spec.publishesDns() && spec.effectiveValidationMethod() == ValidationMethod.DNS;
    if (validation.isEmpty()) {
      if (o.published().isPresent()) {
        return Optional.empty();
      }
      return Optional.of(
          settle(
              record,
              Outcome.progressing(
                  Reasons.ISSUING,
                  "Validation is done; the CA is reviewing the application on instance "
                      + spec.getInstanceId(),
                  wait)));
    }
    String message = ValidationRecords.message(validation);
    if (publishes) {
      List<ValidationRecord> wanted = ValidationRecords.dnsRecords(validation);
      if (!o.published().filter(p -> DnsEndpoints.sameRecords(p, wanted)).isPresent()
          || !DnsZones.outside(
                  wanted.stream().map(ValidationRecord::getRecordName).toList(),
                  o.account().dnsZones())
              .isEmpty()) {
        return Optional.empty();
      }
      message += "; published as a DNSEndpoint for external-dns";
    }
    return Optional.of(
        settle(record, Outcome.progressing(Reasons.AWAITING_VALIDATION, message, wait)));
  }

  private Action issuedOnInstance(
      Observation o,
      AliyunCertificateStatus record,
      InstanceDetail instance,
      CsrFacts csr,
      PrivateKeyFacts key) {
    String instanceId = instance.instanceId();
    if (InstanceState.revoked(instance)) {
      return settle(
          record,
          Failures.stalled(
              Reasons.INSTANCE_UNUSABLE,
              "The certificate of instance " + instanceId + " is revoked; name a new instance"));
    }
    if (instance.certificateId().isEmpty()) {
      return settle(
          record,
          Outcome.progressing(
              Reasons.ISSUING,
              "Instance "
                  + instanceId
                  + " is "
                  + instance.status()
                  + " but names no certificate yet",
              poll(o, record, instance)));
    }
    long certificateId = instance.certificateId().get();
    if (o.download().filter(d -> d.id() == certificateId).isEmpty()) {
      return new Action.Download(certificateId);
    }
    Validated<CheckedCertificate> checked =
        CertificateChecks.check(o.download().get().certPem(), csr.publicKeySha256());
    if (!checked.isValid()) {
      return settle(record, Failures.of(checked.problem()));
    }
    Optional<InputProblem> keyMismatch = CertificateChecks.keyMismatch(checked.value(), key);
    if (keyMismatch.isPresent()) {
      return settle(record, Failures.of(keyMismatch.get()));
    }
    CheckedCertificate certificate = checked.value();
    record.setValidation(null);
    record.setCertificateId(certificateId);
    record.setCertificateInstanceId(instanceId);
    record.setSerialNumber(certificate.serialNumber());
    record.setNotBefore(Conditions.rfc3339(certificate.notBefore()));
    record.setNotAfter(Conditions.rfc3339(certificate.notAfter()));
    String name = o.resource().getMetadata().getName();
    return new Action.WriteSecret(
        o.resource().getSpec().getSecretName(),
        new SecretContent(certificate.tlsCrt(), key.pem(), certificate.caCrt(), name),
        record,
        issued(o.now(), record));
  }

  /**
   * Ready: Issued, or Expiring from renewBefore before notAfter on (Ready stays True); past
   * notAfter, Expiring and stalled.
   */
  Outcome issued(Instant now, AliyunCertificateStatus record) {
    Instant notAfter;
    try {
      notAfter = Instant.parse(record.getNotAfter());
    } catch (DateTimeParseException | NullPointerException e) {
      return Outcome.ready(Reasons.ISSUED, issuedMessage(record));
    }
    Instant renewFrom = notAfter.minus(settings.renewBefore());
    String renew = "; name a new instance in spec.instanceId to renew";
    if (!now.isBefore(notAfter)) {
      // Past notAfter the Secret serves a certificate that clients refuse: not Ready, and stalled
      // until a person names a new instance (kstatus Failed, Argo CD Degraded).
      return Outcome.stalled(
          Reasons.EXPIRING,
          "The certificate "
              + record.getCertificateId()
              + " in the Secret expired at "
              + record.getNotAfter()
              + renew,
          Duration.ofDays(1));
    }
    if (!now.isBefore(renewFrom)) {
      Duration left = Duration.between(now, notAfter);
      return Outcome.ready(
              Reasons.EXPIRING,
              "The certificate expires at "
                  + record.getNotAfter()
                  + " (in "
                  + left.toDays()
                  + " days)"
                  + renew)
          .withRequeue(left.compareTo(Duration.ofDays(1)) < 0 ? left : Duration.ofDays(1));
    }
    return Outcome.ready(Reasons.ISSUED, issuedMessage(record))
        .withRequeue(Duration.between(now, renewFrom));
  }

  private static String issuedMessage(AliyunCertificateStatus record) {
    return "Certificate "
        + record.getCertificateId()
        + " (serial "
        + record.getSerialNumber()
        + ") of instance "
        + record.getCertificateInstanceId()
        + " is in the Secret, valid until "
        + record.getNotAfter();
  }

  /** The Secret holds the certificate status records, and it is spec.instanceId's. */
  private static boolean holdsCurrent(Observation o, AliyunCertificateStatus record) {
    String name = o.resource().getMetadata().getName();
    return record.getCertificateId() != null
        && o.resource().getSpec().getInstanceId().equals(record.getCertificateInstanceId())
        && o.secret().exists()
        && o.secret().owner().filter(name::equals).isPresent()
        && record.getSerialNumber() != null
        && o.secret().serialNumber().filter(record.getSerialNumber()::equals).isPresent();
  }

  /** What the instance shows now goes into the record; instanceChangedAt moves on a change. */
  private static void observed(
      AliyunCertificateStatus record,
      InstanceDetail instance,
      List<ValidationRecord> validation,
      Instant now) {
    List<ValidationRecord> shown = validation.isEmpty() ? null : validation;
    boolean changed =
        !Objects.equals(record.getInstanceStatus(), instance.status())
            || !Objects.equals(record.getValidation(), shown)
            || record.getInstanceChangedAt() == null;
    record.setInstanceStatus(instance.status());
    record.setValidation(shown);
    if (changed) {
      record.setInstanceChangedAt(Conditions.rfc3339(now));
    }
  }

  private Duration poll(Observation o, AliyunCertificateStatus record, InstanceDetail instance) {
    Instant changedAt;
    try {
      changedAt = Instant.parse(record.getInstanceChangedAt());
    } catch (DateTimeParseException | NullPointerException e) {
      changedAt = o.now();
    }
    return PollSchedule.next(settings, o.now(), changedAt, instance.averageWaitingTime());
  }

  private static Outcome inUse(InstanceDetail instance) {
    String holds =
        InstanceState.csrPem(instance).isPresent()
            ? "holds another CSR than the AliyunCsr's"
            : "is " + instance.status() + " without a CSR this operator can compare";
    return Failures.stalled(
        Reasons.INSTANCE_IN_USE,
        "Instance "
            + instance.instanceId()
            + " "
            + holds
            + "; it is never overwritten. Name an instance that is not yet applied for");
  }

  private static Outcome zoneNotAllowed(Observation o, List<String> outside) {
    return Failures.stalled(
        Reasons.DNS_ZONE_NOT_ALLOWED,
        "Validation records for "
            + outside
            + " would be published outside the DNS zones account "
            + accountName(o)
            + " allows "
            + o.account().dnsZones()
            + " (spec.issuance.dnsZones); nothing is published. Create the records by hand"
            + " (set spec.externalDns false), or ask an administrator to allow the zone");
  }

  private static String accountName(Observation o) {
    return o.account().name() == null ? "(the operator's default)" : o.account().name();
  }

  private static Action settle(AliyunCertificateStatus record, Outcome outcome) {
    return new Action.Settle(record, outcome);
  }

  private static boolean isLive(ApplicationLease lease, Instant now) {
    try {
      return now.isBefore(expiry(lease).plus(TAKEOVER_GRACE));
    } catch (RuntimeException e) {
      return false; // an unreadable lease protects nothing
    }
  }

  private static Instant expiry(ApplicationLease lease) {
    return Instant.parse(lease.getExpiresAt());
  }
}
