package dev.aliyuncsr.operator.reconcile;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasClient.CsrDetail;
import dev.aliyuncsr.operator.cloud.CasClient.CsrSummary;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.Validated;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the promise "exactly one CSR in CAS per AliyunCsr and CSR": an intent is written on the
 * object, fenced on its resourceVersion, before UploadCsr is called; the CsrId is written next to
 * it afterwards. An intent without a CsrId means an upload may or may not have happened, and is
 * resolved by looking the upload up in CAS, never by uploading again blindly.
 */
public final class UploadCoordinator {
  private static final Logger log = LoggerFactory.getLogger(UploadCoordinator.class);

  private final KubernetesClient client;
  private final CasClient cas;
  private final Clock clock;
  private final CrashPoints crashPoints;

  /**
   * Intents whose last upload this process saw fail for certain (the service answered an error):
   * their next attempt can skip the lookup. Lost on restart, when the lookup is the safe default.
   */
  private final Map<String, String> definitelyNotUploaded = new ConcurrentHashMap<>();

  public UploadCoordinator(
      KubernetesClient client, CasClient cas, Clock clock, CrashPoints crashPoints) {
    this.client = client;
    this.cas = cas;
    this.clock = clock;
    this.crashPoints = crashPoints;
  }

  /** Where the resource stands after {@link #ensureUploaded}. */
  public sealed interface Result {
    /**
     * CAS holds the CSR; {@code reason} says how it got there (Uploaded, Recovered, Adopted). When
     * {@code unrecorded}, the CsrId is not on the object yet: call {@link #recordCsrId} after the
     * status is written.
     */
    record Done(
        AliyunCsr resource,
        UploadedCsr uploaded,
        String reason,
        boolean changed,
        Optional<UploadIntent> unrecorded)
        implements Result {}

    /** The upload cannot go on without a person. */
    record Blocked(String reason, String message) implements Result {}

    /** The object changed or disappeared under us; reconcile again from a fresh read. */
    record Stale() implements Result {}
  }

  /** Makes CAS hold exactly one CSR for this resource and these inputs. */
  public Result ensureUploaded(AliyunCsr cached, SecretInputs.Inputs inputs) throws CasException {
    Result result = attempt(cached, inputs, false);
    if (!(result instanceof Result.Stale)) {
      return result;
    }
    // The informer cache was behind (our own last write, say): decide again on a fresh read.
    AliyunCsr fresh = readFresh(cached);
    return fresh == null ? result : attempt(fresh, inputs, true);
  }

  /**
   * One decision on one copy of the object. Every write that precedes an upload is fenced on this
   * copy's resourceVersion, so a stale copy ends in {@link Result.Stale}, never in an upload.
   */
  private Result attempt(AliyunCsr resource, SecretInputs.Inputs inputs, boolean isFresh)
      throws CasException {
    CsrFacts facts = inputs.csr();
    Optional<Result> done = alreadyUploaded(resource, inputs);
    if (done.isPresent()) {
      return done.get();
    }
    if (resource.getSpec().getCsrId() != null) {
      return adopt(resource, inputs);
    }
    Optional<UploadIntent> intent = CasAnnotations.intent(resource);
    boolean pending =
        intent.isPresent()
            && intent.get().csrSha256().equals(facts.csrSha256())
            && !csrIdBelongsToIntent(resource);
    if (pending) {
      // Recovery calls CAS, so it starts from a fresh read: a cached copy may not show the CsrId
      // we recorded a moment ago.
      if (!isFresh) {
        return new Result.Stale();
      }
      if (!intent.get().encode().equals(definitelyNotUploaded.get(uid(resource)))) {
        List<Long> found = findUploads(intent.get());
        if (found.size() > 1) {
          return new Result.Blocked(
              Reasons.DUPLICATE_EXTERNAL_RESOURCES,
              "CAS holds "
                  + found.size()
                  + " CSRs named "
                  + intent.get().uploadName()
                  + " for this CSR (CsrIds "
                  + found
                  + "); delete all but one in CAS, or set spec.csrId to the one to keep");
        }
        if (found.size() == 1) {
          CsrDetail detail = cas.getCsrDetail(found.get(0));
          return record(
              resource,
              intent.get(),
              found.get(0),
              detail.requestId(),
              inputs,
              detail.hasPrivateKey(),
              Reasons.RECOVERED);
        }
      }
      // Re-writing the same intent is the fence: it fails if our copy is stale.
      AliyunCsr fenced = writeIntent(resource, intent.get(), false);
      return fenced == null ? new Result.Stale() : upload(fenced, intent.get(), inputs);
    }
    UploadIntent newIntent =
        new UploadIntent(UploadNames.of(resource), facts.csrSha256(), facts.publicKeySha256());
    AliyunCsr fenced = writeIntent(resource, newIntent, true);
    return fenced == null ? new Result.Stale() : upload(fenced, newIntent, inputs);
  }

  private Optional<Result> alreadyUploaded(AliyunCsr resource, SecretInputs.Inputs inputs)
      throws CasException {
    Optional<UploadIntent> intent = CasAnnotations.intent(resource);
    Optional<Long> csrId = CasAnnotations.csrId(resource);
    if (intent.isEmpty()
        || csrId.isEmpty()
        || !intent.get().csrSha256().equals(inputs.csr().csrSha256())
        || !csrIdBelongsToIntent(resource)) {
      return Optional.empty();
    }
    Long wanted = resource.getSpec().getCsrId();
    if (wanted != null && !wanted.equals(csrId.get())) {
      return Optional.empty();
    }
    var status = resource.getStatus();
    boolean statusMatches =
        status != null
            && csrId.get().equals(status.getCsrId())
            && inputs.csr().csrSha256().equals(status.getCsrSha256());
    boolean keyUploaded = statusMatches && Boolean.TRUE.equals(status.getPrivateKeyUploaded());
    boolean changed = false;
    if (inputs.key().isPresent() && !keyUploaded) {
      // A key added after the upload goes to the same CSR; UpdateCsr with the same key is
      // harmless, so a wiped status costs one extra call, never a second CSR.
      cas.updateCsr(csrId.get(), inputs.key().get().pem());
      keyUploaded = true;
      changed = true;
    }
    String reason =
        statusMatches ? readyReason(resource) : wanted != null ? Reasons.ADOPTED : Reasons.UPLOADED;
    UploadedCsr uploaded =
        new UploadedCsr(
            csrId.get(),
            CasAnnotations.requestId(resource).orElse(statusMatches ? status.getRequestId() : null),
            intent.get().uploadName(),
            inputs.csr(),
            keyUploaded,
            statusMatches && status.getUploadedAt() != null
                ? status.getUploadedAt()
                : StatusBuilder.rfc3339(clock.instant()));
    deleteSuperseded(resource);
    return Optional.of(new Result.Done(resource, uploaded, reason, changed, Optional.empty()));
  }

  private static String readyReason(AliyunCsr resource) {
    return resource
        .getStatus()
        .condition(StatusBuilder.READY)
        .filter(c -> "True".equals(c.getStatus()))
        .map(c -> c.getReason())
        .orElse(Reasons.UPLOADED);
  }

  private Result upload(AliyunCsr fenced, UploadIntent intent, SecretInputs.Inputs inputs)
      throws CasException {
    crashPoints.reach(CrashPoints.Point.AFTER_INTENT);
    CasClient.UploadResult result;
    try {
      result =
          cas.uploadCsr(
              intent.uploadName(), inputs.csr().pem(), inputs.key().map(PrivateKeyFacts::pem));
    } catch (CasException e) {
      if (e.kind() == CasException.Kind.AMBIGUOUS) {
        definitelyNotUploaded.remove(uid(fenced));
      } else {
        definitelyNotUploaded.put(uid(fenced), intent.encode());
      }
      throw e;
    }
    definitelyNotUploaded.remove(uid(fenced));
    log.info(
        "uploaded CSR {} as CsrId {} for {}/{}",
        intent.uploadName(),
        result.csrId(),
        fenced.getMetadata().getNamespace(),
        fenced.getMetadata().getName());
    crashPoints.reach(CrashPoints.Point.AFTER_UPLOAD);
    return record(
        fenced,
        intent,
        result.csrId(),
        result.requestId(),
        inputs,
        inputs.key().isPresent(),
        Reasons.UPLOADED);
  }

  private Result adopt(AliyunCsr fresh, SecretInputs.Inputs inputs) throws CasException {
    long csrId = fresh.getSpec().getCsrId();
    CsrDetail detail;
    try {
      detail = cas.getCsrDetail(csrId);
    } catch (CasException e) {
      if (e.kind() == CasException.Kind.NOT_FOUND) {
        return new Result.Blocked(
            Reasons.ADOPTION_NOT_FOUND,
            "spec.csrId " + csrId + " does not exist in CAS (" + e.code() + ")");
      }
      throw e;
    }
    Validated<CsrFacts> existing =
        CsrValidator.validate(
            detail.csrPem() == null
                ? new byte[0]
                : detail.csrPem().getBytes(StandardCharsets.UTF_8));
    if (!existing.isValid()
        || !existing.value().publicKeySha256().equals(inputs.csr().publicKeySha256())) {
      return new Result.Blocked(
          Reasons.ADOPTION_MISMATCH,
          "CSR "
              + csrId
              + " in CAS does not have the public key of the CSR in spec.csrSecretRef"
              + (existing.isValid()
                  ? " (CAS: "
                      + shortHash(existing.value().publicKeySha256())
                      + ", Secret: "
                      + shortHash(inputs.csr().publicKeySha256())
                      + ")"
                  : " (CAS returned a CSR that does not parse)"));
    }
    UploadIntent intent =
        new UploadIntent(
            UploadNames.of(fresh), inputs.csr().csrSha256(), inputs.csr().publicKeySha256());
    AliyunCsr fenced = writeIntent(fresh, intent, true);
    if (fenced == null) {
      return new Result.Stale();
    }
    return record(
        fenced, intent, csrId, detail.requestId(), inputs, detail.hasPrivateKey(), Reasons.ADOPTED);
  }

  /**
   * The CSR CAS now holds for this intent. Its id goes to status first (that is what users wait
   * for) and to the annotation right after, in {@link #recordCsrId}; a crash in between leaves an
   * intent without a CsrId, which the next reconcile resolves by finding the upload in CAS.
   */
  private Result record(
      AliyunCsr resource,
      UploadIntent intent,
      long csrId,
      String requestId,
      SecretInputs.Inputs inputs,
      boolean keyInCas,
      String reason)
      throws CasException {
    boolean keyUploaded = keyInCas;
    if (inputs.key().isPresent() && !keyInCas) {
      cas.updateCsr(csrId, inputs.key().get().pem());
      keyUploaded = true;
    }
    UploadedCsr uploaded =
        new UploadedCsr(
            csrId,
            requestId,
            intent.uploadName(),
            inputs.csr(),
            keyUploaded,
            StatusBuilder.rfc3339(clock.instant()));
    return new Result.Done(resource, uploaded, reason, true, Optional.of(intent));
  }

  /**
   * Writes the CsrId of a {@link Result.Done} next to its intent, then deletes replaced CSRs. The
   * write is a JSON patch that first tests the intent annotation: it lands only while that intent
   * is still the one on the object, and needs no resourceVersion (the status write just moved it).
   */
  public void recordCsrId(Result.Done done) {
    crashPoints.reach(CrashPoints.Point.AFTER_STATUS);
    UploadIntent intent = done.unrecorded().orElseThrow();
    JsonPatch patch =
        new JsonPatch()
            .test(JsonPatch.annotation(CasAnnotations.UPLOAD_INTENT), intent.encode())
            .add(
                JsonPatch.annotation(CasAnnotations.CSR_ID),
                Long.toString(done.uploaded().csrId()));
    if (done.uploaded().requestId() != null) {
      patch.add(JsonPatch.annotation(CasAnnotations.REQUEST_ID), done.uploaded().requestId());
    }
    AliyunCsr recorded;
    try {
      recorded = patch.applyTo(client, done.resource());
    } catch (KubernetesClientException e) {
      if (e.getCode() == 422 || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return; // the intent was replaced or the object deleted: the next reconcile decides
      }
      throw e;
    }
    crashPoints.reach(CrashPoints.Point.AFTER_RECORD);
    deleteSuperseded(recorded);
  }

  /**
   * Writes the intent with an update fenced on the resourceVersion we decided on. Returns the
   * updated object, or null when the object changed under us (HTTP 409) or is gone.
   */
  private AliyunCsr writeIntent(AliyunCsr fresh, UploadIntent intent, boolean replacing) {
    crashPoints.reach(CrashPoints.Point.BEFORE_INTENT);
    Map<String, String> annotations = CasAnnotations.mutable(fresh);
    if (replacing) {
      Optional<Long> previous = CasAnnotations.csrId(fresh);
      if (previous.isPresent()
          && fresh.getSpec().effectiveDeletionPolicy() == DeletionPolicy.Delete) {
        List<Long> superseded = new ArrayList<>(CasAnnotations.superseded(fresh));
        if (!superseded.contains(previous.get())) {
          superseded.add(previous.get());
        }
        annotations.put(CasAnnotations.SUPERSEDED_CSR_IDS, CasAnnotations.encodeIds(superseded));
      }
      annotations.remove(CasAnnotations.CSR_ID);
      annotations.remove(CasAnnotations.REQUEST_ID);
    }
    annotations.put(CasAnnotations.UPLOAD_INTENT, intent.encode());
    // The finalizer rides on the same update: from here on CAS may hold a CSR for this object.
    if (!fresh.hasFinalizer(CasAnnotations.FINALIZER)) {
      fresh.addFinalizer(CasAnnotations.FINALIZER);
    }
    try {
      return client.resource(fresh).update();
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT
          || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return null;
      }
      throw e;
    }
  }

  /**
   * The CSRs in CAS that this intent produced: exactly its name, and the same CSR. ListCsr's
   * KeySha2 encoding is unconfirmed, so every candidate with the name is confirmed with
   * GetCsrDetail by comparing the CSR itself.
   */
  public List<Long> findUploads(UploadIntent intent) throws CasException {
    List<Long> matches = new ArrayList<>();
    for (CsrSummary candidate : cas.listCsr(intent.uploadName())) {
      if (!intent.uploadName().equals(candidate.name())) {
        continue;
      }
      CsrDetail detail;
      try {
        detail = cas.getCsrDetail(candidate.csrId());
      } catch (CasException e) {
        if (e.kind() == CasException.Kind.NOT_FOUND) {
          continue;
        }
        throw e;
      }
      Validated<CsrFacts> facts =
          CsrValidator.validate(
              detail.csrPem() == null
                  ? new byte[0]
                  : detail.csrPem().getBytes(StandardCharsets.UTF_8));
      if (facts.isValid() && facts.value().csrSha256().equals(intent.csrSha256())) {
        matches.add(candidate.csrId());
      }
    }
    return matches;
  }

  /** DeleteCsr; a CSR that is already gone counts as deleted. */
  public void deleteFromCas(long csrId) throws CasException {
    try {
      cas.deleteCsr(csrId);
    } catch (CasException e) {
      if (e.kind() != CasException.Kind.NOT_FOUND) {
        throw e;
      }
    }
  }

  /** Deletes CSRs replaced by a new upload, when the policy says so. Failures wait for later. */
  private void deleteSuperseded(AliyunCsr resource) {
    List<Long> superseded = CasAnnotations.superseded(resource);
    if (superseded.isEmpty()) {
      return;
    }
    List<Long> remaining = new ArrayList<>();
    for (Long id : superseded) {
      try {
        cas.deleteCsr(id);
      } catch (CasException e) {
        if (e.kind() != CasException.Kind.NOT_FOUND) {
          log.warn(
              "could not delete replaced CsrId {} of {}/{}: {}",
              id,
              resource.getMetadata().getNamespace(),
              resource.getMetadata().getName(),
              e.getMessage());
          remaining.add(id);
        }
      }
    }
    try {
      AliyunCsr copy =
          client
              .resources(AliyunCsr.class)
              .inNamespace(resource.getMetadata().getNamespace())
              .withName(resource.getMetadata().getName())
              .get();
      if (copy == null) {
        return;
      }
      Map<String, String> annotations = CasAnnotations.mutable(copy);
      if (remaining.isEmpty()) {
        annotations.remove(CasAnnotations.SUPERSEDED_CSR_IDS);
      } else {
        annotations.put(CasAnnotations.SUPERSEDED_CSR_IDS, CasAnnotations.encodeIds(remaining));
      }
      client.resource(copy).update();
    } catch (KubernetesClientException e) {
      log.debug(
          "superseded CsrIds of {}/{} not rewritten yet: HTTP {}",
          resource.getMetadata().getNamespace(),
          resource.getMetadata().getName(),
          e.getCode());
    }
  }

  private boolean csrIdBelongsToIntent(AliyunCsr resource) {
    // The CsrId annotation is removed whenever a new intent replaces an old one, so a CsrId next
    // to an intent is always that intent's.
    return CasAnnotations.csrId(resource).isPresent();
  }

  private AliyunCsr readFresh(AliyunCsr resource) {
    AliyunCsr fresh =
        client
            .resources(AliyunCsr.class)
            .inNamespace(resource.getMetadata().getNamespace())
            .withName(resource.getMetadata().getName())
            .get();
    if (fresh == null || !Objects.equals(uid(fresh), uid(resource))) {
      return null;
    }
    return fresh;
  }

  private static String uid(AliyunCsr resource) {
    return resource.getMetadata().getUid();
  }

  private static String shortHash(String hash) {
    return hash == null ? "?" : hash.substring(0, Math.min(12, hash.length()));
  }
}
