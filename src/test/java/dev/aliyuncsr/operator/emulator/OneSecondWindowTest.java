package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class OneSecondWindowTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final OneSecondWindow window = new OneSecondWindow(2, nanos::get);

  @Test
  void admitsUpToTheLimitWithinAnySecond() {
    assertThat(window.tryAdmit()).isTrue();
    nanos.addAndGet(400_000_000L);
    assertThat(window.tryAdmit()).isTrue();
    assertThat(window.tryAdmit()).isFalse();

    nanos.addAndGet(599_999_999L); // 0.999999999 s after the first call
    assertThat(window.tryAdmit()).isFalse();

    nanos.addAndGet(1); // the first call leaves the window
    assertThat(window.tryAdmit()).isTrue();
    assertThat(window.tryAdmit()).isFalse();
  }

  @Test
  void refusedCallsDoNotUseUpTheAllowance() {
    window.tryAdmit();
    window.tryAdmit();
    for (int i = 0; i < 10; i++) {
      nanos.addAndGet(50_000_000L);
      assertThat(window.tryAdmit()).isFalse();
    }

    nanos.addAndGet(500_000_000L);
    assertThat(window.tryAdmit()).isTrue();
  }
}
