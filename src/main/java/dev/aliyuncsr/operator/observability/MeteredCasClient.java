package dev.aliyuncsr.operator.observability;

import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.InterceptingCasClient;
import java.time.Duration;

/** Records every CAS call's action, outcome and latency in {@link OperatorMetrics}. */
public final class MeteredCasClient extends InterceptingCasClient {
  private final OperatorMetrics metrics;

  public MeteredCasClient(CasClient delegate, OperatorMetrics metrics) {
    super(delegate);
    this.metrics = metrics;
  }

  @Override
  protected <T> T around(String action, Call<T> call) throws CasException {
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
}
