package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** Which CSR CAS signs, on which purchased instance, and which Secret receives the result. */
// external-dns publishes DNS records only: HTTP validation needs a file served by the domain.
@ValidationRule(
    value =
        "!has(self.externalDns) || !self.externalDns"
            + " || !has(self.validationMethod) || self.validationMethod == 'DNS'",
    message = "spec.externalDns publishes DNS records; it needs spec.validationMethod DNS")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AliyunCertificateSpec {
  /**
   * The shape CAS's examples show (cas_dv-cn-…, cas-cn-…); only examples are known, so it is
   * checked loosely and CAS has the last word.
   */
  public static final String INSTANCE_ID_PATTERN = "^cas[a-z0-9_-]*$";

  @Required
  @JsonPropertyDescription(
      "The AliyunCsr in this namespace whose CSR CAS signs. Nothing is sent to CAS until it is"
          + " Ready; its account (spec.accountRef) is the account this certificate uses.")
  private CsrRef csrRef;

  @Required
  @Pattern(INSTANCE_ID_PATTERN)
  @Size(max = 128)
  @JsonPropertyDescription(
      "A certificate instance bought in the CAS console and not yet applied for, such as"
          + " cas_dv-cn-0a1b2c3d. The operator fills it with the CSR and applies once; an issued"
          + " instance cannot be applied for again, so renewal (or a new key) means naming a new"
          + " instance here. The current Secret stays until the new certificate is written.")
  private String instanceId;

  @Default("DNS")
  @JsonPropertyDescription(
      "How the CA validates the domains: DNS (a TXT record; the default, and required for"
          + " wildcard names) or HTTP (a file served by each domain).")
  private ValidationMethod validationMethod;

  @Required
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @Size(max = 253)
  @JsonPropertyDescription(
      "The kubernetes.io/tls Secret the operator writes in this namespace: tls.crt (leaf then"
          + " intermediates), tls.key and, when CAS returns the root, ca.crt. It carries the"
          + " annotation cas.aliyuncsr.dev/certificate=<this name>; an existing Secret without it"
          + " is never overwritten. Deleting the AliyunCertificate leaves the Secret.")
  private String secretName;

  @JsonPropertyDescription(
      "The private key written as tls.key; it must match the CSR and is never sent to CAS by this"
          + " resource. By default the AliyunCsr's keySecretRef.")
  private PrivateKeyRef privateKeySecretRef;

  @Default("false")
  @JsonPropertyDescription(
      "Publish the DNS validation records as an external-dns DNSEndpoint"
          + " (externaldns.k8s.io/v1alpha1) owned by this resource, removed once issued. Only"
          + " names inside the DNS zones the account allows (spec.issuance.dnsZones) are"
          + " published; external-dns must run with --source=crd and manage TXT records.")
  private Boolean externalDns;

  public CsrRef getCsrRef() {
    return csrRef;
  }

  public void setCsrRef(CsrRef csrRef) {
    this.csrRef = csrRef;
  }

  public String getInstanceId() {
    return instanceId;
  }

  public void setInstanceId(String instanceId) {
    this.instanceId = instanceId;
  }

  public ValidationMethod getValidationMethod() {
    return validationMethod;
  }

  public void setValidationMethod(ValidationMethod validationMethod) {
    this.validationMethod = validationMethod;
  }

  /** The method in force: DNS unless set. */
  public ValidationMethod effectiveValidationMethod() {
    return validationMethod == null ? ValidationMethod.DNS : validationMethod;
  }

  public String getSecretName() {
    return secretName;
  }

  public void setSecretName(String secretName) {
    this.secretName = secretName;
  }

  public PrivateKeyRef getPrivateKeySecretRef() {
    return privateKeySecretRef;
  }

  public void setPrivateKeySecretRef(PrivateKeyRef privateKeySecretRef) {
    this.privateKeySecretRef = privateKeySecretRef;
  }

  public Boolean getExternalDns() {
    return externalDns;
  }

  public void setExternalDns(Boolean externalDns) {
    this.externalDns = externalDns;
  }

  /** Whether validation records are published as a DNSEndpoint. */
  public boolean publishesDns() {
    return Boolean.TRUE.equals(externalDns);
  }
}
