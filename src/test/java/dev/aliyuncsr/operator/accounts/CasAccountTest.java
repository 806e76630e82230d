package dev.aliyuncsr.operator.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AccountNamespaceSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CasAccountTest {

  @Test
  void anEmptySelectorSelectsNothing() {
    assertThat(CasAccount.selects(new AccountNamespaceSelector(), "team-a", Map.of("a", "b")))
        .isFalse();
    assertThat(CasAccount.selects(null, "team-a", Map.of())).isFalse();
    AccountNamespaceSelector emptyLists = new AccountNamespaceSelector();
    emptyLists.setNames(List.of());
    emptyLists.setMatchLabels(Map.of());
    emptyLists.setMatchExpressions(List.of());
    assertThat(CasAccount.selects(emptyLists, "team-a", Map.of())).isFalse();
  }

  @Test
  void namesSelectExactlyTheNamespacesListed() {
    AccountNamespaceSelector s = new AccountNamespaceSelector();
    s.setNames(List.of("team-a", "team-b"));
    assertThat(CasAccount.selects(s, "team-a", Map.of())).isTrue();
    assertThat(CasAccount.selects(s, "team-c", Map.of())).isFalse();
    assertThat(CasAccount.selects(s, "team", Map.of())).isFalse();
  }

  @Test
  void labelsAndExpressionsMustAllMatch() {
    AccountNamespaceSelector s = new AccountNamespaceSelector();
    s.setMatchLabels(Map.of("team", "payments"));
    s.setMatchExpressions(
        List.of(
            new LabelSelectorRequirement("env", "In", List.of("prod", "staging")),
            new LabelSelectorRequirement("frozen", "DoesNotExist", null)));
    assertThat(CasAccount.selects(s, "x", Map.of("team", "payments", "env", "prod"))).isTrue();
    assertThat(CasAccount.selects(s, "x", Map.of("team", "payments", "env", "dev"))).isFalse();
    assertThat(CasAccount.selects(s, "x", Map.of("team", "search", "env", "prod"))).isFalse();
    assertThat(
            CasAccount.selects(s, "x", Map.of("team", "payments", "env", "prod", "frozen", "yes")))
        .isFalse();
    assertThat(CasAccount.selects(s, "x", Map.of())).isFalse();
  }

  @Test
  void expressionOperatorsBehaveAsKubernetesDefinesThem() {
    assertThat(one("k", "NotIn", List.of("a"), Map.of())).isTrue();
    assertThat(one("k", "NotIn", List.of("a"), Map.of("k", "a"))).isFalse();
    assertThat(one("k", "Exists", null, Map.of("k", ""))).isTrue();
    assertThat(one("k", "Exists", null, Map.of())).isFalse();
    assertThat(one("k", "Gt", List.of("1"), Map.of("k", "2")))
        .as("an operator this version does not know selects nothing")
        .isFalse();
  }

  private static boolean one(
      String key, String operator, List<String> values, Map<String, String> labels) {
    AccountNamespaceSelector s = new AccountNamespaceSelector();
    s.setMatchExpressions(List.of(new LabelSelectorRequirement(key, operator, values)));
    return CasAccount.selects(s, "ns", labels);
  }
}
