package dev.aliyuncsr.operator.config;

import dev.aliyuncsr.operator.certificate.CertificateCrashPoints;
import dev.aliyuncsr.operator.certificate.Settings;
import dev.aliyuncsr.operator.cloud.CasSettings;
import dev.aliyuncsr.operator.upload.CrashPoints;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The operator's settings, read from environment variables (documented in the README). Bad values
 * fail at startup with a message naming the variable.
 *
 * @param watchNamespaces empty means every namespace
 * @param resyncInterval how often every resource is looked at even without a change
 * @param crashAt a deliberate crash point for the fault suite; empty in production
 * @param httpPort port of /healthz, /readyz and /metrics; 0 picks a free one
 * @param leaseNamespace where the leader-election Lease lives; empty means the client's namespace
 * @param observeInterval how often each Ready resource's CSR is confirmed in CAS; zero turns the
 *     observation off
 * @param observeShare the part of CAS_QPS that observation may use, in (0, 1]
 * @param defaultAccount whether resources without spec.accountRef use the operator's own
 *     credentials (DEFAULT_ACCOUNT is not "none")
 * @param operatorNamespace where the credential Secrets of AliyunCasAccounts live; empty means the
 *     client's namespace
 * @param stsEndpoint the STS host for RRSA and assume-role accounts (always HTTPS)
 * @param oidcTokenFile the projected ServiceAccount token RRSA accounts exchange
 * @param markKeySecret the Secret in the operator's namespace that holds the key of the ownership
 *     marks in upload names (created if absent, never overwritten)
 * @param missingWindow how long apart two NotFound answers must be before a CSR counts as gone
 * @param certificatesShare the part of an account's rate AliyunCertificate polling may use
 * @param certificateRenewBefore how long before a certificate's notAfter its AliyunCertificate says
 *     Expiring (Ready stays True) and a Warning Event is written
 * @param certificatePollMin the first GetInstanceDetail after an instance changed comes this long
 *     after it
 * @param certificatePollMax polling an open application never waits longer than this
 * @param dnsValidationZones the DNS zones validation records of the default account's
 *     AliyunCertificates may be published in as DNSEndpoints; none by default
 */
public record OperatorConfig(
    CasSettings cas,
    Set<String> watchNamespaces,
    int reconcileThreads,
    Duration resyncInterval,
    String crashAt,
    int httpPort,
    boolean leaderElection,
    String leaseName,
    String leaseNamespace,
    String identity,
    Duration observeInterval,
    double observeShare,
    boolean defaultAccount,
    String operatorNamespace,
    String stsEndpoint,
    String oidcTokenFile,
    String markKeySecret,
    Duration missingWindow,
    double certificatesShare,
    Duration certificateRenewBefore,
    Duration certificatePollMin,
    Duration certificatePollMax,
    List<String> dnsValidationZones) {

  /** A setting that cannot be used; the message names the variable. */
  public static final class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(String message) {
      super(message);
    }
  }

  public static OperatorConfig fromEnvironment(Map<String, String> env) {
    String protocol = get(env, "CAS_PROTOCOL", "https").toLowerCase(Locale.ROOT);
    if (!protocol.equals("https") && !protocol.equals("http")) {
      throw new InvalidConfigException("CAS_PROTOCOL must be https or http, not " + protocol);
    }
    double qps = positiveDouble(env, "CAS_QPS", 5);
    CasSettings cas =
        new CasSettings(
            get(env, "CAS_ENDPOINT", "cas.aliyuncs.com"),
            protocol.toUpperCase(Locale.ROOT),
            get(env, "CAS_REGION", "cn-hangzhou"),
            qps,
            positiveInt(env, "CAS_MAX_CONCURRENCY", 4),
            duration(env, "CAS_CONNECT_TIMEOUT", Duration.ofSeconds(5)),
            duration(env, "CAS_READ_TIMEOUT", Duration.ofSeconds(10)));
    Set<String> namespaces =
        Arrays.stream(get(env, "WATCH_NAMESPACES", "").split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .collect(Collectors.toUnmodifiableSet());
    Duration pollMin = duration(env, "CERTIFICATE_POLL_MIN", Duration.ofMinutes(1));
    Duration pollMax = duration(env, "CERTIFICATE_POLL_MAX", Duration.ofMinutes(10));
    if (pollMax.compareTo(pollMin) < 0) {
      throw new InvalidConfigException(
          "CERTIFICATE_POLL_MAX must not be shorter than CERTIFICATE_POLL_MIN ("
              + pollMin
              + "), not "
              + pollMax);
    }
    return new OperatorConfig(
        cas,
        namespaces,
        positiveInt(env, "RECONCILE_THREADS", 48),
        duration(env, "RESYNC_INTERVAL", Duration.ofHours(1)),
        crashPoint(env, "CRASH_AT"),
        port(env, "HTTP_PORT", 8080),
        bool(env, "LEADER_ELECTION", false),
        get(env, "LEADER_ELECTION_LEASE_NAME", "aliyun-csr-operator"),
        get(env, "LEADER_ELECTION_NAMESPACE", get(env, "POD_NAMESPACE", "")),
        get(env, "POD_NAME", defaultIdentity()),
        durationOrOff(env, "CAS_OBSERVE_INTERVAL", Duration.ofHours(6)),
        share(env, "CAS_OBSERVE_SHARE", 0.2),
        defaultAccount(env),
        get(env, "POD_NAMESPACE", ""),
        get(env, "STS_ENDPOINT", "sts.aliyuncs.com"),
        get(
            env,
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token"),
        get(env, "MARK_KEY_SECRET", "aliyun-csr-operator-mark-key"),
        duration(env, "CAS_MISSING_WINDOW", Duration.ofMinutes(1)),
        share(env, "CAS_CERTIFICATES_SHARE", 0.2),
        duration(env, "CERTIFICATE_RENEW_BEFORE", Duration.ofDays(30)),
        pollMin,
        pollMax,
        list(env, "DNS_VALIDATION_ZONES"));
  }

  /** A comma-separated list, blanks dropped; empty when unset. */
  private static List<String> list(Map<String, String> env, String name) {
    return Arrays.stream(get(env, name, "").split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  private static boolean defaultAccount(Map<String, String> env) {
    String value = get(env, "DEFAULT_ACCOUNT", "operator").toLowerCase(Locale.ROOT);
    return switch (value) {
      case "operator" -> true;
      case "none" -> false;
      default ->
          throw new InvalidConfigException(
              "DEFAULT_ACCOUNT must be operator (the operator's own credentials) or none, not '"
                  + value
                  + "'");
    };
  }

  /** The CAS calls observation may spend per second. */
  public double observeQps() {
    return cas.qps() * observeShare;
  }

  private static Duration durationOrOff(Map<String, String> env, String name, Duration fallback) {
    String value = get(env, name, null);
    if (value != null && value.equals("0")) {
      return Duration.ZERO;
    }
    return duration(env, name, fallback);
  }

  private static double share(Map<String, String> env, String name, double fallback) {
    String value = get(env, name, null);
    if (value == null) {
      return fallback;
    }
    try {
      double parsed =
          value.endsWith("%")
              ? Double.parseDouble(value.substring(0, value.length() - 1)) / 100
              : Double.parseDouble(value);
      if (parsed > 0 && parsed <= 1) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidConfigException(
        name
            + " must be a share of the CAS budget in (0, 1], such as 0.2 or 20%, not '"
            + value
            + "'");
  }

  private static String defaultIdentity() {
    String host = System.getenv().getOrDefault("HOSTNAME", "operator");
    return host + "-" + ProcessHandle.current().pid();
  }

  private static int port(Map<String, String> env, String name, int fallback) {
    String value = get(env, name, null);
    if (value == null) {
      return fallback;
    }
    try {
      int port = Integer.parseInt(value);
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidConfigException(name + " must be a port number, not '" + value + "'");
  }

  private static boolean bool(Map<String, String> env, String name, boolean fallback) {
    String value = get(env, name, null);
    if (value == null) {
      return fallback;
    }
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes" -> true;
      case "false", "0", "no" -> false;
      default ->
          throw new InvalidConfigException(name + " must be true or false, not '" + value + "'");
    };
  }

  private static String get(Map<String, String> env, String name, String fallback) {
    String value = env.get(name);
    return value == null || value.isBlank() ? fallback : value.trim();
  }

  private static double positiveDouble(Map<String, String> env, String name, double fallback) {
    String value = get(env, name, null);
    if (value == null) {
      return fallback;
    }
    try {
      double parsed = Double.parseDouble(value);
      if (parsed > 0) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidConfigException(name + " must be a positive number, not '" + value + "'");
  }

  /** A whole number of at least 1: "2.5", "0" and "-1" are refused rather than truncated. */
  private static int positiveInt(Map<String, String> env, String name, int fallback) {
    String value = get(env, name, null);
    if (value == null) {
      return fallback;
    }
    try {
      int parsed = Integer.parseInt(value);
      if (parsed > 0) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidConfigException(
        name + " must be a whole number of at least 1, not '" + value + "'");
  }

  /**
   * Empty, or one of the crash points of either kind, case-insensitive; a typo must not disarm the
   * fault.
   */
  private static String crashPoint(Map<String, String> env, String name) {
    String value = get(env, name, "");
    if (value.isEmpty()) {
      return value;
    }
    for (CrashPoints.Point point : CrashPoints.Point.values()) {
      if (point.name().equalsIgnoreCase(value)) {
        return point.name();
      }
    }
    var certificatePoint = CertificateCrashPoints.of(value);
    if (certificatePoint.isPresent()) {
      return certificatePoint.get().name();
    }
    throw new InvalidConfigException(
        name
            + " must be one of "
            + java.util.stream.Stream.concat(
                    Arrays.stream(CrashPoints.Point.values()),
                    Arrays.stream(CertificateCrashPoints.Point.values()))
                .map(Enum::name)
                .collect(Collectors.joining(", "))
            + ", not '"
            + value
            + "'");
  }

  /** The settings of AliyunCertificate decisions. */
  public Settings certificateSettings() {
    return new Settings(certificateRenewBefore, certificatePollMin, certificatePollMax);
  }

  /** ISO-8601 (PT10S) or a number with a unit: 500ms, 10s, 5m, 1h. */
  static Duration duration(Map<String, String> env, String name, Duration fallback) {
    String value = get(env, name, null);
    if (value == null) {
      return fallback;
    }
    try {
      Duration parsed;
      if (value.startsWith("P") || value.startsWith("p")) {
        parsed = Duration.parse(value);
      } else if (value.endsWith("ms")) {
        parsed = Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)));
      } else {
        long amount = Long.parseLong(value.substring(0, value.length() - 1));
        parsed =
            switch (value.charAt(value.length() - 1)) {
              case 's' -> Duration.ofSeconds(amount);
              case 'm' -> Duration.ofMinutes(amount);
              case 'h' -> Duration.ofHours(amount);
              default -> throw new NumberFormatException();
            };
      }
      if (!parsed.isNegative() && !parsed.isZero()) {
        return parsed;
      }
    } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
      // reported below
    }
    throw new InvalidConfigException(
        name + " must be a positive duration such as 10s, 5m or PT1H, not '" + value + "'");
  }
}
