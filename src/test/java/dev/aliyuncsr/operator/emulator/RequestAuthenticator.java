package dev.aliyuncsr.operator.emulator;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Verifies an ACS3-HMAC-SHA256 request the way the gateway would, and names the AccessKey that
 * signed it. Checks run in this order, each with its own error: Authorization header shape, which
 * headers are signed, AccessKey, STS token, body hash, signature, x-acs-date, nonce. The nonce is
 * recorded only for a correctly signed, current request, so garbage cannot use up a nonce.
 */
final class RequestAuthenticator {
  private static final DateTimeFormatter ACS_DATE =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'", Locale.ROOT)
          .withResolverStyle(ResolverStyle.STRICT);

  private static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(15);

  private final AccessKeyRegistry accessKeys;
  private final NonceLedger nonces;
  private final Clock clock;

  RequestAuthenticator(AccessKeyRegistry accessKeys, NonceLedger nonces, Clock clock) {
    this.accessKeys = accessKeys;
    this.nonces = nonces;
    this.clock = clock;
  }

  /**
   * The known AccessKey a request names (ACS3 {@code Credential=}, else a v1 query {@code
   * AccessKeyId}), whether or not it is well signed: for counting calls per account.
   */
  java.util.Optional<AccessKeyRegistry.AccessKey> claimedKey(
      RawHttpRequest request, QueryParameters parameters) {
    String id =
        Acs3Authorization.parse(request.header("authorization"))
            .map(Acs3Authorization::credential)
            .orElseGet(() -> parameters.get("AccessKeyId").orElse(null));
    return accessKeys.find(id);
  }

  /** Returns the AccessKey of a well-signed request, or throws the gateway's error. */
  AccessKeyRegistry.AccessKey authenticate(RawHttpRequest request, QueryParameters query) {
    // 1. The Authorization header and the headers it signs.
    Acs3Authorization authorization =
        Acs3Authorization.parse(request.header("authorization"))
            .orElseThrow(
                () ->
                    CasError.incompleteSignature(
                        "expected Authorization: ACS3-HMAC-SHA256"
                            + " Credential=..,SignedHeaders=..,Signature=.."));
    SortedMap<String, String> signedHeaders = signedHeaders(request, authorization);

    // 2. Who signed it.
    AccessKeyRegistry.AccessKey key = knownKey(authorization.credential());
    checkSecurityToken(
        request.header("x-acs-accesskey-id"), request.header("x-acs-security-token"), key);

    // 3. The body hash, then the signature over everything.
    String sentBodyHash = request.header("x-acs-content-sha256");
    if (sentBodyHash == null) {
      throw CasError.incompleteSignature("header x-acs-content-sha256 is missing");
    }
    String bodyHash = Acs3Signature.sha256Hex(request.body());
    if (!bodyHash.equals(sentBodyHash.toLowerCase(Locale.ROOT))) {
      throw CasError.bodyHashMismatch();
    }
    CanonicalRequest canonical =
        new CanonicalRequest(request.method(), request.path(), query, signedHeaders, bodyHash);
    String expected = Acs3Signature.sign(key.secret(), canonical);
    if (!MessageDigest.isEqual(
        expected.getBytes(StandardCharsets.US_ASCII),
        authorization.signature().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII))) {
      throw CasError.signatureDoesNotMatch();
    }

    // 4. Freshness: date within 15 minutes, nonce not seen within 15 minutes.
    checkDate(request.header("x-acs-date"));
    String nonce = request.header("x-acs-signature-nonce");
    if (nonce == null || nonce.isEmpty()) {
      throw CasError.nonceMissing();
    }
    if (!nonces.firstUse(nonce)) {
      throw CasError.nonceUsed();
    }
    return key;
  }

  /**
   * Verifies a legacy v1 (HMAC-SHA1, "signature version 1.0") request, as credentials-java signs
   * STS AssumeRole: every parameter but {@code Signature} (query plus form body), sorted, {@code
   * StringToSign = METHOD&%2F&pe(canonical)}, key {@code secret + "&"}. The reference (§4.5) says
   * tea-openapi skips empty values while credentials-java never sends any; both forms are accepted.
   */
  AccessKeyRegistry.AccessKey authenticateV1(String method, QueryParameters parameters) {
    String signature = parameters.get("Signature").orElse(null);
    String accessKeyId = parameters.get("AccessKeyId").orElse(null);
    if (signature == null || signature.isEmpty() || accessKeyId == null) {
      throw CasError.incompleteSignature("Signature and AccessKeyId are mandatory");
    }
    if (!"HMAC-SHA1".equals(parameters.get("SignatureMethod").orElse(null))
        || !"1.0".equals(parameters.get("SignatureVersion").orElse(null))) {
      throw CasError.incompleteSignature(
          "expected SignatureMethod=HMAC-SHA1, SignatureVersion=1.0");
    }
    AccessKeyRegistry.AccessKey key = knownKey(accessKeyId);
    checkSecurityToken(null, parameters.get("SecurityToken").orElse(null), key);
    boolean matches = false;
    for (boolean skipEmpty : new boolean[] {false, true}) {
      String expected = v1Signature(method, parameters, key.secret(), skipEmpty);
      if (MessageDigest.isEqual(
          expected.getBytes(StandardCharsets.US_ASCII),
          signature.getBytes(StandardCharsets.US_ASCII))) {
        matches = true;
        break;
      }
    }
    if (!matches) {
      throw CasError.signatureDoesNotMatch();
    }
    String timestamp = parameters.get("Timestamp").orElse(null);
    checkDate(timestamp);
    String nonce = parameters.get("SignatureNonce").orElse(null);
    if (nonce == null || nonce.isEmpty()) {
      throw CasError.nonceMissing();
    }
    if (!nonces.firstUse(nonce)) {
      throw CasError.nonceUsed();
    }
    return key;
  }

  static String v1Signature(
      String method, QueryParameters parameters, String secret, boolean skipEmpty) {
    String canonical =
        parameters.asList().stream()
            .filter(p -> !p.name().equals("Signature"))
            .filter(p -> !skipEmpty || !p.value().isEmpty())
            .sorted(
                java.util.Comparator.comparing(QueryParameters.Parameter::name)
                    .thenComparing(QueryParameters.Parameter::value))
            .map(
                p ->
                    QueryParameters.percentEncode(p.name())
                        + "="
                        + QueryParameters.percentEncode(p.value()))
            .collect(java.util.stream.Collectors.joining("&"));
    String stringToSign =
        method
            + "&"
            + QueryParameters.percentEncode("/")
            + "&"
            + QueryParameters.percentEncode(canonical);
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA1");
      mac.init(
          new javax.crypto.spec.SecretKeySpec(
              (secret + "&").getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      return java.util.Base64.getEncoder()
          .encodeToString(mac.doFinal(stringToSign.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 is always available", e);
    }
  }

  /**
   * A key that exists and is enabled. A removed key is {@code InvalidAccessKeyId.NotFound}, a
   * disabled one {@code InvalidAccessKeyId.Inactive} (status 400: UNCONFIRMED, see the reference's
   * §3.2).
   */
  private AccessKeyRegistry.AccessKey knownKey(String accessKeyId) {
    AccessKeyRegistry.AccessKey key =
        accessKeys.find(accessKeyId).orElseThrow(CasError::accessKeyNotFound);
    if (accessKeys.isDisabled(key.id())) {
      throw CasError.accessKeyInactive();
    }
    return key;
  }

  /**
   * The headers named in SignedHeaders, and only those. Host and every x-acs-* header sent (and
   * content-type, if sent) must be among them, as the SDK signs them all; otherwise an unsigned
   * x-acs-action could be swapped.
   */
  private static SortedMap<String, String> signedHeaders(
      RawHttpRequest request, Acs3Authorization authorization) {
    List<String> names = authorization.signedHeaderNames();
    SortedMap<String, String> signed = new TreeMap<>();
    for (String name : names) {
      String value = request.header(name);
      if (value == null) {
        throw CasError.incompleteSignature("a header named in SignedHeaders is missing");
      }
      signed.put(name, value);
    }
    for (Map.Entry<String, List<String>> header : request.headers().entrySet()) {
      String name = header.getKey();
      boolean mustBeSigned =
          name.equals("host") || name.equals("content-type") || name.startsWith("x-acs-");
      if (mustBeSigned && !signed.containsKey(name)) {
        throw CasError.incompleteSignature("header " + name + " is not signed");
      }
    }
    if (!signed.containsKey("host")) {
      throw CasError.incompleteSignature("header host is not signed");
    }
    return signed;
  }

  /**
   * The token must be exactly the key's (none for a long-term key); an STS key past its expiration
   * (on the emulator's clock) is {@code InvalidSecurityToken.Expired} (status 400: UNCONFIRMED).
   */
  private void checkSecurityToken(
      String keyIdHeader, String token, AccessKeyRegistry.AccessKey key) {
    if (keyIdHeader != null && !keyIdHeader.equals(key.id())) {
      throw CasError.securityTokenMismatch();
    }
    boolean matches =
        key.securityToken() == null
            ? token == null
            : MessageDigest.isEqual(
                key.securityToken().getBytes(StandardCharsets.UTF_8),
                token == null ? new byte[0] : token.getBytes(StandardCharsets.UTF_8));
    if (!matches) {
      throw CasError.securityTokenMismatch();
    }
    if (key.expiration() != null && !clock.instant().isBefore(key.expiration())) {
      throw CasError.securityTokenExpired();
    }
  }

  private void checkDate(String dateHeader) {
    if (dateHeader == null) {
      throw CasError.timestampFormat();
    }
    Instant date;
    try {
      date = LocalDateTime.parse(dateHeader, ACS_DATE).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw CasError.timestampFormat();
    }
    Duration skew = Duration.between(date, clock.instant()).abs();
    if (skew.compareTo(MAX_CLOCK_SKEW) > 0) {
      throw CasError.timestampExpired();
    }
  }
}
