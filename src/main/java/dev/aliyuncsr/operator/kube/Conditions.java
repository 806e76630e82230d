package dev.aliyuncsr.operator.kube;

import dev.aliyuncsr.operator.api.CsrCondition;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The kstatus conditions every kind writes, derived from an {@link Outcome}: Ready, Reconciling and
 * Stalled, each True or False, each with the outcome's reason and the generation; a condition's
 * lastTransitionTime moves only when its status flips. Pure, so it is tested without a cluster.
 */
public final class Conditions {
  public static final String READY = "Ready";
  public static final String RECONCILING = "Reconciling";
  public static final String STALLED = "Stalled";

  private Conditions() {}

  /** The three conditions for {@code outcome}, keeping the transition times of {@code previous}. */
  public static List<CsrCondition> of(
      List<CsrCondition> previous, long generation, Outcome outcome, Instant now) {
    boolean ready = outcome.state() == Outcome.State.READY;
    boolean progressing = outcome.state() == Outcome.State.PROGRESSING;
    boolean stalled = outcome.state() == Outcome.State.STALLED;
    return List.of(
        condition(previous, READY, ready, outcome.reason(), outcome.message(), generation, now),
        condition(
            previous,
            RECONCILING,
            progressing,
            outcome.reason(),
            progressing ? outcome.message() : "No work in progress",
            generation,
            now),
        condition(
            previous,
            STALLED,
            stalled,
            outcome.reason(),
            stalled ? outcome.message() : "Not stalled",
            generation,
            now));
  }

  /** The condition of that type, if any. */
  public static Optional<CsrCondition> find(List<CsrCondition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> Objects.equals(type, c.getType())).findFirst();
  }

  public static String rfc3339(Instant instant) {
    return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
  }

  private static CsrCondition condition(
      List<CsrCondition> previous,
      String type,
      boolean isTrue,
      String reason,
      String message,
      long generation,
      Instant now) {
    String status = isTrue ? "True" : "False";
    String transition =
        find(previous, type)
            .filter(c -> status.equals(c.getStatus()) && c.getLastTransitionTime() != null)
            .map(CsrCondition::getLastTransitionTime)
            .orElse(rfc3339(now));
    return new CsrCondition(type, status, reason, message, generation, transition);
  }
}
