package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.ValidationRecord;
import dev.aliyuncsr.operator.cloud.CasInstances.DomainValidation;
import java.util.List;
import java.util.Locale;

/**
 * CAS's DomainValidationList as status.validation, with the full name (or URL) each record goes to
 * (contract §4), and a message that tells a person what to create where.
 */
public final class ValidationRecords {
  private ValidationRecords() {}

  public static List<ValidationRecord> of(List<DomainValidation> items) {
    return items == null ? List.of() : items.stream().map(ValidationRecords::of).toList();
  }

  static ValidationRecord of(DomainValidation item) {
    return new ValidationRecord(
        item.domain(),
        item.rootDomain(),
        item.validationType(),
        item.validationKey(),
        recordName(item),
        item.validationValue());
  }

  /**
   * DNS: the host record is relative to the root domain (as AliDNS writes records), unless CAS sent
   * the full name already. HTTP: the key is the URL path on the domain, unless it is a URL already.
   */
  static String recordName(DomainValidation item) {
    String key = item.validationKey() == null ? "" : item.validationKey().strip();
    if (isHttp(item)) {
      if (key.startsWith("http://") || key.startsWith("https://")) {
        return key;
      }
      return "http://" + item.domain() + (key.startsWith("/") ? key : "/" + key);
    }
    String root = trimDot(item.rootDomain() == null ? "" : item.rootDomain().strip());
    String name = trimDot(key);
    if (root.isEmpty()
        || name.equalsIgnoreCase(root)
        || name.toLowerCase(Locale.ROOT).endsWith("." + root.toLowerCase(Locale.ROOT))) {
      return name;
    }
    return name.isEmpty() ? root : name + "." + root;
  }

  static boolean isHttp(DomainValidation item) {
    return "HTTP".equalsIgnoreCase(item.validationType());
  }

  /** What to create where, one record after the other. */
  public static String message(List<ValidationRecord> records) {
    StringBuilder out = new StringBuilder("CAS waits for domain validation: ");
    for (int i = 0; i < records.size(); i++) {
      ValidationRecord r = records.get(i);
      if (i > 0) {
        out.append("; ");
      }
      if ("HTTP".equalsIgnoreCase(r.getType())) {
        out.append("serve ")
            .append(r.getRecordName())
            .append(" with exactly the content \"")
            .append(r.getValue())
            .append("\"");
      } else {
        out.append("create a ")
            .append(r.getType())
            .append(" record ")
            .append(r.getRecordName())
            .append(" with the value \"")
            .append(r.getValue())
            .append("\"");
      }
    }
    return out.append(" (status.validation lists them)").toString();
  }

  /** The DNS names of the records a DNSEndpoint would publish: TXT records only. */
  public static List<ValidationRecord> dnsRecords(List<ValidationRecord> records) {
    return records.stream().filter(r -> "TXT".equalsIgnoreCase(r.getType())).toList();
  }

  private static String trimDot(String name) {
    return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
  }
}
