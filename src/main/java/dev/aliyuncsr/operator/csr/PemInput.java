package dev.aliyuncsr.operator.csr;

import dev.aliyuncsr.operator.api.Reasons;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Turns a Secret value into its PEM blocks, or says in plain words why it is not PEM. Like openssl
 * it ignores text around the blocks and accepts CRLF line endings. Messages never quote the input:
 * a PEM label is named only when it is one of the well-known labels below.
 */
final class PemInput {
  private PemInput() {}

  static final int MAX_BYTES = 64 * 1024;

  private static final String BEGIN = "-----BEGIN ";
  private static final String END = "-----END ";
  private static final String DASHES = "-----";
  private static final byte DER_SEQUENCE = 0x30;
  private static final Pattern BASE64_TEXT = Pattern.compile("[A-Za-z0-9+/=]+");

  /** What a well-known PEM label holds, so a misplaced block can be named in a message. */
  enum Kind {
    CERTIFICATE_REQUEST,
    CERTIFICATE,
    PRIVATE_KEY,
    PUBLIC_KEY,
    OTHER
  }

  /** Labels safe to repeat in a message; any other label is "an unrecognised type". */
  private static final Map<String, Kind> KNOWN_LABELS =
      Map.ofEntries(
          Map.entry("CERTIFICATE REQUEST", Kind.CERTIFICATE_REQUEST),
          Map.entry("NEW CERTIFICATE REQUEST", Kind.CERTIFICATE_REQUEST),
          Map.entry("CERTIFICATE", Kind.CERTIFICATE),
          Map.entry("TRUSTED CERTIFICATE", Kind.CERTIFICATE),
          Map.entry("X509 CERTIFICATE", Kind.CERTIFICATE),
          Map.entry("PKCS7", Kind.CERTIFICATE),
          Map.entry("CMS", Kind.CERTIFICATE),
          Map.entry("X509 CRL", Kind.OTHER),
          Map.entry("PRIVATE KEY", Kind.PRIVATE_KEY),
          Map.entry("RSA PRIVATE KEY", Kind.PRIVATE_KEY),
          Map.entry("EC PRIVATE KEY", Kind.PRIVATE_KEY),
          Map.entry("DSA PRIVATE KEY", Kind.PRIVATE_KEY),
          Map.entry("ENCRYPTED PRIVATE KEY", Kind.PRIVATE_KEY),
          Map.entry("OPENSSH PRIVATE KEY", Kind.PRIVATE_KEY),
          Map.entry("PGP PRIVATE KEY BLOCK", Kind.PRIVATE_KEY),
          Map.entry("PUBLIC KEY", Kind.PUBLIC_KEY),
          Map.entry("RSA PUBLIC KEY", Kind.PUBLIC_KEY),
          Map.entry("PGP PUBLIC KEY BLOCK", Kind.PUBLIC_KEY),
          Map.entry("EC PARAMETERS", Kind.OTHER),
          Map.entry("DH PARAMETERS", Kind.OTHER));

  /** Which Secret value is being read; it decides the wording, the reason and the hints. */
  enum Slot {
    CSR(
        "CSR",
        Reasons.INVALID_CSR,
        "CERTIFICATE REQUEST",
        "tls.csr=csr.pem",
        "openssl req -inform DER -in csr.der -out csr.pem"),
    PRIVATE_KEY(
        "private key",
        Reasons.INVALID_KEY,
        "PRIVATE KEY",
        "tls.key=key.pem",
        "openssl pkey -inform DER -in key.der -out key.pem"),
    /** The certificate chain CAS returned (GetUserCertificateDetail.Cert). */
    CERTIFICATE(
        "certificate",
        Reasons.CERTIFICATE_MISMATCH,
        "CERTIFICATE",
        "tls.crt=chain.pem",
        "openssl x509 -inform DER -in cert.der -out cert.pem");

    final String noun;
    final String reason;
    final String expectedLabel;
    final String fromFileExample;
    final String derToPemCommand;

    Slot(
        String noun,
        String reason,
        String expectedLabel,
        String fromFileExample,
        String derToPemCommand) {
      this.noun = noun;
      this.reason = reason;
      this.expectedLabel = expectedLabel;
      this.fromFileExample = fromFileExample;
      this.derToPemCommand = derToPemCommand;
    }
  }

  /**
   * One PEM block: its label, whether a legacy {@code Proc-Type: 4,ENCRYPTED} header marks it
   * encrypted, and the decoded bytes.
   */
  record Block(String label, boolean procTypeEncrypted, byte[] der) {
    @Override
    public String toString() {
      return "Block[" + typeOf(label) + ", " + der.length + " bytes]";
    }
  }

  /** The PEM blocks in {@code value}, at least one, in order. */
  static Validated<List<Block>> read(byte[] value, Slot slot) {
    if (value == null || value.length == 0) {
      return invalid(slot, "The " + slot.noun + " is empty: the Secret key holds no data.");
    }
    if (value.length > MAX_BYTES) {
      return invalid(
          slot,
          "The "
              + slot.noun
              + " is "
              + value.length
              + " bytes, more than the limit of 64 KiB ("
              + MAX_BYTES
              + " bytes); a PEM "
              + slot.noun
              + " is a few KiB. Check that the Secret key holds only the "
              + slot.noun
              + ".");
    }
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(value);
    CharBuffer out = CharBuffer.allocate(value.length);
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      return invalid(
          slot,
          "The "
              + slot.noun
              + " is not UTF-8 text (invalid byte at offset "
              + in.position()
              + "); PEM text is expected. If the file is binary DER, convert it first: "
              + slot.derToPemCommand
              + ".");
    }
    String text = out.flip().toString();
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    if (text.isBlank()) {
      return invalid(slot, "The " + slot.noun + " contains only whitespace.");
    }
    return blocks(text.replace("\r\n", "\n").replace('\r', '\n'), slot);
  }

  private static Validated<List<Block>> blocks(String text, Slot slot) {
    String[] lines = text.split("\n", -1);
    List<Block> blocks = new ArrayList<>();
    int i = 0;
    while (i < lines.length) {
      String line = lines[i].strip();
      if (isMarker(line, END)) {
        return invalid(
            slot,
            "The "
                + slot.noun
                + " has an END line without a BEGIN line before it; the start of the PEM text"
                + " is missing. Copy the whole file, from its -----BEGIN line on.");
      }
      if (!isMarker(line, BEGIN)) {
        i++;
        continue;
      }
      String label = label(line, BEGIN);
      int end = i + 1;
      while (end < lines.length
          && !isMarker(lines[end].strip(), END)
          && !isMarker(lines[end].strip(), BEGIN)) {
        end++;
      }
      if (end == lines.length || isMarker(lines[end].strip(), BEGIN)) {
        return invalid(
            slot,
            "The "
                + slot.noun
                + " is truncated: its PEM block of "
                + typeOf(label)
                + " has a BEGIN line but no END line. Copy the whole file, up to and including"
                + " its -----END line.");
      }
      String endLabel = label(lines[end].strip(), END);
      if (!endLabel.equals(label)) {
        return invalid(
            slot,
            "The "
                + slot.noun
                + "'s PEM block begins as "
                + typeOf(label)
                + " but ends as "
                + typeOf(endLabel)
                + "; the BEGIN and END lines must name the same type.");
      }
      Validated<Block> block = block(label, lines, i + 1, end, slot);
      if (!block.isValid()) {
        return Validated.invalid(block.problem());
      }
      blocks.add(block.value());
      i = end + 1;
    }
    if (blocks.isEmpty()) {
      return notPem(text, slot);
    }
    return Validated.valid(List.copyOf(blocks));
  }

  /** Decodes the lines between BEGIN and END: optional RFC 1421 headers, then base64. */
  private static Validated<Block> block(String label, String[] lines, int from, int to, Slot slot) {
    boolean encrypted = false;
    boolean inHeaders = false;
    StringBuilder base64 = new StringBuilder();
    for (int i = from; i < to; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        inHeaders = false;
        continue;
      }
      if (base64.isEmpty() && line.contains(":")) {
        inHeaders = true;
        String name = line.substring(0, line.indexOf(':')).strip();
        String headerValue = line.substring(line.indexOf(':') + 1);
        if (name.equalsIgnoreCase("Proc-Type") && headerValue.contains("ENCRYPTED")) {
          encrypted = true;
        }
        continue;
      }
      boolean continuation = lines[i].startsWith(" ") || lines[i].startsWith("\t");
      if (inHeaders && continuation && base64.isEmpty()) {
        continue;
      }
      base64.append(line);
    }
    if (base64.isEmpty()) {
      return Validated.invalid(
          slot.reason,
          "The "
              + slot.noun
              + "'s PEM block of "
              + typeOf(label)
              + " has nothing between its BEGIN and END lines.");
    }
    try {
      byte[] der = Base64.getDecoder().decode(base64.toString());
      return Validated.valid(new Block(label, encrypted, der));
    } catch (IllegalArgumentException e) {
      // The JDK's message quotes the offending character; ours does not.
      return Validated.invalid(
          slot.reason,
          "The "
              + slot.noun
              + "'s PEM block of "
              + typeOf(label)
              + " is not valid base64 between its BEGIN and END lines; the text was changed or"
              + " damaged when it was copied.");
    }
  }

  /** Explains a value without a single PEM block, guessing the usual mistakes. */
  private static Validated<List<Block>> notPem(String text, Slot slot) {
    if (text.contains(BEGIN)) {
      return invalid(
          slot,
          "The "
              + slot.noun
              + " contains a -----BEGIN marker that is not on a line of its own: the line breaks"
              + " were lost (for example with --from-literal, a folded YAML string or a literal"
              + " \\n). Store the file unchanged, e.g. kubectl create secret generic NAME"
              + " --from-file="
              + slot.fromFileExample
              + ".");
    }
    byte[] decoded = base64(text.replaceAll("\\s", ""));
    if (decoded != null
        && new String(decoded, StandardCharsets.US_ASCII).strip().startsWith(BEGIN)) {
      return invalid(
          slot,
          "The "
              + slot.noun
              + " is base64 of PEM text, i.e. base64-encoded twice. A Secret's data is"
              + " base64-encoded once by Kubernetes; put the PEM text itself in stringData, or"
              + " use kubectl create secret generic NAME --from-file="
              + slot.fromFileExample
              + ".");
    }
    if (decoded != null && decoded.length > 0 && decoded[0] == DER_SEQUENCE) {
      return invalid(
          slot,
          "The "
              + slot.noun
              + " is not PEM: it looks like bare base64 DER without the -----BEGIN "
              + slot.expectedLabel
              + "----- and -----END "
              + slot.expectedLabel
              + "----- lines. Store the PEM file as it is.");
    }
    return invalid(
        slot,
        "The "
            + slot.noun
            + " is not PEM: no -----BEGIN "
            + slot.expectedLabel
            + "----- line was found. If the file is binary DER, convert it first: "
            + slot.derToPemCommand
            + ".");
  }

  /** The bytes of a value that is base64 and nothing else, or null. */
  private static byte[] base64(String compact) {
    if (!BASE64_TEXT.matcher(compact).matches()) {
      return null;
    }
    try {
      return Base64.getDecoder().decode(compact);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The PEM text for {@code der}: base64 wrapped at 64 columns, LF line endings, final LF. */
  static String encode(String label, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return BEGIN + label + DASHES + "\n" + body + "\n" + END + label + DASHES + "\n";
  }

  static Kind kindOf(String label) {
    return KNOWN_LABELS.getOrDefault(label, Kind.OTHER);
  }

  /** {@code type "CERTIFICATE"} for a well-known label, {@code an unrecognised type} otherwise. */
  static String typeOf(String label) {
    return KNOWN_LABELS.containsKey(label) ? "type \"" + label + "\"" : "an unrecognised type";
  }

  /** The labels of several blocks for a message, e.g. {@code "PRIVATE KEY", "CERTIFICATE"}. */
  static String labelsOf(List<Block> blocks) {
    List<String> labels = new ArrayList<>();
    for (Block block : blocks) {
      labels.add(KNOWN_LABELS.containsKey(block.label()) ? "\"" + block.label() + "\"" : "unknown");
    }
    return String.join(", ", labels);
  }

  private static boolean isMarker(String line, String prefix) {
    // A label never holds "--": this rejects a whole PEM squeezed onto one line.
    return line.startsWith(prefix)
        && line.endsWith(DASHES)
        && line.length() >= prefix.length() + DASHES.length()
        && !label(line, prefix).contains("--");
  }

  private static String label(String marker, String prefix) {
    return marker.substring(prefix.length(), marker.length() - DASHES.length()).strip();
  }

  private static <T> Validated<T> invalid(Slot slot, String message) {
    return Validated.invalid(slot.reason, message);
  }
}
