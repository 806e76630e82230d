package dev.aliyuncsr.operator.emulator;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The signature nonces seen in the last 15 minutes. Requests older than that are refused by the
 * date check anyway, so older nonces can be forgotten. Memory is bounded: past {@code capacity} the
 * oldest nonces go first, even inside the window (a fixed test clock never lets them expire).
 */
final class NonceLedger {
  static final Duration WINDOW = Duration.ofMinutes(15);

  private final Clock clock;
  private final int capacity;
  private final LinkedHashMap<String, Instant> seen = new LinkedHashMap<>();

  NonceLedger(Clock clock, int capacity) {
    this.clock = clock;
    this.capacity = capacity;
  }

  /** Records the nonce; false when it was already used inside the window. */
  synchronized boolean firstUse(String nonce) {
    Instant now = clock.instant();
    forgetExpired(now);
    if (seen.containsKey(nonce)) {
      return false;
    }
    seen.put(nonce, now);
    if (seen.size() > capacity) {
      Iterator<String> oldest = seen.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
    return true;
  }

  synchronized int size() {
    return seen.size();
  }

  private void forgetExpired(Instant now) {
    Instant cutoff = now.minus(WINDOW);
    Iterator<Map.Entry<String, Instant>> entries = seen.entrySet().iterator();
    while (entries.hasNext()) {
      if (!entries.next().getValue().isBefore(cutoff)) {
        return; // insertion order is time order (for a clock that does not go backwards)
      }
      entries.remove();
    }
  }
}
