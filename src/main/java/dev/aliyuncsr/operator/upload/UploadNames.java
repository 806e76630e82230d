package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The name a CSR gets in CAS: spec.name, or one derived from the resource and its UID. */
public final class UploadNames {
  static final int MAX_LENGTH = 50;
  private static final int UID_HASH_LENGTH = 12;

  private UploadNames() {}

  public static String of(AliyunCsr resource) {
    String explicit = resource.getSpec().getName();
    return explicit != null && !explicit.isEmpty() ? explicit : derived(resource);
  }

  /**
   * {@code <namespace>-<name>} cut to fit, then a hash of the UID, so a re-created resource with
   * the same name never finds its predecessor's upload. Only characters CAS allows: [A-Za-z0-9_-].
   */
  static String derived(AliyunCsr resource) {
    String uidHash = sha256Hex(resource.getMetadata().getUid()).substring(0, UID_HASH_LENGTH);
    String readable =
        (resource.getMetadata().getNamespace() + "-" + resource.getMetadata().getName())
            .replaceAll("[^A-Za-z0-9_-]", "_");
    int room = MAX_LENGTH - UID_HASH_LENGTH - 1;
    if (readable.length() > room) {
      readable = readable.substring(0, room);
    }
    return readable + "-" + uidHash;
  }

  private static String sha256Hex(String value) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of()
          .formatHex(digest.digest(String.valueOf(value).getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
