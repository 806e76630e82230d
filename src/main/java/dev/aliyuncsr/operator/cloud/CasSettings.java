package dev.aliyuncsr.operator.cloud;

import java.time.Duration;

/**
 * How to reach CAS and how hard to use it.
 *
 * @param qps process-wide CAS calls per second; Alibaba allows UploadCsr 10/s per account
 * @param maxConcurrentCalls CAS calls in flight at once
 */
public record CasSettings(
    String endpoint,
    String protocol,
    String region,
    double qps,
    int maxConcurrentCalls,
    Duration connectTimeout,
    Duration readTimeout) {

  /** Added to the longest call when sizing the upload lease: clock skew and a slow status write. */
  public static final Duration LEASE_MARGIN = Duration.ofSeconds(15);

  /**
   * The longest an UploadCsr can be in flight: one connection attempt and one read. OkHttp's
   * transparent re-send is off (AlibabaCasClient), so there is no second attempt inside a call.
   */
  public Duration maxCallTime() {
    return connectTimeout.plus(readTimeout);
  }

  /** How long an upload lease lasts: the longest call plus {@link #LEASE_MARGIN}. */
  public Duration leaseDuration() {
    return maxCallTime().plus(LEASE_MARGIN);
  }
}
