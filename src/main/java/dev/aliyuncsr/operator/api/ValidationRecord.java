package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** One domain validation record CAS waits for (GetInstanceDetail.DomainValidationList). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ValidationRecord {
  @JsonPropertyDescription("The domain being validated.")
  private String domain;

  @JsonPropertyDescription("The registered domain (zone apex) CAS validates it under.")
  private String rootDomain;

  @JsonPropertyDescription("TXT (a DNS record), CNAME or HTTP (a file), as CAS sent it.")
  private String type;

  @JsonPropertyDescription(
      "The host record as CAS sent it, relative to rootDomain (e.g. _dnsauth.shop); for HTTP, the"
          + " URL path of the file.")
  private String key;

  @JsonPropertyDescription(
      "Where to create it: the full DNS name (key + \".\" + rootDomain), or for HTTP the full URL.")
  private String recordName;

  @JsonPropertyDescription(
      "What the record (or the file) must contain, exactly; it may differ per domain.")
  private String value;

  public ValidationRecord() {}

  public ValidationRecord(
      String domain, String rootDomain, String type, String key, String recordName, String value) {
    this.domain = domain;
    this.rootDomain = rootDomain;
    this.type = type;
    this.key = key;
    this.recordName = recordName;
    this.value = value;
  }

  public String getDomain() {
    return domain;
  }

  public void setDomain(String domain) {
    this.domain = domain;
  }

  public String getRootDomain() {
    return rootDomain;
  }

  public void setRootDomain(String rootDomain) {
    this.rootDomain = rootDomain;
  }

  public String getType() {
    return type;
  }

  public void setType(String type) {
    this.type = type;
  }

  public String getKey() {
    return key;
  }

  public void setKey(String key) {
    this.key = key;
  }

  public String getRecordName() {
    return recordName;
  }

  public void setRecordName(String recordName) {
    this.recordName = recordName;
  }

  public String getValue() {
    return value;
  }

  public void setValue(String value) {
    this.value = value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ValidationRecord r
        && Objects.equals(domain, r.domain)
        && Objects.equals(rootDomain, r.rootDomain)
        && Objects.equals(type, r.type)
        && Objects.equals(key, r.key)
        && Objects.equals(recordName, r.recordName)
        && Objects.equals(value, r.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(domain, type, recordName, value);
  }

  @Override
  public String toString() {
    return type + " " + recordName + " = " + value;
  }
}
