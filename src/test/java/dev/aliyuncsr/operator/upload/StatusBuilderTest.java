package dev.aliyuncsr.operator.upload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StatusBuilderTest {
  static final Instant T0 = Instant.parse("2026-11-28T08:00:00Z");
  static final CsrFacts FACTS =
      new CsrFacts("pem", "a".repeat(64), "b".repeat(64), "cn", List.of("x", "y"), "RSA", 2048);

  static UploadedCsr uploaded(long id) {
    return new UploadedCsr(id, "REQ", "up-name", FACTS, true, "2026-11-28T08:00:00Z");
  }

  @Test
  void firstStatusHasAllThreeConditionsAndTheGeneration() {
    AliyunCsrStatus status =
        StatusBuilder.build(
            null,
            3,
            Outcome.progressing("SecretNotFound", "waiting", Duration.ofSeconds(1)),
            Optional.empty(),
            T0);
    assertThat(status.getObservedGeneration()).isEqualTo(3);
    assertThat(status.getConditions())
        .extracting(CsrCondition::getType, CsrCondition::getStatus)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("Ready", "False"),
            org.assertj.core.groups.Tuple.tuple("Reconciling", "True"),
            org.assertj.core.groups.Tuple.tuple("Stalled", "False"));
    assertThat(status.getConditions())
        .allSatisfy(
            c -> {
              assertThat(c.getObservedGeneration()).isEqualTo(3);
              assertThat(c.getLastTransitionTime()).isEqualTo("2026-11-28T08:00:00Z");
              assertThat(c.getReason()).isEqualTo("SecretNotFound");
            });
    assertThat(status.getCsrId()).isNull();
  }

  @Test
  void readyRecordsTheUploadAndClearsReconciling() {
    AliyunCsrStatus status =
        StatusBuilder.build(
            null, 1, Outcome.ready("Uploaded", "done"), Optional.of(uploaded(42)), T0);
    assertThat(status.getCsrId()).isEqualTo(42);
    assertThat(status.getRequestId()).isEqualTo("REQ");
    assertThat(status.getSans()).containsExactly("x", "y");
    assertThat(status.condition("Ready").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(status.condition("Reconciling").orElseThrow().getStatus()).isEqualTo("False");
    assertThat(status.condition("Stalled").orElseThrow().getStatus()).isEqualTo("False");
  }

  @Test
  void transitionTimeMovesOnlyWhenTheStatusFlips() {
    AliyunCsrStatus first =
        StatusBuilder.build(
            null, 1, Outcome.stalled("InvalidCsr", "bad", null), Optional.empty(), T0);
    AliyunCsrStatus sameState =
        StatusBuilder.build(
            first,
            2,
            Outcome.stalled("KeyMismatch", "other", null),
            Optional.empty(),
            T0.plusSeconds(60));
    assertThat(sameState.condition("Stalled").orElseThrow().getLastTransitionTime())
        .isEqualTo("2026-11-28T08:00:00Z");
    assertThat(sameState.condition("Stalled").orElseThrow().getReason()).isEqualTo("KeyMismatch");
    assertThat(sameState.getObservedGeneration()).isEqualTo(2);

    AliyunCsrStatus flipped =
        StatusBuilder.build(
            sameState,
            2,
            Outcome.ready("Uploaded", "ok"),
            Optional.of(uploaded(7)),
            T0.plusSeconds(120));
    assertThat(flipped.condition("Stalled").orElseThrow().getLastTransitionTime())
        .isEqualTo("2026-11-28T08:02:00Z");
    assertThat(flipped.condition("Ready").orElseThrow().getLastTransitionTime())
        .isEqualTo("2026-11-28T08:02:00Z");
  }

  @Test
  void aLaterProblemKeepsTheRecordedUpload() {
    AliyunCsrStatus ready =
        StatusBuilder.build(null, 1, Outcome.ready("Uploaded", "ok"), Optional.of(uploaded(9)), T0);
    AliyunCsrStatus broken =
        StatusBuilder.build(
            ready, 2, Outcome.stalled("InvalidCsr", "bad", null), Optional.empty(), T0);
    assertThat(broken.getCsrId()).isEqualTo(9);
    assertThat(broken.condition("Ready").orElseThrow().getStatus()).isEqualTo("False");
  }

  @Test
  void sameInputsGiveAnEqualStatusSoNothingIsWritten() {
    AliyunCsrStatus a =
        StatusBuilder.build(null, 1, Outcome.ready("Uploaded", "ok"), Optional.of(uploaded(5)), T0);
    AliyunCsrStatus b =
        StatusBuilder.build(
            a, 1, Outcome.ready("Uploaded", "ok"), Optional.of(uploaded(5)), T0.plusSeconds(30));
    assertThat(b).isEqualTo(a);
  }
}
