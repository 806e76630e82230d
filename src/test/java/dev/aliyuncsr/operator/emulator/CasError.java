package dev.aliyuncsr.operator.emulator;

/**
 * An error answer: HTTP status, Alibaba error Code and Message. Messages are fixed texts and never
 * quote request values, because the query carries the private key.
 *
 * <p>Codes and statuses follow the reference's §3.2 table. CSR-specific codes ({@code MissingCsr},
 * {@code InvalidParameter.Csr}, {@code NotFound.Csr}, ...) are UNCONFIRMED: the real service
 * documents none; they follow the gateway's {@code Missing<Param>} / {@code InvalidParameter}
 * patterns. The instance codes ({@code NotFound}, {@code OperationDenied.*}) are the project's
 * contract (cas-instance-api.md §5), also UNCONFIRMED; they answer 400.
 */
final class CasError extends RuntimeException {
  private final int status;
  private final String code;

  CasError(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  int status() {
    return status;
  }

  String code() {
    return code;
  }

  static CasError incompleteSignature(String why) {
    return new CasError(
        400, "IncompleteSignature", "The request signature does not conform to standards: " + why);
  }

  static CasError accessKeyNotFound() {
    return new CasError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
  }

  static CasError accessKeyInactive() {
    // Status UNCONFIRMED (reference §3.2); the message is the documented one.
    return new CasError(400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.");
  }

  static CasError securityTokenExpired() {
    // Status UNCONFIRMED (reference §3.2).
    return new CasError(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.");
  }

  static CasError signatureDoesNotMatch() {
    // The real V3 message content is UNCONFIRMED. v1 puts the server's string-to-sign here; the
    // emulator must not, since the canonical request contains the query and so the private key.
    return new CasError(
        400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
  }

  static CasError bodyHashMismatch() {
    // A tampered body is a signature failure: x-acs-content-sha256 is a signed header.
    return new CasError(
        400,
        "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation:"
            + " x-acs-content-sha256 does not match the request body.");
  }

  static CasError securityTokenMismatch() {
    return new CasError(
        400,
        "InvalidSecurityToken.MismatchWithAccessKey",
        "The Security Token does not match the AccessKey.");
  }

  static CasError timestampFormat() {
    return new CasError(
        400,
        "InvalidTimeStamp.Format",
        "Specified x-acs-date is missing or not in yyyy-MM-dd'T'HH:mm:ss'Z' format.");
  }

  static CasError timestampExpired() {
    return new CasError(
        400,
        "InvalidTimeStamp.Expired",
        "Specified time stamp or date value is expired (more than 15 minutes from server time).");
  }

  static CasError nonceMissing() {
    return new CasError(
        400, "MissingSignatureNonce", "x-acs-signature-nonce is mandatory for this action.");
  }

  static CasError nonceUsed() {
    return new CasError(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
  }

  static CasError missingAction() {
    return new CasError(400, "MissingAction", "x-acs-action is mandatory.");
  }

  static CasError invalidVersion() {
    return new CasError(400, "InvalidVersion", "Specified parameter Version is not valid.");
  }

  static CasError actionNotFound() {
    return new CasError(404, "InvalidAction.NotFound", "Specified api is not found.");
  }

  static CasError malformedQuery() {
    return new CasError(400, "InvalidParameter", "The query string is not well-formed.");
  }

  static CasError forbiddenByRam() {
    return new CasError(
        403,
        "Forbidden.RAM",
        "User not authorized to operate on the specified resource, or this API doesn't support"
            + " RAM.");
  }

  static CasError throttledUser() {
    return new CasError(400, "Throttling.User", "Request was denied due to user flow control.");
  }

  static CasError serviceUnavailable() {
    return new CasError(
        503,
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.");
  }

  static CasError injected(int status, String code) {
    return new CasError(status, code, "Injected by the CAS emulator.");
  }

  static CasError internalError() {
    return new CasError(
        500, "InternalError", "The request processing has failed due to some unknown error.");
  }

  static CasError missing(String parameter) {
    return new CasError(400, "Missing" + parameter, parameter + " is mandatory for this action.");
  }

  static CasError invalidParameter(String parameter, String why) {
    return new CasError(
        400, "InvalidParameter." + parameter, "The parameter " + parameter + " is invalid: " + why);
  }

  static CasError csrNotFound() {
    // The real code for an unknown or foreign CsrId is UNCONFIRMED.
    return new CasError(404, "NotFound.Csr", "The specified CSR does not exist.");
  }

  /** The id was checked against the instance-id shape first, so naming it quotes nothing else. */
  static CasError instanceNotFound(String instanceId) {
    return new CasError(
        400, "NotFound", "The resource not found: no instance " + instanceId + " in this account.");
  }

  static CasError certificateNotFound(long certId) {
    return new CasError(
        400, "NotFound", "The resource not found: no certificate " + certId + " in this account.");
  }

  static CasError instanceStatus(String status) {
    return new CasError(
        400,
        "OperationDenied.InstanceStatus",
        "The operation is not allowed while the instance is " + status + ".");
  }

  static CasError applicationIncomplete() {
    return new CasError(
        400,
        "OperationDenied.ApplicationIncomplete",
        "The instance has no application data: call UpdateInstance first.");
  }
}
