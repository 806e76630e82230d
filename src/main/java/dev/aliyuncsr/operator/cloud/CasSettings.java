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
   * The longest a credentials refresh inside a call can take: credentials-java 1.0.3 calls STS
   * (AssumeRole, AssumeRoleWithOIDC) with a 10 s connect and a 5 s read timeout. The credentials
   * are refreshed before an upload lease is taken; this counts a refresh that comes due inside the
   * call anyway.
   */
  public static final Duration CREDENTIAL_REFRESH = Duration.ofSeconds(15);

  /**
   * The longest an UploadCsr can be in flight: a credentials refresh, one connection attempt and
   * one read. OkHttp's transparent re-send is off (AlibabaCasClient), so there is no second attempt
   * inside a call.
   */
  public Duration maxCallTime() {
    return CREDENTIAL_REFRESH.plus(connectTimeout).plus(readTimeout);
  }

  /** How long an upload lease lasts: the longest call plus {@link #LEASE_MARGIN}. */
  public Duration leaseDuration() {
    return maxCallTime().plus(LEASE_MARGIN);
  }
}
