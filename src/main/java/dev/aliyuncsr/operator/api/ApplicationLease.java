package dev.aliyuncsr.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/**
 * Who may call ApplyCertificate for this resource, and until when. Written before the call, fenced
 * on resourceVersion, so two live operator processes never apply at once; it outlives the longest
 * the call can be in flight, and is kept after an answer that does not prove nothing was applied,
 * so nobody reads the instance and applies again while the first request may still land.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApplicationLease {
  @JsonPropertyDescription("The operator process holding the lease: pod name and process id.")
  private String holder;

  @JsonPropertyDescription(
      "A token unique to this acquisition; the result is written only with it.")
  private String token;

  @JsonPropertyDescription("When the lease ends, RFC 3339 with milliseconds.")
  private String expiresAt;

  public ApplicationLease() {}

  public ApplicationLease(String holder, String token, String expiresAt) {
    this.holder = holder;
    this.token = token;
    this.expiresAt = expiresAt;
  }

  public String getHolder() {
    return holder;
  }

  public void setHolder(String holder) {
    this.holder = holder;
  }

  public String getToken() {
    return token;
  }

  public void setToken(String token) {
    this.token = token;
  }

  public String getExpiresAt() {
    return expiresAt;
  }

  public void setExpiresAt(String expiresAt) {
    this.expiresAt = expiresAt;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ApplicationLease l
        && Objects.equals(holder, l.holder)
        && Objects.equals(token, l.token)
        && Objects.equals(expiresAt, l.expiresAt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(holder, token);
  }
}
