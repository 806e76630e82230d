package dev.aliyuncsr.operator.upload;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's secret key for ownership marks ({@link UploadNames}), kept in a Secret of its own
 * namespace. The first process to start creates it; every later process, a second replica or a
 * successor, reads the same one (create-if-absent: of two that create at once, one gets 409 and
 * reads the winner's). An existing Secret is never overwritten: a new key would make every CSR
 * uploaded under the old one unrecognisable after a loss of status. It belongs in the operator's
 * backup, restored before the AliyunCsrs.
 */
public final class MarkKey {
  private static final Logger log = LoggerFactory.getLogger(MarkKey.class);

  /** The data key of the Secret. */
  public static final String DATA_KEY = "mark-key";

  static final int KEY_BYTES = 32;

  private MarkKey() {}

  /** A key that cannot be used: the message says why and what to do, never the value. */
  public static final class Unusable extends RuntimeException {
    Unusable(String message) {
      super(message);
    }
  }

  /** Reads the key from {@code namespace/name}, creating the Secret first if it does not exist. */
  public static byte[] loadOrCreate(KubernetesClient client, String namespace, String name) {
    var resource = client.secrets().inNamespace(namespace).withName(name);
    Secret existing = get(resource, namespace, name);
    if (existing == null) {
      byte[] key = new byte[KEY_BYTES];
      new SecureRandom().nextBytes(key);
      Secret created =
          new SecretBuilder()
              .withNewMetadata()
              .withName(name)
              .withNamespace(namespace)
              .withLabels(Map.of("app.kubernetes.io/name", "aliyun-csr-operator"))
              .withAnnotations(
                  Map.of(
                      "cas.aliyuncsr.dev/purpose",
                      "Ownership marks of CSR names in CAS. Back it up with the AliyunCsrs; never"
                          + " change it."))
              .endMetadata()
              .withType("Opaque")
              .withImmutable(true)
              .withData(Map.of(DATA_KEY, Base64.getEncoder().encodeToString(key)))
              .build();
      try {
        client.secrets().inNamespace(namespace).resource(created).create();
        log.info("created the ownership mark key Secret {}/{}", namespace, name);
        return key;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          throw new Unusable(
              "cannot create the ownership mark key Secret "
                  + namespace
                  + "/"
                  + name
                  + ": namespace "
                  + namespace
                  + " does not exist (POD_NAMESPACE names the operator's own namespace)");
        }
        if (e.getCode() != 409) {
          throw new Unusable(
              "cannot create the ownership mark key Secret "
                  + namespace
                  + "/"
                  + name
                  + " (HTTP "
                  + e.getCode()
                  + "); the operator needs create and get on Secrets in its own namespace");
        }
        existing = get(resource, namespace, name); // another process created it first
      }
    }
    return keyOf(existing, namespace, name);
  }

  private static Secret get(
      io.fabric8.kubernetes.client.dsl.Resource<Secret> resource, String namespace, String name) {
    try {
      return resource.get();
    } catch (KubernetesClientException e) {
      throw new Unusable(
          "cannot read the ownership mark key Secret "
              + namespace
              + "/"
              + name
              + " (HTTP "
              + e.getCode()
              + ")");
    }
  }

  static byte[] keyOf(Secret secret, String namespace, String name) {
    String encoded =
        secret == null || secret.getData() == null ? null : secret.getData().get(DATA_KEY);
    byte[] key;
    try {
      key = encoded == null ? new byte[0] : Base64.getDecoder().decode(encoded.trim());
    } catch (IllegalArgumentException e) {
      key = new byte[0];
    }
    if (key.length < KEY_BYTES) {
      throw new Unusable(
          "the ownership mark key Secret "
              + namespace
              + "/"
              + name
              + " has no usable key "
              + DATA_KEY
              + " (at least "
              + KEY_BYTES
              + " bytes); the operator never overwrites it: restore it from the backup, or delete"
              + " it to have a new key made (CSRs uploaded under the old key are then no longer"
              + " recognised after a loss of status)");
    }
    return key;
  }
}
