package dev.aliyuncsr.operator.reconcile;

import dev.aliyuncsr.operator.api.AliyunCsr;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes Kubernetes Events about an AliyunCsr. An Event that cannot be written is only logged. */
public final class EventRecorder {
  private static final Logger log = LoggerFactory.getLogger(EventRecorder.class);
  static final String COMPONENT = "aliyun-csr-operator";

  private final KubernetesClient client;
  private final Clock clock;

  public EventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  public void normal(AliyunCsr resource, String reason, String message) {
    emit(resource, "Normal", reason, message);
  }

  public void warning(AliyunCsr resource, String reason, String message) {
    emit(resource, "Warning", reason, message);
  }

  private void emit(AliyunCsr resource, String type, String reason, String message) {
    var meta = resource.getMetadata();
    String now = DateTimeFormatter.ISO_INSTANT.format(clock.instant());
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withNamespace(meta.getNamespace())
            .withName(meta.getName() + "." + UUID.randomUUID().toString().substring(0, 13))
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(resource.getApiVersion())
                    .withKind(resource.getKind())
                    .withNamespace(meta.getNamespace())
                    .withName(meta.getName())
                    .withUid(meta.getUid())
                    .withResourceVersion(meta.getResourceVersion())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(message.length() > 1000 ? message.substring(0, 1000) : message)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .build();
    try {
      client.v1().events().inNamespace(meta.getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      log.warn(
          "could not record Event {} for {}/{}: HTTP {}",
          reason,
          meta.getNamespace(),
          meta.getName(),
          e.getCode());
    }
  }
}
