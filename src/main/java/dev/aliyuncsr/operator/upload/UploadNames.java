package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The name a CSR gets in CAS, and the ownership mark in it that no tenant can forge.
 *
 * <p>A name is {@code <prefix>-<mark>}: the prefix is readable (spec.name, or the namespace and
 * name), the mark is 16 base32 characters computed with this operator's secret key from the
 * resource's namespace and name. Spec, annotations and a CSR (which is public) can all be copied by
 * another tenant; the mark cannot, because only this operator holds the key. So a CSR in CAS whose
 * name is exactly a resource's name belongs to that namespace/name, and a restored resource (same
 * namespace and name, new UID) finds the CSR its predecessor uploaded.
 *
 * <p>The mark is 12 characters (60 bits) identifying the object, then 4 characters (20 bits)
 * authenticating those 12: with the key, any name can be checked for carrying some object's mark
 * without knowing which object, so that an adoption of another object's CSR is refused.
 */
public final class UploadNames {
  /** CAS allows 50 characters of [A-Za-z0-9_-] in a name. */
  public static final int MAX_LENGTH = 50;

  public static final int MARK_LENGTH = 16;

  /** What is left for the readable part: 50 - "-" - 16. */
  public static final int MAX_PREFIX = MAX_LENGTH - 1 - MARK_LENGTH;

  private static final int ID_LENGTH = 12;
  private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

  private final SecretKeySpec key;

  /**
   * @param key the operator's mark key (at least 32 bytes), from {@link MarkKey}
   */
  public UploadNames(byte[] key) {
    if (key == null || key.length < 32) {
      throw new IllegalArgumentException("the mark key must have at least 32 bytes");
    }
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
  }

  /** The name this resource uploads under, now and after any restore of it. */
  public String of(AliyunCsr resource) {
    return prefix(resource) + "-" + mark(namespace(resource), resource.getMetadata().getName());
  }

  /** The mark of the object {@code namespace/name}. */
  public String mark(String namespace, String name) {
    String id = base32(hmac("csr\0" + namespace + "\0" + name), ID_LENGTH);
    return id + tag(id);
  }

  /**
   * Whether {@code casName} ends with a mark this operator made for some object: the last 16
   * characters after a '-' authenticate themselves under the key.
   */
  public boolean carriesMark(String casName) {
    if (casName == null || casName.length() < MARK_LENGTH + 1) {
      return false;
    }
    int start = casName.length() - MARK_LENGTH;
    if (casName.charAt(start - 1) != '-') {
      return false;
    }
    String id = casName.substring(start, start + ID_LENGTH);
    return casName.substring(start + ID_LENGTH).equals(tag(id));
  }

  /**
   * The readable part: spec.name cut to {@value #MAX_PREFIX} characters, or the namespace and name
   * with everything CAS does not allow replaced by '_', cut the same.
   */
  static String prefix(AliyunCsr resource) {
    String explicit = resource.getSpec() == null ? null : resource.getSpec().getName();
    String readable =
        explicit != null && !explicit.isEmpty()
            ? explicit
            : namespace(resource) + "-" + resource.getMetadata().getName();
    readable = readable.replaceAll("[^A-Za-z0-9_-]", "_");
    return readable.length() > MAX_PREFIX ? readable.substring(0, MAX_PREFIX) : readable;
  }

  private String tag(String id) {
    return base32(hmac("tag\0" + id), MARK_LENGTH - ID_LENGTH);
  }

  private static String namespace(AliyunCsr resource) {
    return String.valueOf(resource.getMetadata().getNamespace());
  }

  private byte[] hmac(String message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first {@code chars} base32 characters (5 bits each) of {@code bytes}, lower case. */
  private static String base32(byte[] bytes, int chars) {
    StringBuilder out = new StringBuilder(chars);
    int buffer = 0;
    int bits = 0;
    int i = 0;
    while (out.length() < chars) {
      if (bits < 5) {
        buffer = (buffer << 8) | (bytes[i++] & 0xff);
        bits += 8;
      }
      out.append(BASE32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
    return out.toString().toLowerCase(Locale.ROOT);
  }
}
