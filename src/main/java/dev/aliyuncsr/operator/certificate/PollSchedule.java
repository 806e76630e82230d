package dev.aliyuncsr.operator.certificate;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * When to read an open application again: soon after the instance changed, then less and less often
 * while nothing changes (half the time since the change), never sooner than a quarter of CAS's
 * AverageWaitingTime, within [pollMin, pollMax]. No state of its own: the time since the change is
 * in status (instanceChangedAt), so a restart keeps the pace.
 */
public final class PollSchedule {
  private PollSchedule() {}

  public static Duration next(
      Settings settings, Instant now, Instant changedAt, Optional<Duration> averageWaitingTime) {
    Duration elapsed = Duration.between(changedAt, now);
    Duration base = elapsed.isNegative() ? Duration.ZERO : elapsed.dividedBy(2);
    if (averageWaitingTime.isPresent()
        && averageWaitingTime.get().dividedBy(4).compareTo(base) > 0) {
      base = averageWaitingTime.get().dividedBy(4);
    }
    if (base.compareTo(settings.pollMin()) < 0) {
      return settings.pollMin();
    }
    return base.compareTo(settings.pollMax()) > 0 ? settings.pollMax() : base;
  }
}
