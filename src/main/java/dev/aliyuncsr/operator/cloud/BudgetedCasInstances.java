package dev.aliyuncsr.operator.cloud;

/**
 * A {@link CasInstances} whose every call waits a moment at most for its turn in its account's
 * {@link CallBudget}, made for one tenant: the namespace of the AliyunCertificate, or the
 * background class of certificate polling. The twin of {@link BudgetedCasClient}.
 */
public final class BudgetedCasInstances extends InterceptingCasInstances {
  private final CasInstances delegate;
  private final CallBudget budget;
  private final CallBudget.Tenant tenant;

  public BudgetedCasInstances(CasInstances delegate, CallBudget budget, CallBudget.Tenant tenant) {
    super(delegate);
    this.delegate = delegate;
    this.budget = budget;
    this.tenant = tenant;
  }

  /** The same calls on the same budget, made for {@code tenant}: they take its turns. */
  public BudgetedCasInstances forTenant(CallBudget.Tenant tenant) {
    return new BudgetedCasInstances(delegate, budget, tenant);
  }

  @Override
  protected <T> T around(String action, InterceptingCasClient.Call<T> call) throws CasException {
    return BudgetedCasClient.inTurn(budget, tenant, action, call);
  }
}
