package dev.aliyuncsr.operator.certificate;

import java.util.List;
import java.util.Locale;

/**
 * Which names lie inside the DNS zones an administrator allows for published validation records: a
 * published record proves control of a name, so one tenant must not publish for another's. A name
 * is inside a zone when it equals it or ends with "." + the zone (labels, not characters: shop.
 * example.com is inside example.com, myexample.com is not), case-insensitively, trailing dots
 * ignored.
 */
public final class DnsZones {
  private DnsZones() {}

  /** The names that lie in none of the zones, in order; empty when all are allowed. */
  public static List<String> outside(List<String> names, List<String> zones) {
    return names.stream().filter(name -> !inside(name, zones)).toList();
  }

  static boolean inside(String name, List<String> zones) {
    String n = normal(name);
    if (n.isEmpty()) {
      return false;
    }
    for (String zone : zones == null ? List.<String>of() : zones) {
      String z = normal(zone);
      if (!z.isEmpty() && (n.equals(z) || n.endsWith("." + z))) {
        return true;
      }
    }
    return false;
  }

  /** A wildcard is validated at the name under it (*.x.example.com at x.example.com). */
  public static String validatedName(String domain) {
    return domain.startsWith("*.") ? domain.substring(2) : domain;
  }

  private static String normal(String name) {
    String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
    while (n.endsWith(".")) {
      n = n.substring(0, n.length() - 1);
    }
    return n;
  }
}
