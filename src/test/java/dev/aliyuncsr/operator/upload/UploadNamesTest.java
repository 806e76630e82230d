package dev.aliyuncsr.operator.upload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

class UploadNamesTest {
  private static final UploadNames NAMES = new UploadNames(key(1));

  static AliyunCsr resource(String ns, String name, String uid) {
    var r = OperatorHarness.aliyunCsr(ns, name, "csr", null);
    r.getMetadata().setUid(uid);
    return r;
  }

  private static byte[] key(int seed) {
    byte[] key = new byte[32];
    new java.util.Random(seed).nextBytes(key);
    return key;
  }

  @Test
  void aNameIsTheReadablePrefixAndAMarkOfTheNamespaceAndNameNotTheUid() {
    var a = resource("team-a", "shop.example.com", "11111111-aaaa");
    var restored = resource("team-a", "shop.example.com", "22222222-bbbb");
    String name = NAMES.of(a);
    assertThat(name)
        .matches("^[A-Za-z0-9_-]{1,50}$")
        .startsWith("team-a-shop_example_com-")
        .hasSize("team-a-shop_example_com-".length() + UploadNames.MARK_LENGTH);
    assertThat(NAMES.of(restored)).as("a restore (new UID) finds its CSR").isEqualTo(name);
    assertThat(NAMES.of(resource("team-b", "shop.example.com", "11111111-aaaa")))
        .isNotEqualTo(name);
    assertThat(NAMES.of(resource("team-a", "shop2.example.com", "11111111-aaaa")))
        .isNotEqualTo(name);
  }

  @Test
  void aCopiedSpecNameInAnotherNamespaceNeverGivesTheSameName() {
    var victim = resource("team-a", "shop", "u1");
    victim.getSpec().setName("shop_csr");
    var copy = resource("team-b", "shop", "u2");
    copy.getSpec().setName("shop_csr");
    assertThat(NAMES.of(victim)).startsWith("shop_csr-");
    assertThat(NAMES.of(copy)).startsWith("shop_csr-").isNotEqualTo(NAMES.of(victim));
  }

  @Test
  void onlyTheKeyMakesTheMark() {
    var r = resource("team-a", "shop", "u1");
    UploadNames otherCluster = new UploadNames(key(2));
    assertThat(otherCluster.of(r)).isNotEqualTo(NAMES.of(r));
    assertThat(otherCluster.carriesMark(NAMES.of(r))).isFalse();
    assertThatThrownBy(() -> new UploadNames(new byte[16]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void longNamesAreCutToFiftyAndSpecNameToThirtyThree() {
    var r = resource("n".repeat(63), "m".repeat(200), "uid");
    assertThat(NAMES.of(r)).hasSize(50).matches("^[A-Za-z0-9_-]+$");
    var named = resource("ns", "n", "uid");
    named.getSpec().setName("x".repeat(40));
    assertThat(NAMES.of(named)).startsWith("x".repeat(33) + "-").hasSize(50);
  }

  @Test
  void markedNamesAreRecognisedWithoutKnowingTheirObject() {
    for (int i = 0; i < 200; i++) {
      var r = resource("ns-" + i, "name-" + i, "u" + i);
      assertThat(NAMES.carriesMark(NAMES.of(r))).isTrue();
    }
    // Names people choose, or a mark with one character changed, are not marks.
    assertThat(NAMES.carriesMark("shop-csr")).isFalse();
    assertThat(NAMES.carriesMark("default-shop-5f0c2a9d1e3b")).isFalse();
    assertThat(NAMES.carriesMark(null)).isFalse();
    String name = NAMES.of(resource("team-a", "shop", "u1"));
    char last = name.charAt(name.length() - 1);
    String tampered = name.substring(0, name.length() - 1) + (last == 'a' ? 'b' : 'a');
    assertThat(NAMES.carriesMark(tampered)).isFalse();
    SecureRandom random = new SecureRandom();
    int accepted = 0;
    for (int i = 0; i < 10_000; i++) {
      StringBuilder suffix = new StringBuilder();
      for (int c = 0; c < UploadNames.MARK_LENGTH; c++) {
        suffix.append("abcdefghijklmnopqrstuvwxyz234567".charAt(random.nextInt(32)));
      }
      accepted += NAMES.carriesMark("guess-" + suffix) ? 1 : 0;
    }
    assertThat(accepted).as("random suffixes taken for marks (2^-20 each)").isLessThanOrEqualTo(1);
  }

  @Test
  void intentRoundTripsThroughItsAnnotationValue() {
    var intent = new UploadIntent("my_csr-1", "a".repeat(64), "b".repeat(64));
    assertThat(UploadIntent.decode(intent.encode())).contains(intent);
    assertThat(UploadIntent.decode("name=x;csr=zz;key=yy")).isEmpty();
    assertThat(UploadIntent.decode(null)).isEmpty();
  }
}
