package dev.aliyuncsr.operator.upload;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The record, written on the object before UploadCsr is called, of which CSR is being uploaded
 * under which name. After a crash, a timeout or a lost status write it is what lets the operator
 * find the upload again in CAS instead of uploading twice.
 */
public record UploadIntent(String uploadName, String csrSha256, String publicKeySha256) {
  private static final Pattern FORMAT =
      Pattern.compile("^name=([A-Za-z0-9_-]{1,50});csr=([0-9a-f]{64});key=([0-9a-f]{64})$");

  /** The annotation value; plain text so that a person reading the object can follow it. */
  public String encode() {
    return "name=" + uploadName + ";csr=" + csrSha256 + ";key=" + publicKeySha256;
  }

  public static Optional<UploadIntent> decode(String value) {
    if (value == null) {
      return Optional.empty();
    }
    Matcher m = FORMAT.matcher(value.trim());
    return m.matches()
        ? Optional.of(new UploadIntent(m.group(1), m.group(2), m.group(3)))
        : Optional.empty();
  }
}
