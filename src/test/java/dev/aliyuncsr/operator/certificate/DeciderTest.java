package dev.aliyuncsr.operator.certificate;

import static dev.aliyuncsr.operator.certificate.CertificateWorld.CSR;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.INSTANCE;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.KEY;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.MATERIAL;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.NAME;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.NOW;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.OTHER;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.SECRET;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.dnsValidations;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.lease;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.ourCsrRewrapped;
import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.ValidationMethod;
import dev.aliyuncsr.operator.api.ValidationRecord;
import dev.aliyuncsr.operator.certificate.Observation.Account;
import dev.aliyuncsr.operator.certificate.Observation.TargetSecret;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.csr.InputProblem;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.testing.TestCa;
import dev.aliyuncsr.operator.testing.TestPki;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The decider's branches, one small case each: an observation in, one action out. */
class DeciderTest {
  final Decider decider = new Decider(Settings.defaults());

  static CertificateWorld world() {
    return new CertificateWorld();
  }

  Action decide(CertificateWorld w) {
    return decider.decide(w.observation());
  }

  /** The world once this pass took the application lease (for {@code retry}), as it reads it. */
  static CertificateWorld ownLease(CertificateWorld w, String retry) {
    return w.application(instanceOf(w), retry, null, lease("mine", NOW.plusSeconds(30)))
        .with(x -> x.held = Optional.of("mine"));
  }

  private static String instanceOf(CertificateWorld w) {
    return w.resource.getSpec().getInstanceId();
  }

  /** The pass ends without touching CAS, saying {@code reason} in {@code state}. */
  static Action.Settle settled(Action action, Outcome.State state, String reason) {
    assertThat(action).isInstanceOf(Action.Settle.class);
    Action.Settle settle = (Action.Settle) action;
    assertThat(settle.outcome().state()).as(settle.outcome().message()).isEqualTo(state);
    assertThat(settle.outcome().reason()).as(settle.outcome().message()).isEqualTo(reason);
    return settle;
  }

  @Nested
  class BeforeAnyCall {
    @Test
    void withEverythingInOrderTheFirstCallIsToLookAtTheInstance() {
      assertThat(decide(world())).isEqualTo(new Action.ReadInstance(INSTANCE));
    }

    @Test
    void aDeletedResourceCallsNothingAndLeavesTheSecretAndInstance() {
      var w = world().with(x -> x.resource.getMetadata().setDeletionTimestamp(NOW.toString()));
      settled(decide(w), Outcome.State.PROGRESSING, Reasons.DELETING);
    }

    @Test
    void aResourceWithoutSpecStalls() {
      var w = world().with(x -> x.resource.setSpec(null));
      settled(decide(w), Outcome.State.STALLED, Reasons.INVALID_SPEC);
    }

    @Test
    void aMissingAliyunCsrIsAwaited() {
      var w = world().with(x -> x.csr = Optional.empty());
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_CSR);
      assertThat(settle.outcome().message()).contains("AliyunCsr shop does not exist");
    }

    @Test
    void anAliyunCsrThatIsNotReadyIsAwaitedAndItsReasonShown() {
      var w =
          world()
              .with(x -> x.csr.get().getStatus().getConditions().get(0).setStatus("False"))
              .with(x -> x.csr.get().getStatus().getConditions().get(0).setReason("Queued"));
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_CSR);
      assertThat(settle.outcome().message()).contains("Queued");
    }

    @Test
    void anAliyunCsrReadyForAnOlderGenerationIsAwaited() {
      var w = world().with(x -> x.csr.get().getMetadata().setGeneration(3L));
      settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_CSR);
    }

    @Test
    void anAccountThatRefusesTheNamespaceGetsNothingCalled() {
      Outcome refusal = Outcome.stalled(Reasons.ACCOUNT_NOT_PERMITTED, "not selected", null);
      var w =
          world()
              .with(
                  x ->
                      x.account =
                          new Account("team-a", Optional.of(refusal), Optional.empty(), List.of()));
      assertThat(((Action.Settle) decide(w)).outcome()).isEqualTo(refusal);
    }

    @Test
    void anInstanceTheAccountDoesNotListIsNotAllowed() {
      var w =
          world()
              .with(
                  x ->
                      x.account =
                          new Account(
                              "team-a",
                              Optional.empty(),
                              Optional.of(List.of("cas_dv-cn-other")),
                              List.of()));
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_NOT_ALLOWED);
      assertThat(settle.outcome().message()).contains(INSTANCE, "team-a");
    }

    @Test
    void anInstanceTheAccountListsIsLookedAt() {
      var w =
          world()
              .with(
                  x ->
                      x.account =
                          new Account(
                              "team-a",
                              Optional.empty(),
                              Optional.of(List.of(INSTANCE)),
                              List.of()));
      assertThat(decide(w)).isInstanceOf(Action.ReadInstance.class);
    }

    @Test
    void theLaterOfTwoCertificatesNamingOneInstanceCallsNothing() {
      AliyunCertificate earlier = CertificateWorld.certificate();
      earlier.getMetadata().setName("first");
      var w = world().with(x -> x.conflict = Optional.of(earlier));
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_CONFLICT);
      assertThat(settle.outcome().message()).contains("default/first");
    }

    @Test
    void aSecretWithoutTheAnnotationIsNeverOverwritten() {
      var w =
          world().with(x -> x.secret = new TargetSecret(true, Optional.empty(), Optional.empty()));
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.SECRET_CONFLICT);
      assertThat(settle.outcome().message()).contains(SECRET, CertificateAnnotations.SECRET_OWNER);
    }

    @Test
    void aSecretOfAnotherCertificateIsNeverOverwritten() {
      var w =
          world()
              .with(x -> x.secret = new TargetSecret(true, Optional.of("other"), Optional.empty()));
      settled(decide(w), Outcome.State.STALLED, Reasons.SECRET_CONFLICT);
    }

    @Test
    void ourOwnSecretIsNoConflict() {
      var w =
          world().with(x -> x.secret = new TargetSecret(true, Optional.of(NAME), Optional.empty()));
      assertThat(decide(w)).isInstanceOf(Action.ReadInstance.class);
    }

    @Test
    void aCsrInTheSecretThatTheAliyunCsrHasNotUploadedIsAwaited() {
      var w = world().with(x -> x.csr.get().getStatus().setCsrSha256("0".repeat(64)));
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_CSR);
      assertThat(settle.outcome().message()).contains("not the one it uploaded");
    }

    @Test
    void anUnreadableCsrSecretIsAwaited() {
      var w = world().with(x -> x.csrInput = Validated.invalid(Reasons.INVALID_CSR, "bad PEM"));
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_CSR);
      assertThat(settle.outcome().message()).contains("bad PEM");
    }

    @Test
    void aCsrCasCannotIssueForStallsBeforeAnyCall() {
      var p384 = TestPki.ecCsr("secp384r1", "shop.example.com");
      var facts = CsrValidator.validate(p384.csrPem()).value();
      var w =
          world()
              .with(x -> x.csrInput = Validated.valid(facts))
              .with(x -> x.csr.get().getStatus().setCsrSha256(facts.csrSha256()));
      settled(decide(w), Outcome.State.STALLED, Reasons.UNSUPPORTED_CSR);
    }

    @Test
    void aWildcardWithHttpValidationIsUnsupported() {
      var wildcard = TestPki.csr(MATERIAL.keyPair(), "*.shop.example.com");
      var facts = CsrValidator.validate(wildcard.csrPem()).value();
      var w =
          world()
              .with(x -> x.csrInput = Validated.valid(facts))
              .with(x -> x.csr.get().getStatus().setCsrSha256(facts.csrSha256()))
              .with(x -> x.resource.getSpec().setValidationMethod(ValidationMethod.HTTP));
      settled(decide(w), Outcome.State.STALLED, Reasons.UNSUPPORTED_CSR);
    }

    @ParameterizedTest
    @ValueSource(
        strings = {Reasons.SECRET_NOT_FOUND, Reasons.SECRET_KEY_MISSING, Reasons.KEY_MISSING})
    void aMissingKeyIsAwaited(String problem) {
      var w =
          world()
              .with(
                  x ->
                      x.key = Validated.invalid(problem, "Secret default/shop-key does not exist"));
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.KEY_MISSING);
      assertThat(settle.outcome().message()).contains("shop-key", "privateKeySecretRef");
    }

    @Test
    void anUnreadableKeyStallsAsKeyMissing() {
      var w = world().with(x -> x.key = Validated.invalid(Reasons.INVALID_KEY, "encrypted"));
      settled(decide(w), Outcome.State.STALLED, Reasons.KEY_MISSING);
    }

    @Test
    void aKeyOfAnotherCsrIsAMismatchBeforeAnyCall() {
      var other = dev.aliyuncsr.operator.csr.PrivateKeyValidator.validate(OTHER.pkcs8KeyPem());
      var w = world().with(x -> x.key = other);
      settled(decide(w), Outcome.State.STALLED, Reasons.KEY_MISMATCH);
    }

    @Test
    void externalDnsForANameOutsideTheAllowedZonesStallsBeforeAnyCall() {
      var w =
          world()
              .with(x -> x.resource.getSpec().setExternalDns(true))
              .with(
                  x ->
                      x.account =
                          new Account(
                              null,
                              Optional.empty(),
                              Optional.empty(),
                              List.of("shop.example.org")));
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.DNS_ZONE_NOT_ALLOWED);
      assertThat(settle.outcome().message()).contains("shop.example.com", "shop.example.org");
    }

    @Test
    void externalDnsWithNoZonesAtAllStalls() {
      var w =
          world()
              .with(x -> x.resource.getSpec().setExternalDns(true))
              .with(
                  x ->
                      x.account = new Account(null, Optional.empty(), Optional.empty(), List.of()));
      settled(decide(w), Outcome.State.STALLED, Reasons.DNS_ZONE_NOT_ALLOWED);
    }

    @Test
    void withoutExternalDnsTheZonesDoNotMatter() {
      var w =
          world()
              .with(
                  x ->
                      x.account = new Account(null, Optional.empty(), Optional.empty(), List.of()));
      assertThat(decide(w)).isInstanceOf(Action.ReadInstance.class);
    }

    @Test
    void externalDnsInsideAnAllowedZoneGoesOn() {
      var w = world().with(x -> x.resource.getSpec().setExternalDns(true));
      assertThat(decide(w)).isInstanceOf(Action.ReadInstance.class);
    }
  }

  @Nested
  class TheLease {
    @Test
    void anotherProcesssLiveLeaseIsWaitedOutWithoutAnyCall() {
      var w =
          world()
              .application(INSTANCE, null, null, lease("theirs", NOW.plusSeconds(30)))
              .instance("inactive", ourCsrRewrapped(), "", List.of());
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.APPLYING);
      assertThat(settle.outcome().requeueAfter())
          .hasValueSatisfying(
              d -> assertThat(d).isBetween(Duration.ofSeconds(31), Duration.ofSeconds(32)));
    }

    @Test
    void theLeaseThisPassTookIsUsedToApply() {
      var w =
          world()
              .application(INSTANCE, null, null, lease("mine", NOW.plusSeconds(30)))
              .with(x -> x.held = Optional.of("mine"))
              .instance("inactive", ourCsrRewrapped(), "", List.of());
      assertThat(decide(w)).isEqualTo(new Action.Apply(INSTANCE));
    }

    @Test
    void underItsLeaseAPassFillsAFreeInstanceThenLooksAgainBeforeApplying() {
      var w = ownLease(world(), null).instance("inactive", null, "", List.of());
      assertThat(decide(w)).isInstanceOf(Action.UpdateInstance.class);
      // The fill forgets the instance: it is read again, under the same lease, then applied.
      w.instance = Optional.empty();
      assertThat(decide(w)).isEqualTo(new Action.ReadInstance(INSTANCE));
      w.instance("inactive", ourCsrRewrapped(), "", List.of());
      assertThat(decide(w)).isEqualTo(new Action.Apply(INSTANCE));
    }

    @Test
    void anInstanceFilledWithAnotherCsrUnderOurLeaseIsInUseAndTheLeaseIsGivenBack() {
      var w = ownLease(world(), null).instance("inactive", OTHER.csrPem(), "", List.of());
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_IN_USE);
      assertThat(settle.record().getApplication().getLease()).isNull();
    }

    @Test
    void theLeaseIsGivenBackWhenTheSpecChangedBeforeApplying() {
      var w =
          world()
              .application("cas_dv-cn-old", null, null, lease("mine", NOW.plusSeconds(30)))
              .with(x -> x.held = Optional.of("mine"));
      var action = decide(w);
      assertThat(action).isInstanceOf(Action.WriteRecord.class);
      assertThat(((Action.WriteRecord) action).record().getApplication().getLease()).isNull();
    }

    @Test
    void anEndedLeaseIsDroppedAndTheInstanceDecides() {
      var w =
          world()
              .application(INSTANCE, null, null, lease("lost", NOW.minusSeconds(5)))
              .instance("pending", ourCsrRewrapped(), "", dnsValidations());
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_VALIDATION);
      assertThat(settle.record().getApplication().getLease()).isNull();
      assertThat(settle.record().getApplication().getInstanceId()).isEqualTo(INSTANCE);
    }

    @Test
    void afterAnUnknownAnswerAnInstanceThatWasNotAppliedForIsAppliedForUnderANewLease() {
      var w =
          world()
              .application(INSTANCE, null, null, lease("lost", NOW.minusSeconds(5)))
              .instance("inactive", ourCsrRewrapped(), "", List.of());
      assertThat(decide(w))
          .isEqualTo(new Action.TakeApplicationLease(INSTANCE, CSR.csrSha256(), null));
    }
  }

  @Nested
  class AnInactiveInstance {
    @Test
    void aFreeInstanceIsFilledWithTheCsrItsKeyAlgorithmAndNamesCnFirst() {
      var w = world().instance("inactive", null, "", List.of());
      // The fill starts an application: it is made under the application lease, as the apply.
      assertThat(decide(w))
          .isEqualTo(new Action.TakeApplicationLease(INSTANCE, CSR.csrSha256(), null));
      ownLease(w, null);
      var action = decide(w);
      assertThat(action).isInstanceOf(Action.UpdateInstance.class);
      var fill = ((Action.UpdateInstance) action).fill();
      assertThat(fill.instanceId()).isEqualTo(INSTANCE);
      assertThat(fill.csrPem()).isEqualTo(CSR.pem());
      assertThat(fill.domains()).containsExactly("shop.example.com", "www.shop.example.com");
      assertThat(fill.keyAlgorithm()).isEqualTo("ECC_256");
      assertThat(fill.validationMethod()).isEqualTo("DNS");
    }

    @Test
    void anInstanceFilledWithAnotherCsrIsInUse() {
      var w = world().instance("inactive", OTHER.csrPem(), "", List.of());
      settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_IN_USE);
    }

    @Test
    void anInstanceFilledWithOurCsrRewrappedIsAppliedForUnderALease() {
      var w = world().instance("inactive", ourCsrRewrapped(), "", List.of());
      assertThat(decide(w))
          .isEqualTo(new Action.TakeApplicationLease(INSTANCE, CSR.csrSha256(), null));
    }

    @Test
    void theLeaseUsesUpTheRetryValueInForce() {
      var w =
          world()
              .annotate(CertificateAnnotations.RETRY_APPLICATION, "1")
              .instance("inactive", ourCsrRewrapped(), "", List.of());
      assertThat(decide(w))
          .isEqualTo(new Action.TakeApplicationLease(INSTANCE, CSR.csrSha256(), "1"));
    }

    @Test
    void filledWithOurCsrButAnotherValidationMethodItIsFilledAgain() {
      var w = world().instance("inactive", ourCsrRewrapped(), "", List.of(), null, "HTTP");
      assertThat(decide(w))
          .isEqualTo(new Action.TakeApplicationLease(INSTANCE, CSR.csrSha256(), null));
      assertThat(decide(ownLease(w, null))).isInstanceOf(Action.UpdateInstance.class);
    }

    @Test
    void ourFailedApplicationIsNeverAppliedForAgainOnItsOwn() {
      var w =
          world()
              .application(INSTANCE, null, NOW.minusSeconds(600).toString(), null)
              .instance("inactive", ourCsrRewrapped(), "DNS record not found", List.of());
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.VALIDATION_FAILED);
      assertThat(settle.outcome().message())
          .contains("DNS record not found", CertificateAnnotations.RETRY_APPLICATION);
    }

    @Test
    void aNewRetryValueRefillsTheInstanceToStartOneNewApplication() {
      var w =
          world()
              .application(INSTANCE, null, NOW.minusSeconds(600).toString(), null)
              .annotate(CertificateAnnotations.RETRY_APPLICATION, "2026-12-03")
              .instance("inactive", ourCsrRewrapped(), "DNS record not found", List.of());
      assertThat(decide(w))
          .isEqualTo(new Action.TakeApplicationLease(INSTANCE, CSR.csrSha256(), "2026-12-03"));
      // Under the lease that records the value, the refill clears PendingResult.
      assertThat(decide(ownLease(w, "2026-12-03"))).isInstanceOf(Action.UpdateInstance.class);
    }

    @Test
    void aRetryValueThatAnApplicationUsedStartsNothing() {
      var w =
          world()
              .application(INSTANCE, "2026-12-03", NOW.minusSeconds(600).toString(), null)
              .annotate(CertificateAnnotations.RETRY_APPLICATION, "2026-12-03")
              .instance("inactive", ourCsrRewrapped(), "DNS record not found", List.of());
      settled(decide(w), Outcome.State.STALLED, Reasons.VALIDATION_FAILED);
    }

    @Test
    void aRetryValueUsedOnAnotherInstanceIsNewHere() {
      var w =
          world()
              .application("cas_dv-cn-other", "v1", NOW.minusSeconds(600).toString(), null)
              .annotate(CertificateAnnotations.RETRY_APPLICATION, "v1")
              .instance("inactive", ourCsrRewrapped(), "failed", List.of());
      assertThat(decide(w))
          .isEqualTo(new Action.TakeApplicationLease(INSTANCE, CSR.csrSha256(), "v1"));
    }

    @Test
    void afterTheRetryRefillTheNewApplicationTakesALeaseRecordingTheValue() {
      var w =
          world()
              .application(INSTANCE, null, NOW.minusSeconds(600).toString(), null)
              .annotate(CertificateAnnotations.RETRY_APPLICATION, "v2")
              .instance("inactive", ourCsrRewrapped(), "", List.of());
      assertThat(decide(w))
          .isEqualTo(new Action.TakeApplicationLease(INSTANCE, CSR.csrSha256(), "v2"));
    }

    @Test
    void anAcceptedApplicationIsNotMadeAgainWhenTheInstanceDoesNotShowIt() {
      var w =
          world()
              .application(INSTANCE, null, NOW.minusSeconds(60).toString(), null)
              .instance("inactive", ourCsrRewrapped(), "", List.of());
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.APPLYING);
      assertThat(settle.outcome().message()).contains("accepted");
      assertThat(settle.outcome().requeueAfter()).isPresent();
    }
  }

  @Nested
  class APendingInstance {
    @Test
    void withoutACsrItIsInUse() {
      var w = world().instance("pending", null, "", List.of());
      settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_IN_USE);
    }

    @Test
    void withAnotherCsrItIsInUseAndNothingIsApplied() {
      var w = world().instance("pending", OTHER.csrPem(), "", dnsValidations());
      settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_IN_USE);
    }

    @Test
    void withOurCsrItsValidationRecordsAreShownWithWhatToCreateWhere() {
      var w = world().instance("pending", ourCsrRewrapped(), "", dnsValidations());
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_VALIDATION);
      assertThat(settle.record().getValidation())
          .extracting(ValidationRecord::getRecordName, ValidationRecord::getValue)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("_dnsauth.shop.example.com", "token-1"),
              org.assertj.core.groups.Tuple.tuple("_dnsauth.www.shop.example.com", "token-2"));
      assertThat(settle.record().getInstanceStatus()).isEqualTo("pending");
      assertThat(settle.outcome().message()).contains("_dnsauth.shop.example.com", "token-1");
      assertThat(settle.outcome().requeueAfter()).contains(Duration.ofMinutes(1));
    }

    @Test
    void withExternalDnsTheRecordsArePublished() {
      var w =
          world()
              .with(x -> x.resource.getSpec().setExternalDns(true))
              .instance("pending", ourCsrRewrapped(), "", dnsValidations());
      var action = decide(w);
      assertThat(action).isInstanceOf(Action.PublishDnsEndpoint.class);
      assertThat(((Action.PublishDnsEndpoint) action).records())
          .extracting(ValidationRecord::getRecordName)
          .containsExactly("_dnsauth.shop.example.com", "_dnsauth.www.shop.example.com");
    }

    @Test
    void recordsAlreadyPublishedAreNotPublishedAgain() {
      var w =
          world()
              .with(x -> x.resource.getSpec().setExternalDns(true))
              .instance("pending", ourCsrRewrapped(), "", dnsValidations());
      w.published = Optional.of(ValidationRecords.of(dnsValidations()));
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_VALIDATION);
      assertThat(settle.outcome().message()).contains("DNSEndpoint");
    }

    @Test
    void aRecordCasPlacesOutsideTheAllowedZonesIsNotPublished() {
      var w =
          world()
              .with(x -> x.resource.getSpec().setExternalDns(true))
              .with(
                  x ->
                      x.account =
                          new Account(
                              null,
                              Optional.empty(),
                              Optional.empty(),
                              List.of("shop.example.com")))
              .instance(
                  "pending",
                  ourCsrRewrapped(),
                  "",
                  List.of(
                      new dev.aliyuncsr.operator.cloud.CasInstances.DomainValidation(
                          "shop.example.com", "example.com", "TXT", "_dnsauth", "t")));
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.DNS_ZONE_NOT_ALLOWED);
      assertThat(settle.outcome().message()).contains("_dnsauth.example.com");
    }

    @Test
    void onceValidatedTheCaReviewsAndTheDnsEndpointGoes() {
      var w = world().instance("pending", ourCsrRewrapped(), "", List.of());
      w.published = Optional.of(ValidationRecords.of(dnsValidations()));
      assertThat(decide(w)).isEqualTo(new Action.RemoveDnsEndpoint());
      w.published = Optional.empty();
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.ISSUING);
      assertThat(settle.record().getValidation()).isNull();
    }

    @Test
    void pollingSlowsDownWhileNothingChangesUpToTenMinutes() {
      var w = world().instance("pending", ourCsrRewrapped(), "", List.of());
      w.status().setInstanceStatus("pending");
      w.status().setInstanceChangedAt(NOW.minus(Duration.ofMinutes(4)).toString());
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.ISSUING);
      assertThat(settle.outcome().requeueAfter()).contains(Duration.ofMinutes(2));
      assertThat(settle.record().getInstanceChangedAt())
          .isEqualTo(NOW.minus(Duration.ofMinutes(4)).toString());

      w.status().setInstanceChangedAt(NOW.minus(Duration.ofHours(3)).toString());
      settle = (Action.Settle) decide(w);
      assertThat(settle.outcome().requeueAfter()).contains(Duration.ofMinutes(10));
    }

    @Test
    void aChangeOfTheInstanceRestartsPollingFromAMinute() {
      var w = world().instance("pending", ourCsrRewrapped(), "", List.of());
      w.status().setInstanceStatus("inactive");
      w.status().setInstanceChangedAt(NOW.minus(Duration.ofHours(3)).toString());
      var settle = (Action.Settle) decide(w);
      assertThat(settle.record().getInstanceChangedAt()).isEqualTo("2026-12-03T08:00:00Z");
      assertThat(settle.outcome().requeueAfter()).contains(Duration.ofMinutes(1));
    }
  }

  @Nested
  class AnIssuedInstance {
    static X509CertificateHolder leaf =
        CertificateWorld.leaf(NOW.minusSeconds(60), NOW.plus(Duration.ofDays(90)));

    @Test
    void itsCertificateIsDownloadedFirst() {
      var w = world().instance("normal", ourCsrRewrapped(), "", List.of(), 99L, "DNS");
      assertThat(decide(w)).isEqualTo(new Action.Download(99L));
    }

    @Test
    void aCheckedCertificateIsWrittenWithTheKeyAndRecordedAsIssued() {
      var w =
          world()
              .instance("normal", ourCsrRewrapped(), "", List.of(), 99L, "DNS")
              .downloaded(99L, TestCa.pem(leaf, CertificateWorld.CA.intermediate()));
      var action = decide(w);
      assertThat(action).isInstanceOf(Action.WriteSecret.class);
      var write = (Action.WriteSecret) action;
      assertThat(write.secretName()).isEqualTo(SECRET);
      assertThat(write.content().tlsCrt())
          .isEqualTo(TestCa.pem(leaf, CertificateWorld.CA.intermediate()));
      assertThat(write.content().tlsKey()).isEqualTo(KEY.pem());
      assertThat(write.content().caCrt()).isEmpty();
      assertThat(write.content().annotations())
          .containsEntry(CertificateAnnotations.SECRET_OWNER, NAME);
      assertThat(write.record().getCertificateId()).isEqualTo(99L);
      assertThat(write.record().getCertificateInstanceId()).isEqualTo(INSTANCE);
      assertThat(write.record().getSerialNumber()).isEqualTo(leaf.getSerialNumber().toString(16));
      assertThat(write.record().getNotAfter()).isEqualTo("2027-03-03T08:00:00Z");
      assertThat(write.outcome().state()).isEqualTo(Outcome.State.READY);
      assertThat(write.outcome().reason()).isEqualTo(Reasons.ISSUED);
    }

    @Test
    void theRootCasReturnsGoesToCaCrt() {
      var w =
          world()
              .instance("normal", ourCsrRewrapped(), "", List.of(), 99L, "DNS")
              .downloaded(
                  99L,
                  TestCa.pem(leaf, CertificateWorld.CA.intermediate(), CertificateWorld.CA.root()));
      var write = (Action.WriteSecret) decide(w);
      assertThat(write.content().caCrt()).contains(TestCa.pem(CertificateWorld.CA.root()));
    }

    @Test
    void aCertificateForAnotherKeyIsNeverWritten() {
      X509CertificateHolder wrong =
          CertificateWorld.CA.issue(OTHER.keyPair().getPublic(), "shop.example.com", 90);
      var w =
          world()
              .instance("normal", ourCsrRewrapped(), "", List.of(), 99L, "DNS")
              .downloaded(99L, TestCa.pem(wrong, CertificateWorld.CA.intermediate()));
      settled(decide(w), Outcome.State.STALLED, Reasons.CERTIFICATE_MISMATCH);
    }

    @Test
    void aDownloadOfAnotherCertificateIsNotUsed() {
      var w =
          world()
              .instance("normal", ourCsrRewrapped(), "", List.of(), 99L, "DNS")
              .downloaded(98L, TestCa.pem(leaf));
      assertThat(decide(w)).isEqualTo(new Action.Download(99L));
    }

    @Test
    void aRevokedCertificateMakesTheInstanceUnusable() {
      var w = world().instance("normal", ourCsrRewrapped(), "", List.of(), 99L, "DNS");
      w.instance =
          Optional.of(
              CertificateWorld.detail(
                  INSTANCE, "normal", "revoked", ourCsrRewrapped(), "DNS", "", List.of(), 99L));
      settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_UNUSABLE);
    }

    @Test
    void issuedWithAnotherCsrItIsInUse() {
      var w = world().instance("normal", OTHER.csrPem(), "", List.of(), 99L, "DNS");
      settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_IN_USE);
    }

    @Test
    void issuedButNamingNoCertificateYetIsStillIssuing() {
      var w = world().instance("normal", ourCsrRewrapped(), "", List.of(), null, "DNS");
      settled(decide(w), Outcome.State.PROGRESSING, Reasons.ISSUING);
    }

    @ParameterizedTest
    @ValueSource(strings = {"expired", "refund", "closed"})
    void anEndedInstanceIsUnusable(String status) {
      var w = world().instance(status, ourCsrRewrapped(), "", List.of());
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_UNUSABLE);
      assertThat(settle.outcome().message()).contains(status);
    }

    @Test
    void aStatusThisOperatorDoesNotKnowIsUnusableAndShownAsCasSentIt() {
      var w = world().instance("frozen", ourCsrRewrapped(), "", List.of());
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.INSTANCE_UNUSABLE);
      assertThat(settle.outcome().message()).contains("\"frozen\"");
    }
  }

  @Nested
  class OnceIssued {
    @Test
    void theSecretHoldingTheCertificateOfTheInstanceNeedsNoCallEvenWithoutItsAliyunCsr() {
      var w =
          world()
              .issuedEarlier(INSTANCE, NOW.plus(Duration.ofDays(60)))
              .with(x -> x.csr = Optional.empty());
      var settle = settled(decide(w), Outcome.State.READY, Reasons.ISSUED);
      assertThat(settle.outcome().requeueAfter()).contains(Duration.ofDays(30));
    }

    @Test
    void withinTheRenewalWindowItIsExpiringAndStaysReady() {
      var w = world().issuedEarlier(INSTANCE, NOW.plus(Duration.ofDays(10)));
      var settle = settled(decide(w), Outcome.State.READY, Reasons.EXPIRING);
      assertThat(settle.outcome().message()).contains("in 10 days", "spec.instanceId");
    }

    @Test
    void theRenewalWindowIsConfigurable() {
      var w = world().issuedEarlier(INSTANCE, NOW.plus(Duration.ofDays(10)));
      var action =
          new Decider(
                  new Settings(Duration.ofDays(7), Duration.ofMinutes(1), Duration.ofMinutes(10)))
              .decide(w.observation());
      settled(action, Outcome.State.READY, Reasons.ISSUED);
    }

    @Test
    void anExpiredCertificateIsNoLongerReady() {
      var w = world().issuedEarlier(INSTANCE, NOW.minus(Duration.ofDays(1)));
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.EXPIRING);
      assertThat(settle.outcome().message()).contains("expired");
    }

    @Test
    void aLeftOverDnsEndpointIsRemoved() {
      var w = world().issuedEarlier(INSTANCE, NOW.plus(Duration.ofDays(60)));
      w.published = Optional.of(ValidationRecords.of(dnsValidations()));
      assertThat(decide(w)).isEqualTo(new Action.RemoveDnsEndpoint());
    }

    @Test
    void aDeletedSecretIsWrittenAgainFromCas() {
      var w = world().issuedEarlier(INSTANCE, NOW.plus(Duration.ofDays(60)));
      w.secret = TargetSecret.absent();
      assertThat(decide(w)).isEqualTo(new Action.ReadInstance(INSTANCE));
    }

    @Test
    void aNewInstanceStartsARenewalAndKeepsTheSecretAndItsRecord() {
      var w =
          world()
              .issuedEarlier(INSTANCE, NOW.plus(Duration.ofDays(10)))
              .with(x -> x.resource.getSpec().setInstanceId("cas_dv-cn-next"));
      assertThat(decide(w)).isEqualTo(new Action.ReadInstance("cas_dv-cn-next"));
      w.instance =
          Optional.of(
              CertificateWorld.detail(
                  "cas_dv-cn-next", "inactive", null, null, null, "", List.of(), null));
      assertThat(decide(w))
          .isEqualTo(new Action.TakeApplicationLease("cas_dv-cn-next", CSR.csrSha256(), null));
      w.instance =
          Optional.of(
              CertificateWorld.detail(
                  "cas_dv-cn-next",
                  "pending",
                  null,
                  ourCsrRewrapped(),
                  null,
                  "",
                  dnsValidations(),
                  null));
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_VALIDATION);
      assertThat(settle.record().getCertificateId()).isEqualTo(77L);
      assertThat(settle.record().getCertificateInstanceId()).isEqualTo(INSTANCE);
      assertThat(settle.record().getNotAfter()).isEqualTo(NOW.plus(Duration.ofDays(10)).toString());
    }

    @Test
    void aStaleReadOfAnotherInstanceIsNotActedOn() {
      var w = world().with(x -> x.resource.getSpec().setInstanceId("cas_dv-cn-next"));
      w.instance("inactive", null, "", List.of());
      assertThat(decide(w)).isEqualTo(new Action.ReadInstance("cas_dv-cn-next"));
    }
  }

  @Nested
  class WhatTheRuntimeAdds {
    /** The record as the last read of a pending instance left it. */
    CertificateWorld pendingRecorded(List<ValidationRecord> validation) {
      var w = world().application(INSTANCE, null, NOW.minusSeconds(120).toString(), null);
      w.status().setInstanceStatus("pending");
      w.status().setInstanceChangedAt(NOW.minusSeconds(120).toString());
      w.status().setValidation(validation.isEmpty() ? null : validation);
      return w;
    }

    @Test
    void beforeItsPollIsDueAnOpenApplicationIsFollowedFromTheRecordWithoutACall() {
      var w = pendingRecorded(ValidationRecords.of(dnsValidations()));
      w.pollDue = Optional.of(NOW.plusSeconds(40));
      var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_VALIDATION);
      assertThat(settle.outcome().requeueAfter()).contains(Duration.ofSeconds(40));
      assertThat(settle.outcome().message()).contains("_dnsauth.shop.example.com", "token-1");
      assertThat(settle.record().getValidation()).isEqualTo(w.status().getValidation());
    }

    @Test
    void aReviewUnderWayIsFollowedFromTheRecordToo() {
      var w = pendingRecorded(List.of());
      w.pollDue = Optional.of(NOW.plusSeconds(40));
      settled(decide(w), Outcome.State.PROGRESSING, Reasons.ISSUING);
    }

    @Test
    void aPollThatIsDueReadsTheInstance() {
      var w = pendingRecorded(ValidationRecords.of(dnsValidations()));
      w.pollDue = Optional.of(NOW.plusMillis(500));
      assertThat(decide(w)).isEqualTo(new Action.ReadInstance(INSTANCE));
    }

    @Test
    void recordsNotYetPublishedAreReadAndPublishedWhateverThePoll() {
      var w =
          pendingRecorded(ValidationRecords.of(dnsValidations()))
              .with(x -> x.resource.getSpec().setExternalDns(true));
      w.pollDue = Optional.of(NOW.plusSeconds(40));
      assertThat(decide(w)).isEqualTo(new Action.ReadInstance(INSTANCE));
    }

    @Test
    void anInstanceNotRecordedAsPendingIsReadWhateverThePoll() {
      var w = pendingRecorded(List.of());
      w.status().setInstanceStatus("inactive");
      w.pollDue = Optional.of(NOW.plusSeconds(40));
      assertThat(decide(w)).isEqualTo(new Action.ReadInstance(INSTANCE));
    }

    @Test
    void publishedRecordsAreComparedByNameTypeAndValueOnly() {
      var w =
          world()
              .with(x -> x.resource.getSpec().setExternalDns(true))
              .instance("pending", ourCsrRewrapped(), "", dnsValidations());
      // As read back from a DNSEndpoint: no domain, root domain or key, a trailing dot.
      w.published =
          Optional.of(
              List.of(
                  new ValidationRecord(
                      null, null, "TXT", null, "_dnsauth.www.shop.example.com.", "token-2"),
                  new ValidationRecord(
                      null, null, "txt", null, "_dnsauth.shop.example.com", "token-1")));
      settled(decide(w), Outcome.State.PROGRESSING, Reasons.AWAITING_VALIDATION);
      w.published =
          Optional.of(
              List.of(
                  new ValidationRecord(
                      null, null, "TXT", null, "_dnsauth.shop.example.com", "old")));
      assertThat(decide(w)).isInstanceOf(Action.PublishDnsEndpoint.class);
    }

    @Test
    void externalDnsWithoutTheDnsEndpointKindStallsBeforeAnyCall() {
      var w =
          world()
              .with(x -> x.resource.getSpec().setExternalDns(true))
              .with(x -> x.dnsEndpointApi = false);
      var settle = settled(decide(w), Outcome.State.STALLED, Reasons.DNS_ENDPOINT_UNAVAILABLE);
      assertThat(settle.outcome().message()).contains("DNSEndpoint", "spec.externalDns");
    }

    @Test
    void aZoneThatIsNotAllowedIsSaidFirstWhateverTheDnsEndpointKind() {
      var w =
          world()
              .with(x -> x.resource.getSpec().setExternalDns(true))
              .with(x -> x.dnsEndpointApi = false)
              .with(
                  x ->
                      x.account =
                          new Account(
                              null, Optional.empty(), Optional.empty(), List.of("example.org")));
      settled(decide(w), Outcome.State.STALLED, Reasons.DNS_ZONE_NOT_ALLOWED);
    }

    @Test
    void withoutExternalDnsTheDnsEndpointKindDoesNotMatter() {
      var w = world().with(x -> x.dnsEndpointApi = false);
      assertThat(decide(w)).isEqualTo(new Action.ReadInstance(INSTANCE));
    }
  }

  @Test
  void everyPreCallRefusalKeepsTheRecordAndCallsNothing() {
    var w =
        world()
            .application(INSTANCE, "v", NOW.toString(), null)
            .with(x -> x.key = Validated.invalid(new InputProblem(Reasons.KEY_MISSING, "none")));
    var settle = settled(decide(w), Outcome.State.PROGRESSING, Reasons.KEY_MISSING);
    assertThat(settle.record().getApplication().getRetry()).isEqualTo("v");
  }

  @Test
  void theDecisionReadsOnlyTheObservationsClock() {
    var w = world().issuedEarlier(INSTANCE, Instant.parse("2027-01-01T00:00:00Z"));
    w.now = Instant.parse("2026-12-31T00:00:00Z");
    settled(decide(w), Outcome.State.READY, Reasons.EXPIRING);
    w.now = Instant.parse("2026-11-01T00:00:00Z");
    settled(decide(w), Outcome.State.READY, Reasons.ISSUED);
  }
}
