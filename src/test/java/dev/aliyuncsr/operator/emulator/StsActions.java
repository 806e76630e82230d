package dev.aliyuncsr.operator.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * STS (API 2015-04-01): {@code AssumeRole} and {@code AssumeRoleWithOIDC}. Each returns the
 * documented response fields except RequestId ({@code Credentials{AccessKeyId, AccessKeySecret,
 * SecurityToken, Expiration}}, {@code AssumedRoleUser{Arn, AssumedRoleId}}, and for OIDC {@code
 * OIDCTokenInfo}), or throws a {@link CasError} with STS's code; the temporary key it issues is
 * registered at once, belongs to the role's account, pins its token and expires.
 *
 * <p>Documented (Alibaba's STS API pages and error-code table): the parameters, RoleSessionName's
 * characters {@code [A-Za-z0-9.@_-]}, DurationSeconds from 900 s to the role's maximum session
 * (default 3600 s, at most 43200 s), {@code InvalidParameter.RoleSessionName}, {@code
 * InvalidParameter.DurationSeconds}, {@code NoPermission} ("You are not authorized to do this
 * action. You should be authorized by RAM."), and the OIDC codes {@code
 * AuthenticationFail.NoPermission} (401, also "No such OIDC Provider registered."), {@code
 * AuthenticationFail.OIDCToken.Invalid} / {@code .AudienceNotMatch} / {@code .Expired} / {@code
 * .InvalidSignature} (401), and that HS256 tokens are refused.
 *
 * <p>UNCONFIRMED, chosen here: RoleSessionName length 2 to 64 (current AssumeRole page; an older
 * FAQ says 32); {@code MissingRoleArn} / {@code MissingRoleSessionName} / {@code
 * MissingOIDCProviderArn} (400, the gateway's Missing&lt;Param&gt; pattern); {@code
 * InvalidParameter.RoleArn} (400) for a malformed ARN; {@code EntityNotExist.Role} (404) for an
 * unknown role; {@code NoPermission} (403) for a wrong or missing ExternalId and for a caller whose
 * account the role does not trust; {@code AuthenticationFail.OIDCToken.IssuerNotMatch} (401) for a
 * wrong {@code iss}; {@code AuthenticationFail.NoPermission} (401) for a role that does not trust
 * the provider or the token's {@code sub}; the shapes of the temporary AccessKeyId ({@code STS.} +
 * 24 characters), secret and token; AssumedRoleUser {@code Arn = <role arn>/<session>} and {@code
 * AssumedRoleId = <role id>:<session>}; a default session name for OIDC calls without one. Real STS
 * refuses AssumeRole signed by a main account's own AccessKey ("Roles may not be assumed by root
 * accounts"); the emulator does not model RAM users, so any key of a trusted account may call it.
 *
 * <p>OIDC tokens: a JWT ({@code header.payload.signature}, base64url) whose {@code iss} equals the
 * provider's issuer, whose {@code aud} (string or array) contains one of its audiences, whose
 * {@code exp} lies ahead on the emulator's clock, and whose {@code sub} matches the role's subject
 * condition when it has one. The signature is verified (RS256 only) when the provider was given a
 * signing key; without one it is NOT verified, so tests can mint unsigned tokens.
 */
final class StsActions {
  static final String API_VERSION = "2015-04-01";
  static final Set<String> NAMES = Set.of("AssumeRole", "AssumeRoleWithOIDC");

  private static final Pattern SESSION_NAME = Pattern.compile("[A-Za-z0-9.@_-]{2,64}");
  private static final Duration MIN_DURATION = Duration.ofMinutes(15);
  private static final String DEFAULT_OIDC_SESSION = "oidc-session";
  private static final DateTimeFormatter EXPIRATION =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHANUMERIC =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  private final StsDirectory directory;
  private final AccessKeyRegistry accessKeys;
  private final Clock clock;

  StsActions(StsDirectory directory, AccessKeyRegistry accessKeys, Clock clock) {
    this.directory = directory;
    this.accessKeys = accessKeys;
    this.clock = clock;
  }

  /** AssumeRole for an already authenticated caller. */
  Map<String, Object> assumeRole(QueryParameters parameters, AccessKeyRegistry.AccessKey caller) {
    StsDirectory.Role role = knownRole(required(parameters, "RoleArn"));
    String session = required(parameters, "RoleSessionName");
    if (!SESSION_NAME.matcher(session).matches()) {
      throw new CasError(
          400,
          "InvalidParameter.RoleSessionName",
          "The parameter RoleSessionName is wrongly formed.");
    }
    Duration duration = duration(parameters, role);
    if (!role.trustedAccounts().contains(caller.accountId())) {
      throw noPermission();
    }
    if (role.externalId() != null
        && !role.externalId().equals(parameters.get("ExternalId").orElse(null))) {
      throw noPermission();
    }
    return issue(role, session, duration);
  }

  /** AssumeRoleWithOIDC: unsigned; the token is the proof. */
  Map<String, Object> assumeRoleWithOidc(QueryParameters parameters) {
    String providerArn = required(parameters, "OIDCProviderArn");
    StsDirectory.Role role = knownRole(required(parameters, "RoleArn"));
    String token = parameters.get("OIDCToken").orElse("");
    if (token.isBlank()) {
      throw oidcInvalid("The OIDCToken can not empty.");
    }
    String session =
        parameters.get("RoleSessionName").filter(s -> !s.isEmpty()).orElse(DEFAULT_OIDC_SESSION);
    if (!SESSION_NAME.matcher(session).matches()) {
      throw new CasError(
          400,
          "InvalidParameter.RoleSessionName",
          "The parameter RoleSessionName is wrongly formed.");
    }
    Duration duration = duration(parameters, role);
    StsDirectory.OidcProvider provider =
        directory
            .provider(providerArn)
            .orElseThrow(
                () ->
                    new CasError(
                        401,
                        "AuthenticationFail.NoPermission",
                        "No such OIDC Provider registered."));
    JsonNode claims = verifiedClaims(token, provider);
    String subject = text(claims, "sub");
    if (!providerArn.equals(role.oidcProviderArn())
        || (role.oidcSubject() != null && !role.oidcSubject().equals(subject))) {
      throw new CasError(401, "AuthenticationFail.NoPermission", "There is no permission");
    }
    Map<String, Object> body = issue(role, session, duration);
    Map<String, Object> tokenInfo = new LinkedHashMap<>();
    tokenInfo.put("Subject", subject);
    tokenInfo.put("Issuer", text(claims, "iss"));
    tokenInfo.put("ClientIds", String.join(",", audiences(claims)));
    if (claims.hasNonNull("exp")) {
      tokenInfo.put(
          "ExpirationTime", EXPIRATION.format(Instant.ofEpochSecond(claims.get("exp").asLong())));
    }
    if (claims.hasNonNull("iat")) {
      tokenInfo.put(
          "IssuanceTime", EXPIRATION.format(Instant.ofEpochSecond(claims.get("iat").asLong())));
    }
    tokenInfo.put("VerificationInfo", provider.signingKey() == null ? "Unverified" : "Success");
    body.put("OIDCTokenInfo", tokenInfo);
    return body;
  }

  /** The account a role ARN names, if the role is registered (for counting OIDC calls). */
  String accountOfRole(QueryParameters parameters) {
    return directory
        .role(parameters.get("RoleArn").orElse(null))
        .map(StsDirectory.Role::accountId)
        .orElse(null);
  }

  private Map<String, Object> issue(StsDirectory.Role role, String session, Duration duration) {
    Instant expiration = clock.instant().truncatedTo(ChronoUnit.SECONDS).plus(duration);
    String accessKeyId = "STS." + random(24);
    String secret = random(40);
    String token = "CAIS" + Base64.getEncoder().encodeToString(randomBytes(180));
    accessKeys.add(
        new AccessKeyRegistry.AccessKey(accessKeyId, secret, token, role.accountId(), expiration));

    Map<String, Object> credentials = new LinkedHashMap<>();
    credentials.put("AccessKeyId", accessKeyId);
    credentials.put("AccessKeySecret", secret);
    credentials.put("SecurityToken", token);
    credentials.put("Expiration", EXPIRATION.format(expiration));
    Map<String, Object> user = new LinkedHashMap<>();
    user.put("Arn", role.arn() + "/" + session);
    user.put("AssumedRoleId", role.roleId() + ":" + session);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("AssumedRoleUser", user);
    body.put("Credentials", credentials);
    return body;
  }

  private StsDirectory.Role knownRole(String roleArn) {
    if (StsDirectory.parseRoleArn(roleArn).isEmpty()) {
      throw new CasError(
          400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.");
    }
    return directory
        .role(roleArn)
        .orElseThrow(
            () -> new CasError(404, "EntityNotExist.Role", "The specified Role not exists."));
  }

  private static Duration duration(QueryParameters parameters, StsDirectory.Role role) {
    String text = parameters.get("DurationSeconds").filter(s -> !s.isEmpty()).orElse(null);
    Duration duration;
    if (text == null) {
      duration = StsDirectory.DEFAULT_MAX_SESSION;
    } else {
      try {
        duration = Duration.ofSeconds(Long.parseLong(text.trim()));
      } catch (NumberFormatException e) {
        duration = Duration.ZERO;
      }
    }
    if (duration.compareTo(MIN_DURATION) < 0 || duration.compareTo(role.maxSessionDuration()) > 0) {
      throw new CasError(
          400,
          "InvalidParameter.DurationSeconds",
          "The Min/Max value of DurationSeconds is 15min/"
              + role.maxSessionDuration().toSeconds()
              + "s.");
    }
    return duration;
  }

  private JsonNode verifiedClaims(String token, StsDirectory.OidcProvider provider) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      throw oidcInvalid("The number of Jwt field should be divided into 3 parts with '.' .");
    }
    JsonNode header;
    JsonNode claims;
    try {
      Base64.Decoder decoder = Base64.getUrlDecoder();
      header = JSON.readTree(decoder.decode(parts[0]));
      claims = JSON.readTree(decoder.decode(parts[1]));
    } catch (IllegalArgumentException | java.io.IOException e) {
      throw oidcInvalid("Cannot decode base64 encoded response(format invalided).");
    }
    if (header == null || !header.isObject() || claims == null || !claims.isObject()) {
      throw oidcInvalid("The Jwt content is invalid that cannot be recognized.");
    }
    String algorithm = text(header, "alg");
    if (algorithm == null || algorithm.startsWith("HS") || algorithm.equals("none")) {
      throw oidcInvalid(
          "The algorithm "
              + (algorithm == null ? "" : algorithm.replaceAll("[^A-Za-z0-9]", ""))
              + " that be specified in Jwt header is unknown.");
    }
    if (provider.signingKey() != null) {
      verifySignature(algorithm, parts, provider);
    }
    if (!provider.issuer().equals(text(claims, "iss"))) {
      throw new CasError(401, "AuthenticationFail.OIDCToken.IssuerNotMatch", "Invalid issuer.");
    }
    if (audiences(claims).stream().noneMatch(provider.audiences()::contains)) {
      throw new CasError(401, "AuthenticationFail.OIDCToken.AudienceNotMatch", "Invalid audience.");
    }
    if (!claims.hasNonNull("exp") || !claims.get("exp").canConvertToLong()) {
      throw oidcInvalid("The Jwt content is invalid that cannot be recognized.");
    }
    if (!clock.instant().isBefore(Instant.ofEpochSecond(claims.get("exp").asLong()))) {
      throw new CasError(
          401, "AuthenticationFail.OIDCToken.Expired", "This JsonWebToken is expired.");
    }
    return claims;
  }

  private static void verifySignature(
      String algorithm, String[] parts, StsDirectory.OidcProvider provider) {
    if (!algorithm.equals("RS256") || !(provider.signingKey() instanceof RSAPublicKey)) {
      throw oidcInvalid("The algorithm that be specified in Jwt header is unknown.");
    }
    boolean valid;
    try {
      Signature verifier = Signature.getInstance("SHA256withRSA");
      verifier.initVerify(provider.signingKey());
      verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      valid = verifier.verify(Base64.getUrlDecoder().decode(parts[2]));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      valid = false;
    }
    if (!valid) {
      throw new CasError(
          401,
          "AuthenticationFail.OIDCToken.InvalidSignature",
          "OIDC token validate failed: invalid signature.");
    }
  }

  private static List<String> audiences(JsonNode claims) {
    List<String> audiences = new ArrayList<>();
    JsonNode aud = claims.get("aud");
    if (aud != null && aud.isTextual()) {
      audiences.add(aud.asText());
    } else if (aud != null && aud.isArray()) {
      aud.forEach(a -> audiences.add(a.asText()));
    }
    return audiences;
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || !value.isTextual() ? null : value.asText();
  }

  private static String required(QueryParameters parameters, String name) {
    String value = parameters.get(name).filter(v -> !v.isBlank()).orElse(null);
    if (value == null) {
      throw CasError.missing(name);
    }
    return value;
  }

  private static CasError noPermission() {
    return new CasError(
        403,
        "NoPermission",
        "You are not authorized to do this action. You should be authorized by RAM.");
  }

  private static CasError oidcInvalid(String message) {
    return new CasError(401, "AuthenticationFail.OIDCToken.Invalid", message);
  }

  private static String random(int length) {
    StringBuilder text = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      text.append(ALPHANUMERIC.charAt(RANDOM.nextInt(ALPHANUMERIC.length())));
    }
    return text.toString();
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
