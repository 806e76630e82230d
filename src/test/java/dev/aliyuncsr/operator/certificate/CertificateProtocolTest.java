package dev.aliyuncsr.operator.certificate;

import static dev.aliyuncsr.operator.certificate.CertificateWorld.CA;
import static dev.aliyuncsr.operator.certificate.CertificateWorld.MATERIAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.certificate.CertificateCrashPoints.Point;
import dev.aliyuncsr.operator.certificate.InMemoryInstances.ApplyAnswer;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.kube.ResourceEvents;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The certificate protocol on an in-memory API server and an in-memory CAS instance, in
 * milliseconds: the whole path, and what crashes, lost answers, a second process and stale copies
 * do to the paid application (it is made once), all without a cluster. The real API server and the
 * SDK run the same protocol in CertificateIT.
 */
class CertificateProtocolTest {
  static final String NS = "default";
  static final String INSTANCE = CertificateWorld.INSTANCE;

  final MutableClock clock = new MutableClock(CertificateWorld.NOW);
  final InMemoryCertificateKube kube = new InMemoryCertificateKube();
  final InMemoryInstances cas = new InMemoryInstances(INSTANCE);
  final List<String> events = new ArrayList<>();
  final AliyunCsr csr = csr();
  Optional<Outcome> refusal = Optional.empty();
  final AtomicInteger tokens = new AtomicInteger();

  final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  final Logger logger = (Logger) LoggerFactory.getLogger("dev.aliyuncsr");
  Level level;

  @BeforeEach
  void world() {
    kube.putSecret(
        new SecretBuilder()
            .withMetadata(new ObjectMetaBuilder().withNamespace(NS).withName("tls").build())
            .withData(
                Map.of(
                    "tls.csr",
                    base64(MATERIAL.csrPem()),
                    "tls.key",
                    base64(MATERIAL.pkcs8KeyPem())))
            .build());
    kube.create(CertificateWorld.certificate(), CertificateWorld.NOW.toString());
    level = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void keysNeverReachAnEventALogLineOrTheStatus() {
    logger.detachAppender(logs);
    logger.setLevel(level);
    String everything =
        String.join("\n", events)
            + logs.list.stream().map(ILoggingEvent::getFormattedMessage).reduce("", String::concat)
            + kube.get(NS, CertificateWorld.NAME).map(r -> Serialization.asJson(r)).orElse("");
    assertThat(everything).doesNotContain("PRIVATE KEY");
    for (String line : MATERIAL.pkcs8KeyPem().split("\n")) {
      if (!line.startsWith("-----")) {
        assertThat(everything).doesNotContain(line);
      }
    }
  }

  static AliyunCsr csr() {
    AliyunCsr csr = CertificateWorld.readyCsr();
    AliyunCsrSpec spec = new AliyunCsrSpec();
    spec.setCsrSecretRef(new SecretKeyRef("tls", null));
    spec.setKeySecretRef(new SecretKeyRef("tls", null));
    csr.setSpec(spec);
    return csr;
  }

  CertificateProtocol protocol(String holder, CertificateCrashPoints crashPoints) {
    return new CertificateProtocol(
        kube,
        new CertificatePeers() {
          @Override
          public Optional<AliyunCsr> csr(String namespace, String name) {
            return name.equals("shop") ? Optional.of(csr) : Optional.empty();
          }

          @Override
          public Optional<AliyunCertificate> earlierNaming(
              AliyunCertificate self, String instanceId, String account) {
            return Optional.empty();
          }
        },
        (namespace, account) ->
            refusal.isPresent()
                ? CertificateRoute.Route.refused(refusal.get())
                : new CertificateRoute.Route(
                    Optional.of(new CertificateRoute.InstanceAccess(null, cas, cas)),
                    Optional.empty(),
                    Optional.empty(),
                    List.of("example.com")),
        Settings.defaults(),
        new ResourceEvents() {
          @Override
          public void normal(HasMetadata resource, String reason, String message) {
            events.add("Normal " + reason + ": " + message);
          }

          @Override
          public void warning(HasMetadata resource, String reason, String message) {
            events.add("Warning " + reason + ": " + message);
          }
        },
        clock,
        new RetryBackoff(Duration.ofSeconds(1), Duration.ofMinutes(5), bound -> 0),
        crashPoints,
        new CertificateProtocol.LeaseSettings(
            holder,
            Duration.ofSeconds(45),
            Duration.ofSeconds(30),
            () -> holder + "-token-" + tokens.incrementAndGet()),
        () -> true);
  }

  CertificateProtocol protocol() {
    return protocol("pod-a/1", CertificateCrashPoints.none());
  }

  AliyunCertificate current() {
    return kube.get(NS, CertificateWorld.NAME).orElseThrow();
  }

  CertificateProtocol.Result reconcile(CertificateProtocol protocol) {
    return protocol.reconcile(current(), CertificateProtocol.WriteListener.NONE);
  }

  String reason() {
    return current().getStatus().condition("Ready").orElseThrow().getReason();
  }

  static CertificateCrashPoints crashAt(Point point) {
    return CertificateCrashPoints.at(
        point,
        p -> {
          throw new Crash(p);
        });
  }

  /** The process dies here: nothing after it runs. */
  static final class Crash extends RuntimeException {
    Crash(Point point) {
      super("crashed at " + point);
    }
  }

  @Test
  void fromAReadyAliyunCsrToATlsSecretInTwoReconciles() {
    CertificateProtocol protocol = protocol();
    CertificateProtocol.Result first = reconcile(protocol);
    assertThat(first.outcome().reason()).isEqualTo(Reasons.AWAITING_VALIDATION);
    assertThat(cas.calls)
        .containsExactly(
            "GetInstanceDetail",
            "UpdateInstance",
            "GetInstanceDetail",
            "ApplyCertificate",
            "GetInstanceDetail");
    var status = current().getStatus();
    assertThat(status.getApplication().getLease()).isNull();
    assertThat(status.getApplication().getAppliedAt()).isEqualTo(CertificateWorld.NOW.toString());
    assertThat(status.getValidation()).hasSize(2);
    assertThat(events).filteredOn(e -> e.startsWith("Normal AwaitingValidation")).hasSize(1);

    cas.completeValidation(CA, clock.instant());
    clock.advance(first.outcome().requeueAfter().orElseThrow());
    CertificateProtocol.Result second = reconcile(protocol);
    assertThat(second.outcome().state()).isEqualTo(Outcome.State.READY);
    assertThat(second.outcome().reason()).isEqualTo(Reasons.ISSUED);
    assertThat(second.expiry()).isPresent();
    Secret secret = kube.secret(NS, CertificateWorld.SECRET).orElseThrow();
    assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry(CertificateAnnotations.SECRET_OWNER, CertificateWorld.NAME);
    assertThat(decoded(secret, "tls.key")).isEqualTo(CertificateWorld.KEY.pem());
    assertThat(current().getStatus().getCertificateId()).isEqualTo(77L);
    assertThat(events).filteredOn(e -> e.startsWith("Normal Issued")).hasSize(1);
    assertThat(cas.applications).isEqualTo(1);

    // Once written, a reconcile calls nothing and writes nothing.
    int calls = cas.calls.size();
    int writes = kube.statusWrites;
    assertThat(reconcile(protocol).outcome().reason()).isEqualTo(Reasons.ISSUED);
    assertThat(cas.calls).hasSize(calls);
    assertThat(kube.statusWrites).isEqualTo(writes);
    assertThat(events).filteredOn(e -> e.startsWith("Normal Issued")).hasSize(1);
  }

  @Test
  void anEventBeforeThePollIsDueAsksCasNothing() {
    CertificateProtocol protocol = protocol();
    Duration poll = reconcile(protocol).outcome().requeueAfter().orElseThrow();
    int calls = cas.calls.size();
    clock.advance(Duration.ofSeconds(5));
    CertificateProtocol.Result early = reconcile(protocol);
    assertThat(early.outcome().reason()).isEqualTo(Reasons.AWAITING_VALIDATION);
    assertThat(early.outcome().requeueAfter()).contains(poll.minusSeconds(5));
    assertThat(cas.calls).hasSize(calls);
    clock.advance(poll);
    reconcile(protocol);
    assertThat(cas.calls).hasSize(calls + 1).endsWith("GetInstanceDetail");
  }

  @Test
  void aLostApplyAnswerKeepsTheLeaseUntilItEndsAndTheInstanceSaysItWasApplied() {
    cas.applyAnswer = ApplyAnswer.LOST_AFTER_APPLYING;
    CertificateProtocol protocol = protocol();
    CertificateProtocol.Result unknown = reconcile(protocol);
    assertThat(unknown.outcome().reason()).isEqualTo(Reasons.APPLYING);
    assertThat(unknown.outcome().message()).contains("unknown");
    assertThat(current().getStatus().getApplication().getLease()).isNotNull();

    // Before the lease ends, another reconcile (of this process or any) calls nothing.
    int calls = cas.calls.size();
    clock.advance(Duration.ofSeconds(20));
    CertificateProtocol.Result waiting =
        protocol("pod-b/2", CertificateCrashPoints.none())
            .reconcile(current(), CertificateProtocol.WriteListener.NONE);
    assertThat(waiting.outcome().reason()).isEqualTo(Reasons.APPLYING);
    assertThat(cas.calls).hasSize(calls);

    cas.applyAnswer = ApplyAnswer.OK;
    clock.advance(unknown.outcome().requeueAfter().orElseThrow());
    assertThat(reconcile(protocol).outcome().reason()).isEqualTo(Reasons.AWAITING_VALIDATION);
    assertThat(cas.calls("ApplyCertificate")).isEqualTo(1);
    assertThat(current().getStatus().getApplication().getLease()).isNull();
  }

  @Test
  void anApplyRefusedBeforeAnythingWasDoneGivesTheLeaseBackAndIsMadeLater() {
    cas.applyAnswer = ApplyAnswer.THROTTLED;
    CertificateProtocol protocol = protocol();
    CertificateProtocol.Result throttled = reconcile(protocol);
    assertThat(throttled.outcome().reason()).isEqualTo(Reasons.THROTTLED);
    assertThat(current().getStatus().getApplication().getLease()).isNull();
    assertThat(cas.applications).isZero();

    cas.applyAnswer = ApplyAnswer.OK;
    clock.advance(throttled.outcome().requeueAfter().orElseThrow());
    assertThat(reconcile(protocol).outcome().reason()).isEqualTo(Reasons.AWAITING_VALIDATION);
    assertThat(cas.applications).isEqualTo(1);
  }

  @Test
  void aFillCasRefusesGivesTheLeaseBackAndAppliesNothing() {
    cas.updateRefusal =
        new dev.aliyuncsr.operator.cloud.CasException(
            dev.aliyuncsr.operator.cloud.CasException.Kind.TERMINAL,
            "UpdateInstance",
            "InvalidParameter.Domain",
            null,
            "the instance allows 1 domain");
    CertificateProtocol protocol = protocol();
    CertificateProtocol.Result refused = reconcile(protocol);
    assertThat(refused.outcome().reason()).isEqualTo(Reasons.INSTANCE_UNUSABLE);
    assertThat(refused.outcome().message()).contains("the instance allows 1 domain");
    assertThat(current().getStatus().getApplication().getLease()).isNull();
    assertThat(cas.calls("ApplyCertificate")).isZero();
    assertThat(events).filteredOn(e -> e.startsWith("Warning InstanceUnusable")).hasSize(1);

    // Whatever event comes, the process calls nothing further and says nothing again.
    int updates = cas.calls("UpdateInstance");
    clock.advance(Duration.ofMinutes(5));
    assertThat(reconcile(protocol).outcome().reason()).isEqualTo(Reasons.INSTANCE_UNUSABLE);
    assertThat(cas.calls("UpdateInstance")).isEqualTo(updates);
    assertThat(events).filteredOn(e -> e.startsWith("Warning InstanceUnusable")).hasSize(1);

    // Another process (a restart) finds no lease to wait out: it asks once, and applies nothing.
    CertificateProtocol.Result again =
        protocol("pod-b/2", CertificateCrashPoints.none())
            .reconcile(current(), CertificateProtocol.WriteListener.NONE);
    assertThat(again.outcome().reason()).isEqualTo(Reasons.INSTANCE_UNUSABLE);
    assertThat(current().getStatus().getApplication().getLease()).isNull();
    assertThat(cas.calls("ApplyCertificate")).isZero();
  }

  @Test
  void aCrashAfterTheLeaseIsWrittenLeavesItToEndAndTheNextProcessAppliesOnce() {
    assertThatThrownBy(() -> reconcile(protocol("pod-a/1", crashAt(Point.APPLY_AFTER_LEASE))))
        .isInstanceOf(Crash.class);
    assertThat(cas.calls("ApplyCertificate")).isZero();
    assertThat(current().getStatus().getApplication().getLease()).isNotNull();

    CertificateProtocol next = protocol("pod-b/2", CertificateCrashPoints.none());
    CertificateProtocol.Result waiting = reconcile(next);
    assertThat(waiting.outcome().message()).contains("pod-a/1");
    assertThat(cas.calls("ApplyCertificate")).isZero();
    clock.advance(waiting.outcome().requeueAfter().orElseThrow());
    assertThat(reconcile(next).outcome().reason()).isEqualTo(Reasons.AWAITING_VALIDATION);
    assertThat(cas.calls("ApplyCertificate")).isEqualTo(1);
  }

  @Test
  void aCrashAfterApplyCertificateAnsweredIsRecoveredFromTheInstanceNotRepeated() {
    assertThatThrownBy(() -> reconcile(protocol("pod-a/1", crashAt(Point.APPLY_AFTER_CALL))))
        .isInstanceOf(Crash.class);
    assertThat(cas.applications).isEqualTo(1);
    assertThat(current().getStatus().getApplication().getAppliedAt()).isNull();

    CertificateProtocol next = protocol("pod-b/2", CertificateCrashPoints.none());
    clock.advance(reconcile(next).outcome().requeueAfter().orElseThrow());
    assertThat(reconcile(next).outcome().reason()).isEqualTo(Reasons.AWAITING_VALIDATION);
    assertThat(cas.calls("ApplyCertificate")).isEqualTo(1);
  }

  @Test
  void aCrashBetweenTheSecretAndItsRecordWritesTheSameSecretAgain() {
    CertificateProtocol protocol = protocol();
    Duration poll = reconcile(protocol).outcome().requeueAfter().orElseThrow();
    cas.completeValidation(CA, clock.instant());
    clock.advance(poll);
    assertThatThrownBy(() -> reconcile(protocol("pod-a/1", crashAt(Point.SECRET_AFTER_WRITE))))
        .isInstanceOf(Crash.class);
    String written = decoded(kube.secret(NS, CertificateWorld.SECRET).orElseThrow(), "tls.crt");
    assertThat(current().getStatus().getCertificateId()).isNull();

    assertThat(reconcile(protocol("pod-b/2", CertificateCrashPoints.none())).outcome().reason())
        .isEqualTo(Reasons.ISSUED);
    assertThat(decoded(kube.secret(NS, CertificateWorld.SECRET).orElseThrow(), "tls.crt"))
        .isEqualTo(written);
    assertThat(current().getStatus().getCertificateId()).isEqualTo(77L);
    assertThat(cas.applications).isEqualTo(1);
  }

  @Test
  void aSecondProcessOnAStaleCopyNeverAppliesBesideTheLeaseHolder() {
    AliyunCertificate stale = current();
    CertificateProtocol b = protocol("pod-b/2", CertificateCrashPoints.none());
    AtomicInteger applied = new AtomicInteger();
    // While A holds the lease, B reconciles the copy from before it: the fence on its version
    // sends B back to a fresh read, where A's lease stops it.
    CertificateProtocol a =
        protocol(
            "pod-a/1",
            CertificateCrashPoints.at(
                Point.APPLY_AFTER_LEASE,
                p -> {
                  CertificateProtocol.Result other =
                      b.reconcile(stale, CertificateProtocol.WriteListener.NONE);
                  assertThat(other.outcome().reason()).isEqualTo(Reasons.APPLYING);
                  applied.set(cas.applications);
                }));
    assertThat(reconcile(a).outcome().reason()).isEqualTo(Reasons.AWAITING_VALIDATION);
    assertThat(applied.get()).as("nothing applied while A held the lease").isZero();
    assertThat(cas.calls("ApplyCertificate")).isEqualTo(1);
  }

  @Test
  void aFailedValidationIsNotAppliedAgainUntilANewRetryValue() {
    CertificateProtocol protocol = protocol();
    Duration poll = reconcile(protocol).outcome().requeueAfter().orElseThrow();
    cas.failValidation("DNS record not found");
    clock.advance(poll);
    assertThat(reconcile(protocol).outcome().reason()).isEqualTo(Reasons.VALIDATION_FAILED);
    clock.advance(Duration.ofHours(1));
    assertThat(reconcile(protocol).outcome().reason()).isEqualTo(Reasons.VALIDATION_FAILED);
    assertThat(cas.applications).isEqualTo(1);
    assertThat(events).filteredOn(e -> e.startsWith("Warning ValidationFailed")).hasSize(1);

    annotate(CertificateAnnotations.RETRY_APPLICATION, "1");
    assertThat(reconcile(protocol).outcome().reason()).isEqualTo(Reasons.AWAITING_VALIDATION);
    assertThat(cas.applications).isEqualTo(2);
    assertThat(current().getStatus().getApplication().getRetry()).isEqualTo("1");
  }

  @Test
  void aNamespaceTheAccountDoesNotSelectGetsNoCallAtAll() {
    refusal = Optional.of(Outcome.stalled(Reasons.ACCOUNT_NOT_PERMITTED, "does not select", null));
    assertThat(reconcile(protocol()).outcome().reason()).isEqualTo(Reasons.ACCOUNT_NOT_PERMITTED);
    assertThat(cas.calls).isEmpty();
    assertThat(events).filteredOn(e -> e.startsWith("Warning AccountNotPermitted")).hasSize(1);
  }

  @Test
  void aSecretThatIsNotThisCertificatesIsLeftAsItIs() {
    Secret theirs =
        kube.putSecret(
            new SecretBuilder()
                .withMetadata(
                    new ObjectMetaBuilder()
                        .withNamespace(NS)
                        .withName(CertificateWorld.SECRET)
                        .build())
                .withData(Map.of("tls.crt", base64("theirs")))
                .build());
    assertThat(reconcile(protocol()).outcome().reason()).isEqualTo(Reasons.SECRET_CONFLICT);
    assertThat(cas.calls).isEmpty();
    assertThat(
            kube.secret(NS, CertificateWorld.SECRET)
                .orElseThrow()
                .getMetadata()
                .getResourceVersion())
        .isEqualTo(theirs.getMetadata().getResourceVersion());
    assertThat(kube.secretWrites).isZero();
  }

  private void annotate(String key, String value) {
    var node = kube.certificates.get(NS + "/" + CertificateWorld.NAME);
    var meta = (com.fasterxml.jackson.databind.node.ObjectNode) node.get("metadata");
    if (!meta.has("annotations")) {
      meta.putObject("annotations");
    }
    ((com.fasterxml.jackson.databind.node.ObjectNode) meta.get("annotations")).put(key, value);
  }

  static String base64(String value) {
    return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
  }

  static String decoded(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
  }

  /** A clock the test moves. */
  static final class MutableClock extends Clock {
    private Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
