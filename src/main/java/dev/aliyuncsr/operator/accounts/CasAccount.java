package dev.aliyuncsr.operator.accounts;

import dev.aliyuncsr.operator.api.AccountIssuance;
import dev.aliyuncsr.operator.api.AccountNamespaceSelector;
import dev.aliyuncsr.operator.certificate.CertificateRoute;
import dev.aliyuncsr.operator.cloud.BudgetedCasClient;
import dev.aliyuncsr.operator.cloud.BudgetedCasInstances;
import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasInstances;
import dev.aliyuncsr.operator.cloud.CasSettings;
import dev.aliyuncsr.operator.upload.CasRoute;
import dev.aliyuncsr.operator.upload.UploadProtocol;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One account the operator calls CAS with: its SDK client, and its call budget (a rate, a cap on
 * calls in flight, and turns between the namespaces that use it), so that one account's throttling
 * or outage never delays another's uploads, and one namespace's burst never delays another's.
 */
public final class CasAccount {
  /** How status.account and the metrics name the operator's own credentials. */
  public static final String DEFAULT_LABEL = "default";

  /** The background class of observation (CasObserver: ListCsr and GetCsrDetail). */
  public static final String OBSERVE = "observe";

  /** The background class of AliyunCertificate polling (GetInstanceDetail). */
  public static final String CERTIFICATES = "certificates";

  private final String name;
  private final CasSettings settings;
  private final AccountNamespaceSelector selector;
  private final CallBudget budget;
  private final BudgetedCasClient calls;
  private final CasClient uploads;
  private final CasClient observe;
  private final UploadProtocol.UploadGate gate;
  private final CallRate rate;
  private final BudgetedCasInstances instanceCalls;
  private final CasInstances instancePolls;
  private final AccountIssuance issuance;

  /** The namespaces' routes through this build of the account ({@link #access}). */
  private final java.util.Map<String, CasRoute.Access> accessByNamespace =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * @param name null for the operator's default account
   * @param selector the namespaces that may use it; null: every namespace (the default account)
   * @param client the account's SDK client, metered
   * @param instances the account's certificate-instance actions, on the same SDK client, metered
   * @param issuance what AliyunCertificates may spend and publish with it (spec.issuance); null:
   *     any instance, no DNS zone
   * @param budget the account's budget, with the background classes {@link #OBSERVE} and {@link
   *     #CERTIFICATES}; it outlives this object when the account is rebuilt
   */
  CasAccount(
      String name,
      CasSettings settings,
      AccountNamespaceSelector selector,
      CasClient client,
      CasInstances instances,
      AccountIssuance issuance,
      CallBudget budget,
      CallRate rate) {
    this.name = name;
    this.settings = settings;
    this.selector = selector;
    this.rate = rate;
    this.budget = budget;
    CasClient counted = rate.counting(client);
    this.calls = new BudgetedCasClient(counted, budget, CallBudget.Tenant.OPERATOR);
    this.uploads = counted;
    this.observe = calls.forTenant(CallBudget.Tenant.background(OBSERVE));
    this.gate = UploadProtocol.UploadGate.of(budget);
    this.issuance = issuance;
    this.instanceCalls =
        new BudgetedCasInstances(rate.counting(instances), budget, CallBudget.Tenant.OPERATOR);
    this.instancePolls = instanceCalls.forTenant(CallBudget.Tenant.background(CERTIFICATES));
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

  /**
   * The calls of a resource in {@code namespace}: each one on the account's budget, in the
   * namespace's turns.
   */
  public CasRoute.Access access(String namespace) {
    // One Access per namespace for as long as this build of the account lives: a confirmation
    // counts only through the account it was asked through (Decider compares them), and a rebuild
    // (a new handle) makes new ones.
    return accessByNamespace.computeIfAbsent(
        namespace,
        ns ->
            new CasRoute.Access(
                name, calls.forTenant(CallBudget.Tenant.namespace(ns)), uploads, gate));
  }

  /**
   * The certificate-instance calls of an AliyunCertificate in {@code namespace}: its actions in the
   * namespace's turns, its GetInstanceDetail polls in the turns of the certificates share.
   */
  public CertificateRoute.InstanceAccess certificateAccess(String namespace) {
    return new CertificateRoute.InstanceAccess(
        name, instanceCalls.forTenant(CallBudget.Tenant.namespace(namespace)), instancePolls);
  }

  /** spec.issuance.instanceIds: empty when any instance may be used. */
  public Optional<List<String>> allowedInstances() {
    return issuance == null || issuance.getInstanceIds() == null
        ? Optional.empty()
        : Optional.of(List.copyOf(issuance.getInstanceIds()));
  }

  /** spec.issuance.dnsZones: none unless listed. */
  public List<String> dnsZones() {
    return issuance == null || issuance.getDnsZones() == null
        ? List.of()
        : List.copyOf(issuance.getDnsZones());
  }

  /** The client for observation: on the account's budget, within the observation share. */
  public CasClient observeClient() {
    return observe;
  }

  /**
   * A permit for one AliyunCertificate poll (GetInstanceDetail): on the account's budget, within
   * the certificates share; empty when the turn is further than {@link BudgetedCasClient#MAX_WAIT}.
   */
  public Optional<CallBudget.Permit> certificatePollPermit() throws InterruptedException {
    return budget.tryAcquire(
        CallBudget.Tenant.background(CERTIFICATES), BudgetedCasClient.MAX_WAIT);
  }

  /** Budgeted calls of the operator's own (the credential probe), a tenant of their own. */
  public CasClient calls() {
    return calls;
  }

  CallBudget budget() {
    return budget;
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
