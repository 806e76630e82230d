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

  /** Returns the AccessKey ID of a well-signed request, or throws the gateway's error. */
  String authenticate(RawHttpRequest request, QueryParameters query) {
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
    AccessKeyRegistry.AccessKey key =
        accessKeys.find(authorization.credential()).orElseThrow(CasError::accessKeyNotFound);
    checkSecurityToken(request, key);

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
    return key.id();
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

  private static void checkSecurityToken(RawHttpRequest request, AccessKeyRegistry.AccessKey key) {
    String keyIdHeader = request.header("x-acs-accesskey-id");
    if (keyIdHeader != null && !keyIdHeader.equals(key.id())) {
      throw CasError.securityTokenMismatch();
    }
    String token = request.header("x-acs-security-token");
    boolean matches =
        key.securityToken() == null
            ? token == null
            : MessageDigest.isEqual(
                key.securityToken().getBytes(StandardCharsets.UTF_8),
                token == null ? new byte[0] : token.getBytes(StandardCharsets.UTF_8));
    if (!matches) {
      throw CasError.securityTokenMismatch();
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
