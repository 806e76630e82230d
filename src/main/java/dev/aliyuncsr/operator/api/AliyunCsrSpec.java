package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** What to upload: where the CSR (and optionally its key) lives, and how CAS should name it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AliyunCsrSpec {
  public static final String DEFAULT_CSR_KEY = "tls.csr";
  public static final String DEFAULT_KEY_KEY = "tls.key";

  @Required
  @JsonPropertyDescription(
      "The Secret key holding the PEM certificate signing request (PKCS#10). The key defaults to"
          + " tls.csr.")
  private SecretKeyRef csrSecretRef;

  @JsonPropertyDescription(
      "Optional Secret key holding the unencrypted PEM private key (PKCS#1, PKCS#8 or SEC1) that"
          + " matches the CSR. The key defaults to tls.key. When omitted, the CSR is uploaded"
          + " without a private key; adding it later sends it with UpdateCsr.")
  private SecretKeyRef keySecretRef;

  @Pattern("^[A-Za-z0-9_-]{1,33}$")
  @JsonPropertyDescription(
      "The readable part of the CSR's name in CAS: 1 to 33 characters of A-Z, a-z, 0-9, '_' and"
          + " '-'. The operator appends '-' and a 16-character ownership mark made from this"
          + " resource's namespace and name with a key only the operator holds, so the whole"
          + " name (at most 50 characters) can only be this resource's. When omitted, the"
          + " namespace and name are used (cut to 33 characters).")
  private String name;

  @Min(1)
  @JsonPropertyDescription(
      "Adopt this existing CSR in CAS instead of uploading one. It is accepted only when its"
          + " public key matches the CSR in csrSecretRef.")
  private Long csrId;

  @JsonPropertyDescription(
      "The AliyunCasAccount to upload into. When omitted, the operator's default account (its own"
          + " credentials) is used. Cannot change once CAS holds a CSR of this resource.")
  private AccountRef accountRef;

  @Default("Delete")
  @JsonPropertyDescription(
      "What happens to the CSR in CAS when this resource is deleted or its CSR is replaced:"
          + " Delete (the default) removes it with DeleteCsr, Orphan leaves it. Switching to"
          + " Orphan releases a deletion that cannot reach CAS.")
  private DeletionPolicy deletionPolicy;

  public SecretKeyRef getCsrSecretRef() {
    return csrSecretRef;
  }

  public void setCsrSecretRef(SecretKeyRef csrSecretRef) {
    this.csrSecretRef = csrSecretRef;
  }

  public SecretKeyRef getKeySecretRef() {
    return keySecretRef;
  }

  public void setKeySecretRef(SecretKeyRef keySecretRef) {
    this.keySecretRef = keySecretRef;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public Long getCsrId() {
    return csrId;
  }

  public void setCsrId(Long csrId) {
    this.csrId = csrId;
  }

  public AccountRef getAccountRef() {
    return accountRef;
  }

  public void setAccountRef(AccountRef accountRef) {
    this.accountRef = accountRef;
  }

  /** The account named by spec.accountRef, or null for the operator's default account. */
  public String accountName() {
    return accountRef == null ? null : accountRef.getName();
  }

  public DeletionPolicy getDeletionPolicy() {
    return deletionPolicy;
  }

  public void setDeletionPolicy(DeletionPolicy deletionPolicy) {
    this.deletionPolicy = deletionPolicy;
  }

  /** The policy in force: {@link DeletionPolicy#Delete} unless set. */
  public DeletionPolicy effectiveDeletionPolicy() {
    return deletionPolicy == null ? DeletionPolicy.Delete : deletionPolicy;
  }
}
