package dev.aliyuncsr.operator.certificate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi.WriteRefused;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * An API server for what the certificate protocol touches, in memory: AliyunCertificates (status
 * patched through its subresource), Secrets and DNSEndpoints; one resourceVersion counter, JSON
 * patches whose failed "test" is a 422 and a create of an existing name a 409, as the real one.
 */
final class InMemoryCertificateKube implements CertificateKube {
  private static final ObjectMapper JSON = Serialization.jsonMapper();

  final Map<String, ObjectNode> certificates = new LinkedHashMap<>();
  final Map<String, ObjectNode> secrets = new LinkedHashMap<>();
  final Map<String, ObjectNode> endpoints = new LinkedHashMap<>();
  private long resourceVersion = 100;
  int statusWrites;
  int secretWrites;

  synchronized AliyunCertificate create(AliyunCertificate r, String createdAt) {
    ObjectNode node = JSON.valueToTree(r);
    ObjectNode meta = (ObjectNode) node.get("metadata");
    meta.put("uid", UUID.randomUUID().toString());
    meta.put("generation", 1);
    meta.put("creationTimestamp", createdAt);
    meta.put("resourceVersion", Long.toString(++resourceVersion));
    certificates.put(key(r), node);
    return JSON.convertValue(node, AliyunCertificate.class);
  }

  synchronized Secret putSecret(Secret s) {
    ObjectNode node = JSON.valueToTree(s);
    ((ObjectNode) node.get("metadata")).put("resourceVersion", Long.toString(++resourceVersion));
    secrets.put(key(s), node);
    return JSON.convertValue(node, Secret.class);
  }

  /** A user's edit of the object (spec, annotations): a new resourceVersion, and generation. */
  synchronized void edit(
      String namespace, String name, java.util.function.Consumer<ObjectNode> change) {
    ObjectNode node = certificates.get(namespace + "/" + name).deepCopy();
    JsonNode spec = node.get("spec").deepCopy();
    change.accept(node);
    ObjectNode meta = (ObjectNode) node.get("metadata");
    if (!spec.equals(node.get("spec"))) {
      meta.put("generation", meta.get("generation").asLong() + 1);
    }
    meta.put("resourceVersion", Long.toString(++resourceVersion));
    certificates.put(namespace + "/" + name, node);
  }

  synchronized void deleteSecret(String namespace, String name) {
    secrets.remove(namespace + "/" + name);
  }

  static String key(HasMetadata r) {
    return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }

  @Override
  public synchronized Optional<AliyunCertificate> get(String namespace, String name) {
    return read(certificates, namespace + "/" + name, AliyunCertificate.class);
  }

  @Override
  public synchronized AliyunCertificate patchStatus(AliyunCertificate at, JsonPatch patch)
      throws WriteRefused {
    ObjectNode current = certificates.get(key(at));
    if (current == null) {
      throw new WriteRefused(true, "404");
    }
    JsonNode patched = apply(current, patch);
    ObjectNode next = current.deepCopy();
    // The status subresource changes status only.
    if (patched.has("status")) {
      next.set("status", patched.get("status"));
    } else {
      next.remove("status");
    }
    ((ObjectNode) next.get("metadata")).put("resourceVersion", Long.toString(++resourceVersion));
    certificates.put(key(at), next);
    statusWrites++;
    return JSON.convertValue(next, AliyunCertificate.class);
  }

  @Override
  public synchronized Optional<Secret> secret(String namespace, String name) {
    return read(secrets, namespace + "/" + name, Secret.class);
  }

  @Override
  public synchronized Secret createSecret(Secret secret) throws WriteRefused {
    if (secrets.containsKey(key(secret))) {
      throw new WriteRefused(false, "409");
    }
    secretWrites++;
    return putSecret(secret);
  }

  @Override
  public synchronized Secret patchSecret(String namespace, String name, JsonPatch patch)
      throws WriteRefused {
    ObjectNode current = secrets.get(namespace + "/" + name);
    if (current == null) {
      throw new WriteRefused(true, "404");
    }
    ObjectNode next = (ObjectNode) apply(current, patch);
    ((ObjectNode) next.get("metadata")).put("resourceVersion", Long.toString(++resourceVersion));
    secrets.put(namespace + "/" + name, next);
    secretWrites++;
    return JSON.convertValue(next, Secret.class);
  }

  @Override
  public synchronized Optional<GenericKubernetesResource> dnsEndpoint(
      String namespace, String name) {
    return read(endpoints, namespace + "/" + name, GenericKubernetesResource.class);
  }

  @Override
  public synchronized void createDnsEndpoint(GenericKubernetesResource endpoint)
      throws WriteRefused {
    if (endpoints.containsKey(key(endpoint))) {
      throw new WriteRefused(false, "409");
    }
    ObjectNode node = JSON.valueToTree(endpoint);
    ((ObjectNode) node.get("metadata")).put("resourceVersion", Long.toString(++resourceVersion));
    endpoints.put(key(endpoint), node);
  }

  @Override
  public synchronized void patchDnsEndpoint(String namespace, String name, JsonPatch patch)
      throws WriteRefused {
    ObjectNode current = endpoints.get(namespace + "/" + name);
    if (current == null) {
      throw new WriteRefused(true, "404");
    }
    ObjectNode next = (ObjectNode) apply(current, patch);
    ((ObjectNode) next.get("metadata")).put("resourceVersion", Long.toString(++resourceVersion));
    endpoints.put(namespace + "/" + name, next);
  }

  @Override
  public synchronized void deleteDnsEndpoint(String namespace, String name, String version)
      throws WriteRefused {
    ObjectNode current = endpoints.get(namespace + "/" + name);
    if (current == null) {
      throw new WriteRefused(true, "404");
    }
    if (!current.get("metadata").get("resourceVersion").asText().equals(version)) {
      throw new WriteRefused(false, "409");
    }
    endpoints.remove(namespace + "/" + name);
  }

  private static JsonNode apply(ObjectNode current, JsonPatch patch) throws WriteRefused {
    try {
      return io.fabric8.zjsonpatch.JsonPatch.apply(patch.toJson(), current.deepCopy());
    } catch (RuntimeException e) {
      throw new WriteRefused(false, "422 " + e.getMessage());
    }
  }

  private static <T> Optional<T> read(Map<String, ObjectNode> store, String key, Class<T> type) {
    ObjectNode node = store.get(key);
    return node == null ? Optional.empty() : Optional.of(JSON.convertValue(node, type));
  }
}
