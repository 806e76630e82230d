package dev.aliyuncsr.operator.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The operator's own Prometheus metrics. Label values are bounded: CAS actions, CAS error codes and
 * outcome states, never resource names or anything from a request; the one exception is the
 * certificate expiry gauge, one series per AliyunCertificate as cert-manager's, because alerting on
 * a certificate's end needs its name.
 */
public final class OperatorMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  /** The states a reconcile can end in, as the reconciler names them. */
  public static final List<String> STATES = List.of("ready", "progressing", "stalled");

  private final Map<String, String> stateByUid = new ConcurrentHashMap<>();
  private final Map<String, String> certificateStateByUid = new ConcurrentHashMap<>();

  /** Per AliyunCertificate ("namespace/name"): its gauge and the epoch second it shows. */
  private final Map<String, Expiry> expiries = new ConcurrentHashMap<>();

  private record Expiry(Gauge gauge, AtomicLong epochSecond) {}

  /** The name of the certificate expiry gauge, as cert-manager names its own. */
  public static final String CERTIFICATE_EXPIRY =
      "aliyuncsr_certificate_expiration_timestamp_seconds";

  private final DistributionSummary timeToReady;
  private final DistributionSummary confirmationAge;

  /** What an observation of a CSR in CAS can find. */
  public static final List<String> OBSERVATIONS = List.of("confirmed", "missing", "changed");

  public OperatorMetrics() {
    for (String state : STATES) {
      Gauge.builder(
              "aliyuncsr_resources",
              stateByUid,
              m -> m.values().stream().filter(state::equals).count())
          .description("AliyunCsr resources by the state of their last reconcile")
          .tag("state", state)
          .register(registry);
    }
    timeToReady =
        DistributionSummary.builder("aliyuncsr_time_to_ready_seconds")
            .description("Seconds from a resource's creation to its first Ready")
            .baseUnit("seconds")
            .serviceLevelObjectives(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
            .register(registry);
    for (String result : OBSERVATIONS) {
      observations(result);
    }
    for (String state : STATES) {
      Gauge.builder(
              "aliyuncsr_certificates",
              certificateStateByUid,
              m -> m.values().stream().filter(state::equals).count())
          .description("AliyunCertificate resources by the state of their last reconcile")
          .tag("state", state)
          .register(registry);
    }
    confirmationAge =
        DistributionSummary.builder("aliyuncsr_confirmation_age_seconds")
            .description(
                "Age of each Ready resource's last confirmation in CAS, sampled at every tick of"
                    + " the observer")
            .baseUnit("seconds")
            .serviceLevelObjectives(60, 300, 900, 3600, 6 * 3600, 12 * 3600, 24 * 3600, 48 * 3600)
            .register(registry);
  }

  private Counter observations(String result) {
    return Counter.builder("aliyuncsr_observations")
        .description("CSRs observed in CAS after their upload, by what the observation found")
        .tag("result", result)
        .register(registry);
  }

  /** {@code count} resources observed with {@code result} (confirmed, missing, changed). */
  public void observed(String result, int count) {
    if (count > 0) {
      observations(result).increment(count);
    }
  }

  /** One CAS call made to observe (ListCsr pages, GetCsrDetail confirmations). */
  public void observationCall(String action) {
    Counter.builder("aliyuncsr_observation_cas_calls")
        .description("CAS calls spent on observing CSRs after their upload")
        .tag("action", action)
        .register(registry)
        .increment();
  }

  public void confirmationAge(Duration age) {
    confirmationAge.record(age.toMillis() / 1000.0);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public String scrape() {
    return registry.scrape();
  }

  /**
   * One CAS call: the account it went to ("default" for the operator's own credentials; bounded by
   * the number of accounts), its action, "OK" or the error code, and how long it took.
   */
  public void casCall(String account, String action, String outcome, Duration latency) {
    Timer.builder("aliyuncsr_cas_calls")
        .description("CAS API calls by account, action and outcome")
        .tag("account", account)
        .tag("action", action)
        .tag("outcome", outcome)
        .register(registry)
        .record(latency);
    if (outcome.startsWith("Throttling")) {
      Counter.builder("aliyuncsr_cas_throttled")
          .description("CAS calls answered with a Throttling code")
          .tag("account", account)
          .tag("action", action)
          .register(registry)
          .increment();
    }
  }

  /** The outcome of one reconcile of one resource. */
  public void reconciled(String uid, String state, String reason) {
    Counter.builder("aliyuncsr_reconciles")
        .description("Reconciles by resulting state and reason")
        .tag("state", state)
        .tag("reason", reason)
        .register(registry)
        .increment();
    stateByUid.put(uid, state);
  }

  /** The outcome of one reconcile of one AliyunCertificate. */
  public void certificateReconciled(String uid, String state, String reason) {
    Counter.builder("aliyuncsr_certificate_reconciles")
        .description("AliyunCertificate reconciles by resulting state and reason")
        .tag("state", state)
        .tag("reason", reason)
        .register(registry)
        .increment();
    certificateStateByUid.put(uid, state);
  }

  /**
   * The end of the certificate in an AliyunCertificate's Secret, as a Unix timestamp; empty removes
   * the series (no certificate written yet).
   */
  public void certificateExpiry(String namespace, String name, Optional<Instant> notAfter) {
    String key = namespace + "/" + name;
    if (notAfter.isEmpty()) {
      removeExpiry(key);
      return;
    }
    expiries
        .computeIfAbsent(
            key,
            k -> {
              AtomicLong value = new AtomicLong();
              Gauge gauge =
                  Gauge.builder(CERTIFICATE_EXPIRY, value, AtomicLong::doubleValue)
                      .description(
                          "The date after which the certificate in an AliyunCertificate's Secret"
                              + " expires, as a Unix timestamp")
                      .tag("namespace", namespace)
                      .tag("name", name)
                      .strongReference(true)
                      .register(registry);
              return new Expiry(gauge, value);
            })
        .epochSecond()
        .set(notAfter.get().getEpochSecond());
  }

  /** The AliyunCertificate is gone: its series go too. */
  public void forgetCertificate(String uid, String namespace, String name) {
    certificateStateByUid.remove(uid);
    removeExpiry(namespace + "/" + name);
  }

  private void removeExpiry(String key) {
    Expiry expiry = expiries.remove(key);
    if (expiry != null) {
      registry.remove(expiry.gauge());
    }
  }

  public void becameReady(Duration sinceCreation) {
    timeToReady.record(sinceCreation.toMillis() / 1000.0);
  }

  public void forget(String uid) {
    stateByUid.remove(uid);
  }
}
