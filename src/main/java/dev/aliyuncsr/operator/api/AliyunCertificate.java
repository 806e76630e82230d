package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * The certificate CAS issues from an AliyunCsr's CSR on a certificate instance a person bought,
 * written back into the cluster as a kubernetes.io/tls Secret. The operator fills the instance with
 * the CSR, applies for it at most once, follows validation and the CA's review, and writes the
 * Secret; it never buys, cancels or revokes anything.
 */
@Group(AliyunCsr.GROUP)
@Version(AliyunCsr.VERSION)
@Kind("AliyunCertificate")
@Plural("aliyuncertificates")
@ShortNames("acert")
// kubectl shows the columns in this order (src/build/PrinterColumnOrder.java keeps it in the CRD).
// NotAfter is a string: a date column shows a time in the future as "<invalid>".
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Instance",
    jsonPath = ".spec.instanceId",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "State",
    jsonPath = ".status.instanceStatus",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "NotAfter",
    jsonPath = ".status.notAfter",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
// While spec.instanceId names the instance applied for, the CSR is the one CAS holds there: another
// CSR needs another instance (CAS never re-applies an instance), so both change together.
@ValidationRule(
    value =
        AliyunCertificate.NOT_APPLIED_FOR_HERE
            + " || self.spec.csrRef.name == oldSelf.spec.csrRef.name",
    message =
        "spec.csrRef cannot change while spec.instanceId names the instance applied for; name a"
            + " new instance to get a certificate for another CSR",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        AliyunCertificate.NOT_APPLIED_FOR_HERE
            + " || (has(self.spec.validationMethod) ? self.spec.validationMethod : 'DNS')"
            + " == (has(oldSelf.spec.validationMethod) ? oldSelf.spec.validationMethod : 'DNS')",
    message =
        "spec.validationMethod cannot change while spec.instanceId names the instance applied for",
    reason = "FieldValueForbidden")
public class AliyunCertificate
    extends CustomResource<AliyunCertificateSpec, AliyunCertificateStatus> implements Namespaced {

  /**
   * CEL: true unless the old object records an application on the instance the new spec names; then
   * the fields that define that application are fixed.
   */
  static final String NOT_APPLIED_FOR_HERE =
      "!has(oldSelf.status) || !has(oldSelf.status.application)"
          + " || !has(oldSelf.status.application.instanceId)"
          + " || oldSelf.status.application.instanceId != self.spec.instanceId";

  @Override
  @JsonPropertyDescription("Which CSR, which instance, and where the certificate goes.")
  public AliyunCertificateSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription("What the operator observed and did; written by the operator only.")
  public AliyunCertificateStatus getStatus() {
    return super.getStatus();
  }

  @Override
  protected AliyunCertificateStatus initStatus() {
    return new AliyunCertificateStatus();
  }
}
