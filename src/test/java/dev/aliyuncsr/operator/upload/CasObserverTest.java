package dev.aliyuncsr.operator.upload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.UploadLease;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CasObserverTest {
  static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
  static final Duration INTERVAL = Duration.ofHours(6);

  final FakeCas cas = new FakeCas();
  final Map<String, FakeCas> others = new ConcurrentHashMap<>();
  final FakeKube kube = new FakeKube();
  final List<AliyunCsr> resources = new ArrayList<>();
  final List<String> confirmRequests = new CopyOnWriteArrayList<>();
  final Map<String, Integer> observed = new ConcurrentHashMap<>();
  final Map<String, Integer> calls = new ConcurrentHashMap<>();
  final List<Duration> ages = new CopyOnWriteArrayList<>();
  final CasObserver observer =
      new CasObserver(
          kube,
          new CasObserver.Host() {
            @Override
            public List<AliyunCsr> resources() {
              return resources;
            }

            @Override
            public void confirm(AliyunCsr resource) {
              confirmRequests.add(resource.getMetadata().getName());
            }

            @Override
            public Optional<CasClient> observeClient(String account) {
              return account == null ? Optional.of(cas) : Optional.ofNullable(others.get(account));
            }
          },
          new CasObserver.Metrics() {
            @Override
            public void observed(String result, int count) {
              observed.merge(result, count, Integer::sum);
            }

            @Override
            public void observationCall(String action) {
              calls.merge(action, 1, Integer::sum);
            }

            @Override
            public void confirmationAge(Duration age) {
              ages.add(age);
            }
          },
          Clock.fixed(NOW, ZoneOffset.UTC),
          INTERVAL,
          () -> true);

  @AfterEach
  void close() {
    observer.close();
  }

  @Test
  void onePassConfirmsThousandsOfCsrsForOneListCsrCallPerFiftyInTheAccount() {
    // 1,000 Ready resources, all due, in an account of 1,200 CSRs; theirs come last.
    for (long id = 1; id <= 200; id++) {
      cas.store(id, false);
    }
    for (int i = 0; i < 1000; i++) {
      long id = 1000 + i;
      cas.store(id, false);
      resources.add(ready("r" + i, id, NOW.minus(Duration.ofHours(7)), false));
    }
    CasObserver.PassResult result = observer.pass();
    assertThat(result.confirmed()).isEqualTo(1000);
    assertThat(result.suspects()).isZero();
    assertThat(result.calls()).isEqualTo(1200 / 50);
    assertThat(cas.listCalls).isEqualTo(24);
    assertThat(calls).containsEntry("ListCsr", 24);
    assertThat(observed).containsEntry("confirmed", 1000);
    assertThat(kube.patches).hasSize(1000);
    assertThat(kube.patches.get("r7"))
        .as("fenced on the CsrId that was confirmed")
        .contains("{\"op\":\"test\",\"path\":\"/status/csrId\",\"value\":1007}")
        .contains(
            "{\"op\":\"add\",\"path\":\"/status/lastConfirmedAt\",\"value\":\"2026-12-01T12:00:00Z\"}");
    assertThat(ages).hasSize(1000).allMatch(a -> a.equals(Duration.ofHours(7)));
    assertThat(confirmRequests).isEmpty();
  }

  @Test
  void eachAccountIsListedWithItsOwnClientAndAnAccountThatDoesNotWorkWaits() {
    FakeCas teamA = new FakeCas();
    others.put("team-a", teamA);
    teamA.store(7, false);
    cas.store(7, false); // the same CsrId in the default account means another CSR
    AliyunCsr inA = ready("in-a", 7, NOW.minus(Duration.ofHours(7)), false);
    inA.getStatus().setAccount("team-a");
    AliyunCsr inB = ready("in-b", 9, NOW.minus(Duration.ofHours(7)), false);
    inB.getStatus().setAccount("team-b"); // no client: its account does not work now
    resources.add(inA);
    resources.add(inB);
    CasObserver.PassResult result = observer.pass();
    assertThat(teamA.listCalls).isEqualTo(1);
    assertThat(cas.listCalls).as("nothing due in the default account").isZero();
    assertThat(result.confirmed()).isEqualTo(1);
    assertThat(confirmRequests).as("nothing concluded about team-b").isEmpty();
  }

  @Test
  void nothingIsCalledWhenNoResourceIsDue() {
    cas.store(1, false);
    resources.add(ready("fresh", 1, NOW.minus(Duration.ofHours(1)), false));
    resources.add(ready("no-confirmation-yet", 1, null, false)); // uploadedAt is 1h ago
    assertThat(observer.pass()).isEqualTo(new CasObserver.PassResult(0, 0, 0));
    assertThat(cas.listCalls).isZero();
    assertThat(kube.patches).isEmpty();
  }

  @Test
  void aDueResourceTakesAlongThoseConfirmedMoreThanHalfAnIntervalAgoButNotTheFreshOnes() {
    cas.store(1, false);
    cas.store(2, false);
    cas.store(3, false);
    resources.add(ready("due", 1, NOW.minus(Duration.ofHours(8)), false));
    resources.add(ready("half", 2, NOW.minus(Duration.ofHours(4)), false));
    resources.add(ready("fresh", 3, NOW.minus(Duration.ofHours(1)), false));
    observer.pass();
    assertThat(kube.patches.keySet()).containsExactlyInAnyOrder("due", "half");
  }

  @Test
  void aCsrMissingFromTheListOrWithoutTheKeyItWasSentIsHandedToTheReconcilerNotConcluded() {
    cas.store(1, false);
    cas.store(3, false); // its key is gone
    resources.add(ready("present", 1, NOW.minus(Duration.ofHours(7)), false));
    resources.add(ready("missing", 2, NOW.minus(Duration.ofHours(7)), false));
    resources.add(ready("key-lost", 3, NOW.minus(Duration.ofHours(7)), true));
    CasObserver.PassResult result = observer.pass();
    assertThat(result.confirmed()).isEqualTo(1);
    assertThat(confirmRequests).containsExactlyInAnyOrder("missing", "key-lost");
    assertThat(kube.patches.keySet()).containsExactly("present");
    assertThat(observed).doesNotContainKeys("missing", "changed"); // GetCsrDetail decides those
  }

  @Test
  void pausedLeasedDeletingAndNotReadyResourcesAreLeftAlone() {
    cas.store(1, false);
    Instant old = NOW.minus(Duration.ofHours(7));
    AliyunCsr paused = ready("paused", 1, old, false);
    paused.getMetadata().setAnnotations(Map.of(CasAnnotations.PAUSED, "true"));
    AliyunCsr leased = ready("leased", 1, old, false);
    leased.getStatus().setLease(new UploadLease("x", "t", NOW.toString(), "n", "s"));
    AliyunCsr deleting = ready("deleting", 1, old, false);
    deleting.getMetadata().setDeletionTimestamp(NOW.toString());
    AliyunCsr notReady = ready("not-ready", 1, old, false);
    notReady.getStatus().getConditions().get(0).setStatus("False");
    resources.addAll(List.of(paused, leased, deleting, notReady));
    assertThat(observer.pass().calls()).isZero();
    assertThat(cas.listCalls).isZero();
  }

  @Test
  void aPassThatFailsHalfWayConcludesNothingAboutTheRest() {
    for (long id = 1; id <= 120; id++) {
      cas.store(id, false);
      resources.add(ready("r" + id, id, NOW.minus(Duration.ofHours(7)), false));
    }
    cas.failFromPage = 2;
    CasObserver.PassResult result = observer.pass();
    assertThat(result.confirmed()).isEqualTo(50);
    assertThat(result.suspects()).as("not found is not missing when the pass broke off").isZero();
    assertThat(confirmRequests).isEmpty();
  }

  @Test
  void theJitterSpreadsResourcesOverTenPercentEitherSide() {
    for (int i = 0; i < 200; i++) {
      Duration d = observer.jittered(ready("j" + i, i, NOW, false));
      assertThat(d)
          .isBetween(
              INTERVAL.multipliedBy(9).dividedBy(10), INTERVAL.multipliedBy(11).dividedBy(10));
    }
    assertThat(CasObserver.tick(Duration.ofHours(6))).isEqualTo(Duration.ofMinutes(1));
    assertThat(CasObserver.tick(Duration.ofSeconds(4))).isEqualTo(Duration.ofSeconds(1));
    assertThat(CasObserver.tick(Duration.ofMinutes(10))).isEqualTo(Duration.ofSeconds(30));
  }

  // ---- fixtures ------------------------------------------------------------------------------

  static AliyunCsr ready(String name, long csrId, Instant confirmedAt, boolean keySent) {
    AliyunCsr r = new AliyunCsr();
    r.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace("ns")
            .withName(name)
            .withUid("uid-" + name)
            .withGeneration(1L)
            .build());
    AliyunCsrStatus status = new AliyunCsrStatus();
    status.setObservedGeneration(1L);
    status.setCsrId(csrId);
    status.setUploadName("ns-" + name);
    status.setUploadedAt(NOW.minus(Duration.ofHours(1)).toString());
    status.setLastConfirmedAt(confirmedAt == null ? null : confirmedAt.toString());
    status.setPrivateKeyUploaded(keySent);
    List<CsrCondition> conditions = new ArrayList<>();
    conditions.add(new CsrCondition("Ready", "True", "Uploaded", "", 1L, NOW.toString()));
    status.setConditions(conditions);
    r.setStatus(status);
    return r;
  }

  static final class FakeCas implements CasClient {
    final TreeMap<Long, Boolean> csrs = new TreeMap<>();
    int listCalls;
    int failFromPage = Integer.MAX_VALUE;

    void store(long id, boolean hasKey) {
      csrs.put(id, hasKey);
    }

    @Override
    public synchronized CsrPage listCsrPage(long page, long pageSize) throws CasException {
      listCalls++;
      if (page >= failFromPage) {
        throw new CasException(
            CasException.Kind.RETRYABLE, "ListCsr", "ServiceUnavailable", null, "503");
      }
      List<CsrSummary> all = new ArrayList<>();
      csrs.forEach((id, key) -> all.add(new CsrSummary(id, "n" + id, null, key)));
      int from = (int) Math.min(all.size(), (page - 1) * pageSize);
      int to = (int) Math.min(all.size(), from + pageSize);
      return new CsrPage(all.subList(from, to), all.size());
    }

    @Override
    public UploadResult uploadCsr(String name, String csrPem, Optional<String> key) {
      throw new AssertionError("the observer never uploads");
    }

    @Override
    public List<CsrSummary> listCsr(String keyWord) {
      throw new AssertionError("the observer lists pages");
    }

    @Override
    public CsrDetail getCsrDetail(long csrId) {
      throw new AssertionError("GetCsrDetail is the reconciler's");
    }

    @Override
    public String updateCsr(long csrId, String privateKeyPem) {
      throw new AssertionError("the observer never sends keys");
    }

    @Override
    public String deleteCsr(long csrId) {
      throw new AssertionError("the observer never deletes");
    }
  }

  static final class FakeKube implements KubeApi {
    final Map<String, String> patches = new ConcurrentHashMap<>();

    @Override
    public Optional<AliyunCsr> get(String namespace, String name) {
      throw new AssertionError();
    }

    @Override
    public AliyunCsr patch(AliyunCsr at, JsonPatch patch) {
      throw new AssertionError("the observer writes status only");
    }

    @Override
    public AliyunCsr patchStatus(AliyunCsr at, JsonPatch patch) {
      patches.put(at.getMetadata().getName(), patch.toJson().toString());
      return at;
    }
  }
}
