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

/** The committed CRD keeps the contract: names, printer columns, descriptions everywhere. */
class CrdSchemaTest {

  static CustomResourceDefinition crd() throws IOException {
    try (InputStream in =
        Files.newInputStream(Path.of("crds", "aliyuncsrs.cas.aliyuncsr.dev-v1.yml"))) {
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    }
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

  @Test
  void everyFieldHasADescriptionForKubectlExplain() throws IOException {
    JSONSchemaProps root = crd().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
    List<String> undescribed = new ArrayList<>();
    collectUndescribed(root, "", undescribed);
    assertThat(undescribed).isEmpty();
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
