package dev.aliyuncsr.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** src/build/PrinterColumnOrder.java, run as the build runs it: the JDK source launcher. */
class PrinterColumnOrderTest {

  /** Declares its columns in an order that is not the generator's (by jsonPath). */
  @AdditionalPrinterColumn(name = "Zeta", jsonPath = ".status.b", priority = 1)
  @AdditionalPrinterColumn(
      name = "Alpha",
      jsonPath = ".status.c",
      type = AdditionalPrinterColumn.Type.INTEGER)
  @AdditionalPrinterColumn(
      name = "Age",
      jsonPath = ".metadata.creationTimestamp",
      type = AdditionalPrinterColumn.Type.DATE)
  static final class Declared {}

  private static final String HEAD =
      """
      ---
      apiVersion: "apiextensions.k8s.io/v1"
      kind: "CustomResourceDefinition"
      spec:
        versions:
        - additionalPrinterColumns:
      """;
  private static final String TAIL =
      """
          name: "v1"
          schema:
            openAPIV3Schema:
              type: "object"
      """;
  private static final String AGE =
      """
          - jsonPath: ".metadata.creationTimestamp"
            name: "Age"
            priority: 0
            type: "date"
      """;
  private static final String ZETA =
      """
          - jsonPath: ".status.b"
            name: "Zeta"
            priority: 1
            type: "string"
      """;
  private static final String ALPHA =
      """
          - jsonPath: ".status.c"
            name: "Alpha"
            priority: 0
            type: "integer"
      """;
  // A column that the class does not declare (a field's @PrinterColumn): it goes last.
  private static final String FIELD =
      """
          - jsonPath: ".status.a"
            name: "Field"
            priority: 0
            type: "string"
      """;

  @TempDir Path dir;

  @Test
  void columnsInJsonPathOrderAreRewrittenIntoTheDeclaredOrder() throws Exception {
    Path crd = write(HEAD + AGE + FIELD + ZETA + ALPHA + TAIL);

    Result result = run(Declared.class, crd);

    assertThat(result.exit).as(result.output).isZero();
    assertThat(Files.readString(crd)).isEqualTo(HEAD + ZETA + ALPHA + AGE + FIELD + TAIL);
    assertThat(result.output).contains(": Zeta, Alpha, Age");
  }

  @Test
  void theLastListInTheFileIsReorderedToo() throws Exception {
    Path crd = write(HEAD + ALPHA + AGE + ZETA);

    Result result = run(Declared.class, crd);

    assertThat(result.exit).as(result.output).isZero();
    assertThat(Files.readString(crd)).isEqualTo(HEAD + ZETA + ALPHA + AGE);
  }

  @Test
  void aDeclaredColumnMissingFromTheCrdFailsTheStep() throws Exception {
    String text = HEAD + AGE + ALPHA + TAIL;
    Path crd = write(text);

    Result result = run(Declared.class, crd);

    assertThat(result.exit).isEqualTo(1);
    assertThat(result.output).contains("declared printer column Zeta is not in the CRD");
    assertThat(Files.readString(crd)).isEqualTo(text);
  }

  @Test
  void theCommittedCrdIsAlreadyInAliyunCsrsOrder() throws Exception {
    String committed = Files.readString(Path.of("crds", "aliyuncsrs.cas.aliyuncsr.dev-v1.yml"));
    Path crd = write(committed);

    Result result = run(AliyunCsr.class, crd);

    assertThat(result.exit).as(result.output).isZero();
    assertThat(Files.readString(crd)).isEqualTo(committed);
  }

  @Test
  void theCommittedCertificateCrdIsAlreadyInAliyunCertificatesOrder() throws Exception {
    String committed =
        Files.readString(Path.of("crds", "aliyuncertificates.cas.aliyuncsr.dev-v1.yml"));
    Path crd = write(committed);

    Result result = run(AliyunCertificate.class, crd);

    assertThat(result.exit).as(result.output).isZero();
    assertThat(result.output).contains(": Ready, Instance, State, NotAfter, Age");
    assertThat(Files.readString(crd)).isEqualTo(committed);
  }

  private Path write(String text) throws IOException {
    Path crd = dir.resolve("crd.yml");
    Files.writeString(crd, text, StandardCharsets.UTF_8);
    return crd;
  }

  private record Result(int exit, String output) {}

  private static Result run(Class<?> type, Path crd) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process process =
        new ProcessBuilder(
                List.of(
                    java.toString(),
                    "-classpath",
                    System.getProperty("java.class.path"),
                    Path.of("src", "build", "PrinterColumnOrder.java").toString(),
                    type.getName(),
                    crd.toString()))
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(process.exitValue(), output);
  }
}
