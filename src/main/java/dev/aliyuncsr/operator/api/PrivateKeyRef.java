package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** A private key in a Secret of the AliyunCertificate's own namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PrivateKeyRef {
  public static final String DEFAULT_KEY = "tls.key";

  @Required
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @JsonPropertyDescription("Name of the Secret, in the AliyunCertificate's own namespace.")
  private String name;

  @Pattern("^[-._a-zA-Z0-9]+$")
  @JsonPropertyDescription("Key inside the Secret's data; tls.key by default.")
  private String key;

  public PrivateKeyRef() {}

  public PrivateKeyRef(String name, String key) {
    this.name = name;
    this.key = key;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getKey() {
    return key;
  }

  public void setKey(String key) {
    this.key = key;
  }

  /** The data key in force: tls.key unless set. */
  public String keyOrDefault() {
    return key == null || key.isEmpty() ? DEFAULT_KEY : key;
  }
}
