package dev.aliyuncsr.operator.bench;

import dev.aliyuncsr.operator.api.AliyunCsr;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Records, from a watch, the moment each AliyunCsr in a namespace is first seen Ready. */
final class ReadyWatch implements AutoCloseable {
  private final Map<String, Long> readyAtNanos = new ConcurrentHashMap<>();
  private final Watch watch;

  ReadyWatch(KubernetesClient client, String namespace) {
    watch =
        client
            .resources(AliyunCsr.class)
            .inNamespace(namespace)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, AliyunCsr resource) {
                    long now = System.nanoTime();
                    if (resource.getStatus() != null
                        && resource
                            .getStatus()
                            .condition("Ready")
                            .map(c -> "True".equals(c.getStatus()))
                            .orElse(false)) {
                      readyAtNanos.putIfAbsent(resource.getMetadata().getName(), now);
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
  }

  int readyCount() {
    return readyAtNanos.size();
  }

  Long readyAt(String name) {
    return readyAtNanos.get(name);
  }

  long lastReadyNanos() {
    return readyAtNanos.values().stream().mapToLong(Long::longValue).max().orElse(0);
  }

  @Override
  public void close() {
    watch.close();
  }
}
