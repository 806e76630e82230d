package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/**
 * What the AliyunCertificates of the selected namespaces may spend and publish: instances are paid
 * for, and a published validation record proves control of a name, so neither is left to tenants.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AccountIssuance {
  @JsonPropertyDescription(
      "The certificate instances AliyunCertificates may apply for with this account. Absent: any"
          + " instance; an empty list: none. Another instance ends in InstanceNotAllowed, with no"
          + " call to CAS.")
  private List<String> instanceIds;

  @JsonPropertyDescription(
      "The DNS zones (e.g. example.com) inside which validation records may be published as an"
          + " external-dns DNSEndpoint (spec.externalDns). A name matches a zone equal to it or"
          + " ending in \".\" + the zone, case-insensitively. None by default: an AliyunCertificate"
          + " with externalDns and a name outside them ends in DnsZoneNotAllowed, with no call.")
  private List<String> dnsZones;

  public List<String> getInstanceIds() {
    return instanceIds;
  }

  public void setInstanceIds(List<String> instanceIds) {
    this.instanceIds = instanceIds;
  }

  public List<String> getDnsZones() {
    return dnsZones;
  }

  public void setDnsZones(List<String> dnsZones) {
    this.dnsZones = dnsZones;
  }
}
