package dev.aliyuncsr.operator.api;

/** How CAS's CA checks that the applicant controls each domain. */
public enum ValidationMethod {
  /** A TXT record at a name CAS gives (_dnsauth under the domain). Wildcard names need it. */
  DNS,
  /** A file CAS gives, served over HTTP by each domain. */
  HTTP
}
