package dev.aliyuncsr.operator.testing;

import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCertificateSpec;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.CsrRef;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** AliyunCertificates as tests make, read and wait for them on the real API server. */
public final class Certificates {
  private Certificates() {}

  /** An AliyunCertificate for {@code csr}'s CSR on {@code instanceId}, into {@code secretName}. */
  public static AliyunCertificate certificate(
      String namespace, String name, String csr, String instanceId, String secretName) {
    AliyunCertificate resource = new AliyunCertificate();
    resource.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    AliyunCertificateSpec spec = new AliyunCertificateSpec();
    spec.setCsrRef(new CsrRef(csr));
    spec.setInstanceId(instanceId);
    spec.setSecretName(secretName);
    resource.setSpec(spec);
    return resource;
  }

  public static AliyunCertificate get(KubernetesClient client, String namespace, String name) {
    return client.resources(AliyunCertificate.class).inNamespace(namespace).withName(name).get();
  }

  public static Optional<CsrCondition> ready(AliyunCertificate r) {
    return r == null || r.getStatus() == null ? Optional.empty() : r.getStatus().condition("Ready");
  }

  /** The Ready reason, for the generation the status describes. */
  public static Optional<String> reason(AliyunCertificate r) {
    if (r == null
        || r.getStatus() == null
        || !Objects.equals(
            r.getStatus().getObservedGeneration(), r.getMetadata().getGeneration())) {
      return Optional.empty();
    }
    return ready(r).map(CsrCondition::getReason);
  }

  /** Waits until the Ready reason of the current generation is {@code reason}. */
  public static AliyunCertificate awaitReason(
      KubernetesClient client, String namespace, String name, String reason, Duration wait) {
    return await()
        .atMost(wait)
        .until(
            () -> get(client, namespace, name), r -> reason(r).filter(reason::equals).isPresent());
  }

  /** The Events about the AliyunCertificate of that name. */
  public static List<Event> events(KubernetesClient client, String namespace, String name) {
    return client.v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> "AliyunCertificate".equals(e.getInvolvedObject().getKind()))
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  /** The Events about it with this type and reason. */
  public static List<Event> events(
      KubernetesClient client, String namespace, String name, String type, String reason) {
    return events(client, namespace, name).stream()
        .filter(e -> type.equals(e.getType()) && reason.equals(e.getReason()))
        .toList();
  }

  /** Deletes every AliyunCertificate: the next test class's operator finds none to poll. */
  public static void deleteAll(KubernetesClient client) {
    client.resources(AliyunCertificate.class).inAnyNamespace().delete();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                client
                    .resources(AliyunCertificate.class)
                    .inAnyNamespace()
                    .list()
                    .getItems()
                    .isEmpty());
  }
}
