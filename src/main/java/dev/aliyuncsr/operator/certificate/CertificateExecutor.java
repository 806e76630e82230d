package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCertificateStatus;
import dev.aliyuncsr.operator.api.ApplicationLease;
import dev.aliyuncsr.operator.api.ApplicationRecord;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.certificate.CertificateCrashPoints.Point;
import dev.aliyuncsr.operator.cloud.BudgetedCasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.kube.Conditions;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi.WriteRefused;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Performs the one {@link Action} the decider chose: one CAS call, or one write (a status, the
 * Secret, the DNSEndpoint). It decides nothing of its own beyond what the action says, except what
 * only the moment of the call can tell: too little lease left to apply, a DNSEndpoint of that name
 * that is someone else's, a fence that no longer holds.
 */
final class CertificateExecutor {
  private static final Logger log = LoggerFactory.getLogger(CertificateExecutor.class);
  private static final DateTimeFormatter MILLIS = DateTimeFormatter.ISO_INSTANT;

  private final CertificateKube kube;
  private final CertificateStatusWriter writer;
  private final PollHolds holds;
  private final RetryBackoff backoff;
  private final Clock clock;
  private final CertificateCrashPoints crashPoints;
  private final CertificateProtocol.LeaseSettings settings;

  CertificateExecutor(
      CertificateKube kube,
      CertificateStatusWriter writer,
      PollHolds holds,
      RetryBackoff backoff,
      Clock clock,
      CertificateCrashPoints crashPoints,
      CertificateProtocol.LeaseSettings settings) {
    this.kube = kube;
    this.writer = writer;
    this.holds = holds;
    this.backoff = backoff;
    this.clock = clock;
    this.crashPoints = crashPoints;
    this.settings = settings;
  }

  /** What an act leaves: the object to observe next, or the end of the reconcile. */
  record Step(AliyunCertificate object, CertificateProtocol.Result result) {
    static Step next(AliyunCertificate object) {
      return new Step(object, null);
    }

    static Step end(CertificateProtocol.Result result) {
      return new Step(null, result);
    }
  }

  /** Thrown when the object must be read again from the API server. */
  static final class ReadAgain extends Exception {
    final boolean gone;

    ReadAgain(boolean gone) {
      super(null, null, false, false);
      this.gone = gone;
    }
  }

  Step act(Observation o, Action action, Pass pass, CertificateProtocol.WriteListener listener)
      throws ReadAgain {
    AliyunCertificate r = o.resource();
    try {
      if (action instanceof Action.Settle s) {
        return Step.end(settle(r, s.record(), s.outcome(), true, listener));
      }
      if (action instanceof Action.WriteRecord w) {
        return writeRecord(r, w, listener);
      }
      if (action instanceof Action.ReadInstance a) {
        pass.instance = access(pass).polls().getInstanceDetail(a.instanceId());
        return Step.next(r);
      }
      if (action instanceof Action.UpdateInstance a) {
        InstanceFill fill = a.fill();
        pass.forgetCas();
        access(pass)
            .calls()
            .updateInstance(
                fill.instanceId(),
                fill.csrPem(),
                fill.domains(),
                fill.keyAlgorithm(),
                fill.validationMethod());
        log.info("{}: filled {} with the CSR", CertificateStatusWriter.key(r), fill);
        return Step.next(r);
      }
      if (action instanceof Action.TakeApplicationLease a) {
        return takeLease(r, a, pass, listener);
      }
      if (action instanceof Action.Apply a) {
        return apply(r, a, pass, listener);
      }
      if (action instanceof Action.Download a) {
        pass.download = access(pass).calls().getUserCertificateDetail(a.certificateId());
        return Step.next(r);
      }
      if (action instanceof Action.WriteSecret a) {
        return writeSecret(r, a, pass, listener);
      }
      if (action instanceof Action.PublishDnsEndpoint a) {
        return publish(r, a, pass, listener);
      }
      if (action instanceof Action.RemoveDnsEndpoint) {
        return remove(r, pass);
      }
      throw new IllegalStateException("no act for " + action);
    } catch (WriteRefused e) {
      log.debug(
          "{}: write refused ({}), reading it again",
          CertificateStatusWriter.key(r),
          e.getMessage());
      // Someone else wrote, perhaps on newer Secrets or after another process's call.
      pass.forgetCluster();
      pass.forgetCas();
      pass.heldLease = null;
      throw new ReadAgain(e.gone());
    } catch (CasException e) {
      AliyunCertificateStatus record = record(r);
      ApplicationLease held = pass.heldLease;
      if (held != null
          && !(action instanceof Action.Apply)
          && record.getApplication() != null
          && record.getApplication().getLease() != null
          && held.getToken().equals(record.getApplication().getLease().getToken())) {
        // The fill (or the read after it) failed under this pass's lease: nothing was applied,
        // so the lease goes back rather than hold every process off until it ends.
        record.setApplication(record.getApplication().withoutLease());
        pass.heldLease = null;
      }
      return Step.end(settle(r, record, failure(r, action, e), false, listener));
    }
  }

  private static CertificateRoute.InstanceAccess access(Pass pass) throws CasException {
    if (pass.access == null) {
      // The decider decides a call only with an account that allows it; a route that changed
      // between observing and acting calls nothing.
      throw new CasException(
          CasException.Kind.RETRYABLE,
          "Route",
          "AccountChanged",
          null,
          "the account changed while deciding");
    }
    return pass.access;
  }

  private Outcome failure(AliyunCertificate r, Action action, CasException e) {
    Duration next = backoff.next(r.getMetadata().getUid());
    String instanceId = r.getSpec().getInstanceId();
    if (action instanceof Action.UpdateInstance a) {
      return Failures.ofUpdate(e, a.fill().instanceId(), next);
    }
    if (action instanceof Action.Download a) {
      return Failures.ofDownload(e, a.certificateId(), next);
    }
    return Failures.ofRead(e, instanceId, next);
  }

  // ---- status ------------------------------------------------------------------------------

  /** Writes the outcome, ending the reconcile; a moved object is looked at again soon. */
  CertificateProtocol.Result settle(
      AliyunCertificate r,
      AliyunCertificateStatus record,
      Outcome outcome,
      boolean decided,
      CertificateProtocol.WriteListener listener) {
    String uid = r.getMetadata().getUid();
    if (decided && outcome.state() != Outcome.State.STALLED) {
      backoff.reset(uid);
    }
    AliyunCertificateStatus written = record;
    try {
      AliyunCertificate after =
          writer.write(r, record, outcome, CertificateStatusWriter.fenceOnVersion(r), listener);
      written = after.getStatus();
    } catch (WriteRefused e) {
      // The object moved: look again from the new copy.
      holds.forget(uid);
      return new CertificateProtocol.Result(
          outcome.withRequeue(Duration.ofMillis(100)), record.getNotAfter(), e.gone());
    }
    holds.settled(r, outcome, clock.instant());
    return new CertificateProtocol.Result(
        outcome, written == null ? record.getNotAfter() : written.getNotAfter(), false);
  }

  private Step writeRecord(
      AliyunCertificate r, Action.WriteRecord a, CertificateProtocol.WriteListener listener)
      throws WriteRefused {
    AliyunCertificate written =
        writer.write(
            r, a.record(), a.outcome(), CertificateStatusWriter.fenceOnVersion(r), listener);
    if (written == r) {
      // A decision that changes nothing would be made again: stop here and look later.
      log.warn("{}: no progress writing the record ({})", CertificateStatusWriter.key(r), a.why());
      return Step.end(
          new CertificateProtocol.Result(
              Outcome.progressing(Reasons.APPLYING, "no progress", Duration.ofSeconds(5)),
              a.record().getNotAfter(),
              false));
    }
    return Step.next(written);
  }

  // ---- the application ----------------------------------------------------------------------

  /**
   * The lease goes into status before ApplyCertificate, fenced on the resourceVersion observed: of
   * two live processes, only one writes it, and only its holder calls.
   */
  private Step takeLease(
      AliyunCertificate r,
      Action.TakeApplicationLease a,
      Pass pass,
      CertificateProtocol.WriteListener listener)
      throws WriteRefused {
    Instant now = clock.instant();
    ApplicationLease lease =
        new ApplicationLease(
            settings.holder(),
            settings.tokens().get(),
            MILLIS.format(now.plus(settings.leaseDuration())));
    AliyunCertificateStatus next = record(r);
    next.setApplication(new ApplicationRecord(a.instanceId(), a.csrSha256(), a.retry(), lease));
    AliyunCertificate written =
        writer.write(
            r,
            next,
            Outcome.progressing(
                Reasons.APPLYING, "Applying for a certificate on instance " + a.instanceId(), null),
            CertificateStatusWriter.fenceOnVersion(r),
            listener);
    pass.heldLease = lease;
    crashPoints.reach(Point.APPLY_AFTER_LEASE);
    return Step.next(written);
  }

  /**
   * ApplyCertificate under the lease this reconcile holds, then its result, fenced on the lease
   * token: accepted (appliedAt, lease dropped), refused (lease dropped), or unknown (lease kept
   * until it ends, then the instance says whether it was applied). Never started with less lease
   * left than the longest call and its wait for the budget.
   */
  private Step apply(
      AliyunCertificate r, Action.Apply a, Pass pass, CertificateProtocol.WriteListener listener)
      throws WriteRefused, CasException {
    ApplicationLease lease = pass.heldLease;
    JsonPatch fence = CertificateStatusWriter.fenceOnLease(lease);
    AliyunCertificateStatus next = record(r);
    Instant now = clock.instant();
    Instant expiry = Instant.parse(lease.getExpiresAt());
    if (now.plus(settings.maxCallTime()).plus(BudgetedCasClient.MAX_WAIT).isAfter(expiry)) {
      // Too little of the lease is left to be sure the call ends inside it: nothing was sent,
      // so give the lease back and decide again.
      next.setApplication(next.getApplication().withoutLease());
      pass.heldLease = null;
      return Step.next(
          writer.write(
              r,
              next,
              Outcome.progressing(Reasons.APPLYING, "The application lease ran short", null),
              fence,
              listener));
    }
    pass.forgetCas();
    CertificateRoute.InstanceAccess access = access(pass);
    try {
      access.calls().applyCertificate(a.instanceId());
    } catch (CasException e) {
      Duration untilLeaseEnds =
          Duration.between(clock.instant(), expiry.plus(Decider.TAKEOVER_GRACE)).plusMillis(100);
      Failures.AfterApply after =
          Failures.ofApply(
              e, a.instanceId(), untilLeaseEnds, backoff.next(r.getMetadata().getUid()));
      if (!after.mayHaveApplied()) {
        next.setApplication(next.getApplication().withoutLease());
      }
      pass.heldLease = null;
      log.warn(
          "{}: ApplyCertificate on instance {} failed ({}): {}",
          CertificateStatusWriter.key(r),
          a.instanceId(),
          e.code(),
          after.mayHaveApplied() ? "it may have applied; the lease is kept" : "nothing applied");
      writer.write(r, next, after.outcome(), fence, listener);
      return Step.end(new CertificateProtocol.Result(after.outcome(), next.getNotAfter(), false));
    }
    crashPoints.reach(Point.APPLY_AFTER_CALL);
    log.info(
        "{}: applied for a certificate on instance {}",
        CertificateStatusWriter.key(r),
        a.instanceId());
    ApplicationRecord applied = next.getApplication().withoutLease();
    applied.setAppliedAt(Conditions.rfc3339(clock.instant()));
    next.setApplication(applied);
    pass.heldLease = null;
    backoff.reset(r.getMetadata().getUid());
    return Step.next(
        writer.write(
            r,
            next,
            Outcome.progressing(
                Reasons.APPLYING,
                "CAS accepted the application on instance " + a.instanceId() + "; reading it",
                null),
            fence,
            listener));
  }

  // ---- the Secret and the DNSEndpoint -------------------------------------------------------

  /**
   * The Secret first (created, or updated only while it carries this certificate's annotation and
   * is as the pass saw it), then the record that names its certificate.
   */
  private Step writeSecret(
      AliyunCertificate r,
      Action.WriteSecret a,
      Pass pass,
      CertificateProtocol.WriteListener listener)
      throws WriteRefused {
    String namespace = r.getMetadata().getNamespace();
    Map<String, String> data = new LinkedHashMap<>();
    a.content().data().forEach((k, v) -> data.put(k, base64(v)));
    if (pass.secret == null || !pass.secret.exists()) {
      Secret secret =
          new SecretBuilder()
              .withMetadata(
                  new ObjectMetaBuilder()
                      .withNamespace(namespace)
                      .withName(a.secretName())
                      .withAnnotations(a.content().annotations())
                      .build())
              .withType(SecretContent.TYPE)
              .withData(data)
              .build();
      notGone(() -> kube.createSecret(secret));
    } else {
      JsonPatch patch =
          new JsonPatch()
              .test("/metadata/resourceVersion", pass.secretVersion)
              .test(
                  JsonPatch.annotation(CertificateAnnotations.SECRET_OWNER),
                  r.getMetadata().getName())
              .add("/data", Serialization.jsonMapper().valueToTree(data));
      notGone(() -> kube.patchSecret(namespace, a.secretName(), patch));
    }
    pass.forgetSecret();
    log.info(
        "{}: wrote Secret {} with certificate {} (serial {})",
        CertificateStatusWriter.key(r),
        a.secretName(),
        a.record().getCertificateId(),
        a.record().getSerialNumber());
    crashPoints.reach(Point.SECRET_AFTER_WRITE);
    return Step.next(
        writer.write(
            r, a.record(), a.outcome(), CertificateStatusWriter.fenceOnVersion(r), listener));
  }

  private Step publish(
      AliyunCertificate r,
      Action.PublishDnsEndpoint a,
      Pass pass,
      CertificateProtocol.WriteListener listener)
      throws WriteRefused {
    String name = DnsEndpoints.nameFor(r.getMetadata().getName());
    if (pass.dnsEndpointForeign) {
      return Step.end(
          settle(
              r,
              record(r),
              Failures.stalled(
                  Reasons.INVALID_SPEC,
                  "DNSEndpoint "
                      + name
                      + " exists and is not this resource's; it is never overwritten. Delete it,"
                      + " or create the validation records by hand (spec.externalDns false)"),
              false,
              listener));
    }
    if (pass.dnsEndpoint == null) {
      notGone(() -> kube.createDnsEndpoint(DnsEndpoints.build(r, a.records())));
    } else {
      JsonPatch patch =
          new JsonPatch()
              .test(
                  "/metadata/resourceVersion", pass.dnsEndpoint.getMetadata().getResourceVersion())
              .add(
                  "/spec",
                  Serialization.jsonMapper()
                      .valueToTree(Map.of("endpoints", DnsEndpoints.endpoints(a.records()))));
      notGone(() -> kube.patchDnsEndpoint(r.getMetadata().getNamespace(), name, patch));
    }
    log.info(
        "{}: published {} validation record(s) as DNSEndpoint {}",
        CertificateStatusWriter.key(r),
        a.records().size(),
        name);
    pass.forgetDnsEndpoint();
    return Step.next(r);
  }

  private Step remove(AliyunCertificate r, Pass pass) throws WriteRefused {
    String name = DnsEndpoints.nameFor(r.getMetadata().getName());
    if (pass.dnsEndpoint != null) {
      try {
        kube.deleteDnsEndpoint(
            r.getMetadata().getNamespace(),
            name,
            pass.dnsEndpoint.getMetadata().getResourceVersion());
        log.info("{}: removed DNSEndpoint {}", CertificateStatusWriter.key(r), name);
      } catch (WriteRefused e) {
        if (!e.gone()) {
          throw e;
        }
      }
    }
    pass.forgetDnsEndpoint();
    return Step.next(r);
  }

  private interface Write {
    void run() throws WriteRefused;
  }

  /**
   * A write of another object than the certificate: its 404 (the Secret deleted meanwhile, say) is
   * no news about the certificate, only a reason to read again.
   */
  private static void notGone(Write write) throws WriteRefused {
    try {
      write.run();
    } catch (WriteRefused e) {
      throw e.gone() ? new WriteRefused(false, "gone: " + e.getMessage()) : e;
    }
  }

  private static AliyunCertificateStatus record(AliyunCertificate r) {
    return StatusBuilder.copyRecord(r.getStatus());
  }

  private static String base64(String value) {
    return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
  }
}
