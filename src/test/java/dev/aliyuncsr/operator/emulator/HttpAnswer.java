package dev.aliyuncsr.operator.emulator;

import java.util.Map;

/** What the emulator does with one request: answer it, or drop the connection without a byte. */
sealed interface HttpAnswer {

  /** A complete HTTP response. */
  record Respond(int status, String contentType, Map<String, String> headers, byte[] body)
      implements HttpAnswer {
    public Respond {
      headers = Map.copyOf(headers);
    }
  }

  /**
   * Close the TCP connection without writing anything: the caller sees "unexpected end of stream"
   * although the request was processed.
   */
  record DropConnection() implements HttpAnswer {}

  static HttpAnswer drop() {
    return new DropConnection();
  }
}
