package dev.aliyuncsr.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aliyuncsr.operator.certificate.CertificateCrashPoints;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The AliyunCertificate settings read from the environment, and their production defaults. */
class CertificateConfigTest {

  @Test
  void productionDefaultsRenewThirtyDaysAheadPollFromAMinuteToTenAndPublishInNoZone() {
    OperatorConfig config = OperatorConfig.fromEnvironment(Map.of());
    assertThat(config.certificateRenewBefore()).isEqualTo(Duration.ofHours(720));
    assertThat(config.certificatePollMin()).isEqualTo(Duration.ofMinutes(1));
    assertThat(config.certificatePollMax()).isEqualTo(Duration.ofMinutes(10));
    assertThat(config.dnsValidationZones()).isEmpty();
    assertThat(config.certificateSettings().renewBefore()).isEqualTo(Duration.ofDays(30));
  }

  @Test
  void everySettingIsReadAndTheZonesAreACommaSeparatedList() {
    OperatorConfig config =
        OperatorConfig.fromEnvironment(
            Map.of(
                "CERTIFICATE_RENEW_BEFORE", "240h",
                "CERTIFICATE_POLL_MIN", "2s",
                "CERTIFICATE_POLL_MAX", "20s",
                "DNS_VALIDATION_ZONES", " example.com, ,shop.example.org "));
    assertThat(config.certificateSettings().renewBefore()).isEqualTo(Duration.ofDays(10));
    assertThat(config.certificateSettings().pollMin()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.certificateSettings().pollMax()).isEqualTo(Duration.ofSeconds(20));
    assertThat(config.dnsValidationZones()).containsExactly("example.com", "shop.example.org");
  }

  @Test
  void aPollCapBelowTheFirstPollIsRefused() {
    assertThatThrownBy(
            () ->
                OperatorConfig.fromEnvironment(
                    Map.of("CERTIFICATE_POLL_MIN", "5m", "CERTIFICATE_POLL_MAX", "1m")))
        .isInstanceOf(OperatorConfig.InvalidConfigException.class)
        .hasMessageContaining("CERTIFICATE_POLL_MAX");
  }

  @Test
  void aBadRenewalWindowNamesItsVariable() {
    assertThatThrownBy(
            () -> OperatorConfig.fromEnvironment(Map.of("CERTIFICATE_RENEW_BEFORE", "a month")))
        .isInstanceOf(OperatorConfig.InvalidConfigException.class)
        .hasMessageStartingWith("CERTIFICATE_RENEW_BEFORE");
  }

  @Test
  void theCertificateCrashPointsAreAcceptedAndListedBesideTheUploadOnes() {
    for (var point : CertificateCrashPoints.Point.values()) {
      assertThat(
              OperatorConfig.fromEnvironment(Map.of("CRASH_AT", point.name().toLowerCase()))
                  .crashAt())
          .isEqualTo(point.name());
    }
    assertThatThrownBy(() -> OperatorConfig.fromEnvironment(Map.of("CRASH_AT", "APPLY_AFTER")))
        .hasMessageContaining("APPLY_AFTER_CALL")
        .hasMessageContaining("AFTER_UPLOAD");
  }
}
