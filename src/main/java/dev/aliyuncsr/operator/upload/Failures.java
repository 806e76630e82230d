package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.csr.InputProblem;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Duration;

/**
 * The one table from a failure to what the resource says and when it is looked at again: missing
 * input is waited for, bad input and refusals stall, everything retrying can fix is retried with
 * backoff. The Event follows from the outcome's state (Warning unless Ready).
 */
final class Failures {
  /** A stalled resource is looked at again this rarely; a change to it or its Secrets is sooner. */
  static final Duration STALLED_RECHECK = Duration.ofMinutes(30);

  /** Authentication failures are retried slowly: the credentials may be rotated in place. */
  static final Duration AUTH_RECHECK = Duration.ofMinutes(5);

  private Failures() {}

  /** Missing input is waited for (the Secret watch brings it); invalid input stalls. */
  static Outcome of(InputProblem problem) {
    return switch (problem.reason()) {
      case Reasons.SECRET_NOT_FOUND, Reasons.SECRET_KEY_MISSING ->
          Outcome.progressing(
              problem.reason(), problem.message() + "; waiting for it", STALLED_RECHECK);
      default -> Outcome.stalled(problem.reason(), problem.message(), STALLED_RECHECK);
    };
  }

  /** A failed CAS call; {@code backoff} is this resource's next retry delay. */
  static Outcome of(CasException e, Duration backoff) {
    return switch (e.kind()) {
      case RETRYABLE ->
          Outcome.progressing(
              e.reason(), e.getMessage() + "; retrying in " + seconds(backoff), backoff);
      case AMBIGUOUS ->
          Outcome.progressing(
              Reasons.RESULT_UNKNOWN,
              e.getMessage()
                  + "; the CSR may have been stored, so it is looked up in CAS before any new"
                  + " upload (in "
                  + seconds(backoff)
                  + ")",
              backoff);
      case AUTH ->
          Outcome.stalled(
              e.reason(),
              e.getMessage() + "; check the operator's Alibaba Cloud credentials and RAM policy",
              AUTH_RECHECK);
      case TERMINAL, NOT_FOUND -> Outcome.stalled(e.reason(), e.getMessage(), STALLED_RECHECK);
    };
  }

  /**
   * A CAS failure while the resource is being deleted: whatever its kind, the deletion waits and
   * says how to let go without CAS.
   */
  static Outcome ofDeletion(CasException e, Duration backoff) {
    return Outcome.progressing(
        Reasons.DELETING,
        "cannot clean up in CAS yet ("
            + e.getMessage()
            + "); retrying in "
            + seconds(backoff)
            + ". Set spec.deletionPolicy to Orphan to release the resource and keep its CSRs",
        backoff);
  }

  /** A state of the protocol that needs a person. */
  static Outcome stalled(String reason, String message) {
    return Outcome.stalled(reason, message, STALLED_RECHECK);
  }

  /** Work that waits for something that comes by itself. */
  static Outcome waiting(String reason, String message, Duration after) {
    return Outcome.progressing(reason, message, after);
  }

  private static String seconds(Duration d) {
    return Math.max(1, (d.toMillis() + 999) / 1000) + "s";
  }
}
