package dev.aliyuncsr.operator.cloud;

/**
 * A {@link CasClient} whose every call waits a moment at most for its account's {@link CallBudget}.
 */
public final class BudgetedCasClient extends InterceptingCasClient {
  private final CallBudget budget;

  public BudgetedCasClient(CasClient delegate, CallBudget budget) {
    super(delegate);
    this.budget = budget;
  }

  /**
   * How long a call waits for the budget at most; longer, it fails as retryable and the resource is
   * looked at again after its backoff, so that no reconcile thread waits long for one account.
   */
  public static final java.time.Duration MAX_WAIT = java.time.Duration.ofSeconds(5);

  @Override
  protected <T> T around(String action, Call<T> call) throws CasException {
    try {
      var permit = budget.tryAcquire(MAX_WAIT);
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
