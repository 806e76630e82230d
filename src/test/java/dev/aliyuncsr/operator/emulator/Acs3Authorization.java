package dev.aliyuncsr.operator.emulator;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The parsed {@code Authorization: ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..}
 * header. {@code signedHeaders} is the raw ';'-separated list as sent.
 */
public record Acs3Authorization(String credential, String signedHeaders, String signature) {

  /** Empty when the header is absent, of another algorithm, or lacks one of the three parts. */
  public static Optional<Acs3Authorization> parse(String headerValue) {
    if (headerValue == null) {
      return Optional.empty();
    }
    String value = headerValue.trim();
    String prefix = Acs3Signature.ALGORITHM + " ";
    if (!value.startsWith(prefix)) {
      return Optional.empty();
    }
    String credential = null;
    String signedHeaders = null;
    String signature = null;
    for (String part : value.substring(prefix.length()).split(",")) {
      int equals = part.indexOf('=');
      if (equals <= 0) {
        return Optional.empty();
      }
      String name = part.substring(0, equals).trim();
      String partValue = part.substring(equals + 1).trim();
      switch (name) {
        case "Credential" -> credential = partValue;
        case "SignedHeaders" -> signedHeaders = partValue;
        case "Signature" -> signature = partValue;
        default -> {
          return Optional.empty();
        }
      }
    }
    if (isBlank(credential) || isBlank(signedHeaders) || isBlank(signature)) {
      return Optional.empty();
    }
    return Optional.of(new Acs3Authorization(credential, signedHeaders, signature));
  }

  /** The signed header names, lower-cased, in the order sent. */
  public List<String> signedHeaderNames() {
    return Arrays.stream(signedHeaders.split(";"))
        .map(name -> name.trim().toLowerCase(Locale.ROOT))
        .filter(name -> !name.isEmpty())
        .toList();
  }

  public String headerValue() {
    return Acs3Signature.ALGORITHM
        + " Credential="
        + credential
        + ",SignedHeaders="
        + signedHeaders
        + ",Signature="
        + signature;
  }

  private static boolean isBlank(String text) {
    return text == null || text.isBlank();
  }
}
