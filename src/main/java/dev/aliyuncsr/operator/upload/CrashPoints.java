package dev.aliyuncsr.operator.upload;

import java.util.Locale;
import java.util.Optional;

/**
 * Deliberate crash points for the fault suite: with {@code CRASH_AT=<point>} in the environment the
 * process halts, as a SIGKILL would stop it, the first time it reaches that point. Unset in
 * production, where {@link #reach} does nothing.
 */
public final class CrashPoints {
  /** The places around the upload where a crash is most dangerous. */
  public enum Point {
    BEFORE_INTENT,
    AFTER_INTENT,
    AFTER_UPLOAD,
    AFTER_STATUS
  }

  private final Optional<Point> armed;

  private CrashPoints(Optional<Point> armed) {
    this.armed = armed;
  }

  public static CrashPoints none() {
    return new CrashPoints(Optional.empty());
  }

  public static CrashPoints fromEnvironment(String value) {
    if (value == null || value.isBlank()) {
      return none();
    }
    return new CrashPoints(Optional.of(Point.valueOf(value.trim().toUpperCase(Locale.ROOT))));
  }

  public void reach(Point point) {
    if (armed.isPresent() && armed.get() == point) {
      System.err.println("CRASH_AT=" + point + " reached: halting");
      Runtime.getRuntime().halt(137);
    }
  }
}
