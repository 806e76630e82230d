package dev.aliyuncsr.operator.upload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.testing.OperatorHarness;
import org.junit.jupiter.api.Test;

class UploadNamesTest {

  static dev.aliyuncsr.operator.api.AliyunCsr resource(String ns, String name, String uid) {
    var r = OperatorHarness.aliyunCsr(ns, name, "csr", null);
    r.getMetadata().setUid(uid);
    return r;
  }

  @Test
  void derivedNamesFitCasRulesAndDependOnTheUid() {
    var a = resource("team-a", "shop.example.com", "11111111-aaaa");
    var b = resource("team-a", "shop.example.com", "22222222-bbbb");
    String nameA = UploadNames.of(a);
    assertThat(nameA).matches("^[A-Za-z0-9_-]{1,50}$").startsWith("team-a-shop_example_com-");
    assertThat(UploadNames.of(b)).isNotEqualTo(nameA);
    assertThat(UploadNames.of(resource("team-a", "shop.example.com", "11111111-aaaa")))
        .isEqualTo(nameA);
  }

  @Test
  void longNamesAreCutToFifty() {
    var r = resource("n".repeat(63), "m".repeat(200), "uid");
    assertThat(UploadNames.of(r)).hasSize(50).matches("^[A-Za-z0-9_-]+$");
  }

  @Test
  void anExplicitNameWins() {
    var r = resource("ns", "n", "uid");
    r.getSpec().setName("my_csr-1");
    assertThat(UploadNames.of(r)).isEqualTo("my_csr-1");
  }

  @Test
  void intentRoundTripsThroughItsAnnotationValue() {
    var intent = new UploadIntent("my_csr-1", "a".repeat(64), "b".repeat(64));
    assertThat(UploadIntent.decode(intent.encode())).contains(intent);
    assertThat(UploadIntent.decode("name=x;csr=zz;key=yy")).isEmpty();
    assertThat(UploadIntent.decode(null)).isEmpty();
  }
}
