package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** The AliyunCsr, in the same namespace, whose CSR CAS signs. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CsrRef {
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @JsonPropertyDescription("Name of the AliyunCsr, in the AliyunCertificate's own namespace.")
  private String name;

  public CsrRef() {}

  public CsrRef(String name) {
    this.name = name;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }
}
