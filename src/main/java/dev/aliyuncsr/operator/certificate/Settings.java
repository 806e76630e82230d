package dev.aliyuncsr.operator.certificate;

import java.time.Duration;

/**
 * The knobs of this kind's decisions.
 *
 * @param renewBefore how long before notAfter the Ready reason becomes Expiring
 * @param pollMin the first GetInstanceDetail after a change comes this long after it
 * @param pollMax polling never waits longer than this while an application is open
 */
public record Settings(Duration renewBefore, Duration pollMin, Duration pollMax) {
  public static Settings defaults() {
    return new Settings(Duration.ofDays(30), Duration.ofMinutes(1), Duration.ofMinutes(10));
  }
}
