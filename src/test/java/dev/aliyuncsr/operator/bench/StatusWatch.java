package dev.aliyuncsr.operator.bench;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records, from a watch, when each AliyunCsr in a namespace is first seen with a lastConfirmedAt
 * after a given instant (a confirmation written by the observer), and when it is first seen Ready
 * with reason Reuploaded (with the CsrId it then names).
 */
final class StatusWatch implements AutoCloseable {
  private final Map<String, Long> confirmedAtNanos = new ConcurrentHashMap<>();
  private final Map<String, Long> reuploadedAtNanos = new ConcurrentHashMap<>();
  private final Map<String, Long> reuploadedCsrId = new ConcurrentHashMap<>();
  private final Watch watch;

  /**
   * @param confirmedAfter a lastConfirmedAt counts as a confirmation when it is later than this
   */
  StatusWatch(KubernetesClient client, String namespace, Instant confirmedAfter) {
    watch =
        client
            .resources(AliyunCsr.class)
            .inNamespace(namespace)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, AliyunCsr resource) {
                    long now = System.nanoTime();
                    AliyunCsrStatus status = resource.getStatus();
                    if (status == null) {
                      return;
                    }
                    String name = resource.getMetadata().getName();
                    String confirmed = status.getLastConfirmedAt();
                    if (confirmed != null && Instant.parse(confirmed).isAfter(confirmedAfter)) {
                      confirmedAtNanos.putIfAbsent(name, now);
                    }
                    boolean reuploaded =
                        status
                            .condition("Ready")
                            .map(
                                c ->
                                    "True".equals(c.getStatus())
                                        && "Reuploaded".equals(c.getReason()))
                            .orElse(false);
                    if (reuploaded && status.getCsrId() != null) {
                      reuploadedCsrId.putIfAbsent(name, status.getCsrId());
                      reuploadedAtNanos.putIfAbsent(name, now);
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
  }

  int confirmedCount() {
    return confirmedAtNanos.size();
  }

  long firstConfirmedNanos() {
    return confirmedAtNanos.values().stream().mapToLong(Long::longValue).min().orElse(0);
  }

  long lastConfirmedNanos() {
    return confirmedAtNanos.values().stream().mapToLong(Long::longValue).max().orElse(0);
  }

  Long reuploadedAt(String name) {
    return reuploadedAtNanos.get(name);
  }

  Long reuploadedCsrId(String name) {
    return reuploadedCsrId.get(name);
  }

  @Override
  public void close() {
    watch.close();
  }
}
