package dev.aliyuncsr.operator.emulator;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The ACS3-HMAC-SHA256 canonical request (reference §4.3 step 5). The header map holds exactly the
 * signed headers, lower-case names to values; a verifier builds it from the names in SignedHeaders
 * only, never from all received headers.
 */
public record CanonicalRequest(
    String method,
    String path,
    QueryParameters query,
    SortedMap<String, String> signedHeaders,
    String hashedPayload) {

  public CanonicalRequest {
    signedHeaders = new TreeMap<>(signedHeaders);
  }

  /** {@code host;x-acs-action;...}: the signed header names, sorted, joined with ';'. */
  public String signedHeaderNames() {
    return String.join(";", signedHeaders.keySet());
  }

  public String text() {
    StringBuilder text = new StringBuilder(512);
    text.append(method).append('\n');
    text.append(path).append('\n');
    text.append(query.canonical()).append('\n');
    for (Map.Entry<String, String> header : signedHeaders.entrySet()) {
      text.append(header.getKey()).append(':').append(header.getValue().trim()).append('\n');
    }
    text.append('\n');
    text.append(signedHeaderNames()).append('\n');
    text.append(hashedPayload);
    return text.toString();
  }

  /** Its hash only: the text holds the query (a private key) and any STS token. */
  @Override
  public String toString() {
    return "CanonicalRequest[" + method + " " + path + ", sha256=" + sha256Hex() + "]";
  }

  public String sha256Hex() {
    return Acs3Signature.sha256Hex(text());
  }
}
