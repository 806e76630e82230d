package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** The AliyunCasAccount a resource uploads into. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AccountRef {
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @JsonPropertyDescription("Name of the cluster-scoped AliyunCasAccount.")
  private String name;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public AccountRef() {}

  public AccountRef(String name) {
    this.name = name;
  }
}
