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
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles an AliyunCsr in one direction: load the Secrets, validate them, make CAS hold exactly
 * one CSR for them, record the outcome. Deletion honours spec.deletionPolicy.
 *
 * <p>JOSDK calls it on every event (triggerReconcilerOnAllEvents) and leaves the finalizer to it:
 * the finalizer goes on in the intent's update, so a new resource costs no separate finalizer write
 * and no extra round of reconciling before its upload, and it is taken off after the cleanup.
 */
public final class AliyunCsrReconciler implements Reconciler<AliyunCsr> {
  private static final Logger log = LoggerFactory.getLogger(AliyunCsrReconciler.class);
  static final String SECRET_INDEX = "aliyuncsr-secret-refs";

  /** A stalled resource is looked at again this rarely; a change to it or its Secrets is sooner. */
  static final Duration STALLED_RECHECK = Duration.ofMinutes(30);

  /** Authentication failures are retried slowly: the credentials may be rotated in place. */
  static final Duration AUTH_RECHECK = Duration.ofMinutes(5);

  static final Duration STALE_RETRY = Duration.ofMillis(200);

  /** Informers list in pages of this size, so a large namespace is never one huge response. */
  public static final long LIST_PAGE = 500;

  private final KubernetesClient client;
  private final SecretInputs secretInputs;
  private final UploadCoordinator coordinator;
  private final OutcomeRecorder recorder;
  private final RetryBackoff backoff;
  private final OperatorMetrics metrics;

  public AliyunCsrReconciler(
      KubernetesClient client,
      SecretInputs secretInputs,
      UploadCoordinator coordinator,
      OutcomeRecorder recorder,
      RetryBackoff backoff,
      OperatorMetrics metrics) {
    this.client = client;
    this.secretInputs = secretInputs;
    this.coordinator = coordinator;
    this.recorder = recorder;
    this.backoff = backoff;
    this.metrics = metrics;
  }

  @Override
  public UpdateControl<AliyunCsr> reconcile(AliyunCsr resource, Context<AliyunCsr> context) {
    if (context.isPrimaryResourceDeleted()) {
      forget(resource); // gone from the API server: only this process's state is left
      return UpdateControl.noUpdate();
    }
    if (resource.isMarkedForDeletion()) {
      if (!resource.hasFinalizer(CasAnnotations.FINALIZER)) {
        forget(resource); // never uploaded, or already cleaned up: nothing holds the deletion
        return UpdateControl.noUpdate();
      }
      return cleanup(resource);
    }
    if (CasAnnotations.intent(resource).isPresent()
        && !resource.hasFinalizer(CasAnnotations.FINALIZER)) {
      // Someone removed the finalizer of a resource that may own a CSR in CAS: put it back, and
      // go on (a write below that is fenced on the old resourceVersion reads the object again).
      addFinalizer(resource);
    }
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

  /** Deletion: honour spec.deletionPolicy, then release the object by removing the finalizer. */
  private UpdateControl<AliyunCsr> cleanup(AliyunCsr resource) {
    String ns = resource.getMetadata().getNamespace();
    String name = resource.getMetadata().getName();
    if (resource.getSpec().effectiveDeletionPolicy() == DeletionPolicy.Orphan) {
      log.info("{}/{} deleted with deletionPolicy Orphan: CSRs stay in CAS", ns, name);
      removeFinalizer(resource);
      return UpdateControl.noUpdate();
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
      removeFinalizer(resource);
      return UpdateControl.noUpdate();
    } catch (CasException e) {
      Duration retry = backoff.next(uid(resource));
      String message =
          "cannot delete the CSR from CAS yet ("
              + e.getMessage()
              + "); retrying in "
              + retry.toSeconds()
              + "s. Set spec.deletionPolicy to Orphan to release the resource and keep the CSR";
      return recorder.record(
          resource, Outcome.progressing(Reasons.DELETING, message, retry), Optional.empty(), false);
    }
  }

  /** Adds the finalizer, fenced on the resourceVersion seen, so no concurrent change is lost. */
  private void addFinalizer(AliyunCsr resource) {
    List<String> finalizers = new ArrayList<>();
    if (resource.getMetadata().getFinalizers() != null) {
      finalizers.addAll(resource.getMetadata().getFinalizers());
    }
    finalizers.add(CasAnnotations.FINALIZER);
    patchFinalizers(
        resource,
        new JsonPatch()
            .test("/metadata/resourceVersion", resource.getMetadata().getResourceVersion())
            .add("/metadata/finalizers", finalizers));
  }

  /**
   * Removes the finalizer with a JSON patch that first tests it is still at the index we saw, so a
   * finalizer another controller added or removed meanwhile is never taken off by mistake.
   */
  private void removeFinalizer(AliyunCsr resource) {
    String path =
        "/metadata/finalizers/"
            + resource.getMetadata().getFinalizers().indexOf(CasAnnotations.FINALIZER);
    patchFinalizers(resource, new JsonPatch().test(path, CasAnnotations.FINALIZER).remove(path));
    forget(resource);
  }

  private void patchFinalizers(AliyunCsr resource, JsonPatch patch) {
    try {
      patch.applyTo(client, resource);
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return; // already gone
      }
      // 422: the object moved under us; JOSDK's retry reconciles again from the new copy.
      throw e;
    }
  }

  private void forget(AliyunCsr resource) {
    backoff.reset(uid(resource));
    metrics.forget(uid(resource));
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
    // One Secret source per watched namespace, each with a store of its own: JOSDK gives one
    // source's ItemStore to each of its namespaces' informers, and they must not share it.
    Set<String> namespaces =
        context.getControllerConfiguration().getInformerConfig().getNamespaces();
    if (namespaces.contains(Constants.WATCH_ALL_NAMESPACES)) {
      return List.of(secretSource(context, "secrets", namespaces));
    }
    List<EventSource<?, AliyunCsr>> sources = new ArrayList<>();
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
