package dev.aliyuncsr.operator.emulator;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The names of an instance application: their syntax, the root domain each is validated under, and
 * whether they fit what the instance was bought for (cas-instance-api.md §3.1, §4).
 */
final class DomainNames {
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  /**
   * Registrable suffixes of two labels that the emulator knows. The real service uses a public
   * suffix list (UNCONFIRMED which); these cover the names tests use, the rest take the last two
   * labels as the root domain.
   */
  private static final Set<String> TWO_LABEL_SUFFIXES =
      Set.of(
          "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn", "com.hk", "com.tw", "com.sg",
          "co.uk", "org.uk", "ac.uk", "com.au", "net.au", "co.jp", "co.kr", "co.nz", "com.br");

  private DomainNames() {}

  /**
   * The names of a comma-separated {@code Domain}, lower-cased, in order, without repeats; {@code
   * InvalidParameter.Domain} for a name that is not a host name of two labels or more (a leading
   * {@code *.} allowed).
   */
  static List<String> parse(String commaSeparated) {
    List<String> names = new ArrayList<>();
    for (String part : commaSeparated.split(",", -1)) {
      names.add(part.trim());
    }
    return checked(names);
  }

  /** The same checks for names from a CSR (CN first, then its DNS SANs). */
  static List<String> checked(List<String> candidates) {
    Set<String> names = new LinkedHashSet<>();
    for (String candidate : candidates) {
      String name = candidate.toLowerCase(Locale.ROOT);
      if (!isHostName(name)) {
        throw CasError.invalidParameter("Domain", "every name must be a DNS host name");
      }
      names.add(name);
    }
    if (names.isEmpty()) {
      throw CasError.invalidParameter("Domain", "no names");
    }
    return List.copyOf(names);
  }

  static boolean isWildcard(String name) {
    return name.startsWith("*.");
  }

  /**
   * The name whose control is proven: a wildcard {@code *.x.example.com} at {@code x.example.com}.
   */
  static String validatedName(String name) {
    return isWildcard(name) ? name.substring(2) : name;
  }

  /** The registrable domain: {@code example.com} for {@code shop.example.com}. */
  static String rootDomain(String name) {
    String[] labels = validatedName(name).split("\\.");
    int n = labels.length;
    String lastTwo = labels[n - 2] + "." + labels[n - 1];
    if (n >= 3 && TWO_LABEL_SUFFIXES.contains(lastTwo)) {
      return labels[n - 3] + "." + lastTwo;
    }
    return lastTwo;
  }

  /**
   * {@code InvalidParameter.Domain} unless the exact names fit {@code fullDomainCount} and the
   * wildcards {@code wildcardDomainCount}. A {@code www.} twin of another listed name is free, the
   * usual single-domain DV rule (UNCONFIRMED for CAS).
   */
  static void requireWithin(List<String> names, int fullDomainCount, int wildcardDomainCount) {
    int exact = 0;
    int wildcards = 0;
    for (String name : names) {
      if (isWildcard(name)) {
        wildcards++;
      } else if (!(name.startsWith("www.") && names.contains(name.substring(4)))) {
        exact++;
      }
    }
    if (exact > fullDomainCount || wildcards > wildcardDomainCount) {
      throw CasError.invalidParameter(
          "Domain",
          "the instance allows "
              + fullDomainCount
              + " exact and "
              + wildcardDomainCount
              + " wildcard names");
    }
  }

  private static boolean isHostName(String name) {
    String host = validatedName(name);
    String[] labels = host.split("\\.", -1);
    if (labels.length < 2 || host.length() > 253) {
      return false;
    }
    for (String label : labels) {
      if (!LABEL.matcher(label).matches()) {
        return false;
      }
    }
    // The top-level label is never all digits: that would be an IP address.
    return !labels[labels.length - 1].chars().allMatch(Character::isDigit);
  }
}
