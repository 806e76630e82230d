package dev.aliyuncsr.operator.cloud;

import java.util.List;
import java.util.Optional;

/** A {@link CasClient} whose every call waits for the process-wide {@link CallBudget}. */
public final class BudgetedCasClient implements CasClient {
  private final CasClient delegate;
  private final CallBudget budget;

  public BudgetedCasClient(CasClient delegate, CallBudget budget) {
    this.delegate = delegate;
    this.budget = budget;
  }

  private interface Call<T> {
    T run() throws CasException;
  }

  private <T> T within(String action, Call<T> call) throws CasException {
    try (CallBudget.Permit permit = budget.acquire()) {
      return call.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CasException(
          CasException.Kind.RETRYABLE, action, "Interrupted", null, action + " was interrupted");
    }
  }

  @Override
  public UploadResult uploadCsr(String name, String csrPem, Optional<String> privateKeyPem)
      throws CasException {
    return within("UploadCsr", () -> delegate.uploadCsr(name, csrPem, privateKeyPem));
  }

  @Override
  public List<CsrSummary> listCsr(String keyWord) throws CasException {
    return within("ListCsr", () -> delegate.listCsr(keyWord));
  }

  @Override
  public CsrDetail getCsrDetail(long csrId) throws CasException {
    return within("GetCsrDetail", () -> delegate.getCsrDetail(csrId));
  }

  @Override
  public String updateCsr(long csrId, String privateKeyPem) throws CasException {
    return within("UpdateCsr", () -> delegate.updateCsr(csrId, privateKeyPem));
  }

  @Override
  public String deleteCsr(long csrId) throws CasException {
    return within("DeleteCsr", () -> delegate.deleteCsr(csrId));
  }
}
