package dev.aliyuncsr.operator.reconcile;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.csr.InputProblem;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.observability.OperatorMetrics;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles an AliyunCsr in one direction: load the Secrets, validate them, make CAS hold exactly
 * one CSR for them, record the outcome. Deletion honours spec.deletionPolicy.
 */
public final class AliyunCsrReconciler implements Reconciler<AliyunCsr>, Cleaner<AliyunCsr> {
  private static final Logger log = LoggerFactory.getLogger(AliyunCsrReconciler.class);
  static final String SECRET_INDEX = "aliyuncsr-secret-refs";

  /** A stalled resource is looked at again this rarely; a change to it or its Secrets is sooner. */
  static final Duration STALLED_RECHECK = Duration.ofMinutes(30);

  /** Authentication failures are retried slowly: the credentials may be rotated in place. */
  static final Duration AUTH_RECHECK = Duration.ofMinutes(5);

  static final Duration STALE_RETRY = Duration.ofMillis(200);

  private final SecretInputs secretInputs;
  private final UploadCoordinator coordinator;
  private final OutcomeRecorder recorder;
  private final RetryBackoff backoff;
  private final OperatorMetrics metrics;

  public AliyunCsrReconciler(
      SecretInputs secretInputs,
      UploadCoordinator coordinator,
      OutcomeRecorder recorder,
      RetryBackoff backoff,
      OperatorMetrics metrics) {
    this.secretInputs = secretInputs;
    this.coordinator = coordinator;
    this.recorder = recorder;
    this.backoff = backoff;
    this.metrics = metrics;
  }

  @Override
  public UpdateControl<AliyunCsr> reconcile(AliyunCsr resource, Context<AliyunCsr> context) {
    // 1. Load and validate the inputs; bad input never reaches CAS.
    Validated<SecretInputs.Inputs> inputs = secretInputs.load(resource);
    if (!inputs.isValid()) {
      return recorder.record(resource, outcomeOf(inputs.problem()), Optional.empty(), false);
    }
    // 2. Make CAS hold exactly one CSR for these inputs.
    UploadCoordinator.Result result;
    try {
      result = coordinator.ensureUploaded(resource, inputs.value());
    } catch (CasException e) {
      return recorder.record(resource, outcomeOf(resource, e), Optional.empty(), false);
    }
    // 3. Record what happened.
    if (result instanceof UploadCoordinator.Result.Done done) {
      backoff.reset(uid(resource));
      UpdateControl<AliyunCsr> control =
          recorder.record(
              done.resource(),
              Outcome.ready(done.reason(), readyMessage(done)),
              Optional.of(done.uploaded()),
              done.changed());
      if (done.unrecorded().isPresent()) {
        coordinator.recordCsrId(done);
      }
      return control;
    }
    if (result instanceof UploadCoordinator.Result.Blocked blocked) {
      return recorder.record(
          resource,
          Outcome.stalled(blocked.reason(), blocked.message(), STALLED_RECHECK),
          Optional.empty(),
          false);
    }
    return UpdateControl.<AliyunCsr>noUpdate().rescheduleAfter(STALE_RETRY);
  }

  @Override
  public DeleteControl cleanup(AliyunCsr resource, Context<AliyunCsr> context) {
    String ns = resource.getMetadata().getNamespace();
    String name = resource.getMetadata().getName();
    if (resource.getSpec().effectiveDeletionPolicy() == DeletionPolicy.Orphan) {
      log.info("{}/{} deleted with deletionPolicy Orphan: CSRs stay in CAS", ns, name);
      backoff.reset(uid(resource));
      metrics.forget(uid(resource));
      return DeleteControl.defaultDelete();
    }
    try {
      Set<Long> ids = new LinkedHashSet<>(CasAnnotations.superseded(resource));
      CasAnnotations.csrId(resource).ifPresent(ids::add);
      Optional<UploadIntent> intent = CasAnnotations.intent(resource);
      if (intent.isPresent() && CasAnnotations.csrId(resource).isEmpty()) {
        // An upload may have happened without being recorded: find it so it is not leaked.
        ids.addAll(coordinator.findUploads(intent.get()));
      }
      for (Long id : ids) {
        coordinator.deleteFromCas(id);
      }
      log.info("{}/{} deleted; CsrIds {} deleted from CAS", ns, name, ids);
      backoff.reset(uid(resource));
      metrics.forget(uid(resource));
      return DeleteControl.defaultDelete();
    } catch (CasException e) {
      Duration retry = backoff.next(uid(resource));
      String message =
          "cannot delete the CSR from CAS yet ("
              + e.getMessage()
              + "); retrying in "
              + retry.toSeconds()
              + "s. Set spec.deletionPolicy to Orphan to release the resource and keep the CSR";
      recorder.record(
          resource, Outcome.progressing(Reasons.DELETING, message, retry), Optional.empty(), false);
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(retry);
    }
  }

  /** Missing input is waited for (the Secret watch brings it); invalid input stalls. */
  static Outcome outcomeOf(InputProblem problem) {
    return switch (problem.reason()) {
      case Reasons.SECRET_NOT_FOUND, Reasons.SECRET_KEY_MISSING ->
          Outcome.progressing(
              problem.reason(), problem.message() + "; waiting for it", STALLED_RECHECK);
      default -> Outcome.stalled(problem.reason(), problem.message(), STALLED_RECHECK);
    };
  }

  private Outcome outcomeOf(AliyunCsr resource, CasException e) {
    return switch (e.kind()) {
      case RETRYABLE -> {
        Duration retry = backoff.next(uid(resource));
        yield Outcome.progressing(
            e.reason(), e.getMessage() + "; retrying in " + retry.toSeconds() + "s", retry);
      }
      case AMBIGUOUS -> {
        Duration retry = backoff.next(uid(resource));
        yield Outcome.progressing(
            Reasons.RESULT_UNKNOWN,
            e.getMessage()
                + "; the upload may have been stored, so it will be looked up in CAS before any"
                + " new upload",
            retry);
      }
      case AUTH ->
          Outcome.stalled(
              e.reason(),
              e.getMessage() + "; check the operator's Alibaba Cloud credentials and RAM policy",
              AUTH_RECHECK);
      case TERMINAL, NOT_FOUND -> Outcome.stalled(e.reason(), e.getMessage(), STALLED_RECHECK);
    };
  }

  private static String readyMessage(UploadCoordinator.Result.Done done) {
    String what =
        switch (done.reason()) {
          case Reasons.RECOVERED -> "Recovered the earlier upload of CSR ";
          case Reasons.ADOPTED -> "Adopted CSR ";
          default -> "Uploaded CSR ";
        };
    return what
        + done.uploaded().uploadName()
        + " as CsrId "
        + done.uploaded().csrId()
        + (done.uploaded().privateKeyUploaded() ? " with its private key" : "");
  }

  @Override
  public List<EventSource<?, AliyunCsr>> prepareEventSources(
      EventSourceContext<AliyunCsr> context) {
    context.getPrimaryCache().addIndexer(SECRET_INDEX, AliyunCsrReconciler::referencedSecrets);
    var configuration =
        InformerEventSourceConfiguration.from(Secret.class, AliyunCsr.class)
            .withName("secrets")
            .withNamespacesInheritedFromController()
            .withItemStore(new MetadataOnlySecretStore())
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
    return List.of(new InformerEventSource<>(configuration, context));
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
