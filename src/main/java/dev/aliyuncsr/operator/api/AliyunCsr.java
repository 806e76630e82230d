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

/** A certificate signing request that the operator uploads to Alibaba Cloud CAS exactly once. */
@Group(AliyunCsr.GROUP)
@Version(AliyunCsr.VERSION)
@Kind("AliyunCsr")
@Plural("aliyuncsrs")
@ShortNames("acsr")
// kubectl shows the columns in this order (src/build/PrinterColumnOrder.java keeps it in the CRD;
// the generator alone would sort them by jsonPath); priority 1 is for -o wide only.
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Reason",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "CsrId",
    jsonPath = ".status.csrId",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "UploadName",
    jsonPath = ".status.uploadName",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "LastConfirmed",
    jsonPath = ".status.lastConfirmedAt",
    type = AdditionalPrinterColumn.Type.DATE,
    priority = 1)
// Once CAS holds the CSR, the fields that define the upload are fixed (a new upload is a new
// resource); deletionPolicy stays mutable so that a stuck deletion can be released with Orphan.
@ValidationRule(
    value = AliyunCsr.NOT_YET_UPLOADED + " || self.spec.csrSecretRef == oldSelf.spec.csrSecretRef",
    message = "spec.csrSecretRef cannot change after the CSR is uploaded",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        AliyunCsr.NOT_YET_UPLOADED
            + " || !has(oldSelf.spec.keySecretRef)"
            + " || (has(self.spec.keySecretRef) && self.spec.keySecretRef == oldSelf.spec.keySecretRef)",
    message = "spec.keySecretRef can be added but not changed or removed after the CSR is uploaded",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        AliyunCsr.NOT_YET_UPLOADED
            + " || (has(self.spec.name) == has(oldSelf.spec.name)"
            + " && (!has(self.spec.name) || self.spec.name == oldSelf.spec.name))",
    message = "spec.name cannot change after the CSR is uploaded",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        AliyunCsr.NOT_YET_UPLOADED
            + " || (has(self.spec.csrId) == has(oldSelf.spec.csrId)"
            + " && (!has(self.spec.csrId) || self.spec.csrId == oldSelf.spec.csrId))",
    message = "spec.csrId cannot change after the CSR is uploaded or adopted",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        AliyunCsr.NOT_YET_UPLOADED
            + " || (has(self.spec.accountRef) == has(oldSelf.spec.accountRef)"
            + " && (!has(self.spec.accountRef)"
            + " || self.spec.accountRef.name == oldSelf.spec.accountRef.name))",
    message = "spec.accountRef cannot change after the CSR is uploaded or adopted",
    reason = "FieldValueForbidden")
public class AliyunCsr extends CustomResource<AliyunCsrSpec, AliyunCsrStatus>
    implements Namespaced {
  public static final String GROUP = "cas.aliyuncsr.dev";
  public static final String VERSION = "v1alpha1";

  /** CEL: true while CAS holds no CSR for the old object, when every spec change is allowed. */
  static final String NOT_YET_UPLOADED = "!has(oldSelf.status) || !has(oldSelf.status.csrId)";

  @Override
  @JsonPropertyDescription("What to upload to CAS and how.")
  public AliyunCsrSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription("What the operator observed and did; written by the operator only.")
  public AliyunCsrStatus getStatus() {
    return super.getStatus();
  }

  @Override
  protected AliyunCsrStatus initStatus() {
    return new AliyunCsrStatus();
  }
}
