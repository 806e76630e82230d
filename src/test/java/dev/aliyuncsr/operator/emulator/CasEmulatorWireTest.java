package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aliyuncsr.operator.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The emulator on the wire, with hand-made requests on raw sockets: what a lost response looks like
 * byte for byte, and the signature checks an SDK would never trip.
 */
class CasEmulatorWireTest {
  private static final String AK = "wireKeyId";
  private static final String SECRET = "wireKeySecret";
  private static final ObjectMapper JSON = new ObjectMapper();

  private CasEmulator emulator;

  @BeforeEach
  void start() {
    emulator = CasEmulator.builder().accessKey(AK, SECRET).build().start();
  }

  @AfterEach
  void stop() {
    emulator.close();
  }

  @Test
  void lostResponseClosesTheConnectionWithoutAByteAfterStoring() throws Exception {
    emulator.loseNextResponses("UploadCsr", 1);
    String csrPem = TestPki.ecCsr("secp256r1", "lost.example.org").csrPem();
    WireRequest upload = new WireRequest("UploadCsr").param("Csr", csrPem).param("Name", "lost");

    try (Socket socket = connect()) {
      socket.getOutputStream().write(upload.bytes(emulator.endpoint()));
      socket.getOutputStream().flush();

      assertThat(socket.getInputStream().readAllBytes()).as("no response bytes at all").isEmpty();
    }
    assertThat(emulator.csrs()).singleElement().extracting(StoredCsr::name).isEqualTo("lost");
    assertThat(emulator.calls("UploadCsr", "LostResponse")).isEqualTo(1);

    // OkHttp's silent re-send is this very request again: refused, and nothing more is stored.
    Reply replay = send(upload);
    assertThat(replay.status()).isEqualTo(400);
    assertThat(replay.code()).isEqualTo("SignatureNonceUsed");
    assertThat(emulator.csrs()).hasSize(1);
  }

  @Test
  void keepAliveServesManyRequestsOnOneConnection() throws Exception {
    try (Socket socket = connect()) {
      for (int i = 0; i < 5; i++) {
        socket.getOutputStream().write(new WireRequest("ListCsr").bytes(emulator.endpoint()));
        socket.getOutputStream().flush();
        Reply reply = Reply.read(socket.getInputStream());
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.headers()).containsEntry("content-type", "application/json;charset=utf-8");
        assertThat(reply.json().get("TotalCount").asLong()).isZero();
        assertThat(reply.json().get("RequestId").asText())
            .isEqualTo(reply.headers().get("x-acs-request-id"));
      }
    }
    assertThat(emulator.calls("ListCsr", "OK")).isEqualTo(5);
  }

  @Test
  void errorBodiesHaveTheGatewayShapeAndNeverEchoTheQuery() throws Exception {
    WireRequest request =
        new WireRequest("UploadCsr").param("Csr", "secret-looking-value").param("Key", "k3y");
    request.secret = "wrong";

    Reply reply = send(request);

    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.headers()).containsEntry("content-type", "application/json;charset=utf-8");
    JsonNode body = reply.json();
    assertThat(body.fieldNames())
        .toIterable()
        .containsExactly("RequestId", "HostId", "Code", "Message", "Recommend");
    assertThat(body.get("Code").asText()).isEqualTo("SignatureDoesNotMatch");
    assertThat(body.get("HostId").asText()).isEqualTo(emulator.endpoint());
    assertThat(body.get("RequestId").asText()).matches("[0-9A-F-]{36}");
    assertThat(reply.body()).doesNotContain("secret-looking-value").doesNotContain("k3y");
  }

  @Test
  void bodyNotMatchingItsHashIsASignatureMismatch() throws Exception {
    WireRequest request = new WireRequest("ListCsr");
    request.body = "tampered";
    request.bodyHashOverride = Acs3Signature.EMPTY_BODY_SHA256;

    assertThat(send(request).code()).isEqualTo("SignatureDoesNotMatch");
  }

  @Test
  void bodyWithContentLengthAndItsRightHashIsAccepted() throws Exception {
    WireRequest request = new WireRequest("ListCsr");
    request.body = "{}";
    request.chunked = false;

    assertThat(send(request).status()).isEqualTo(200);
  }

  @Test
  void missingOrGarbledAuthorizationIsAnIncompleteSignature() throws Exception {
    WireRequest missing = new WireRequest("ListCsr");
    missing.authorizationOverride = "";
    WireRequest garbled = new WireRequest("ListCsr");
    garbled.authorizationOverride = "ACS3-HMAC-SHA256 Credential=" + AK;

    assertThat(send(missing).code()).isEqualTo("IncompleteSignature");
    assertThat(send(garbled).code()).isEqualTo("IncompleteSignature");
  }

  @Test
  void anUnsignedAcsHeaderIsAnIncompleteSignature() throws Exception {
    WireRequest request = new WireRequest("ListCsr");
    request.unsignedHeaders.put("x-acs-extra", "1");

    assertThat(send(request).code()).isEqualTo("IncompleteSignature");
  }

  @Test
  void dateChecks() throws Exception {
    WireRequest garbled = new WireRequest("ListCsr");
    garbled.date = "2024-01-01 00:00:00";
    WireRequest stale = new WireRequest("ListCsr");
    stale.date = format(Instant.now().minus(16, ChronoUnit.MINUTES));
    WireRequest early = new WireRequest("ListCsr");
    early.date = format(Instant.now().plus(16, ChronoUnit.MINUTES));
    WireRequest skewedButFine = new WireRequest("ListCsr");
    skewedButFine.date = format(Instant.now().minus(10, ChronoUnit.MINUTES));

    assertThat(send(garbled).code()).isEqualTo("InvalidTimeStamp.Format");
    assertThat(send(stale).code()).isEqualTo("InvalidTimeStamp.Expired");
    assertThat(send(early).code()).isEqualTo("InvalidTimeStamp.Expired");
    assertThat(send(skewedButFine).status()).isEqualTo(200);
  }

  @Test
  void routingErrors() throws Exception {
    WireRequest unknown = new WireRequest("CreateCsr");
    WireRequest oldVersion = new WireRequest("ListCsr");
    oldVersion.version = "2018-07-13";
    WireRequest noAction = new WireRequest(null);

    Reply unknownReply = send(unknown);
    assertThat(unknownReply.status()).isEqualTo(404);
    assertThat(unknownReply.code()).isEqualTo("InvalidAction.NotFound");
    assertThat(send(oldVersion).code()).isEqualTo("InvalidVersion");
    assertThat(send(noAction).code()).isEqualTo("MissingAction");
    assertThat(emulator.calls(CasGateway.NO_ACTION, "MissingAction")).isEqualTo(1);
    assertThat(emulator.calls("CreateCsr", "InvalidAction.NotFound")).isEqualTo(1);
  }

  @Test
  void actionFromTheQueryWhenTheHeaderIsAbsent() throws Exception {
    WireRequest request = new WireRequest(null).param("Action", "ListCsr");

    assertThat(send(request).status()).isEqualTo(200);
    assertThat(emulator.calls("ListCsr", "OK")).isEqualTo(1);
  }

  @Test
  void malformedHttpIsAnswered400AndNotCounted() throws Exception {
    try (Socket socket = connect()) {
      socket.getOutputStream().write("NONSENSE\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(Reply.read(socket.getInputStream()).status()).isEqualTo(400);
    }
    assertThat(emulator.callStats()).isEmpty();
  }

  // ---- a hand-made SDK-like request ----

  private Socket connect() throws IOException {
    Socket socket = new Socket("127.0.0.1", emulator.port());
    socket.setSoTimeout(10_000);
    return socket;
  }

  private Reply send(WireRequest request) throws IOException {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      out.write(request.bytes(emulator.endpoint()));
      out.flush();
      return Reply.read(socket.getInputStream());
    }
  }

  private static String format(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** Signs like the SDK: form-encoded query, x-acs-* headers, ACS3-HMAC-SHA256. */
  private static final class WireRequest {
    final String action;
    final Map<String, String> params = new LinkedHashMap<>();
    final Map<String, String> unsignedHeaders = new LinkedHashMap<>();
    String secret = SECRET;
    String version = "2020-04-07";
    String date = format(Instant.now());
    String nonce = UUID.randomUUID().toString().replace("-", "");
    String body = "";
    boolean chunked = true;
    String bodyHashOverride;
    String authorizationOverride;
    private byte[] bytes;

    WireRequest(String action) {
      this.action = action;
    }

    WireRequest param(String name, String value) {
      params.put(name, value);
      return this;
    }

    /** The same bytes every time, so sending twice is a replay. */
    byte[] bytes(String host) {
      if (bytes == null) {
        bytes = build(host);
      }
      return bytes;
    }

    private byte[] build(String host) {
      byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
      String bodyHash =
          bodyHashOverride != null ? bodyHashOverride : Acs3Signature.sha256Hex(bodyBytes);
      TreeMap<String, String> signed = new TreeMap<>();
      signed.put("host", host);
      if (action != null) {
        signed.put("x-acs-action", action);
      }
      signed.put("x-acs-version", version);
      signed.put("x-acs-date", date);
      signed.put("x-acs-signature-nonce", nonce);
      signed.put("x-acs-content-sha256", bodyHash);
      String rawQuery =
          params.entrySet().stream()
              .map(e -> form(e.getKey()) + "=" + form(e.getValue()))
              .collect(Collectors.joining("&"));
      CanonicalRequest canonical =
          new CanonicalRequest(
              "POST",
              "/",
              QueryParameters.parse(rawQuery),
              signed,
              Acs3Signature.sha256Hex(bodyBytes));
      String authorization =
          authorizationOverride != null
              ? authorizationOverride
              : Acs3Signature.authorization(AK, secret, canonical);

      StringBuilder head = new StringBuilder();
      head.append("POST /")
          .append(rawQuery.isEmpty() ? "" : "?" + rawQuery)
          .append(" HTTP/1.1\r\n");
      signed.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
      unsignedHeaders.forEach(
          (name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
      if (!authorization.isEmpty()) {
        head.append("Authorization: ").append(authorization).append("\r\n");
      }
      head.append("user-agent: wire-test\r\naccept: application/json\r\n");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (chunked) {
        head.append("Transfer-Encoding: chunked\r\n\r\n");
        out.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
        if (bodyBytes.length > 0) {
          out.writeBytes(
              (Integer.toHexString(bodyBytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
          out.writeBytes(bodyBytes);
          out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      } else {
        head.append("Content-Length: ").append(bodyBytes.length).append("\r\n\r\n");
        out.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
        out.writeBytes(bodyBytes);
      }
      return out.toByteArray();
    }

    private static String form(String text) {
      return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }
  }

  /** A response read off the socket: status line, headers, Content-Length body. */
  private record Reply(int status, Map<String, String> headers, String body) {
    static Reply read(InputStream in) throws IOException {
      String statusLine = line(in);
      assertThat(statusLine).startsWith("HTTP/1.1 ");
      Map<String, String> headers = new LinkedHashMap<>();
      for (String header = line(in); !header.isEmpty(); header = line(in)) {
        int colon = header.indexOf(':');
        headers.put(
            header.substring(0, colon).trim().toLowerCase(Locale.ROOT),
            header.substring(colon + 1).trim());
      }
      int length = Integer.parseInt(headers.get("content-length"));
      String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
      return new Reply(Integer.parseInt(statusLine.split(" ")[1]), headers, body);
    }

    JsonNode json() throws IOException {
      return JSON.readTree(body);
    }

    String code() throws IOException {
      return json().get("Code").asText();
    }

    private static String line(InputStream in) throws IOException {
      StringBuilder line = new StringBuilder();
      for (int b = in.read(); b != '\n'; b = in.read()) {
        if (b < 0) {
          throw new IOException("connection closed mid-response");
        }
        if (b != '\r') {
          line.append((char) b);
        }
      }
      return line.toString();
    }
  }
}
