package dev.aliyuncsr.operator.cloud;

import dev.aliyuncsr.operator.api.Reasons;

/**
 * A failed CAS call, sorted by what the caller should do about it. The message is built by this
 * project from the error code and the service's message; it never carries a request URL, a query
 * string or key material.
 */
public class CasException extends Exception {

  /** What a failure means for the caller. */
  public enum Kind {
    /** The request was refused and retrying the same request cannot help. */
    TERMINAL,
    /** The credentials are missing, wrong or not allowed: retry slowly, or when they change. */
    AUTH,
    /** Throttling, a server error or a transport failure before anything was stored. */
    RETRYABLE,
    /** The request may have been carried out: the outcome must be looked up, never retried. */
    AMBIGUOUS,
    /** The CSR, certificate instance or certificate does not exist (in this account). */
    NOT_FOUND
  }

  private final Kind kind;
  private final String action;
  private final String code;
  private final String requestId;

  public CasException(Kind kind, String action, String code, String requestId, String message) {
    super(message);
    this.kind = kind;
    this.action = action;
    this.code = code;
    this.requestId = requestId;
  }

  public Kind kind() {
    return kind;
  }

  public String action() {
    return action;
  }

  /** The service's error code, or a name for a transport failure such as "Timeout". */
  public String code() {
    return code;
  }

  /** The RequestId of the failed call, when the service answered one. */
  public String requestId() {
    return requestId;
  }

  public boolean isThrottling() {
    return code != null && code.startsWith("Throttling");
  }

  /** The condition reason this failure is reported with. */
  public String reason() {
    return switch (kind) {
      case AUTH ->
          code != null && code.startsWith("Forbidden") ? Reasons.FORBIDDEN : Reasons.AUTH_FAILED;
      case RETRYABLE ->
          isThrottling() || "BudgetExhausted".equals(code)
              ? Reasons.THROTTLED
              : Reasons.CLOUD_ERROR;
      case AMBIGUOUS -> Reasons.RESULT_UNKNOWN;
      case TERMINAL, NOT_FOUND -> Reasons.CLOUD_REJECTED;
    };
  }

  // A stack trace adds nothing for an answer from the service, and keeps SDK frames out of logs.
  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
