package dev.aliyuncsr.operator.observability;

import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Records every CAS call's action, outcome and latency in {@link OperatorMetrics}. */
public final class MeteredCasClient implements CasClient {
  private final CasClient delegate;
  private final OperatorMetrics metrics;

  public MeteredCasClient(CasClient delegate, OperatorMetrics metrics) {
    this.delegate = delegate;
    this.metrics = metrics;
  }

  private interface Call<T> {
    T run() throws CasException;
  }

  private <T> T metered(String action, Call<T> call) throws CasException {
    long start = System.nanoTime();
    try {
      T result = call.run();
      metrics.casCall(action, "OK", Duration.ofNanos(System.nanoTime() - start));
      return result;
    } catch (CasException e) {
      metrics.casCall(action, e.code(), Duration.ofNanos(System.nanoTime() - start));
      throw e;
    }
  }

  @Override
  public UploadResult uploadCsr(String name, String csrPem, Optional<String> privateKeyPem)
      throws CasException {
    return metered("UploadCsr", () -> delegate.uploadCsr(name, csrPem, privateKeyPem));
  }

  @Override
  public List<CsrSummary> listCsr(String keyWord) throws CasException {
    return metered("ListCsr", () -> delegate.listCsr(keyWord));
  }

  @Override
  public CsrDetail getCsrDetail(long csrId) throws CasException {
    return metered("GetCsrDetail", () -> delegate.getCsrDetail(csrId));
  }

  @Override
  public String updateCsr(long csrId, String privateKeyPem) throws CasException {
    return metered("UpdateCsr", () -> delegate.updateCsr(csrId, privateKeyPem));
  }

  @Override
  public String deleteCsr(long csrId) throws CasException {
    return metered("DeleteCsr", () -> delegate.deleteCsr(csrId));
  }
}
