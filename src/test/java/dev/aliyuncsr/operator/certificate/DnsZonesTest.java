package dev.aliyuncsr.operator.certificate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DnsZonesTest {

  @ParameterizedTest(name = "{0} in {1}: {2}")
  @CsvSource({
    "example.com, example.com, true",
    "_dnsauth.shop.example.com, example.com, true",
    "_dnsauth.shop.EXAMPLE.com., example.com, true",
    "shop.example.com, Example.Com., true",
    "myexample.com, example.com, false",
    "example.com.evil.org, example.com, false",
    "com, example.com, false",
    "shop.example.org, example.com, false",
    "'', example.com, false",
  })
  void namesMatchZonesOnLabelBoundaries(String name, String zone, boolean inside) {
    assertThat(DnsZones.inside(name, List.of(zone))).isEqualTo(inside);
  }

  @Test
  void withNoZonesNothingIsInside() {
    assertThat(DnsZones.outside(List.of("a.example.com"), List.of()))
        .containsExactly("a.example.com");
    assertThat(DnsZones.outside(List.of("a.example.com"), null)).containsExactly("a.example.com");
  }

  @Test
  void outsideListsOnlyTheNamesNoZoneHolds() {
    assertThat(
            DnsZones.outside(
                List.of("a.example.com", "b.example.org", "c.team.example.net"),
                List.of("example.com", "team.example.net")))
        .containsExactly("b.example.org");
  }

  @Test
  void anEmptyZoneAllowsNothing() {
    assertThat(DnsZones.inside("example.com", List.of("", "."))).isFalse();
  }

  @Test
  void aWildcardIsValidatedAtTheNameUnderIt() {
    assertThat(DnsZones.validatedName("*.x.example.com")).isEqualTo("x.example.com");
    assertThat(DnsZones.validatedName("x.example.com")).isEqualTo("x.example.com");
  }
}
