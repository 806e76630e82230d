package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi.WriteRefused;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.net.HttpURLConnection;
import java.util.Optional;

/** {@link CertificateKube} on the fabric8 client. */
public final class FabricCertificateKube implements CertificateKube {
  private static final PatchContext JSON_PATCH = PatchContext.of(PatchType.JSON);
  private static final ResourceDefinitionContext DNS_ENDPOINT =
      new ResourceDefinitionContext.Builder()
          .withGroup(DnsEndpoints.GROUP)
          .withVersion(DnsEndpoints.VERSION)
          .withKind(DnsEndpoints.KIND)
          .withPlural(DnsEndpoints.PLURAL)
          .withNamespaced(true)
          .build();

  private final KubernetesClient client;

  public FabricCertificateKube(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Optional<AliyunCertificate> get(String namespace, String name) {
    return Optional.ofNullable(
        client.resources(AliyunCertificate.class).inNamespace(namespace).withName(name).get());
  }

  // On resource(item), not withName(name): fabric8 would GET the object before patching it.
  @Override
  public AliyunCertificate patchStatus(AliyunCertificate at, JsonPatch patch) throws WriteRefused {
    AliyunCertificate target = new AliyunCertificate();
    target.getMetadata().setNamespace(at.getMetadata().getNamespace());
    target.getMetadata().setName(at.getMetadata().getName());
    try {
      return client.resource(target).subresource("status").patch(JSON_PATCH, patch.toString());
    } catch (KubernetesClientException e) {
      throw refused(e);
    }
  }

  @Override
  public Optional<Secret> secret(String namespace, String name) {
    return Optional.ofNullable(client.secrets().inNamespace(namespace).withName(name).get());
  }

  @Override
  public Secret createSecret(Secret secret) throws WriteRefused {
    try {
      return client.secrets().resource(secret).create();
    } catch (KubernetesClientException e) {
      throw refused(e);
    }
  }

  @Override
  public Secret patchSecret(String namespace, String name, JsonPatch patch) throws WriteRefused {
    Secret target = new Secret();
    target.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
    target.getMetadata().setNamespace(namespace);
    target.getMetadata().setName(name);
    try {
      return client.secrets().resource(target).patch(JSON_PATCH, patch.toString());
    } catch (KubernetesClientException e) {
      throw refused(e);
    }
  }

  @Override
  public Optional<GenericKubernetesResource> dnsEndpoint(String namespace, String name) {
    return Optional.ofNullable(
        client
            .genericKubernetesResources(DNS_ENDPOINT)
            .inNamespace(namespace)
            .withName(name)
            .get());
  }

  @Override
  public void createDnsEndpoint(GenericKubernetesResource endpoint) throws WriteRefused {
    try {
      client
          .genericKubernetesResources(DNS_ENDPOINT)
          .inNamespace(endpoint.getMetadata().getNamespace())
          .resource(endpoint)
          .create();
    } catch (KubernetesClientException e) {
      throw refused(e);
    }
  }

  @Override
  public void patchDnsEndpoint(String namespace, String name, JsonPatch patch) throws WriteRefused {
    try {
      client
          .genericKubernetesResources(DNS_ENDPOINT)
          .inNamespace(namespace)
          .withName(name)
          .patch(JSON_PATCH, patch.toString());
    } catch (KubernetesClientException e) {
      throw refused(e);
    }
  }

  @Override
  public void deleteDnsEndpoint(String namespace, String name, String resourceVersion)
      throws WriteRefused {
    try {
      client
          .genericKubernetesResources(DNS_ENDPOINT)
          .inNamespace(namespace)
          .withName(name)
          .lockResourceVersion(resourceVersion)
          .delete();
    } catch (KubernetesClientException e) {
      throw refused(e);
    }
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
