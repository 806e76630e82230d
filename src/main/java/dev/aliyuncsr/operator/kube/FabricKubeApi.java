package dev.aliyuncsr.operator.kube;

import dev.aliyuncsr.operator.api.AliyunCsr;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.net.HttpURLConnection;
import java.util.Optional;

/** {@link KubeApi} on the fabric8 client. */
public final class FabricKubeApi implements KubeApi {
  private static final PatchContext JSON_PATCH = PatchContext.of(PatchType.JSON);
  private final KubernetesClient client;

  public FabricKubeApi(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Optional<AliyunCsr> get(String namespace, String name) {
    return Optional.ofNullable(
        client.resources(AliyunCsr.class).inNamespace(namespace).withName(name).get());
  }

  // On resource(item), not withName(name): fabric8 would GET the object before patching it.
  @Override
  public AliyunCsr patch(AliyunCsr at, JsonPatch patch) throws WriteRefused {
    try {
      return client.resource(identity(at)).patch(JSON_PATCH, patch.toString());
    } catch (KubernetesClientException e) {
      throw refused(e);
    }
  }

  @Override
  public AliyunCsr patchStatus(AliyunCsr at, JsonPatch patch) throws WriteRefused {
    try {
      return client
          .resource(identity(at))
          .subresource("status")
          .patch(JSON_PATCH, patch.toString());
    } catch (KubernetesClientException e) {
      throw refused(e);
    }
  }

  /** Only the identity travels: the patch, not a copy of the object, says what changes. */
  private static AliyunCsr identity(AliyunCsr at) {
    AliyunCsr target = new AliyunCsr();
    target.getMetadata().setNamespace(at.getMetadata().getNamespace());
    target.getMetadata().setName(at.getMetadata().getName());
    return target;
  }

  private static WriteRefused refused(KubernetesClientException e) {
    int code = e.getCode();
    if (code == HttpURLConnection.HTTP_NOT_FOUND) {
      return new WriteRefused(true, "gone");
    }
    if (code == HttpURLConnection.HTTP_CONFLICT || code == 422) {
      return new WriteRefused(false, "HTTP " + code);
    }
    throw e;
  }
}
