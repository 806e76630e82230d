package dev.aliyuncsr.operator.emulator;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;

/** The emulator's clock, replaceable while it runs (to make requests look stale, say). */
final class SwitchableClock extends Clock {
  private volatile Clock delegate;

  SwitchableClock(Clock initial) {
    this.delegate = initial;
  }

  void set(Clock clock) {
    this.delegate = clock;
  }

  @Override
  public Instant instant() {
    return delegate.instant();
  }

  @Override
  public ZoneId getZone() {
    return delegate.getZone();
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return delegate.withZone(zone);
  }
}
