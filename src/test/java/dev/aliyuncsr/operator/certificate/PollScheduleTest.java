package dev.aliyuncsr.operator.certificate;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PollScheduleTest {
  static final Instant NOW = Instant.parse("2026-12-03T08:00:00Z");

  @ParameterizedTest(name = "changed {0} min ago, average {1} s: poll in {2} s")
  @CsvSource({
    "0, -1, 60",
    "1, -1, 60",
    "4, -1, 120",
    "10, -1, 300",
    "20, -1, 600",
    "600, -1, 600",
    // CAS's hint: not sooner than a quarter of the average wait, still capped.
    "0, 480, 120",
    "0, 36000, 600",
    "10, 60, 300",
    // A change stamped in the future (clock skew) polls at the start pace.
    "-5, -1, 60",
  })
  void backsOffFromAMinuteToTenWhileNothingChanges(long minutesAgo, long average, long expected) {
    Duration next =
        PollSchedule.next(
            Settings.defaults(),
            NOW,
            NOW.minus(Duration.ofMinutes(minutesAgo)),
            average < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(average)));

    assertThat(next).isEqualTo(Duration.ofSeconds(expected));
  }
}
