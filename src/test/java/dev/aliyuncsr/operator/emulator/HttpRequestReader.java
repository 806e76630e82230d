package dev.aliyuncsr.operator.emulator;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads HTTP/1.1 requests from a connection: request line, headers, and a body framed by
 * Content-Length or chunked transfer coding (the SDK always sends an empty chunked body).
 */
final class HttpRequestReader {
  /** The SDK puts CSR and private key into the query; a 4096-bit pair is about 6 KB. */
  private static final int MAX_LINE = 256 * 1024;

  private static final int MAX_HEADERS = 200;
  private static final int MAX_BODY = 4 * 1024 * 1024;

  /** Thrown for bytes that are not an HTTP/1.x request; the connection is then answered 400. */
  static final class MalformedRequestException extends IOException {
    MalformedRequestException(String message) {
      super(message);
    }
  }

  private final InputStream in;

  HttpRequestReader(InputStream in) {
    this.in = in;
  }

  /** The next request, or null when the peer closed the connection between requests. */
  RawHttpRequest next() throws IOException {
    String requestLine = readLine(true);
    while (requestLine != null && requestLine.isEmpty()) {
      requestLine = readLine(true); // RFC 9112 §2.2: ignore empty lines before a request
    }
    if (requestLine == null) {
      return null;
    }
    String[] parts = requestLine.split(" ", -1);
    if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
      throw new MalformedRequestException("bad request line");
    }
    String target = parts[1];
    int question = target.indexOf('?');
    String path = question < 0 ? target : target.substring(0, question);
    String rawQuery = question < 0 ? "" : target.substring(question + 1);

    Map<String, List<String>> headers = readHeaders();
    byte[] body = readBody(headers);
    return new RawHttpRequest(parts[0], path, rawQuery, parts[2], headers, body);
  }

  private Map<String, List<String>> readHeaders() throws IOException {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (int count = 0; ; count++) {
      String line = readLine(false);
      if (line.isEmpty()) {
        return headers;
      }
      if (count >= MAX_HEADERS) {
        throw new MalformedRequestException("too many headers");
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new MalformedRequestException("bad header line");
      }
      String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).trim();
      headers.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
    }
  }

  private byte[] readBody(Map<String, List<String>> headers) throws IOException {
    List<String> transferEncoding = headers.get("transfer-encoding");
    if (transferEncoding != null
        && transferEncoding
            .get(transferEncoding.size() - 1)
            .toLowerCase(Locale.ROOT)
            .endsWith("chunked")) {
      return readChunkedBody();
    }
    List<String> contentLength = headers.get("content-length");
    if (contentLength == null) {
      return new byte[0];
    }
    long length;
    try {
      length = Long.parseLong(contentLength.get(0));
    } catch (NumberFormatException e) {
      throw new MalformedRequestException("bad Content-Length");
    }
    if (length < 0 || length > MAX_BODY) {
      throw new MalformedRequestException("bad Content-Length");
    }
    return readExactly((int) length);
  }

  private byte[] readChunkedBody() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine(false);
      int extension = sizeLine.indexOf(';');
      String hex = (extension < 0 ? sizeLine : sizeLine.substring(0, extension)).trim();
      int size;
      try {
        size = Integer.parseInt(hex, 16);
      } catch (NumberFormatException e) {
        throw new MalformedRequestException("bad chunk size");
      }
      if (size < 0 || body.size() + (long) size > MAX_BODY) {
        throw new MalformedRequestException("chunk too large");
      }
      if (size == 0) {
        while (!readLine(false).isEmpty()) {
          // trailer fields carry nothing the emulator needs
        }
        return body.toByteArray();
      }
      body.write(readExactly(size));
      if (!readLine(false).isEmpty()) {
        throw new MalformedRequestException("chunk not followed by CRLF");
      }
    }
  }

  private byte[] readExactly(int length) throws IOException {
    byte[] bytes = in.readNBytes(length);
    if (bytes.length != length) {
      throw new EOFException("connection closed inside a request body");
    }
    return bytes;
  }

  /**
   * One CRLF- (or LF-) terminated line as ISO-8859-1. At the start of a request, end of stream
   * means the peer is done (null); anywhere else it is an error.
   */
  private String readLine(boolean endOfStreamAllowed) throws IOException {
    StringBuilder line = new StringBuilder(128);
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (endOfStreamAllowed && line.length() == 0) {
          return null;
        }
        throw new EOFException("connection closed inside a request");
      }
      if (b == '\n') {
        int end = line.length();
        if (end > 0 && line.charAt(end - 1) == '\r') {
          line.setLength(end - 1);
        }
        return line.toString();
      }
      if (line.length() >= MAX_LINE) {
        throw new MalformedRequestException("line too long");
      }
      line.append((char) b);
    }
  }
}
