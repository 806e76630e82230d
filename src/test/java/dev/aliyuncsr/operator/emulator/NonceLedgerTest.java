package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class NonceLedgerTest {
  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
  private final SwitchableClock clock = new SwitchableClock(Clock.fixed(START, ZoneOffset.UTC));

  @Test
  void aNonceIsRefusedWithinFifteenMinutesAndForgottenAfter() {
    NonceLedger ledger = new NonceLedger(clock, 100);

    assertThat(ledger.firstUse("a")).isTrue();
    assertThat(ledger.firstUse("a")).isFalse();

    clock.set(Clock.fixed(START.plus(NonceLedger.WINDOW).plusSeconds(1), ZoneOffset.UTC));
    assertThat(ledger.firstUse("b")).isTrue();
    assertThat(ledger.size()).as("a expired").isEqualTo(1);
    assertThat(ledger.firstUse("a")).isTrue();
  }

  @Test
  void theWindowIsFifteenMinutes() {
    assertThat(NonceLedger.WINDOW).isEqualTo(Duration.ofMinutes(15));
  }

  @Test
  void memoryIsBoundedEvenWhenTheClockStandsStill() {
    NonceLedger ledger = new NonceLedger(clock, 3);

    for (String nonce : new String[] {"a", "b", "c", "d"}) {
      assertThat(ledger.firstUse(nonce)).isTrue();
    }

    assertThat(ledger.size()).isEqualTo(3);
    assertThat(ledger.firstUse("d")).isFalse();
    assertThat(ledger.firstUse("a")).as("the oldest was evicted").isTrue();
  }
}
