package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi.WriteRefused;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.Optional;

/**
 * The reads and writes this kind makes to Kubernetes, and nothing else: every read a fresh GET
 * (Secrets are never cached), every write fenced on what the pass saw, so that the same protocol
 * runs against the API server ({@link FabricCertificateKube}) and an in-memory one in tests. A
 * fence that does not hold, or an object that is gone, is a {@link WriteRefused}.
 */
public interface CertificateKube {

  Optional<AliyunCertificate> get(String namespace, String name);

  /** Patches the status subresource; returns the object as written. */
  AliyunCertificate patchStatus(AliyunCertificate at, JsonPatch patch) throws WriteRefused;

  Optional<Secret> secret(String namespace, String name);

  /** Creates the Secret; refused when one of that name exists already. */
  Secret createSecret(Secret secret) throws WriteRefused;

  /** Patches the Secret (its "test" operations fence it); returns it as written. */
  Secret patchSecret(String namespace, String name, JsonPatch patch) throws WriteRefused;

  Optional<GenericKubernetesResource> dnsEndpoint(String namespace, String name);

  void createDnsEndpoint(GenericKubernetesResource endpoint) throws WriteRefused;

  void patchDnsEndpoint(String namespace, String name, JsonPatch patch) throws WriteRefused;

  /** Deletes the DNSEndpoint if it is still as the pass saw it ({@code resourceVersion}). */
  void deleteDnsEndpoint(String namespace, String name, String resourceVersion) throws WriteRefused;
}
