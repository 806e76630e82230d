package dev.aliyuncsr.operator.cloud;

/** A {@link CasClient} whose every call waits for the process-wide {@link CallBudget}. */
public final class BudgetedCasClient extends InterceptingCasClient {
  private final CallBudget budget;

  public BudgetedCasClient(CasClient delegate, CallBudget budget) {
    super(delegate);
    this.budget = budget;
  }

  @Override
  protected <T> T around(String action, Call<T> call) throws CasException {
    try (CallBudget.Permit permit = budget.acquire()) {
      return call.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CasException(
          CasException.Kind.RETRYABLE, action, "Interrupted", null, action + " was interrupted");
    }
  }
}
