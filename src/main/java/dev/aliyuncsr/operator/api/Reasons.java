package dev.aliyuncsr.operator.api;

/**
 * The stable condition reasons this operator writes, for every kind. Add, never rename: users alert
 * on them.
 */
public final class Reasons {
  private Reasons() {}

  // Ready=True
  public static final String UPLOADED = "Uploaded";
  public static final String RECOVERED = "Recovered";
  public static final String ADOPTED = "Adopted";

  /**
   * CAS lost the CSR the operator uploaded (deleted in the console, say); it was uploaded again.
   */
  public static final String REUPLOADED = "Reuploaded";

  // In progress
  public static final String UPLOADING = "Uploading";
  public static final String DELETING = "Deleting";

  /** Another operator process holds the upload lease; this one waits for it to end. */
  public static final String UPLOAD_IN_PROGRESS = "UploadInProgress";

  /** The upload waits for its place in the CAS call budget; it is made at the time it names. */
  public static final String QUEUED = "Queued";

  /** CAS no longer holds the uploaded CSR (Warning Event, then Reconciling until re-uploaded). */
  public static final String CSR_MISSING_IN_CAS = "CsrMissingInCas";

  /** CAS holds the CSR, but not as recorded: the private key it held is gone (Warning Event). */
  public static final String CSR_CHANGED_IN_CAS = "CsrChangedInCas";

  /** The Paused condition: the cas.aliyuncsr.dev/paused annotation is "true". */
  public static final String PAUSED = "Paused";

  /** Deletion under Delete waits while paused: unpause, or set deletionPolicy Orphan. */
  public static final String DELETION_PAUSED = "DeletionPaused";

  /** spec.accountRef names an AliyunCasAccount that does not exist (yet); watched. */
  public static final String ACCOUNT_NOT_FOUND = "AccountNotFound";

  /** The AliyunCasAccount exists but its credentials do not work (yet); watched. */
  public static final String ACCOUNT_NOT_READY = "AccountNotReady";

  // Missing input: wait for the user (Secrets are watched)
  public static final String SECRET_NOT_FOUND = "SecretNotFound";
  public static final String SECRET_KEY_MISSING = "SecretKeyMissing";

  // Invalid input: stalled until the input changes
  public static final String INVALID_CSR = "InvalidCsr";
  public static final String INVALID_KEY = "InvalidKey";
  public static final String KEY_MISMATCH = "KeyMismatch";
  public static final String INVALID_SPEC = "InvalidSpec";
  public static final String CROSS_NAMESPACE_REFERENCE = "CrossNamespaceReference";
  public static final String ADOPTION_NOT_FOUND = "AdoptionTargetNotFound";
  public static final String ADOPTION_MISMATCH = "AdoptionKeyMismatch";

  /**
   * spec.csrId names a CSR another AliyunCsr records or adopts first, or one CAS names under
   * another resource's ownership mark: one CSR has one owner.
   */
  public static final String ADOPTION_CONFLICT = "AdoptionConflict";

  /** The adopted CSR (spec.csrId) is gone from CAS; the operator cannot recreate it. */
  public static final String ADOPTED_CSR_GONE = "AdoptedCsrGone";

  public static final String DUPLICATE_EXTERNAL_RESOURCES = "DuplicateExternalResources";

  /** The AliyunCasAccount does not select this resource's namespace: no CAS call. */
  public static final String ACCOUNT_NOT_PERMITTED = "AccountNotPermitted";

  /** Another AliyunCsr, created earlier, has the same upload name: this one calls nothing. */
  public static final String UPLOAD_NAME_CONFLICT = "UploadNameConflict";

  // Warning Events only
  /** A CsrId that only an annotation or another record claims; refused and never touched. */
  public static final String CSR_NOT_PROVEN = "CsrNotProven";

  // Cloud answers
  public static final String THROTTLED = "Throttled";
  public static final String CLOUD_ERROR = "CloudError";
  public static final String AUTH_FAILED = "AuthFailed";
  public static final String FORBIDDEN = "Forbidden";
  public static final String CLOUD_REJECTED = "CloudRejected";
  public static final String RESULT_UNKNOWN = "UploadResultUnknown";

  // AliyunCertificate. Shared with AliyunCsr: KEY_MISMATCH (tls.key does not match the CSR),
  // ACCOUNT_NOT_PERMITTED, ACCOUNT_NOT_FOUND, ACCOUNT_NOT_READY, INVALID_SPEC and the cloud
  // answers.

  /** The AliyunCsr does not exist or is not Ready (in its account) yet: nothing is called. */
  public static final String AWAITING_CSR = "AwaitingCsr";

  /** The instance is being filled with the CSR, or the application is being made. */
  public static final String APPLYING = "Applying";

  /** CAS waits for the domain validation records in status.validation. */
  public static final String AWAITING_VALIDATION = "AwaitingValidation";

  /** Validation is done; the CA is reviewing the application. */
  public static final String ISSUING = "Issuing";

  /** Ready=True: the Secret holds the certificate of spec.instanceId. */
  public static final String ISSUED = "Issued";

  /** Ready stays True: the certificate ends within the renewal window (a Warning Event too). */
  public static final String EXPIRING = "Expiring";

  /** No private key to write as tls.key: the Secret, its key, or any reference is missing. */
  public static final String KEY_MISSING = "KeyMissing";

  /** The CSR has a key or names CAS cannot issue for, or no CN. */
  public static final String UNSUPPORTED_CSR = "UnsupportedCsr";

  /** CAS has no such instance in the account (one of another account reads the same). */
  public static final String INSTANCE_NOT_FOUND = "InstanceNotFound";

  /** The instance holds another CSR or another application; it is never overwritten. */
  public static final String INSTANCE_IN_USE = "InstanceInUse";

  /** Expired, refunded, closed or revoked, or CAS refused a call on it (code and text shown). */
  public static final String INSTANCE_UNUSABLE = "InstanceUnusable";

  /**
   * Another AliyunCertificate, created earlier, names the same instance: this one calls nothing.
   */
  public static final String INSTANCE_CONFLICT = "InstanceConflict";

  /** The account's spec.issuance.instanceIds does not list the instance. */
  public static final String INSTANCE_NOT_ALLOWED = "InstanceNotAllowed";

  /** A validation record would be published outside the zones the account allows. */
  public static final String DNS_ZONE_NOT_ALLOWED = "DnsZoneNotAllowed";

  /**
   * spec.externalDns, but the cluster does not serve external-dns's DNSEndpoint kind to the
   * operator (its CRD is not installed, or the operator may not manage dnsendpoints).
   */
  public static final String DNS_ENDPOINT_UNAVAILABLE = "DnsEndpointUnavailable";

  /** What CAS returned does not carry the CSR's public key, or its chain does not verify. */
  public static final String CERTIFICATE_MISMATCH = "CertificateMismatch";

  /** The target Secret exists and is not this resource's; it is never overwritten. */
  public static final String SECRET_CONFLICT = "SecretConflict";

  /** The application ended without a certificate; never re-applied on its own (it is paid). */
  public static final String VALIDATION_FAILED = "ValidationFailed";
}
