package dev.aliyuncsr.operator.cloud;

import java.util.List;
import java.util.Optional;

/**
 * A {@link CasClient} that passes every call through {@link #around}, so a decorator (the call
 * budget, the metrics) writes its behaviour once instead of once per action.
 */
public abstract class InterceptingCasClient implements CasClient {
  private final CasClient delegate;

  protected InterceptingCasClient(CasClient delegate) {
    this.delegate = delegate;
  }

  /** One call to the wrapped client (also of an {@link InterceptingCasInstances}). */
  public interface Call<T> {
    T run() throws CasException;
  }

  /** Runs {@code call}, the CAS action named {@code action}, with this decorator's behaviour. */
  protected abstract <T> T around(String action, Call<T> call) throws CasException;

  @Override
  public void refreshCredentials() throws CasException {
    delegate.refreshCredentials();
  }

  @Override
  public final UploadResult uploadCsr(String name, String csrPem, Optional<String> privateKeyPem)
      throws CasException {
    return around("UploadCsr", () -> delegate.uploadCsr(name, csrPem, privateKeyPem));
  }

  @Override
  public final List<CsrSummary> listCsr(String keyWord) throws CasException {
    return around("ListCsr", () -> delegate.listCsr(keyWord));
  }

  @Override
  public final CsrPage listCsrPage(long page, long pageSize) throws CasException {
    return around("ListCsr", () -> delegate.listCsrPage(page, pageSize));
  }

  @Override
  public final CsrDetail getCsrDetail(long csrId) throws CasException {
    return around("GetCsrDetail", () -> delegate.getCsrDetail(csrId));
  }

  @Override
  public final String updateCsr(long csrId, String privateKeyPem) throws CasException {
    return around("UpdateCsr", () -> delegate.updateCsr(csrId, privateKeyPem));
  }

  @Override
  public final String deleteCsr(long csrId) throws CasException {
    return around("DeleteCsr", () -> delegate.deleteCsr(csrId));
  }
}
