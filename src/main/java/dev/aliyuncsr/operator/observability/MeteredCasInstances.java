package dev.aliyuncsr.operator.observability;

import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasInstances;
import dev.aliyuncsr.operator.cloud.InterceptingCasClient.Call;
import dev.aliyuncsr.operator.cloud.InterceptingCasInstances;

/**
 * Records every certificate-instance call's action, outcome and latency in {@link OperatorMetrics},
 * in the same metrics as the CSR actions ({@link MeteredCasClient}).
 */
public final class MeteredCasInstances extends InterceptingCasInstances {
  private final OperatorMetrics metrics;
  private final String account;

  /**
   * @param account the account's label in the metrics: "default", or its name
   */
  public MeteredCasInstances(CasInstances delegate, OperatorMetrics metrics, String account) {
    super(delegate);
    this.metrics = metrics;
    this.account = account;
  }

  @Override
  protected <T> T around(String action, Call<T> call) throws CasException {
    return MeteredCasClient.metered(metrics, account, action, call);
  }
}
