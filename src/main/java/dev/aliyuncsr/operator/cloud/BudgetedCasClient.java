package dev.aliyuncsr.operator.cloud;

import java.time.Duration;

/**
 * A {@link CasClient} whose every call waits a moment at most for its turn in its account's {@link
 * CallBudget}, made for one tenant (the namespace of the resource, or a background class).
 */
public final class BudgetedCasClient extends InterceptingCasClient {
  private final CasClient delegate;
  private final CallBudget budget;
  private final CallBudget.Tenant tenant;

  public BudgetedCasClient(CasClient delegate, CallBudget budget, CallBudget.Tenant tenant) {
    super(delegate);
    this.delegate = delegate;
    this.budget = budget;
    this.tenant = tenant;
  }

  /** The same calls on the same budget, made for {@code tenant}: they take its turns. */
  public BudgetedCasClient forTenant(CallBudget.Tenant tenant) {
    return new BudgetedCasClient(delegate, budget, tenant);
  }

  /**
   * How long a call waits for the budget at most; longer, it fails as retryable and the resource is
   * looked at again after its backoff, so that no reconcile thread waits long for one account.
   */
  public static final Duration MAX_WAIT = Duration.ofSeconds(5);

  @Override
  protected <T> T around(String action, Call<T> call) throws CasException {
    return inTurn(budget, tenant, action, call);
  }

  /**
   * Runs {@code call} once {@code tenant}'s turn in {@code budget} comes, within {@link #MAX_WAIT};
   * shared with {@link BudgetedCasInstances}.
   */
  static <T> T inTurn(CallBudget budget, CallBudget.Tenant tenant, String action, Call<T> call)
      throws CasException {
    try {
      var permit = budget.tryAcquire(tenant, MAX_WAIT);
      if (permit.isEmpty()) {
        throw new CasException(
            CasException.Kind.RETRYABLE,
            action,
            "BudgetExhausted",
            null,
            action + " waits for its place in the account's CAS budget (qps, maxConcurrency)");
      }
      try (CallBudget.Permit held = permit.get()) {
        return call.run();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CasException(
          CasException.Kind.RETRYABLE, action, "Interrupted", null, action + " was interrupted");
    }
  }
}
