package dev.aliyuncsr.operator.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.cloud.CasInstances.DomainValidation;
import dev.aliyuncsr.operator.cloud.CasInstances.InstanceDetail;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** GetInstanceDetail's body, however CAS types its fields: absent or odd fields never crash. */
class InstanceDetailAnswerTest {

  @Test
  void anEmptyBodyIsAnInstanceWithNothingKnown() {
    InstanceDetail detail = InstanceDetailAnswer.read(Map.of(), "cas_dv-cn-1");

    assertThat(detail.instanceId()).as("the id asked for").isEqualTo("cas_dv-cn-1");
    assertThat(detail.status()).isNull();
    assertThat(detail.csrPem()).isNull();
    assertThat(detail.averageWaitingTime()).isEmpty();
    assertThat(detail.certificateId()).isEmpty();
    assertThat(detail.fullDomainCount()).isEmpty();
    assertThat(detail.validation()).isEmpty();
    assertThat(detail.requestId()).isNull();
  }

  @Test
  void fieldsOfTheWrongShapeAreLeftOut() {
    Map<String, Object> body = new HashMap<>();
    body.put("InstanceId", Map.of("odd", true));
    body.put("Status", List.of("pending"));
    body.put("CertificateId", "twelve");
    body.put("AverageWaitingTime", "soon");
    body.put("FullDomainCount", 2.5);
    body.put("DomainValidationList", "none");
    body.put("PendingResult", null);

    InstanceDetail detail = InstanceDetailAnswer.read(body, "cas_dv-cn-2");

    assertThat(detail.instanceId()).isEqualTo("cas_dv-cn-2");
    assertThat(detail.status()).isNull();
    assertThat(detail.certificateId()).isEmpty();
    assertThat(detail.averageWaitingTime()).isEmpty();
    assertThat(detail.fullDomainCount()).isEmpty();
    assertThat(detail.validation()).isEmpty();
    assertThat(detail.pendingResult()).isNull();
  }

  static List<Object[]> wholeNumbers() {
    return List.of(
        new Object[] {12345L, 12345L},
        new Object[] {12345, 12345L},
        new Object[] {12345.0, 12345L},
        new Object[] {"12345", 12345L},
        new Object[] {" 12345 ", 12345L},
        new Object[] {"1.2345E4", 12345L},
        new Object[] {new BigDecimal("9007199254740993"), 9007199254740993L},
        new Object[] {"9007199254740993", 9007199254740993L});
  }

  @ParameterizedTest(name = "CertificateId {0} is {1}")
  @MethodSource("wholeNumbers")
  void numbersComeInAnyForm(Object value, long expected) {
    InstanceDetail detail =
        InstanceDetailAnswer.read(
            Map.of("CertificateId", value, "FullDomainCount", value), "cas_dv-cn-3");

    assertThat(detail.certificateId()).contains(expected);
    assertThat(detail.fullDomainCount()).contains(expected);
  }

  @Test
  void whatIsNotAWholeNumberIsEmpty() {
    assertThat(InstanceDetailAnswer.wholeNumber(12.5)).isEmpty();
    assertThat(InstanceDetailAnswer.wholeNumber(Double.NaN)).isEmpty();
    assertThat(InstanceDetailAnswer.wholeNumber("")).isEmpty();
    assertThat(InstanceDetailAnswer.wholeNumber("1e40")).isEmpty();
    assertThat(InstanceDetailAnswer.wholeNumber(true)).isEmpty();
    assertThat(InstanceDetailAnswer.wholeNumber(null)).isEmpty();
  }

  @Test
  void theWaitingTimeIsSecondsAsAStringOrANumber() {
    assertThat(InstanceDetailAnswer.seconds("300")).contains(Duration.ofSeconds(300));
    assertThat(InstanceDetailAnswer.seconds(240L)).contains(Duration.ofSeconds(240));
    assertThat(InstanceDetailAnswer.seconds(1.5)).contains(Duration.ofMillis(1500));
    assertThat(InstanceDetailAnswer.seconds("0")).contains(Duration.ZERO);
    assertThat(InstanceDetailAnswer.seconds("-1")).isEmpty();
    assertThat(InstanceDetailAnswer.seconds("300s")).isEmpty();
    assertThat(InstanceDetailAnswer.seconds("1e30")).isEmpty();
    assertThat(InstanceDetailAnswer.seconds(null)).isEmpty();
  }

  @Test
  void validationRecordsKeepTheirFieldsAndSkipWhatIsNotARecord() {
    Map<String, Object> body =
        Map.of(
            "DomainValidationList",
            List.of(
                Map.of(
                    "Domain", "shop.example.com",
                    "RootDomain", "example.com",
                    "ValidationType", "TXT",
                    "ValidationKey", "_dnsauth.shop",
                    "ValidationValue", "2026120300001a2b",
                    "Cname", ""),
                "not a record",
                Map.of("Domain", "example.com")));

    List<DomainValidation> records = InstanceDetailAnswer.read(body, "cas_dv-cn-4").validation();

    assertThat(records)
        .containsExactly(
            new DomainValidation(
                "shop.example.com", "example.com", "TXT", "_dnsauth.shop", "2026120300001a2b"),
            new DomainValidation("example.com", null, null, null, null));
  }

  @Test
  void textFieldsSentAsNumbersAreRead() {
    InstanceDetail detail =
        InstanceDetailAnswer.read(
            Map.of("CertIdentifier", 12345L, "RequestId", 7, "PendingResult", 1.5), "cas-cn-5");

    assertThat(detail.certIdentifier()).isEqualTo("12345");
    assertThat(detail.requestId()).isEqualTo("7");
    assertThat(detail.pendingResult()).isEqualTo("1.5");
  }
}
