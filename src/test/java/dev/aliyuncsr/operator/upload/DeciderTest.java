package dev.aliyuncsr.operator.upload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.cloud.CasClient.CsrDetail;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.PrivateKeyValidator;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.testing.OperatorHarness;
import dev.aliyuncsr.operator.testing.TestPki;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The decider, case by case, on observations built by hand: no cluster, no CAS, milliseconds each.
 * The simulation runs the same code over many schedules; these cases name the rules one at a time,
 * above all which account a call may reach.
 */
class DeciderTest {
  private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");
  private static final Duration WINDOW = Duration.ofMinutes(1);
  private static final UploadNames NAMES = new UploadNames(new byte[32]);
  private static final TestPki.Material PKI = TestPki.rsaCsr(2048, "shop.example.com");
  private static final CsrFacts CSR = CsrValidator.validate(PKI.csrPem()).value();
  private static final PrivateKeyFacts KEY =
      PrivateKeyValidator.validate(PKI.pkcs8KeyPem()).value();

  private static final CasRoute.Access DESIRED = new CasRoute.Access("team-a", null, null, null);
  private static final CasRoute.Access HOLDING = new CasRoute.Access("team-a", null, null, null);
  private static final Outcome NOT_PERMITTED =
      Outcome.stalled(Reasons.ACCOUNT_NOT_PERMITTED, "not selected", null);

  /** An observation, field by field, from a plain new resource permitted in its account. */
  private static final class O {
    AliyunCsr resource = OperatorHarness.aliyunCsr("ns", "shop", "csr", null);
    boolean paused;
    Optional<Outcome> hold = Optional.empty();
    boolean confirm;
    Optional<CasRoute.Access> desired = Optional.of(DESIRED);
    Optional<Outcome> refusal = Optional.empty();
    Validated<SecretInputs.Inputs> inputs =
        Validated.valid(new SecretInputs.Inputs(CSR, Optional.empty()));
    boolean recordLost;
    Optional<String> claims = Optional.empty();
    Map<CasCsrRef, Observation.Lookup> lookups = new HashMap<>();
    Optional<Observation.Adoption> adoption = Optional.empty();
    Optional<Observation.Confirmation> confirmation = Optional.empty();

    O() {
      resource.getMetadata().setUid("uid-1");
      resource.getMetadata().setGeneration(1L);
    }

    O finalizer() {
      resource.getMetadata().setFinalizers(new ArrayList<>(List.of(CasAnnotations.FINALIZER)));
      return this;
    }

    O status(AliyunCsrStatus status) {
      status.setObservedGeneration(1L);
      resource.setStatus(status);
      return this;
    }

    O deleting() {
      resource.getMetadata().setDeletionTimestamp("2026-12-03T11:59:00Z");
      return this;
    }

    O refused() {
      desired = Optional.empty();
      refusal = Optional.of(NOT_PERMITTED);
      return this;
    }

    O withKey() {
      inputs = Validated.valid(new SecretInputs.Inputs(CSR, Optional.of(KEY)));
      return this;
    }

    Action decide() {
      boolean holds = StatusBuilder.holdsRecord(resource.getStatus());
      return Decider.decide(
          new Observation(
              resource,
              NOW,
              new Observation.Steering(paused, hold, confirm),
              new CasRoute.Routes(
                  desired, refusal, holds ? Optional.of(HOLDING) : Optional.empty()),
              inputs,
              NAMES.of(resource),
              Optional.empty(),
              Optional.empty(),
              recordLost,
              null,
              claims,
              new Observation.CasFacts(lookups, adoption, confirmation),
              WINDOW));
    }
  }

  /** A status that records CsrId {@code id} for the CSR in the Secret, Ready. */
  private static AliyunCsrStatus recorded(long id) {
    AliyunCsrStatus status = new AliyunCsrStatus();
    StatusBuilder.setCurrent(
        status,
        new UploadedCsr(id, "r", NAMES.of(new O().resource), CSR, false, "2026-12-03T11:00:00Z"));
    status.setAccount("team-a");
    status.setConditions(
        StatusBuilder.build(null, 1, Outcome.ready(Reasons.UPLOADED, "ok"), Optional.empty(), NOW)
            .getConditions());
    return status;
  }

  private static AliyunCsrStatus pending(CasCsrRef ref) {
    AliyunCsrStatus status = new AliyunCsrStatus();
    status.setAccount("team-a");
    status.setPendingUploads(new ArrayList<>(List.of(ref)));
    return status;
  }

  // ---- steering and routes ------------------------------------------------------------------

  @Test
  void aPausedResourceCallsNothing_anOrphanDeletionIsStillReleased() {
    O paused = new O().finalizer().status(recorded(7));
    paused.paused = true;
    assertThat(paused.decide()).isInstanceOf(Action.Pause.class);

    O orphaning = new O().finalizer().status(recorded(7)).deleting();
    orphaning.paused = true;
    orphaning.resource.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
    assertThat(orphaning.decide()).isInstanceOf(Action.RemoveFinalizer.class);
  }

  @Test
  void aBackOffHoldRepeatsItsOutcomeWithoutACall() {
    O held = new O();
    Outcome throttled = Outcome.progressing(Reasons.THROTTLED, "later", Duration.ofSeconds(3));
    held.hold = Optional.of(throttled);
    assertThat(held.decide()).isEqualTo(new Action.Hold(throttled));
  }

  @Test
  void anAccountThatDoesNotSelectTheNamespaceGetsNoCallAtAll() {
    assertThat(new O().refused().decide()).isEqualTo(new Action.Settle(NOT_PERMITTED));
    O restoring = new O().refused().finalizer();
    restoring.recordLost = true;
    assertThat(restoring.decide())
        .as("even a restore with the operator's finalizer on")
        .isEqualTo(new Action.Settle(NOT_PERMITTED));
  }

  @Test
  void aNewResourceUploadsUnderItsOwnMarkedNameThroughTheAccountItsSpecNames() {
    Action action = new O().decide();
    assertThat(action)
        .isEqualTo(new Action.TakeLease(DESIRED, NAMES.of(new O().resource), CSR.csrSha256()));
  }

  // ---- restores ------------------------------------------------------------------------------

  @Test
  void aLostStatusRestoresOnlyTheSecretsCsrUnderTheOwnName() {
    O lost = new O().finalizer();
    lost.recordLost = true;
    Action action = lost.decide();
    assertThat(action).isInstanceOf(Action.WriteRecord.class);
    AliyunCsrStatus record = ((Action.WriteRecord) action).record();
    assertThat(record.getPendingUploads())
        .containsExactly(new CasCsrRef(null, NAMES.of(lost.resource), CSR.csrSha256()));
    assertThat(record.getAccount()).isEqualTo("team-a");
  }

  @Test
  void aLostStatusWithABrokenSecretWaitsKeepingTheStatusLost() {
    O lost = new O().finalizer();
    lost.recordLost = true;
    lost.inputs = Validated.invalid(Reasons.SECRET_NOT_FOUND, "no Secret");
    Action action = lost.decide();
    assertThat(action).isInstanceOf(Action.Settle.class);
    assertThat(((Action.Settle) action).statusLost()).isTrue();
  }

  @Test
  void aDeletionWithNothingRecordedIsReleasedWithoutACallUnlessItsAccountMayBeAsked() {
    O unselected = new O().finalizer().deleting().refused();
    unselected.recordLost = true;
    assertThat(unselected.decide()).isInstanceOf(Action.RemoveFinalizer.class);

    O selected = new O().finalizer().deleting();
    selected.recordLost = true;
    Action action = selected.decide();
    assertThat(action).isInstanceOf(Action.WriteRecord.class);
    assertThat(((Action.WriteRecord) action).why()).isEqualTo("restore");
  }

  @Test
  void aRecordedCsrIsDeletedThroughTheHoldingAccountEvenWhenTheSelectorNoLongerSelects() {
    AliyunCsrStatus status = recorded(7);
    StatusBuilder.clearCurrent(status);
    CasCsrRef seven = new CasCsrRef(7L, "x", CSR.csrSha256());
    status.setSupersededCsrs(new ArrayList<>(List.of(seven)));
    O deleting = new O().finalizer().status(status).deleting().refused();
    assertThat(deleting.decide()).isEqualTo(new Action.DeleteCsr(HOLDING, seven));
  }

  // ---- lookups and the missing window ---------------------------------------------------------

  @Test
  void aPendingUploadIsLookedUpThenTakenAsNeverStoredOnlyAfterTwoEmptyLookupsAWindowApart() {
    CasCsrRef ref = new CasCsrRef(null, "name", CSR.csrSha256());
    O first = new O().finalizer().status(pending(ref));
    assertThat(first.decide()).isEqualTo(new Action.LookUp(DESIRED, List.of(ref)));

    first.lookups.put(ref, new Observation.Lookup(List.of(), NOW));
    Action marked = first.decide();
    assertThat(marked).isInstanceOf(Action.WriteRecord.class);
    CasCsrRef after = ((Action.WriteRecord) marked).record().getPendingUploads().get(0);
    assertThat(after.getNotFoundAt()).isEqualTo(StatusBuilder.rfc3339(NOW));

    // Within the window: no call at all, not even a lookup.
    CasCsrRef noted = new CasCsrRef(null, "name", CSR.csrSha256());
    noted.setNotFoundAt(StatusBuilder.rfc3339(NOW.minusSeconds(20)));
    O early = new O().finalizer().status(pending(noted));
    assertThat(early.decide()).isInstanceOf(Action.Hold.class);

    // After it: a second empty lookup resolves it as never stored.
    noted.setNotFoundAt(StatusBuilder.rfc3339(NOW.minus(WINDOW).minusSeconds(1)));
    O later = new O().finalizer().status(pending(noted));
    assertThat(later.decide()).isEqualTo(new Action.LookUp(DESIRED, List.of(noted)));
    later.lookups.put(noted, new Observation.Lookup(List.of(), NOW));
    Action resolved = later.decide();
    assertThat(resolved).isInstanceOf(Action.WriteRecord.class);
    assertThat(((Action.WriteRecord) resolved).record().getPendingUploads()).isNull();
  }

  @Test
  void aPendingUploadFoundInCasIsRecoveredNotUploadedAgain() {
    CasCsrRef ref = new CasCsrRef(null, "name", CSR.csrSha256());
    O o = new O().finalizer().status(pending(ref));
    o.lookups.put(
        ref, new Observation.Lookup(List.of(new CasCsrRef(42L, "name", CSR.csrSha256())), NOW));
    Action action = o.decide();
    assertThat(action).isInstanceOf(Action.WriteRecord.class);
    assertThat(((Action.WriteRecord) action).record().getCsrId()).isEqualTo(42L);
    assertThat(((Action.WriteRecord) action).outcome().orElseThrow().reason())
        .isEqualTo(Reasons.RECOVERED);
  }

  @Test
  void aRecordedCsrIsGoneOnlyAfterTwoNotFoundAnswersAWindowApart() {
    O asked = new O().finalizer().status(recorded(7));
    asked.confirm = true;
    assertThat(asked.decide()).isEqualTo(new Action.Confirm(DESIRED, 7));

    asked.confirmation =
        Optional.of(new Observation.Confirmation(7, Optional.empty(), NOW, DESIRED));
    Action once = asked.decide();
    assertThat(once).isInstanceOf(Action.WriteRecord.class);
    assertThat(((Action.WriteRecord) once).record().getNotFoundAt())
        .isEqualTo(StatusBuilder.rfc3339(NOW));
    assertThat(((Action.WriteRecord) once).outcome().orElseThrow().state())
        .as("still Ready: one NotFound proves nothing")
        .isEqualTo(Outcome.State.READY);

    AliyunCsrStatus noted = recorded(7);
    noted.setNotFoundAt(StatusBuilder.rfc3339(NOW.minus(WINDOW)));
    O twice = new O().finalizer().status(noted);
    twice.confirmation =
        Optional.of(new Observation.Confirmation(7, Optional.empty(), NOW, DESIRED));
    Action gone = twice.decide();
    assertThat(gone).isInstanceOf(Action.WriteRecord.class);
    assertThat(((Action.WriteRecord) gone).why()).isEqualTo(Decider.MISSING);
  }

  @Test
  void anAccountSuspectedOfPointingElsewhereUploadsNothingAgain() {
    AliyunCsrStatus noted = recorded(7);
    noted.setNotFoundAt(StatusBuilder.rfc3339(NOW.minus(WINDOW)));
    O o = new O().finalizer().status(noted);
    CasRoute.Access suspected =
        new CasRoute.Access("team-a", null, null, null, Optional.of("confirm with TOKEN"));
    o.desired = Optional.of(suspected);
    o.confirmation = Optional.of(new Observation.Confirmation(7, Optional.empty(), NOW, suspected));
    Action action = o.decide();
    assertThat(action).isInstanceOf(Action.Settle.class);
    Outcome outcome = ((Action.Settle) action).outcome();
    assertThat(outcome.state()).isEqualTo(Outcome.State.STALLED);
    assertThat(outcome.reason()).isEqualTo(Reasons.CSR_MISSING_IN_CAS);
    assertThat(outcome.message()).contains("confirm with TOKEN");
  }

  // ---- adoption -------------------------------------------------------------------------------

  @Test
  void anAdoptionOfACsrAnotherResourceClaimsIsRefusedBeforeAnyCall() {
    O o = new O();
    o.resource.getSpec().setCsrId(9L);
    o.claims = Optional.of("AliyunCsr other/x records it");
    Action action = o.decide();
    assertThat(action).isInstanceOf(Action.Settle.class);
    assertThat(((Action.Settle) action).outcome().reason()).isEqualTo(Reasons.ADOPTION_CONFLICT);
  }

  @Test
  void anAdoptionIsCheckedInCasAndRefusedUnderAnotherResourcesMark() {
    O o = new O();
    o.resource.getSpec().setCsrId(9L);
    assertThat(o.decide()).isEqualTo(new Action.CheckAdoption(DESIRED, 9));
    o.adoption =
        Optional.of(
            new Observation.Adoption(
                9,
                Optional.of(new CsrDetail(9, PKI.csrPem(), false, "r")),
                Optional.of(CSR.publicKeySha256()),
                null,
                Optional.of("victim-aaaaaaaaaaaaaaaa"),
                true));
    Action action = o.decide();
    assertThat(action).isInstanceOf(Action.Settle.class);
    assertThat(((Action.Settle) action).outcome().reason()).isEqualTo(Reasons.ADOPTION_CONFLICT);
  }

  @Test
  void anAdoptedCsrIsDeletedOnlyWithTheKeyThatProvesPossession() {
    AliyunCsrStatus status = recorded(9);
    StatusBuilder.clearCurrent(status);
    CasCsrRef adopted = new CasCsrRef(9L, "made-elsewhere", CSR.csrSha256());
    adopted.setPublicKeySha256(CSR.publicKeySha256());
    status.setSupersededCsrs(new ArrayList<>(List.of(adopted)));

    O withoutKey = new O().finalizer().status(status).deleting();
    withoutKey.resource.getSpec().setCsrId(9L);
    Action released = withoutKey.decide();
    assertThat(released).isInstanceOf(Action.ReleaseCsr.class);
    assertThat(((Action.ReleaseCsr) released).reason()).isEqualTo(Reasons.CSR_NOT_PROVEN);

    O withKey = new O().finalizer().status(status).deleting().withKey();
    withKey.resource.getSpec().setCsrId(9L);
    assertThat(withKey.decide()).isEqualTo(new Action.DeleteCsr(HOLDING, adopted));
  }
}
