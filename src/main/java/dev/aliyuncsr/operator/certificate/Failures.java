package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.csr.InputProblem;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Duration;

/**
 * The one table from a failure of this kind to what the resource says and when it is looked at
 * again: missing input is waited for, bad input and refusals stall, everything retrying can fix is
 * retried with backoff, and an ApplyCertificate whose result is unknown keeps its lease so that the
 * instance, read once the lease ends, decides. Anything CAS says that the contract does not name
 * stalls with CAS's code and text: the operator fails safe.
 */
public final class Failures {
  /** A stalled resource is looked at again this rarely; a change to it or its inputs is sooner. */
  static final Duration STALLED_RECHECK = Duration.ofMinutes(30);

  /** Authentication failures are retried slowly: the credentials may be rotated in place. */
  static final Duration AUTH_RECHECK = Duration.ofMinutes(5);

  private static final String INSTANCE_STATUS_DENIED = "OperationDenied.InstanceStatus";

  private Failures() {}

  /** What ApplyCertificate's failure means: whether it may have applied, and the outcome. */
  public record AfterApply(boolean mayHaveApplied, Outcome outcome) {}

  /** Missing input is waited for (the watches bring it); invalid input stalls. */
  static Outcome of(InputProblem problem) {
    return switch (problem.reason()) {
      case Reasons.SECRET_NOT_FOUND, Reasons.SECRET_KEY_MISSING, Reasons.AWAITING_CSR ->
          Outcome.progressing(problem.reason(), problem.message(), STALLED_RECHECK);
      default -> Outcome.stalled(problem.reason(), problem.message(), STALLED_RECHECK);
    };
  }

  static Outcome stalled(String reason, String message) {
    return Outcome.stalled(reason, message, STALLED_RECHECK);
  }

  /** GetInstanceDetail failed. */
  public static Outcome ofRead(CasException e, String instanceId, Duration backoff) {
    return common(e, "GetInstanceDetail", instanceId, backoff);
  }

  /** UpdateInstance failed: nothing was applied, whatever happened. */
  public static Outcome ofUpdate(CasException e, String instanceId, Duration backoff) {
    return common(e, "UpdateInstance", instanceId, backoff);
  }

  /**
   * ApplyCertificate failed. Only an answer that proves nothing was done drops the lease; a lost or
   * late answer, a 5xx, or SignatureNonceUsed from a silent re-send may have applied.
   */
  public static AfterApply ofApply(
      CasException e, String instanceId, Duration untilLeaseEnds, Duration backoff) {
    if (e.kind() == CasException.Kind.AMBIGUOUS) {
      return new AfterApply(
          true,
          Outcome.progressing(
              Reasons.APPLYING,
              "The answer to ApplyCertificate on instance "
                  + instanceId
                  + " is unknown ("
                  + e.getMessage()
                  + "); nothing is applied again: the instance is read once the application"
                  + " lease ends, and says whether it was applied",
              untilLeaseEnds));
    }
    return new AfterApply(false, common(e, "ApplyCertificate", instanceId, backoff));
  }

  /** GetUserCertificateDetail failed: the instance says it is issued, so it is tried again. */
  public static Outcome ofDownload(CasException e, long certificateId, Duration backoff) {
    if (e.kind() == CasException.Kind.AUTH) {
      return auth(e);
    }
    return Outcome.progressing(
        e.kind() == CasException.Kind.RETRYABLE ? e.reason() : Reasons.ISSUING,
        "Cannot download certificate "
            + certificateId
            + " yet ("
            + e.getMessage()
            + "); retrying in "
            + seconds(backoff),
        backoff);
  }

  private static Outcome common(
      CasException e, String action, String instanceId, Duration backoff) {
    String code = e.code() == null ? "" : e.code();
    return switch (e.kind()) {
      case AUTH -> auth(e);
      case RETRYABLE, AMBIGUOUS ->
          Outcome.progressing(
              e.kind() == CasException.Kind.RETRYABLE ? e.reason() : Reasons.CLOUD_ERROR,
              action + " failed (" + e.getMessage() + "); retrying in " + seconds(backoff),
              backoff);
      case NOT_FOUND ->
          stalled(
              Reasons.INSTANCE_NOT_FOUND,
              "CAS has no instance "
                  + instanceId
                  + " in this account ("
                  + e.getMessage()
                  + "); check spec.instanceId and the account: an instance of another account"
                  + " reads the same");
      case TERMINAL -> {
        if (code.equals("NotFound")) {
          yield stalled(
              Reasons.INSTANCE_NOT_FOUND,
              "CAS has no instance " + instanceId + " in this account (" + e.getMessage() + ")");
        }
        if (code.equals(INSTANCE_STATUS_DENIED)) {
          // The instance moved since it was read (another client, or an earlier call of ours
          // landing late): read it again and decide from what it holds.
          yield Outcome.progressing(
              Reasons.APPLYING,
              action
                  + " was refused because instance "
                  + instanceId
                  + " changed state ("
                  + e.getMessage()
                  + "); reading it again in "
                  + seconds(backoff),
              backoff);
        }
        if (code.startsWith("OperationDenied.") || code.startsWith("InvalidParameter.")) {
          yield stalled(
              Reasons.INSTANCE_UNUSABLE,
              "CAS refused " + action + " on instance " + instanceId + ": " + e.getMessage());
        }
        yield stalled(
            Reasons.CLOUD_REJECTED,
            "CAS refused " + action + " on instance " + instanceId + ": " + e.getMessage());
      }
    };
  }

  private static Outcome auth(CasException e) {
    return Outcome.stalled(
        e.reason(),
        e.getMessage() + "; check the account's credentials and its RAM policy (yundun-cert:*)",
        AUTH_RECHECK);
  }

  private static String seconds(Duration d) {
    return Math.max(1, (d.toMillis() + 999) / 1000) + "s";
  }
}
