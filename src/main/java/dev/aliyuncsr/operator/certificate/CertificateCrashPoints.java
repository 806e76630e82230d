package dev.aliyuncsr.operator.certificate;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Deliberate crash points of this kind for the fault suite, named in the same {@code CRASH_AT} as
 * the upload's: the process halts, as a SIGKILL would stop it, the first time it reaches the point.
 * Unset in production, where {@link #reach} does nothing.
 */
public final class CertificateCrashPoints {
  /** The places around the paid application and the Secret where a crash is most dangerous. */
  public enum Point {
    /** The application lease is written; ApplyCertificate is not called yet. */
    APPLY_AFTER_LEASE,
    /** ApplyCertificate answered; its result is not written yet. */
    APPLY_AFTER_CALL,
    /** The Secret is written; the status that records its certificate is not. */
    SECRET_AFTER_WRITE
  }

  private final Optional<Point> armed;
  private final Consumer<Point> halt;

  private CertificateCrashPoints(Optional<Point> armed, Consumer<Point> halt) {
    this.armed = armed;
    this.halt = halt;
  }

  public static CertificateCrashPoints none() {
    return new CertificateCrashPoints(Optional.empty(), point -> {});
  }

  /** Armed by {@code CRASH_AT} when it names one of these points; otherwise none. */
  public static CertificateCrashPoints fromEnvironment(String value) {
    return of(value)
        .map(
            point ->
                new CertificateCrashPoints(
                    Optional.of(point),
                    p -> {
                      System.err.println("CRASH_AT=" + p + " reached: halting");
                      Runtime.getRuntime().halt(137);
                    }))
        .orElse(none());
  }

  /** Armed at {@code point}, with {@code halt} standing for the process's death (tests). */
  public static CertificateCrashPoints at(Point point, Consumer<Point> halt) {
    return new CertificateCrashPoints(Optional.of(point), halt);
  }

  /** The point {@code value} names, case-insensitively, if it names one of these. */
  public static Optional<Point> of(String value) {
    if (value == null || value.isBlank()) {
      return Optional.empty();
    }
    for (Point point : Point.values()) {
      if (point.name().equals(value.trim().toUpperCase(Locale.ROOT))) {
        return Optional.of(point);
      }
    }
    return Optional.empty();
  }

  void reach(Point point) {
    if (armed.isPresent() && armed.get() == point) {
      halt.accept(point);
    }
  }
}
