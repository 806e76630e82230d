package dev.aliyuncsr.operator.kube;

import java.time.Duration;
import java.util.Optional;

/**
 * How one reconcile ended, as data: the state for kstatus, a stable reason, a message a person can
 * act on, and when to look again. {@link OutcomeRecorder} turns it into conditions and an Event.
 */
public record Outcome(State state, String reason, String message, Optional<Duration> requeueAfter) {

  /** The kstatus reading of the outcome. */
  public enum State {
    /** The work for this generation is done: Ready=True. */
    READY,
    /** Work is under way or waiting for something that will come by itself: Reconciling=True. */
    PROGRESSING,
    /** Nothing changes until a person changes the input or the credentials: Stalled=True. */
    STALLED
  }

  /** The same outcome, looked at again after {@code after}. */
  public Outcome withRequeue(Duration after) {
    return new Outcome(state, reason, message, Optional.of(after));
  }

  public static Outcome ready(String reason, String message) {
    return new Outcome(State.READY, reason, message, Optional.empty());
  }

  public static Outcome progressing(String reason, String message, Duration requeueAfter) {
    return new Outcome(State.PROGRESSING, reason, message, Optional.ofNullable(requeueAfter));
  }

  public static Outcome stalled(String reason, String message, Duration requeueAfter) {
    return new Outcome(State.STALLED, reason, message, Optional.ofNullable(requeueAfter));
  }
}
