package dev.aliyuncsr.operator.observability;

import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.InterceptingCasClient;
import java.time.Duration;

/** Records every CAS call's action, outcome and latency in {@link OperatorMetrics}. */
public final class MeteredCasClient extends InterceptingCasClient {
  private final OperatorMetrics metrics;
  private final String account;

  /**
   * @param account the account's label in the metrics: "default", or its name
   */
  public MeteredCasClient(CasClient delegate, OperatorMetrics metrics, String account) {
    super(delegate);
    this.metrics = metrics;
    this.account = account;
  }

  @Override
  protected <T> T around(String action, Call<T> call) throws CasException {
    return metered(metrics, account, action, call);
  }

  /**
   * Runs the call and records it: outcome "OK", or the failure's code (a CAS error code, or this
   * project's name for a transport failure). Shared with {@link MeteredCasInstances}.
   */
  static <T> T metered(OperatorMetrics metrics, String account, String action, Call<T> call)
      throws CasException {
    long start = System.nanoTime();
    try {
      T result = call.run();
      metrics.casCall(account, action, "OK", Duration.ofNanos(System.nanoTime() - start));
      return result;
    } catch (CasException e) {
      metrics.casCall(account, action, e.code(), Duration.ofNanos(System.nanoTime() - start));
      throw e;
    }
  }
}
