package dev.aliyuncsr.operator.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Names and validation records of an instance application, without a server. */
class ValidationRecordsTest {
  private final ValidationRecords records = new ValidationRecords();
  private final Instant now = Instant.parse("2026-12-03T00:00:00Z");

  @Test
  void dnsHostRecordsAreRelativeToTheRootDomain() {
    List<ValidationRecord> made =
        records.forNames(
            List.of("example.com", "a.b.example.com", "shop.example.com.cn", "*.example.org"),
            "DNS",
            now);

    assertThat(made)
        .extracting(ValidationRecord::validationKey, ValidationRecord::rootDomain)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("_dnsauth", "example.com"),
            org.assertj.core.groups.Tuple.tuple("_dnsauth.a.b", "example.com"),
            org.assertj.core.groups.Tuple.tuple("_dnsauth.shop", "example.com.cn"),
            org.assertj.core.groups.Tuple.tuple("_dnsauth", "example.org"));
    assertThat(made.get(1).recordName()).isEqualTo("_dnsauth.a.b.example.com");
    assertThat(made).extracting(ValidationRecord::validationValue).doesNotHaveDuplicates();
    assertThat(made.get(0).validationValue()).startsWith("20261203000000").hasSize(54);
  }

  @Test
  void httpRecordsNameTheWellKnownFile() {
    ValidationRecord record = records.forNames(List.of("www.example.com"), "HTTP", now).get(0);

    assertThat(record.validationType()).isEqualTo("HTTP");
    assertThat(record.validationKey()).isEqualTo("/.well-known/pki-validation/fileauth.txt");
    assertThat(record.rootDomain()).isEqualTo("example.com");
  }

  @Test
  void aWwwTwinIsFreeButOtherNamesCount() {
    DomainNames.requireWithin(List.of("example.com", "www.example.com"), 1, 0);

    assertThatThrownBy(
            () -> DomainNames.requireWithin(List.of("example.com", "api.example.com"), 1, 0))
        .isInstanceOf(CasError.class)
        .hasFieldOrPropertyWithValue("code", "InvalidParameter.Domain");
    assertThatThrownBy(() -> DomainNames.requireWithin(List.of("*.example.com"), 1, 0))
        .hasFieldOrPropertyWithValue("code", "InvalidParameter.Domain");
    DomainNames.requireWithin(List.of("*.example.com", "example.com"), 1, 1);
  }

  @Test
  void namesAreLowerCasedDeduplicatedAndChecked() {
    assertThat(DomainNames.parse("Example.COM, example.com ,*.x.example.com"))
        .containsExactly("example.com", "*.x.example.com");
    for (String bad :
        List.of("", "com", "a..example.com", "*.*.example.com", "1.2.3.4", "-a.com")) {
      assertThatThrownBy(() -> DomainNames.parse(bad))
          .as(bad)
          .hasFieldOrPropertyWithValue("code", "InvalidParameter.Domain");
    }
  }
}
