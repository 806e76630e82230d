package dev.aliyuncsr.operator.emulator;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The decoded query string of a request. The SDK encodes it with {@code URLEncoder} (form encoding,
 * '+' for space), so it is form-decoded here and re-encoded per RFC 3986 for signing.
 */
public final class QueryParameters {

  /** One decoded name=value pair. */
  public record Parameter(String name, String value) {
    /** The name only: a value may be a private key. */
    @Override
    public String toString() {
      return name + "=<redacted>";
    }
  }

  private final List<Parameter> parameters;

  private QueryParameters(List<Parameter> parameters) {
    this.parameters = List.copyOf(parameters);
  }

  public static QueryParameters of(List<Parameter> parameters) {
    return new QueryParameters(parameters);
  }

  /**
   * Parses a raw query such as {@code a=1&b=x+y}. Throws {@link IllegalArgumentException} with a
   * message that never repeats the query (it may carry a private key).
   */
  public static QueryParameters parse(String rawQuery) {
    List<Parameter> parameters = new ArrayList<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return new QueryParameters(parameters);
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int equals = pair.indexOf('=');
      String name = equals < 0 ? pair : pair.substring(0, equals);
      String value = equals < 0 ? "" : pair.substring(equals + 1);
      parameters.add(new Parameter(formDecode(name), formDecode(value)));
    }
    return new QueryParameters(parameters);
  }

  @Override
  public String toString() {
    return "QueryParameters" + parameters;
  }

  /** The value of the last parameter with that name. */
  public Optional<String> get(String name) {
    String found = null;
    for (Parameter parameter : parameters) {
      if (parameter.name().equals(name)) {
        found = parameter.value();
      }
    }
    return Optional.ofNullable(found);
  }

  public List<Parameter> asList() {
    return parameters;
  }

  /**
   * The ACS3 canonical query: sorted by name (then value, for repeated names), each side RFC
   * 3986-encoded, joined with '&'; an empty value still gives {@code name=}.
   */
  public String canonical() {
    return parameters.stream()
        .sorted(Comparator.comparing(Parameter::name).thenComparing(Parameter::value))
        .map(p -> percentEncode(p.name()) + "=" + percentEncode(p.value()))
        .collect(Collectors.joining("&"));
  }

  /** RFC 3986 encoding (unreserved: A-Z a-z 0-9 - _ . ~), as openapiutil computes it. */
  public static String percentEncode(String text) {
    return java.net.URLEncoder.encode(text, StandardCharsets.UTF_8)
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~");
  }

  private static String formDecode(String text) {
    try {
      return URLDecoder.decode(text, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      // URLDecoder's message quotes the input; do not pass it on.
      throw new IllegalArgumentException("malformed percent-encoding in the query string");
    }
  }
}
