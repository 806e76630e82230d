package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import java.util.Objects;

/** A key inside a Secret in the resource's own namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SecretKeyRef {
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @JsonPropertyDescription("Name of the Secret, in the same namespace as the AliyunCsr.")
  private String name;

  @Pattern("^[-._a-zA-Z0-9]+$")
  @JsonPropertyDescription("Key inside the Secret's data.")
  private String key;

  @JsonPropertyDescription(
      "Namespace of the Secret. Optional; when set it must equal the AliyunCsr's own namespace,"
          + " because the operator never reads Secrets from other namespaces.")
  private String namespace;

  public SecretKeyRef() {}

  public SecretKeyRef(String name, String key) {
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

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }

  /** The data key, with the given default when none is set. */
  public String keyOr(String defaultKey) {
    return key == null || key.isEmpty() ? defaultKey : key;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SecretKeyRef other
        && Objects.equals(name, other.name)
        && Objects.equals(key, other.key)
        && Objects.equals(namespace, other.namespace);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, key, namespace);
  }
}
