package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;

/**
 * The namespaces whose AliyunCsrs may use an account: listed by name, or selected by labels. An
 * empty selector selects nothing.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AccountNamespaceSelector {
  @JsonPropertyDescription("Namespaces selected by name.")
  private List<String> names;

  @JsonPropertyDescription("Namespaces whose labels include all of these.")
  private Map<String, String> matchLabels;

  @JsonPropertyDescription(
      "Namespaces whose labels meet all of these (In, NotIn, Exists, DoesNotExist).")
  private List<LabelSelectorRequirement> matchExpressions;

  public List<String> getNames() {
    return names;
  }

  public void setNames(List<String> names) {
    this.names = names;
  }

  public Map<String, String> getMatchLabels() {
    return matchLabels;
  }

  public void setMatchLabels(Map<String, String> matchLabels) {
    this.matchLabels = matchLabels;
  }

  public List<LabelSelectorRequirement> getMatchExpressions() {
    return matchExpressions;
  }

  public void setMatchExpressions(List<LabelSelectorRequirement> matchExpressions) {
    this.matchExpressions = matchExpressions;
  }

  /** Whether nothing at all is selected: no names, no labels, no expressions. */
  @JsonIgnore
  public boolean isEmpty() {
    return (names == null || names.isEmpty())
        && (matchLabels == null || matchLabels.isEmpty())
        && (matchExpressions == null || matchExpressions.isEmpty());
  }
}
