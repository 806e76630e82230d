package dev.aliyuncsr.operator.emulator;

/**
 * One item of GetInstanceDetail's {@code DomainValidationList} (cas-instance-api.md §4).
 *
 * @param domain the listed name, a wildcard as listed ({@code *.x.example.com})
 * @param validationType {@code TXT} or {@code HTTP}
 * @param validationKey DNS: the host record relative to {@code rootDomain} ({@code _dnsauth},
 *     {@code _dnsauth.shop}); HTTP: the URL path of the file
 * @param validationValue an opaque token, different for every name
 * @param cname empty: delegated validation is not emulated
 * @param cnameKey empty, as {@code cname}
 */
public record ValidationRecord(
    String domain,
    String rootDomain,
    String validationType,
    String validationKey,
    String validationValue,
    String cname,
    String cnameKey) {

  /** The full DNS name a TXT record must be written at. */
  public String recordName() {
    return validationKey + "." + rootDomain;
  }
}
