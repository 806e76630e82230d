package dev.aliyuncsr.operator.emulator;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Makes the validation records of an application, one per name (cas-instance-api.md §4). The exact
 * formats are UNCONFIRMED; these follow AliDNS host records and DigiCert-style tokens.
 */
final class ValidationRecords {
  static final String DNS_HOST_LABEL = "_dnsauth";
  static final String HTTP_PATH = "/.well-known/pki-validation/fileauth.txt";

  private static final DateTimeFormatter TOKEN_PREFIX =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss", Locale.ROOT).withZone(ZoneOffset.UTC);

  private final SecureRandom random = new SecureRandom();

  /** {@code validationMethod} is {@code DNS} or {@code HTTP}; every name gets its own token. */
  List<ValidationRecord> forNames(List<String> names, String validationMethod, Instant now) {
    return names.stream().map(name -> forName(name, validationMethod, now)).toList();
  }

  private ValidationRecord forName(String name, String validationMethod, Instant now) {
    String root = DomainNames.rootDomain(name);
    String token = TOKEN_PREFIX.format(now) + HexFormat.of().formatHex(randomBytes(20));
    if (validationMethod.equals("HTTP")) {
      return new ValidationRecord(name, root, "HTTP", HTTP_PATH, token, "", "");
    }
    String validated = DomainNames.validatedName(name);
    String below = validated.substring(0, validated.length() - root.length());
    String key =
        below.isEmpty() ? DNS_HOST_LABEL : DNS_HOST_LABEL + "." + below.replaceAll("\\.$", "");
    return new ValidationRecord(name, root, "TXT", key, token, "", "");
  }

  private byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    random.nextBytes(bytes);
    return bytes;
  }
}
