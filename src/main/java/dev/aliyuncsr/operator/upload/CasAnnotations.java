package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The annotations that make the upload durable. They live in metadata, not status, because status
 * can be wiped (a restore from backup, a GitOps replace) while annotations survive.
 */
public final class CasAnnotations {
  public static final String PREFIX = "cas.aliyuncsr.dev/";

  /** The {@link UploadIntent} of the upload in progress or done. */
  public static final String UPLOAD_INTENT = PREFIX + "upload-intent";

  /**
   * The CsrId, as versions before 0.2 mirrored it from status (status holds it; this version no
   * longer writes it, and reads it only as a trace that the object uploaded before).
   */
  public static final String CSR_ID = PREFIX + "csr-id";

  /** The RequestId, as versions before 0.2 mirrored it; no longer written. */
  public static final String REQUEST_ID = PREFIX + "request-id";

  /**
   * The operator's finalizer. It is written in the same update as the first intent (no separate
   * write), because from that moment CAS may hold a CSR that deletion must honour.
   */
  public static final String FINALIZER = "cas.aliyuncsr.dev/finalizer";

  /** CsrIds of replaced CSRs still to be deleted under deletionPolicy Delete. */
  public static final String SUPERSEDED_CSR_IDS = PREFIX + "superseded-csr-ids";

  /**
   * Steering, written by people: {@code "true"} stops every CAS call and every write but the Paused
   * condition, until it is removed.
   */
  public static final String PAUSED = PREFIX + "paused";

  /** Steering: any new value asks for a reconcile now, with a confirmation in CAS. */
  public static final String RECONCILE_REQUESTED_AT = PREFIX + "reconcile-requested-at";

  /** Flux's request annotation, honoured like {@link #RECONCILE_REQUESTED_AT}. */
  public static final String FLUX_REQUESTED_AT = "reconcile.fluxcd.io/requestedAt";

  private CasAnnotations() {}

  public static boolean paused(AliyunCsr resource) {
    String value = get(resource, PAUSED);
    return value != null && value.trim().equalsIgnoreCase("true");
  }

  /**
   * The reconcile request, if any: this project's annotation, else Flux's. With both set, the pair
   * is the request, so that a change of either is a new one.
   */
  public static Optional<String> reconcileRequest(AliyunCsr resource) {
    String own = get(resource, RECONCILE_REQUESTED_AT);
    String flux = get(resource, FLUX_REQUESTED_AT);
    if (own != null && flux != null) {
      return Optional.of(own + "," + flux);
    }
    return Optional.ofNullable(own != null ? own : flux);
  }

  public static Optional<UploadIntent> intent(AliyunCsr resource) {
    return UploadIntent.decode(get(resource, UPLOAD_INTENT));
  }

  public static Optional<Long> csrId(AliyunCsr resource) {
    return parseId(get(resource, CSR_ID));
  }

  public static Optional<String> requestId(AliyunCsr resource) {
    return Optional.ofNullable(get(resource, REQUEST_ID));
  }

  public static List<Long> superseded(AliyunCsr resource) {
    String value = get(resource, SUPERSEDED_CSR_IDS);
    if (value == null || value.isBlank()) {
      return List.of();
    }
    List<Long> ids = new ArrayList<>();
    Arrays.stream(value.split(",")).map(String::trim).forEach(s -> parseId(s).ifPresent(ids::add));
    return ids;
  }

  static String encodeIds(List<Long> ids) {
    return ids.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  static Map<String, String> mutable(AliyunCsr resource) {
    Map<String, String> annotations = resource.getMetadata().getAnnotations();
    if (annotations == null) {
      annotations = new HashMap<>();
      resource.getMetadata().setAnnotations(annotations);
    }
    return annotations;
  }

  private static String get(AliyunCsr resource, String key) {
    Map<String, String> annotations = resource.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }

  private static Optional<Long> parseId(String value) {
    if (value == null) {
      return Optional.empty();
    }
    try {
      long id = Long.parseLong(value.trim());
      return id > 0 ? Optional.of(id) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
