package dev.aliyuncsr.operator.kube;

import dev.aliyuncsr.operator.api.AliyunCsr;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes Kubernetes Events about an AliyunCsr (or a resource of another kind), in order, on a
 * thread of its own, so that a reconcile never waits for one (as client-go's broadcaster). When the
 * API server falls behind, the queue is bounded and further Events are dropped and logged: Events
 * are best effort, status is the record. An Event that cannot be written is only logged.
 */
public final class EventRecorder implements EventSink, ResourceEvents, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventRecorder.class);
  static final String COMPONENT = "aliyun-csr-operator";
  static final int QUEUE = 1000;

  private final KubernetesClient client;
  private final Clock clock;
  private final ThreadPoolExecutor writer;

  public EventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
    this.writer =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            r -> {
              Thread t = new Thread(r, "event-writer");
              t.setDaemon(true);
              return t;
            });
  }

  /** Writes the Events already queued (for a few seconds at most), then stops. */
  @Override
  public void close() {
    writer.shutdown();
    try {
      if (!writer.awaitTermination(5, TimeUnit.SECONDS)) {
        log.warn("{} Events not written at shutdown", writer.shutdownNow().size());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void normal(AliyunCsr resource, String reason, String message) {
    emit(resource, "Normal", reason, message);
  }

  @Override
  public void warning(AliyunCsr resource, String reason, String message) {
    emit(resource, "Warning", reason, message);
  }

  @Override
  public void normal(HasMetadata resource, String reason, String message) {
    emit(resource, "Normal", reason, message);
  }

  @Override
  public void warning(HasMetadata resource, String reason, String message) {
    emit(resource, "Warning", reason, message);
  }

  private void emit(HasMetadata resource, String type, String reason, String message) {
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
      writer.execute(() -> write(event));
    } catch (RejectedExecutionException e) {
      log.warn(
          "Event {} for {}/{} dropped: the Event queue is full or closed",
          reason,
          meta.getNamespace(),
          meta.getName());
    }
  }

  private void write(io.fabric8.kubernetes.api.model.Event event) {
    var meta = event.getInvolvedObject();
    try {
      client.v1().events().inNamespace(meta.getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      log.warn(
          "could not record Event {} for {}/{}: HTTP {}",
          event.getReason(),
          meta.getNamespace(),
          meta.getName(),
          e.getCode());
    }
  }
}
