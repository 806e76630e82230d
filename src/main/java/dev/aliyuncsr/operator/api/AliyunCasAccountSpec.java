package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** An Alibaba Cloud account (or RAM role) that AliyunCsrs of selected namespaces upload into. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AliyunCasAccountSpec {
  @Required
  @JsonPropertyDescription(
      "How the operator signs in: exactly one of accessKeySecretRef, rrsa and assumeRole.")
  private AccountCredentials credentials;

  @Default("cas.aliyuncs.com")
  @JsonPropertyDescription(
      "CAS endpoint; cas.ap-southeast-1.aliyuncs.com for the international site.")
  private String endpoint;

  @Default("cn-hangzhou")
  @JsonPropertyDescription("Region of the CAS endpoint.")
  private String region;

  @Default("HTTPS")
  @Pattern("^(HTTPS|HTTP)$")
  @JsonPropertyDescription(
      "HTTPS; HTTP only for a local emulator (the private key travels in the query string).")
  private String protocol;

  @Default("5")
  @Min(0.01)
  @Max(100)
  @JsonPropertyDescription(
      "CAS calls per second for this account (Alibaba allows UploadCsr 10/s per account).")
  private Double qps;

  @Default("4")
  @Min(1)
  @JsonPropertyDescription("CAS calls in flight at once for this account.")
  private Integer maxConcurrency;

  @Required
  @JsonPropertyDescription(
      "The namespaces that may use this account. Required, and an empty selector selects nothing: using an account is an explicit grant.")
  private AccountNamespaceSelector namespaceSelector;

  @JsonPropertyDescription(
      "What AliyunCertificates using this account may apply for and publish: the instances"
          + " (absent: any) and the DNS zones for external-dns validation records (none by"
          + " default).")
  private AccountIssuance issuance;

  public AccountCredentials getCredentials() {
    return credentials;
  }

  public void setCredentials(AccountCredentials credentials) {
    this.credentials = credentials;
  }

  public String getEndpoint() {
    return endpoint;
  }

  public void setEndpoint(String endpoint) {
    this.endpoint = endpoint;
  }

  public String getRegion() {
    return region;
  }

  public void setRegion(String region) {
    this.region = region;
  }

  public String getProtocol() {
    return protocol;
  }

  public void setProtocol(String protocol) {
    this.protocol = protocol;
  }

  public Double getQps() {
    return qps;
  }

  public void setQps(Double qps) {
    this.qps = qps;
  }

  public Integer getMaxConcurrency() {
    return maxConcurrency;
  }

  public void setMaxConcurrency(Integer maxConcurrency) {
    this.maxConcurrency = maxConcurrency;
  }

  public AccountNamespaceSelector getNamespaceSelector() {
    return namespaceSelector;
  }

  public void setNamespaceSelector(AccountNamespaceSelector namespaceSelector) {
    this.namespaceSelector = namespaceSelector;
  }

  public AccountIssuance getIssuance() {
    return issuance;
  }

  public void setIssuance(AccountIssuance issuance) {
    this.issuance = issuance;
  }
}
