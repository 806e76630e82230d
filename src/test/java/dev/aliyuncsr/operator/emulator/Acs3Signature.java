package dev.aliyuncsr.operator.emulator;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** ACS3-HMAC-SHA256 signing exactly as openapiutil 0.2.1 does it (reference §4.3). */
public final class Acs3Signature {
  public static final String ALGORITHM = "ACS3-HMAC-SHA256";

  /** SHA-256 of the empty body, which is what every CSR call carries. */
  public static final String EMPTY_BODY_SHA256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  private Acs3Signature() {}

  /** {@code ACS3-HMAC-SHA256\n} + hex SHA-256 of the canonical request. */
  public static String stringToSign(CanonicalRequest request) {
    return ALGORITHM + "\n" + request.sha256Hex();
  }

  /** Lower-case hex HMAC-SHA256 of the string to sign, keyed with the secret as is. */
  public static String sign(String accessKeySecret, CanonicalRequest request) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(accessKeySecret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of()
          .formatHex(mac.doFinal(stringToSign(request).getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  /** The Authorization header value the SDK would send for this request. */
  public static String authorization(
      String accessKeyId, String accessKeySecret, CanonicalRequest request) {
    return new Acs3Authorization(
            accessKeyId, request.signedHeaderNames(), sign(accessKeySecret, request))
        .headerValue();
  }

  public static String sha256Hex(String text) {
    return sha256Hex(text.getBytes(StandardCharsets.UTF_8));
  }

  public static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
