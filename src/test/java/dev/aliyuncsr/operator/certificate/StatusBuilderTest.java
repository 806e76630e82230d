package dev.aliyuncsr.operator.certificate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.aliyuncsr.operator.api.AliyunCertificateStatus;
import dev.aliyuncsr.operator.api.ApplicationLease;
import dev.aliyuncsr.operator.api.ApplicationRecord;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class StatusBuilderTest {
  static final Instant T0 = Instant.parse("2026-12-03T08:00:00Z");

  static AliyunCertificateStatus record() {
    AliyunCertificateStatus record = new AliyunCertificateStatus();
    record.setInstanceStatus("pending");
    record.setApplication(
        new ApplicationRecord("cas_dv-cn-1", "ab", "v1", new ApplicationLease("p", "t", "x")));
    record.setCertificateId(7L);
    return record;
  }

  @Test
  void theFirstStatusHasTheThreeKstatusConditionsAndTheGeneration() {
    var status =
        StatusBuilder.withOutcome(
            null,
            record(),
            4,
            Outcome.progressing(Reasons.AWAITING_VALIDATION, "create", null),
            T0);

    assertThat(status.getObservedGeneration()).isEqualTo(4);
    assertThat(status.getConditions())
        .extracting(CsrCondition::getType, CsrCondition::getStatus, CsrCondition::getReason)
        .containsExactly(
            tuple("Ready", "False", Reasons.AWAITING_VALIDATION),
            tuple("Reconciling", "True", Reasons.AWAITING_VALIDATION),
            tuple("Stalled", "False", Reasons.AWAITING_VALIDATION));
    assertThat(status.getConditions())
        .allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(4));
    assertThat(status.getInstanceStatus()).isEqualTo("pending");
    assertThat(status.getApplication()).isEqualTo(record().getApplication());
    assertThat(status.getCertificateId()).isEqualTo(7L);
  }

  @Test
  void lastTransitionTimeMovesOnlyWhenAConditionFlips() {
    var first =
        StatusBuilder.withOutcome(
            null, record(), 1, Outcome.progressing(Reasons.AWAITING_VALIDATION, "a", null), T0);
    var sameState =
        StatusBuilder.withOutcome(
            first,
            record(),
            1,
            Outcome.progressing(Reasons.ISSUING, "b", null),
            T0.plusSeconds(300));
    assertThat(sameState.condition("Reconciling").orElseThrow().getLastTransitionTime())
        .isEqualTo("2026-12-03T08:00:00Z");
    assertThat(sameState.condition("Reconciling").orElseThrow().getReason())
        .isEqualTo(Reasons.ISSUING);

    var flipped =
        StatusBuilder.withOutcome(
            sameState,
            record(),
            1,
            Outcome.ready(Reasons.ISSUED, "c"),
            T0.plus(Duration.ofMinutes(9)));
    assertThat(flipped.condition("Ready").orElseThrow().getLastTransitionTime())
        .isEqualTo("2026-12-03T08:09:00Z");
    assertThat(flipped.condition("Reconciling").orElseThrow().getStatus()).isEqualTo("False");
    assertThat(flipped.condition("Stalled").orElseThrow().getLastTransitionTime())
        .isEqualTo("2026-12-03T08:00:00Z");
  }

  @Test
  void expiringStaysReadyTrue() {
    var status =
        StatusBuilder.withOutcome(null, record(), 1, Outcome.ready(Reasons.EXPIRING, "soon"), T0);
    assertThat(status.condition("Ready").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(status.condition("Ready").orElseThrow().getReason()).isEqualTo(Reasons.EXPIRING);
  }

  @Test
  void aStalledOutcomeSetsStalledAndNotReconciling() {
    var status =
        StatusBuilder.withOutcome(
            null, record(), 1, Outcome.stalled(Reasons.INSTANCE_IN_USE, "taken", null), T0);
    assertThat(status.condition("Stalled").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(status.condition("Stalled").orElseThrow().getMessage()).isEqualTo("taken");
    assertThat(status.condition("Reconciling").orElseThrow().getStatus()).isEqualTo("False");
  }

  @Test
  void theCopyIsDeepForTheApplicationSoADecisionNeverEditsTheObservedObject() {
    var original = record();
    var copy = StatusBuilder.copyRecord(original);
    copy.getApplication().setLease(null);
    assertThat(original.getApplication().getLease()).isNotNull();
  }
}
