package dev.aliyuncsr.operator.config;

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
    Duration readTimeout) {}
