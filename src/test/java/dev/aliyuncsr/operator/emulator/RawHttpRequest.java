package dev.aliyuncsr.operator.emulator;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 request as it came off the wire. The raw query is kept undecoded because the
 * signature is computed over its decoded-then-re-encoded form; it carries the private key, so it
 * must never be logged.
 */
record RawHttpRequest(
    String method,
    String path,
    String rawQuery,
    String protocolVersion,
    Map<String, List<String>> headers,
    byte[] body) {

  RawHttpRequest {
    headers = Map.copyOf(headers);
  }

  /** The first value of a header, by case-insensitive name, or null. */
  String header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  boolean hasHeader(String name) {
    return headers.containsKey(name.toLowerCase(Locale.ROOT));
  }

  /** Method and path only: the query and headers carry the private key and the STS token. */
  @Override
  public String toString() {
    return "RawHttpRequest[" + method + " " + path + "]";
  }

  boolean wantsKeepAlive() {
    String connection = header("connection");
    if (connection != null && connection.equalsIgnoreCase("close")) {
      return false;
    }
    if ("HTTP/1.0".equals(protocolVersion)) {
      return connection != null && connection.equalsIgnoreCase("keep-alive");
    }
    return true;
  }
}
