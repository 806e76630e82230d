package dev.aliyuncsr.operator.certificate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasException.Kind;
import dev.aliyuncsr.operator.kube.Outcome;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FailuresTest {
  static final Duration BACKOFF = Duration.ofSeconds(8);

  static CasException failure(Kind kind, String code) {
    return new CasException(kind, "X", code, "req", code + ": CAS says so");
  }

  @ParameterizedTest(name = "{0} {1} -> {2} {3}")
  @CsvSource({
    "NOT_FOUND, NotFound, STALLED, InstanceNotFound",
    "TERMINAL, NotFound, STALLED, InstanceNotFound",
    "TERMINAL, OperationDenied.ApplicationIncomplete, STALLED, InstanceUnusable",
    "TERMINAL, InvalidParameter.Domain, STALLED, InstanceUnusable",
    "TERMINAL, InvalidParameter.KeyAlgorithm, STALLED, InstanceUnusable",
    "TERMINAL, OperationDenied.InstanceStatus, PROGRESSING, Applying",
    "TERMINAL, SomethingNew, STALLED, CloudRejected",
    "RETRYABLE, Throttling.User, PROGRESSING, Throttled",
    "RETRYABLE, ServiceUnavailable, PROGRESSING, CloudError",
    "AMBIGUOUS, Timeout, PROGRESSING, CloudError",
    "AUTH, InvalidAccessKeyId.NotFound, STALLED, AuthFailed",
  })
  void readAndUpdateFailuresMapToTheContractsReasons(
      Kind kind, String code, Outcome.State state, String reason) {
    for (Outcome outcome :
        new Outcome[] {
          Failures.ofRead(failure(kind, code), "cas_dv-cn-1", BACKOFF),
          Failures.ofUpdate(failure(kind, code), "cas_dv-cn-1", BACKOFF)
        }) {
      assertThat(outcome.state()).as(outcome.message()).isEqualTo(state);
      assertThat(outcome.reason()).isEqualTo(reason);
    }
  }

  @Test
  void aRefusalCarriesCassCodeAndText() {
    Outcome outcome =
        Failures.ofUpdate(
            failure(Kind.TERMINAL, "InvalidParameter.Domain"), "cas_dv-cn-1", BACKOFF);
    assertThat(outcome.message()).contains("InvalidParameter.Domain: CAS says so", "cas_dv-cn-1");
  }

  @ParameterizedTest
  @CsvSource({"Timeout", "SignatureNonceUsed", "ServiceUnavailable"})
  void anApplyWhoseAnswerIsUnknownMayHaveAppliedAndWaitsForTheLease(String code) {
    var after =
        Failures.ofApply(
            failure(Kind.AMBIGUOUS, code), "cas_dv-cn-1", Duration.ofSeconds(90), BACKOFF);

    assertThat(after.mayHaveApplied()).isTrue();
    assertThat(after.outcome().reason()).isEqualTo(Reasons.APPLYING);
    assertThat(after.outcome().requeueAfter()).contains(Duration.ofSeconds(90));
    assertThat(after.outcome().message()).contains("nothing is applied again");
  }

  @ParameterizedTest
  @CsvSource({
    "RETRYABLE, Throttling.User",
    "TERMINAL, OperationDenied.InstanceStatus",
    "TERMINAL, OperationDenied.ApplicationIncomplete",
    "NOT_FOUND, NotFound",
    "AUTH, Forbidden.NoPermission",
  })
  void anApplyRefusedBeforeAnythingHappenedDropsTheLease(Kind kind, String code) {
    var after =
        Failures.ofApply(failure(kind, code), "cas_dv-cn-1", Duration.ofSeconds(90), BACKOFF);
    assertThat(after.mayHaveApplied()).isFalse();
  }

  @Test
  void aDownloadThatFailsIsRetriedWhileTheInstanceSaysIssued() {
    Outcome outcome = Failures.ofDownload(failure(Kind.NOT_FOUND, "NotFound"), 99, BACKOFF);
    assertThat(outcome.state()).isEqualTo(Outcome.State.PROGRESSING);
    assertThat(outcome.reason()).isEqualTo(Reasons.ISSUING);
    assertThat(outcome.requeueAfter()).contains(BACKOFF);
    assertThat(Failures.ofDownload(failure(Kind.AUTH, "Forbidden.X"), 99, BACKOFF).state())
        .isEqualTo(Outcome.State.STALLED);
  }
}
