package dev.aliyuncsr.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The committed CRD keeps the contract: names, printer columns, descriptions everywhere. */
class CrdSchemaTest {

  static final String CSRS = "aliyuncsrs.cas.aliyuncsr.dev-v1.yml";
  static final String ACCOUNTS = "aliyuncasaccounts.cas.aliyuncsr.dev-v1.yml";
  static final String CERTIFICATES = "aliyuncertificates.cas.aliyuncsr.dev-v1.yml";

  static CustomResourceDefinition crd() throws IOException {
    return crd(CSRS);
  }

  static CustomResourceDefinition crd(String file) throws IOException {
    try (InputStream in = Files.newInputStream(Path.of("crds", file))) {
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    }
  }

  static JSONSchemaProps schema(String file) throws IOException {
    return crd(file).getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
  }

  @Test
  void namesMatchTheApiContract() throws IOException {
    var crd = crd();
    assertThat(crd.getSpec().getGroup()).isEqualTo("cas.aliyuncsr.dev");
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo("AliyunCsr");
    assertThat(crd.getSpec().getNames().getPlural()).isEqualTo("aliyuncsrs");
    assertThat(crd.getSpec().getNames().getShortNames()).containsExactly("acsr");
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
    var version = crd.getSpec().getVersions().get(0);
    assertThat(version.getName()).isEqualTo("v1alpha1");
    assertThat(version.getSubresources().getStatus()).isNotNull();
  }

  @Test
  void printerColumnsAreInTheDeclaredOrderWithTheWideOnesAtPriorityOne() throws IOException {
    var columns = crd().getSpec().getVersions().get(0).getAdditionalPrinterColumns();
    assertThat(columns)
        .extracting(c -> tuple(c.getName(), c.getPriority(), c.getType(), c.getJsonPath()))
        .containsExactly(
            tuple("Ready", 0, "string", ".status.conditions[?(@.type==\"Ready\")].status"),
            tuple("Reason", 0, "string", ".status.conditions[?(@.type==\"Ready\")].reason"),
            tuple("CsrId", 0, "integer", ".status.csrId"),
            tuple("Age", 0, "date", ".metadata.creationTimestamp"),
            tuple("UploadName", 1, "string", ".status.uploadName"),
            tuple("LastConfirmed", 1, "date", ".status.lastConfirmedAt"));
    // The same order as the annotations on AliyunCsr, which PrinterColumnOrder reads.
    assertThat(columns)
        .extracting(c -> c.getName())
        .containsExactlyElementsOf(
            Arrays.stream(AliyunCsr.class.getAnnotationsByType(AdditionalPrinterColumn.class))
                .map(AdditionalPrinterColumn::name)
                .toList());
  }

  // The account CRD is left out: fabric8's LabelSelectorRequirement has no descriptions.
  @ParameterizedTest
  @ValueSource(strings = {CSRS, CERTIFICATES})
  void everyFieldHasADescriptionForKubectlExplain(String file) throws IOException {
    List<String> undescribed = new ArrayList<>();
    collectUndescribed(schema(file), "", undescribed);
    assertThat(undescribed).isEmpty();
  }

  @Test
  void theCertificateKindMatchesTheApiContract() throws IOException {
    var crd = crd(CERTIFICATES);
    assertThat(crd.getSpec().getGroup()).isEqualTo("cas.aliyuncsr.dev");
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo("AliyunCertificate");
    assertThat(crd.getSpec().getNames().getPlural()).isEqualTo("aliyuncertificates");
    assertThat(crd.getSpec().getNames().getShortNames()).containsExactly("acert");
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
    var version = crd.getSpec().getVersions().get(0);
    assertThat(version.getName()).isEqualTo("v1alpha1");
    assertThat(version.getSubresources().getStatus()).isNotNull();
  }

  @Test
  void certificatePrinterColumnsAreReadyInstanceStateNotAfterAge() throws IOException {
    var columns = crd(CERTIFICATES).getSpec().getVersions().get(0).getAdditionalPrinterColumns();
    assertThat(columns)
        .extracting(c -> tuple(c.getName(), c.getPriority(), c.getType(), c.getJsonPath()))
        .containsExactly(
            tuple("Ready", 0, "string", ".status.conditions[?(@.type==\"Ready\")].status"),
            tuple("Instance", 0, "string", ".spec.instanceId"),
            tuple("State", 0, "string", ".status.instanceStatus"),
            // A date column would show a future notAfter as <invalid>.
            tuple("NotAfter", 0, "string", ".status.notAfter"),
            tuple("Age", 0, "date", ".metadata.creationTimestamp"));
  }

  @Test
  void certificateSpecHasTheIssuesFieldNamesRequirementsAndDefaults() throws IOException {
    JSONSchemaProps spec = schema(CERTIFICATES).getProperties().get("spec");
    assertThat(spec.getProperties())
        .containsOnlyKeys(
            "csrRef",
            "instanceId",
            "validationMethod",
            "secretName",
            "privateKeySecretRef",
            "externalDns");
    assertThat(spec.getRequired()).containsExactlyInAnyOrder("csrRef", "instanceId", "secretName");
    assertThat(spec.getProperties().get("csrRef").getRequired()).containsExactly("name");
    assertThat(spec.getProperties().get("privateKeySecretRef").getProperties())
        .containsOnlyKeys("name", "key");
    assertThat(spec.getProperties().get("validationMethod").getEnum())
        .extracting(Object::toString)
        .containsExactly("\"DNS\"", "\"HTTP\"");
    assertThat(spec.getProperties().get("validationMethod").getDefault().asText()).isEqualTo("DNS");
    assertThat(spec.getProperties().get("externalDns").getDefault().asBoolean()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"cas_dv-cn-0a1b2c3d", "cas_dv-cn-123", "cas-cn-rp643r82d0i1", "cas"})
  void instanceIdsOfTheDocumentedShapeMatch(String id) throws IOException {
    assertThat(id).matches(instanceIdPattern());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "CAS_DV-CN-1", "dv-cn-1", "cas dv", "cas.dv", "cas/../x", "xcas_1"})
  void instanceIdsOfAnotherShapeDoNot(String id) throws IOException {
    assertThat(id).doesNotMatch(instanceIdPattern());
  }

  private static String instanceIdPattern() throws IOException {
    String pattern =
        schema(CERTIFICATES)
            .getProperties()
            .get("spec")
            .getProperties()
            .get("instanceId")
            .getPattern();
    assertThat(pattern).isEqualTo(AliyunCertificateSpec.INSTANCE_ID_PATTERN);
    return pattern;
  }

  @Test
  void certificateStatusHasTheIssuesFieldNames() throws IOException {
    JSONSchemaProps status = schema(CERTIFICATES).getProperties().get("status");
    assertThat(status.getProperties())
        .containsKeys(
            "observedGeneration",
            "conditions",
            "instanceStatus",
            "validation",
            "certificateId",
            "serialNumber",
            "notBefore",
            "notAfter",
            "application");
    assertThat(status.getProperties().get("validation").getItems().getSchema().getProperties())
        .containsOnlyKeys("domain", "rootDomain", "type", "key", "recordName", "value");
    assertThat(status.getProperties().get("conditions").getItems().getSchema().getProperties())
        .containsOnlyKeys(
            "type", "status", "reason", "message", "observedGeneration", "lastTransitionTime");
  }

  @Test
  void celRulesFixTheApplicationWhileItsInstanceIsNamedAndKeepExternalDnsToDns()
      throws IOException {
    JSONSchemaProps root = schema(CERTIFICATES);
    assertThat(root.getXKubernetesValidations())
        .extracting(r -> r.getRule())
        .allSatisfy(
            rule ->
                assertThat(rule)
                    .startsWith(AliyunCertificate.NOT_APPLIED_FOR_HERE)
                    .contains("oldSelf.status.application.instanceId != self.spec.instanceId"))
        .anySatisfy(
            rule -> assertThat(rule).endsWith("self.spec.csrRef.name == oldSelf.spec.csrRef.name"))
        .anySatisfy(rule -> assertThat(rule).contains("self.spec.validationMethod"));
    assertThat(root.getProperties().get("spec").getXKubernetesValidations())
        .singleElement()
        .satisfies(r -> assertThat(r.getRule()).contains("self.validationMethod == 'DNS'"));
  }

  @Test
  void accountsListTheInstancesAndDnsZonesTheirTenantsMayUse() throws IOException {
    JSONSchemaProps issuance =
        schema(ACCOUNTS).getProperties().get("spec").getProperties().get("issuance");
    assertThat(issuance.getProperties()).containsOnlyKeys("instanceIds", "dnsZones");
    assertThat(issuance.getProperties().get("instanceIds").getType()).isEqualTo("array");
    assertThat(issuance.getProperties().get("instanceIds").getDescription())
        .contains("Absent: any");
    assertThat(issuance.getProperties().get("dnsZones").getDescription())
        .contains("None by default");
  }

  @ParameterizedTest
  @ValueSource(strings = {CSRS, ACCOUNTS, CERTIFICATES})
  void theChartCarriesTheSameCrd(String file) throws IOException {
    assertThat(Files.readString(Path.of("deploy/helm/aliyun-csr-operator/crds", file)))
        .isEqualTo(Files.readString(Path.of("crds", file)));
  }

  private static void collectUndescribed(JSONSchemaProps node, String path, List<String> out) {
    if (node.getProperties() == null) {
      return;
    }
    for (Map.Entry<String, JSONSchemaProps> field : node.getProperties().entrySet()) {
      String fieldPath = path + "." + field.getKey();
      if (field.getValue().getDescription() == null) {
        out.add(fieldPath);
      }
      collectUndescribed(field.getValue(), fieldPath, out);
      if (field.getValue().getItems() != null && field.getValue().getItems().getSchema() != null) {
        collectUndescribed(field.getValue().getItems().getSchema(), fieldPath + "[]", out);
      }
    }
  }
}
