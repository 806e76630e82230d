package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.Tenancy.aliyunCsr;
import static dev.aliyuncsr.operator.testing.Tenancy.isStalled;
import static dev.aliyuncsr.operator.testing.Tenancy.readyMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.testing.NamespaceUser;
import dev.aliyuncsr.operator.testing.Tenancy;
import dev.aliyuncsr.operator.testing.Tenancy.CloudKey;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 17's "missing on thin evidence" and "shared limits" on the real API server: a NotFound that
 * CAS gives for a moment after an upload, or because an account's handle now reaches another
 * Alibaba Cloud account, never re-uploads by itself; and what a tenant writes cannot drain the call
 * budget the tenants of an account share. The round-robin between namespaces is the fair budget's,
 * tested there.
 */
class TenantEvidenceAndLimitsIT {
  static final Duration MISSING_WINDOW = Duration.ofSeconds(5);
  static final String MIGRATION_SUSPECTED = "MigrationSuspected";
  static final String CONFIRM_MIGRATION = "cas.aliyuncsr.dev/confirm-migration";
  static final Pattern TOKEN = Pattern.compile(Pattern.quote(CONFIRM_MIGRATION) + "=([0-9a-f]+)");

  static Tenancy tenancy;

  @BeforeAll
  static void start() {
    tenancy = Tenancy.start(Map.of("CAS_MISSING_WINDOW", MISSING_WINDOW.toSeconds() + "s"));
  }

  @AfterAll
  static void stop() {
    tenancy.close();
  }

  // ---- 6a. Read-after-write lag
  // ------------------------------------------------------------------

  @Test
  void aReconcileRequestedRightAfterTheUploadMeetsCasLagAndUploadsNothingMore() {
    NamespaceUser user = tenancy.user();
    CasEmulator lagging = tenancy.emulator();
    // Shorter than the window, longer than the way from the upload to the request's GetCsrDetail.
    lagging.setReadAfterWriteLag(Duration.ofSeconds(3));
    CloudKey key = Tenancy.cloudAccount(lagging);
    String account = "lag-" + user.namespace;
    tenancy.casAccount(account, lagging, key, 50, user.namespace);
    tenancy.secret(user, "tls", ec("fresh.lag.example.com").csrPem(), null);
    tenancy.create(user, aliyunCsr(user.namespace, "fresh", "tls", account));
    AliyunCsr ready =
        await()
            .atMost(Tenancy.WAIT)
            .pollInterval(Duration.ofMillis(20))
            .until(() -> tenancy.get(user.namespace, "fresh"), Tenancy::isReady);
    long csrId = ready.getStatus().getCsrId();

    String request = "right-after-" + Instant.now();
    requestReconcile(user, "fresh", request);
    List<AliyunCsr> seen = new ArrayList<>();
    await()
        .atMost(Tenancy.WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              AliyunCsr r = tenancy.get(user.namespace, "fresh");
              seen.add(r);
              return request.equals(r.getStatus().getLastHandledReconcileAt());
            });
    System.out.printf(
        "lag: GetCsrDetail of CsrId %d: %s; %d states seen%n",
        csrId, lagging.csrCallStats(csrId), seen.size());
    assertThat(lagging.csrCalls(csrId, "GetCsrDetail", "NotFound.Csr"))
        .as("CAS lagged when the request was handled")
        .isPositive();
    assertThat(seen)
        .as("Ready throughout")
        .allMatch(r -> ready(r) && Objects.equals(r.getStatus().getCsrId(), csrId));
    assertThat(seen)
        .as("the first NotFound recorded")
        .anyMatch(r -> r.getStatus().getNotFoundAt() != null);
    AliyunCsr last = seen.get(seen.size() - 1);
    assertThat(last.getStatus().getNotFoundAt()).as("and cleared when CAS showed it").isNull();
    assertThat(lagging.csrCalls(csrId, "GetCsrDetail", CasEmulator.OK)).isPositive();
    assertThat(lagging.calls("UploadCsr")).as("no second upload").isEqualTo(1);
    assertThat(lagging.csrs()).hasSize(1);
  }

  // ---- 6b, c. An account's handle switched to another cloud account -----------------------------

  @Test
  void anotherCloudAccountsKeyRaisesTheMigrationAlarmAndOnlyAConfirmationLetsCsrsGoUpAgain() {
    NamespaceUser user = tenancy.user();
    CasEmulator cas = tenancy.cas;
    CloudKey first = Tenancy.cloudAccount(cas);
    CloudKey rotated = Tenancy.accessKey(cas, first.accountId());
    CloudKey elsewhere = Tenancy.cloudAccount(cas);
    String account = "migrating-" + user.namespace;
    tenancy.casAccount(account, cas, first, 50, user.namespace);
    List<String> names = List.of("a", "b", "c");
    Map<String, Long> ids = new HashMap<>();
    for (String name : names) {
      tenancy.secret(user, name, ec(name + ".migration.example.com").csrPem(), null);
      tenancy.create(user, aliyunCsr(user.namespace, name, name, account));
    }
    for (String name : names) {
      ids.put(name, tenancy.awaitReady(user.namespace, name).getStatus().getCsrId());
    }

    // A rotated key of the same cloud account sees the recorded CSRs: no alarm.
    int lookups = cas.accountCalls(first.accountId(), "GetCsrDetail");
    AliyunCasAccount afterRotation = switchTo(account, rotated);
    assertThat(condition(afterRotation, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(afterRotation, "Stalled").getStatus()).isEqualTo("False");
    assertThat(cas.accountCalls(first.accountId(), "GetCsrDetail"))
        .as("the new key was checked against the recorded CsrIds")
        .isGreaterThan(lookups);

    // A key of another cloud account sees none of them: the alarm, with a token to confirm.
    String mistake = assertAlarm(switchTo(account, elsewhere), account);
    // Put back, the alarm goes without a confirmation.
    AliyunCasAccount back = switchTo(account, rotated);
    assertThat(condition(back, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(back, "Stalled").getStatus()).isEqualTo("False");

    // Switched for good: each CSR now answers NotFound, twice a window apart, and stalls.
    String token = assertAlarm(switchTo(account, elsewhere), account);
    assertThat(token).as("a new alarm, a new token").isNotEqualTo(mistake);
    for (String name : names) {
      requestReconcile(user, name, "after-the-switch");
    }
    for (String name : names) {
      AliyunCsr stalled =
          await()
              .atMost(Tenancy.WAIT)
              .until(
                  () -> tenancy.get(user.namespace, name),
                  r -> isStalled(r, Reasons.CSR_MISSING_IN_CAS));
      assertThat(readyMessage(stalled))
          .contains(Long.toString(ids.get(name)), "not uploaded again", token);
      assertThat(stalled.getStatus().getCsrId()).isEqualTo(ids.get(name));
      tenancy.awaitWarning(user.namespace, name, Reasons.CSR_MISSING_IN_CAS);
    }
    // Asked again, still nothing goes up.
    requestReconcile(user, "a", "once-more");
    await()
        .atMost(Tenancy.WAIT)
        .until(
            () -> tenancy.get(user.namespace, "a"),
            r -> "once-more".equals(r.getStatus().getLastHandledReconcileAt()));
    assertThat(isStalled(tenancy.get(user.namespace, "a"), Reasons.CSR_MISSING_IN_CAS)).isTrue();
    assertThat(cas.accountCalls(elsewhere.accountId(), "UploadCsr")).isZero();
    assertThat(cas.accountCalls(first.accountId(), "UploadCsr")).isEqualTo(names.size());

    // The administrator confirms with the token shown: each CSR goes up once in the new account.
    tenancy.editAccount(
        account,
        a -> {
          annotate(a.getMetadata(), CONFIRM_MIGRATION, token);
          return a;
        });
    for (String name : names) {
      AliyunCsr again =
          await()
              .atMost(Tenancy.WAIT)
              .until(
                  () -> tenancy.get(user.namespace, name),
                  r -> Tenancy.isReady(r) && Tenancy.hasReason(r, Reasons.REUPLOADED));
      assertThat(again.getStatus().getMissingCsrId()).isEqualTo(ids.get(name));
      assertThat(cas.accountOf(again.getStatus().getCsrId())).contains(elsewhere.accountId());
    }
    assertThat(cas.accountCalls(elsewhere.accountId(), "UploadCsr")).isEqualTo(names.size());
    tenancy.awaitAccount(account, a -> "True".equals(condition(a, "Ready").getStatus()));
    assertThat(cas.csrs(first.accountId()))
        .as("the old account keeps what it held")
        .hasSize(names.size());
  }

  // ---- 7. Shared limits
  // ---------------------------------------------------------------------------

  @Test
  void aTenantsRequestsAndSpecEditsCutABackOffShortAtMostOnceAMinute() {
    NamespaceUser user = tenancy.user();
    CasEmulator throttling = tenancy.emulator();
    CloudKey key = Tenancy.cloudAccount(throttling);
    String account = "backoff-" + user.namespace;
    tenancy.casAccount(account, throttling, key, 50, user.namespace);
    throttling.failNext("UploadCsr", 100_000, 400, "Throttling.User");
    tenancy.secret(user, "tls", ec("spam.example.com").csrPem(), null);
    tenancy.create(user, aliyunCsr(user.namespace, "spam", "tls", account));
    tenancy.awaitReason(user.namespace, "spam", Reasons.THROTTLED);

    int before = throttling.accountCalls(key.accountId(), "UploadCsr");
    Instant start = Instant.now();
    int edits = 0;
    while (Duration.between(start, Instant.now()).compareTo(Duration.ofSeconds(10)) < 0) {
      int n = ++edits;
      tenancy.edit(
          user,
          "spam",
          r -> {
            annotate(r.getMetadata(), CasAnnotations.RECONCILE_REQUESTED_AT, "spam-" + n);
            if (n % 10 == 0) {
              r.getSpec()
                  .setDeletionPolicy(
                      r.getSpec().effectiveDeletionPolicy() == DeletionPolicy.Delete
                          ? DeletionPolicy.Orphan
                          : DeletionPolicy.Delete);
            }
            return r;
          });
      pace(start.plusMillis(100L * n));
    }
    Duration spammed = Duration.between(start, Instant.now());
    int attempts = throttling.accountCalls(key.accountId(), "UploadCsr") - before;
    System.out.printf(
        "back-off: %d edits in %s, %d UploadCsr attempts meanwhile%n", edits, spammed, attempts);
    // After a failure the back-offs are at least 0.5, 1, 2, 4, 8 s (1 s doubling, jitter down to
    // half): at most 4 scheduled attempts in under 15.5 s, and one cut short by the tenant.
    assertThat(spammed).isLessThan(Duration.ofMillis(15_500));
    assertThat(attempts).isLessThanOrEqualTo(4 + 1);
    assertThat(edits)
        .as("a write every 100 ms, as far as the API server keeps up")
        .isGreaterThan(30);

    tenancy.edit(
        user,
        "spam",
        r -> {
          r.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
          return r;
        });
    tenancy.delete(user, "spam");
    tenancy.awaitGone(user.namespace, "spam");
  }

  /**
   * Fails on main as of this commit: a rebuilt account (a rotated Secret, a new spec, the periodic
   * re-probe) gets a new CallBudget, so its probe goes at once beside the old budget's calls and
   * queued places are lost. The fair budget (branch fair-budget) keeps an account's budget across
   * rebuilds.
   */
  @Test
  void aRotatedKeyAndItsProbeStayWithinTheAccountsQps() {
    NamespaceUser user = tenancy.user();
    CasEmulator cas = tenancy.cas;
    CloudKey key = Tenancy.cloudAccount(cas);
    CloudKey rotated = Tenancy.accessKey(cas, key.accountId());
    String account = "budget-" + user.namespace;
    tenancy.casAccount(account, cas, key, 1, user.namespace);
    int count = 8;
    for (int i = 0; i < count; i++) {
      tenancy.secret(user, "tls-" + i, ec("b" + i + ".budget.example.com").csrPem(), null);
    }
    Instant from = Instant.now();
    for (int i = 0; i < count; i++) {
      tenancy.create(user, aliyunCsr(user.namespace, "r-" + i, "tls-" + i, account));
    }
    await()
        .atMost(Tenancy.WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> cas.accountCalls(key.accountId(), "UploadCsr") >= 2);
    // The rebuild a rotation makes probes the new key (ListCsr) and checks it sees the recorded
    // CSRs (GetCsrDetail), as a periodic re-probe does: on the account's budget, not a new one.
    tenancy.credentials(account, rotated);
    for (int i = 0; i < count; i++) {
      tenancy.awaitReady(user.namespace, "r-" + i);
    }
    List<Instant> calls =
        cas.accountCallTimes(key.accountId()).stream().filter(t -> t.isAfter(from)).toList();
    List<Duration> gaps = new ArrayList<>();
    for (int i = 1; i < calls.size(); i++) {
      gaps.add(Duration.between(calls.get(i - 1), calls.get(i)));
    }
    System.out.printf(
        "budget: %d calls at qps 1 across a rotation (%s), gaps %s%n",
        calls.size(), cas.accountCallStats(key.accountId()), gaps);
    assertThat(calls.size()).as("the uploads, the probe and the check").isGreaterThan(count);
    // qps 1: no two calls within a second. The emulator sees arrivals, which the network can
    // bring up to a quarter of a second closer; a second budget beside the first puts a call
    // within half a second of one of a continuous stream.
    assertThat(gaps).allMatch(gap -> gap.compareTo(Duration.ofMillis(750)) >= 0);
  }

  // ---- 6. Namespaces take turns in an account's budget ----------------------------------------

  @Test
  void aQuietNamespacesUploadGoesWithinItsTurnWhileAnotherNamespaceBursts() {
    NamespaceUser bursting = tenancy.user();
    NamespaceUser quiet = tenancy.user();
    CasEmulator cas = tenancy.emulator();
    CloudKey key = Tenancy.cloudAccount(cas);
    String account = "turns-" + quiet.namespace;
    double qps = 4;
    tenancy.casAccount(account, cas, key, qps, bursting.namespace, quiet.namespace);
    int burst = 60;
    for (int i = 0; i < burst; i++) {
      tenancy.secret(bursting, "tls-" + i, ec("b" + i + ".turns.example.com").csrPem(), null);
    }
    tenancy.secret(quiet, "tls", ec("q.turns.example.com").csrPem(), null);
    for (int i = 0; i < burst; i++) {
      tenancy.create(bursting, aliyunCsr(bursting.namespace, "b-" + i, "tls-" + i, account));
    }
    // The burst queues about 15 s of uploads at 4/s. Once it is well under way, the quiet
    // namespace's one object comes: it waits for one turn per namespace with queued work (two),
    // not behind the whole queue.
    await().atMost(Tenancy.WAIT).until(() -> cas.csrs(key.accountId()).size() >= 8);
    Instant created = Instant.now();
    tenancy.create(quiet, aliyunCsr(quiet.namespace, "q", "tls", account));
    AliyunCsr ready = tenancy.awaitReady(quiet.namespace, "q");
    Instant uploadedAt =
        cas.csrs(key.accountId()).stream()
            .filter(c -> c.csrId() == ready.getStatus().getCsrId())
            .findFirst()
            .orElseThrow()
            .createdAt();
    Duration took = Duration.between(created, uploadedAt);
    long burstUploaded =
        cas.csrs(key.accountId()).stream()
            .filter(c -> c.name().startsWith(bursting.namespace + "-"))
            .filter(c -> c.createdAt().isBefore(uploadedAt))
            .count();
    System.out.printf(
        "turns: the quiet namespace's upload went %s after its creation, with %d of %d of the"
            + " burst uploaded before it%n",
        took, burstUploaded, burst);
    // Bound: (namespaces with queued work = 2) / qps + 1 s, plus the object's own way to its
    // turn (the API server, the reconcile) on a busy machine.
    Duration bound = Duration.ofMillis((long) (2 / qps * 1000)).plusSeconds(1).plusSeconds(2);
    assertThat(took).as("the quiet namespace's wait").isLessThanOrEqualTo(bound);
    assertThat(burstUploaded).as("it did not wait for the burst to end").isLessThan(burst);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  static TestPki.Material ec(String commonName) {
    return TestPki.ecCsr("secp256r1", commonName);
  }

  static void requestReconcile(NamespaceUser user, String name, String value) {
    tenancy.edit(
        user,
        name,
        r -> {
          annotate(r.getMetadata(), CasAnnotations.RECONCILE_REQUESTED_AT, value);
          return r;
        });
  }

  static void annotate(io.fabric8.kubernetes.api.model.ObjectMeta meta, String key, String value) {
    Map<String, String> annotations =
        meta.getAnnotations() == null ? new HashMap<>() : new HashMap<>(meta.getAnnotations());
    annotations.put(key, value);
    meta.setAnnotations(annotations);
  }

  /**
   * An admin writes the key into the account's credentials Secret; waits until the account's status
   * shows it built (and checked) from this version of the Secret. Not until lastProbeAt changes: it
   * has whole seconds, and a key taken up within the second of the build before it (the account's
   * first, say) leaves it as it was.
   */
  static AliyunCasAccount switchTo(String account, CloudKey key) {
    String version = tenancy.credentials(account, key);
    return tenancy.awaitAccount(
        account, a -> version.equals(a.getStatus().getCredentialsSecretVersion()));
  }

  /** The account is Stalled and not Ready, MigrationSuspected, saying how to confirm; the token. */
  static String assertAlarm(AliyunCasAccount a, String account) {
    assertThat(condition(a, "Stalled").getStatus()).as("alarm").isEqualTo("True");
    assertThat(condition(a, "Stalled").getReason()).isEqualTo(MIGRATION_SUSPECTED);
    CsrCondition ready = condition(a, "Ready");
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo(MIGRATION_SUSPECTED);
    assertThat(ready.getMessage())
        .contains("NotFound", "kubectl annotate --overwrite aliyuncasaccount " + account);
    assertThat(token(a)).isNotNull();
    return token(a);
  }

  static String token(AliyunCasAccount a) {
    Matcher m = TOKEN.matcher(condition(a, "Stalled").getMessage());
    return m.find() ? m.group(1) : null;
  }

  static CsrCondition condition(AliyunCasAccount a, String type) {
    return a.getStatus().condition(type).orElseThrow();
  }

  static boolean ready(AliyunCsr r) {
    return r.getStatus() != null
        && r.getStatus().condition("Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  /**
   * Paces a tenant's writes (the next one is due at {@code due}); nothing waits for the operator.
   */
  static void pace(Instant due) {
    try {
      long millis = Duration.between(Instant.now(), due).toMillis();
      if (millis > 0) {
        Thread.sleep(millis);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
