package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.csr.KeyPairCheck;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.PrivateKeyValidator;
import dev.aliyuncsr.operator.csr.Validated;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Base64;
import java.util.Optional;

/**
 * Loads and validates what an AliyunCsr points at. Secrets are read with a direct GET, never from a
 * cache, so the operator holds Secret data only for the length of a reconcile.
 */
public final class SecretInputs {

  /** A CSR ready to upload, and the matching private key if one was given. */
  public record Inputs(CsrFacts csr, Optional<PrivateKeyFacts> key) {}

  private final KubernetesClient client;

  public SecretInputs(KubernetesClient client) {
    this.client = client;
  }

  public Validated<Inputs> load(AliyunCsr resource) {
    AliyunCsrSpec spec = resource.getSpec();
    String namespace = resource.getMetadata().getNamespace();
    if (spec == null || spec.getCsrSecretRef() == null) {
      return Validated.invalid(Reasons.INVALID_SPEC, "spec.csrSecretRef is required");
    }
    Validated<byte[]> csrBytes =
        read(namespace, spec.getCsrSecretRef(), AliyunCsrSpec.DEFAULT_CSR_KEY, "csrSecretRef");
    if (!csrBytes.isValid()) {
      return Validated.invalid(csrBytes.problem());
    }
    Validated<CsrFacts> csr = CsrValidator.validate(csrBytes.value());
    if (!csr.isValid()) {
      return Validated.invalid(csr.problem());
    }
    if (spec.getKeySecretRef() == null) {
      return Validated.valid(new Inputs(csr.value(), Optional.empty()));
    }
    Validated<byte[]> keyBytes =
        read(namespace, spec.getKeySecretRef(), AliyunCsrSpec.DEFAULT_KEY_KEY, "keySecretRef");
    if (!keyBytes.isValid()) {
      return Validated.invalid(keyBytes.problem());
    }
    Validated<PrivateKeyFacts> key = PrivateKeyValidator.validate(keyBytes.value());
    if (!key.isValid()) {
      return Validated.invalid(key.problem());
    }
    var mismatch = KeyPairCheck.mismatch(csr.value(), key.value());
    if (mismatch.isPresent()) {
      return Validated.invalid(mismatch.get());
    }
    return Validated.valid(new Inputs(csr.value(), Optional.of(key.value())));
  }

  private Validated<byte[]> read(
      String namespace, SecretKeyRef ref, String defaultKey, String field) {
    if (ref.getNamespace() != null
        && !ref.getNamespace().isEmpty()
        && !ref.getNamespace().equals(namespace)) {
      return Validated.invalid(
          Reasons.CROSS_NAMESPACE_REFERENCE,
          "spec."
              + field
              + " names a Secret in namespace "
              + ref.getNamespace()
              + "; only Secrets in the AliyunCsr's own namespace "
              + namespace
              + " are read");
    }
    String key = ref.keyOr(defaultKey);
    Secret secret = client.secrets().inNamespace(namespace).withName(ref.getName()).get();
    if (secret == null) {
      return Validated.invalid(
          Reasons.SECRET_NOT_FOUND,
          "Secret " + namespace + "/" + ref.getName() + " (spec." + field + ") does not exist");
    }
    if (secret.getData() != null && secret.getData().containsKey(key)) {
      String encoded = secret.getData().get(key);
      try {
        return Validated.valid(Base64.getDecoder().decode(encoded == null ? "" : encoded));
      } catch (IllegalArgumentException e) {
        return Validated.invalid(
            Reasons.INVALID_SPEC,
            "Secret " + namespace + "/" + ref.getName() + " key " + key + " is not base64 data");
      }
    }
    return Validated.invalid(
        Reasons.SECRET_KEY_MISSING,
        "Secret "
            + namespace
            + "/"
            + ref.getName()
            + " has no key "
            + key
            + " (spec."
            + field
            + ".key)");
  }
}
