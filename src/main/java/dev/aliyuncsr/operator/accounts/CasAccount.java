package dev.aliyuncsr.operator.accounts;

import dev.aliyuncsr.operator.api.AccountNamespaceSelector;
import dev.aliyuncsr.operator.cloud.BudgetedCasClient;
import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasSettings;
import dev.aliyuncsr.operator.upload.CasRoute;
import dev.aliyuncsr.operator.upload.UploadProtocol;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One account the operator calls CAS with: its SDK client, and a token bucket and concurrency cap
 * of its own, so that one account's throttling or outage never delays another's uploads.
 */
public final class CasAccount {
  /** How status.account and the metrics name the operator's own credentials. */
  public static final String DEFAULT_LABEL = "default";

  private final String name;
  private final CasSettings settings;
  private final AccountNamespaceSelector selector;
  private final CallBudget budget;
  private final CasClient calls;
  private final CasClient uploads;
  private final CasClient observe;
  private final UploadProtocol.UploadGate gate;
  private final CallRate rate;

  /**
   * @param name null for the operator's default account
   * @param selector the namespaces that may use it; null: every namespace (the default account)
   * @param client the account's SDK client, metered
   * @param observeShare the part of the account's qps that observation may use
   */
  CasAccount(
      String name,
      CasSettings settings,
      AccountNamespaceSelector selector,
      CasClient client,
      double observeShare,
      Duration maxPark,
      CallRate rate) {
    this.name = name;
    this.settings = settings;
    this.selector = selector;
    this.rate = rate;
    this.budget = new CallBudget(settings.qps(), settings.maxConcurrentCalls(), 1);
    CasClient counted = rate.counting(client);
    this.calls = new BudgetedCasClient(counted, budget);
    this.uploads = counted;
    this.observe =
        new BudgetedCasClient(counted, new CallBudget(settings.qps() * observeShare, 1, 1));
    this.gate = UploadProtocol.UploadGate.of(budget, maxPark);
  }

  /** null for the default account. */
  public String name() {
    return name;
  }

  public String label() {
    return name == null ? DEFAULT_LABEL : name;
  }

  public CasSettings settings() {
    return settings;
  }

  public CasRoute.Access access() {
    return new CasRoute.Access(name, calls, uploads, gate);
  }

  /** The client for observation, on its own share of the account's budget. */
  public CasClient observeClient() {
    return observe;
  }

  /** Budgeted calls, as the protocol makes them (for the probe). */
  public CasClient calls() {
    return calls;
  }

  public UploadProtocol.UploadGate gate() {
    return gate;
  }

  public double callRate() {
    return rate.perSecond();
  }

  /** Whether {@code namespace}, with these labels, may use this account. */
  public boolean permits(String namespace, Map<String, String> labels) {
    if (selector == null) {
      return true;
    }
    return selects(selector, namespace, labels);
  }

  /**
   * A namespace is selected when the selector lists its name, or when the selector has labels or
   * expressions and all of them match. An empty selector selects nothing.
   */
  static boolean selects(
      AccountNamespaceSelector selector, String namespace, Map<String, String> labels) {
    if (selector == null || selector.isEmpty()) {
      return false;
    }
    if (selector.getNames() != null && selector.getNames().contains(namespace)) {
      return true;
    }
    boolean hasLabels = selector.getMatchLabels() != null && !selector.getMatchLabels().isEmpty();
    boolean hasExpressions =
        selector.getMatchExpressions() != null && !selector.getMatchExpressions().isEmpty();
    if (!hasLabels && !hasExpressions) {
      return false;
    }
    Map<String, String> have = labels == null ? Map.of() : labels;
    if (hasLabels) {
      for (var wanted : selector.getMatchLabels().entrySet()) {
        if (!wanted.getValue().equals(have.get(wanted.getKey()))) {
          return false;
        }
      }
    }
    if (hasExpressions) {
      for (LabelSelectorRequirement e : selector.getMatchExpressions()) {
        if (!matches(e, have)) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean matches(LabelSelectorRequirement e, Map<String, String> labels) {
    String value = labels.get(e.getKey());
    List<String> values = e.getValues() == null ? List.of() : e.getValues();
    String operator = e.getOperator() == null ? "" : e.getOperator();
    return switch (operator) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> labels.containsKey(e.getKey());
      case "DoesNotExist" -> !labels.containsKey(e.getKey());
      default -> false; // an operator this version does not know selects nothing
    };
  }
}
