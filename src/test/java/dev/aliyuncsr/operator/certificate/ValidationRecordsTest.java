package dev.aliyuncsr.operator.certificate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.ValidationRecord;
import dev.aliyuncsr.operator.cloud.CasInstances.DomainValidation;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ValidationRecordsTest {

  @ParameterizedTest(name = "{2} under {1} -> {3}")
  @CsvSource({
    "shop.example.com, example.com, _dnsauth.shop, _dnsauth.shop.example.com",
    "example.com, example.com, _dnsauth, _dnsauth.example.com",
    // CAS may send the full name already: used as it is.
    "shop.example.com, example.com, _dnsauth.shop.example.com, _dnsauth.shop.example.com",
    "shop.example.com, example.com, _dnsauth.shop.example.com., _dnsauth.shop.example.com",
    "shop.example.com, Example.COM, _dnsauth.shop.example.com, _dnsauth.shop.example.com",
    // A wildcard is validated at the name under it.
    "*.x.example.com, example.com, _dnsauth.x, _dnsauth.x.example.com",
  })
  void dnsRecordNamesAreTheKeyUnderTheRootDomain(
      String domain, String root, String key, String expected) {
    assertThat(ValidationRecords.recordName(new DomainValidation(domain, root, "TXT", key, "v")))
        .isEqualTo(expected);
  }

  @Test
  void aKeyThatOnlyEndsInTheRootsLettersIsStillRelative() {
    assertThat(
            ValidationRecords.recordName(
                new DomainValidation(
                    "a.myexample.com", "myexample.com", "TXT", "_dnsauth.xexample.com", "v")))
        .isEqualTo("_dnsauth.xexample.com.myexample.com");
  }

  @ParameterizedTest
  @CsvSource({
    "/.well-known/pki-validation/fileauth.txt, http://shop.example.com/.well-known/pki-validation/fileauth.txt",
    ".well-known/pki-validation/fileauth.txt, http://shop.example.com/.well-known/pki-validation/fileauth.txt",
    "http://shop.example.com/x.txt, http://shop.example.com/x.txt",
  })
  void httpRecordNamesAreTheFullUrl(String key, String expected) {
    assertThat(
            ValidationRecords.recordName(
                new DomainValidation("shop.example.com", "example.com", "HTTP", key, "content")))
        .isEqualTo(expected);
  }

  @Test
  void statusEntriesKeepWhatCasSentAndAddTheName() {
    List<ValidationRecord> records =
        ValidationRecords.of(
            List.of(
                new DomainValidation(
                    "shop.example.com", "example.com", "TXT", "_dnsauth.shop", "tok")));

    assertThat(records)
        .containsExactly(
            new ValidationRecord(
                "shop.example.com",
                "example.com",
                "TXT",
                "_dnsauth.shop",
                "_dnsauth.shop.example.com",
                "tok"));
  }

  @Test
  void theMessageSaysWhatToCreateWhereForEachRecord() {
    String message =
        ValidationRecords.message(
            ValidationRecords.of(
                List.of(
                    new DomainValidation("a.example.com", "example.com", "TXT", "_dnsauth.a", "t1"),
                    new DomainValidation("b.example.com", "example.com", "HTTP", "/f.txt", "t2"))));

    assertThat(message)
        .contains("create a TXT record _dnsauth.a.example.com with the value \"t1\"")
        .contains("serve http://b.example.com/f.txt with exactly the content \"t2\"");
  }

  @Test
  void onlyTxtRecordsArePublishedInDns() {
    var records =
        ValidationRecords.of(
            List.of(
                new DomainValidation("a.example.com", "example.com", "TXT", "_dnsauth.a", "t1"),
                new DomainValidation("a.example.com", "example.com", "CNAME", "_x.a", "t2")));

    assertThat(ValidationRecords.dnsRecords(records))
        .extracting(ValidationRecord::getValue)
        .containsExactly("t1");
  }
}
