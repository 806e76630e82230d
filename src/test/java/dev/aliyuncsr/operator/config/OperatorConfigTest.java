package dev.aliyuncsr.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OperatorConfigTest {

  @Test
  void defaultsMatchTheReadme() {
    OperatorConfig config = OperatorConfig.fromEnvironment(Map.of());
    assertThat(config.cas().endpoint()).isEqualTo("cas.aliyuncs.com");
    assertThat(config.cas().protocol()).isEqualTo("HTTPS");
    assertThat(config.cas().region()).isEqualTo("cn-hangzhou");
    assertThat(config.cas().qps()).isEqualTo(5);
    assertThat(config.watchNamespaces()).isEmpty();
    assertThat(config.resyncInterval()).isEqualTo(Duration.ofHours(1));
    assertThat(config.observeInterval()).isEqualTo(Duration.ofHours(6));
    assertThat(config.observeShare()).isEqualTo(0.2);
    assertThat(config.observeQps()).isEqualTo(1.0);
  }

  @Test
  void observationCanBeTunedOrTurnedOff() {
    OperatorConfig tuned =
        OperatorConfig.fromEnvironment(
            Map.of("CAS_OBSERVE_INTERVAL", "10m", "CAS_OBSERVE_SHARE", "50%", "CAS_QPS", "8"));
    assertThat(tuned.observeInterval()).isEqualTo(Duration.ofMinutes(10));
    assertThat(tuned.observeQps()).isEqualTo(4.0);
    assertThat(
            OperatorConfig.fromEnvironment(Map.of("CAS_OBSERVE_INTERVAL", "0")).observeInterval())
        .isZero();
    for (String bad : new String[] {"0", "1.5", "-0.1", "none", "120%"}) {
      assertThatThrownBy(() -> OperatorConfig.fromEnvironment(Map.of("CAS_OBSERVE_SHARE", bad)))
          .hasMessageContaining("CAS_OBSERVE_SHARE");
    }
    assertThatThrownBy(
            () -> OperatorConfig.fromEnvironment(Map.of("CAS_OBSERVE_INTERVAL", "sometimes")))
        .hasMessageContaining("CAS_OBSERVE_INTERVAL");
  }

  @Test
  void readsEveryVariable() {
    OperatorConfig config =
        OperatorConfig.fromEnvironment(
            Map.of(
                "CAS_ENDPOINT", "127.0.0.1:8080",
                "CAS_PROTOCOL", "http",
                "CAS_REGION", "ap-southeast-1",
                "CAS_QPS", "2.5",
                "CAS_READ_TIMEOUT", "1500ms",
                "WATCH_NAMESPACES", " a, b ,,",
                "RESYNC_INTERVAL", "PT10M"));
    assertThat(config.cas().endpoint()).isEqualTo("127.0.0.1:8080");
    assertThat(config.cas().protocol()).isEqualTo("HTTP");
    assertThat(config.cas().qps()).isEqualTo(2.5);
    assertThat(config.cas().readTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(config.watchNamespaces()).containsExactlyInAnyOrder("a", "b");
    assertThat(config.resyncInterval()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void badValuesNameTheVariable() {
    assertThatThrownBy(() -> OperatorConfig.fromEnvironment(Map.of("CAS_QPS", "fast")))
        .hasMessageContaining("CAS_QPS");
    assertThatThrownBy(() -> OperatorConfig.fromEnvironment(Map.of("CAS_PROTOCOL", "ftp")))
        .hasMessageContaining("CAS_PROTOCOL");
    assertThatThrownBy(() -> OperatorConfig.fromEnvironment(Map.of("RESYNC_INTERVAL", "soon")))
        .hasMessageContaining("RESYNC_INTERVAL");
  }

  @ParameterizedTest(name = "{0}={1} is refused")
  @CsvSource({
    "CAS_MAX_CONCURRENCY, 0",
    "CAS_MAX_CONCURRENCY, -3",
    "CAS_MAX_CONCURRENCY, 2.5",
    "CAS_MAX_CONCURRENCY, 0.9",
    "CAS_MAX_CONCURRENCY, four",
    "RECONCILE_THREADS, 0",
    "RECONCILE_THREADS, -1",
    "RECONCILE_THREADS, 2.5",
    "RECONCILE_THREADS, 1e3"
  })
  void countsMustBeWholeNumbersOfAtLeastOne(String variable, String value) {
    assertThatThrownBy(() -> OperatorConfig.fromEnvironment(Map.of(variable, value)))
        .isInstanceOf(OperatorConfig.InvalidConfigException.class)
        .hasMessage(variable + " must be a whole number of at least 1, not '" + value + "'");
  }

  @Test
  void wholeCountsAreReadUnchanged() {
    OperatorConfig config =
        OperatorConfig.fromEnvironment(
            Map.of("CAS_MAX_CONCURRENCY", "3", "RECONCILE_THREADS", " 7 "));
    assertThat(config.cas().maxConcurrentCalls()).isEqualTo(3);
    assertThat(config.reconcileThreads()).isEqualTo(7);
  }

  @Test
  void aMistypedCrashPointIsAOneLineErrorListingTheValidPoints() {
    assertThatThrownBy(() -> OperatorConfig.fromEnvironment(Map.of("CRASH_AT", "AFTER_UPLAOD")))
        .isInstanceOf(OperatorConfig.InvalidConfigException.class)
        .hasMessageStartingWith("CRASH_AT must be one of ")
        .hasMessageContaining("AFTER_UPLOAD")
        .hasMessageContaining("BEFORE_INTENT")
        .hasMessageEndingWith(", not 'AFTER_UPLAOD'")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void everyCrashPointIsAcceptedInAnyCase() {
    for (var point : dev.aliyuncsr.operator.upload.CrashPoints.Point.values()) {
      assertThat(
              OperatorConfig.fromEnvironment(Map.of("CRASH_AT", point.name().toLowerCase()))
                  .crashAt())
          .isEqualTo(point.name());
    }
    assertThat(OperatorConfig.fromEnvironment(Map.of()).crashAt()).isEmpty();
  }
}
