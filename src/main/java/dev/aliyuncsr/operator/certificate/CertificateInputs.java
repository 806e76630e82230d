package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.PrivateKeyRef;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.PrivateKeyValidator;
import dev.aliyuncsr.operator.csr.Validated;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.Base64;
import java.util.Optional;

/**
 * Reads and validates what a certificate needs from Secrets: the CSR the AliyunCsr uploaded (its
 * csrSecretRef) and the private key for tls.key (spec.privateKeySecretRef, else the AliyunCsr's
 * keySecretRef). Each is a fresh GET, never a cache, so Secret data is held only for one pass; only
 * Secrets of the certificate's own namespace are read. Messages never quote the data.
 */
final class CertificateInputs {
  private final CertificateKube kube;

  CertificateInputs(CertificateKube kube) {
    this.kube = kube;
  }

  /** The CSR in {@code csr}'s csrSecretRef. */
  Validated<CsrFacts> csr(AliyunCsr csr) {
    AliyunCsrSpec spec = csr.getSpec();
    if (spec == null || spec.getCsrSecretRef() == null) {
      return Validated.invalid(Reasons.INVALID_SPEC, "The AliyunCsr names no csrSecretRef");
    }
    SecretKeyRef ref = spec.getCsrSecretRef();
    Validated<byte[]> bytes =
        read(
            csr.getMetadata().getNamespace(),
            ref.getNamespace(),
            ref.getName(),
            ref.keyOr(AliyunCsrSpec.DEFAULT_CSR_KEY),
            "the AliyunCsr's csrSecretRef");
    return bytes.isValid()
        ? CsrValidator.validate(bytes.value())
        : Validated.invalid(bytes.problem());
  }

  /** The key for tls.key: spec.privateKeySecretRef, else the AliyunCsr's keySecretRef. */
  Validated<PrivateKeyFacts> key(AliyunCertificate certificate, AliyunCsr csr) {
    String namespace = certificate.getMetadata().getNamespace();
    PrivateKeyRef own = certificate.getSpec().getPrivateKeySecretRef();
    Validated<byte[]> bytes;
    if (own != null && own.getName() != null) {
      bytes = read(namespace, null, own.getName(), own.keyOrDefault(), "spec.privateKeySecretRef");
    } else {
      Optional<SecretKeyRef> ref =
          Optional.ofNullable(csr.getSpec()).map(AliyunCsrSpec::getKeySecretRef);
      if (ref.isEmpty() || ref.get().getName() == null) {
        return Validated.invalid(
            Reasons.KEY_MISSING,
            "No private key is named: neither spec.privateKeySecretRef nor the AliyunCsr's"
                + " keySecretRef");
      }
      bytes =
          read(
              namespace,
              ref.get().getNamespace(),
              ref.get().getName(),
              ref.get().keyOr(AliyunCsrSpec.DEFAULT_KEY_KEY),
              "the AliyunCsr's keySecretRef");
    }
    return bytes.isValid()
        ? PrivateKeyValidator.validate(bytes.value())
        : Validated.invalid(bytes.problem());
  }

  private Validated<byte[]> read(
      String namespace, String refNamespace, String name, String key, String field) {
    if (refNamespace != null && !refNamespace.isEmpty() && !refNamespace.equals(namespace)) {
      return Validated.invalid(
          Reasons.CROSS_NAMESPACE_REFERENCE,
          field
              + " names a Secret in namespace "
              + refNamespace
              + "; only Secrets in namespace "
              + namespace
              + " are read");
    }
    Optional<Secret> secret = kube.secret(namespace, name);
    if (secret.isEmpty()) {
      return Validated.invalid(
          Reasons.SECRET_NOT_FOUND,
          "Secret " + namespace + "/" + name + " (" + field + ") does not exist");
    }
    var data = secret.get().getData();
    if (data == null || !data.containsKey(key)) {
      return Validated.invalid(
          Reasons.SECRET_KEY_MISSING,
          "Secret " + namespace + "/" + name + " (" + field + ") has no key " + key);
    }
    try {
      return Validated.valid(
          Base64.getDecoder().decode(data.get(key) == null ? "" : data.get(key)));
    } catch (IllegalArgumentException e) {
      return Validated.invalid(
          Reasons.INVALID_SPEC,
          "Secret " + namespace + "/" + name + " key " + key + " is not base64 data");
    }
  }
}
