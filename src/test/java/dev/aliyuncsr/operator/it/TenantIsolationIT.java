package dev.aliyuncsr.operator.it;

import static dev.aliyuncsr.operator.testing.Tenancy.aliyunCsr;
import static dev.aliyuncsr.operator.testing.Tenancy.readyMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.aliyuncsr.operator.api.AliyunCasAccount;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.emulator.CasEmulator;
import dev.aliyuncsr.operator.emulator.StoredCsr;
import dev.aliyuncsr.operator.testing.NamespaceUser;
import dev.aliyuncsr.operator.testing.Tenancy;
import dev.aliyuncsr.operator.testing.Tenancy.CloudKey;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 17's attacks on tenants, made on the real API server the way a namespace user would make
 * them: each attacker is a user bound to {@code edit} in their own namespace only ({@link
 * NamespaceUser}) and writes nothing but what that allows (spec, annotations, finalizers, Secrets
 * of that namespace; deletes and re-creates). Victims are tenants of the same operator, mostly of
 * the same Alibaba Cloud account (one emulator, an account per test). Each test asserts that the
 * victim's CSR stays in CAS and is never deleted or sent a key (the emulator counts every call that
 * names a CsrId, and every call of an account), and that the attacker is refused with a reason and
 * a Warning Event wherever the operator refuses.
 */
class TenantIsolationIT {
  static final Duration MISSING_WINDOW = Duration.ofSeconds(5);

  static Tenancy tenancy;

  @BeforeAll
  static void start() {
    tenancy =
        Tenancy.start(
            Map.of(
                "CAS_MISSING_WINDOW",
                MISSING_WINDOW.toSeconds() + "s",
                // Short CAS timeouts keep the restore lease (one call's length) short.
                "CAS_CONNECT_TIMEOUT",
                "2s",
                "CAS_READ_TIMEOUT",
                "3s"));
  }

  @AfterAll
  static void stop() {
    tenancy.close();
  }

  // ---- What a namespace user may write ---------------------------------------------------------

  @Test
  void aNamespaceUserCanWriteSpecMetadataAndSecretsOfTheirNamespaceButNeitherStatusNorElsewhere() {
    NamespaceUser user = tenancy.user();
    NamespaceUser other = tenancy.user();
    tenancy.secret(user, "tls", ec("own.example.com").csrPem(), null);
    tenancy.create(user, aliyunCsr(user.namespace, "own", "tls", "no-such-account"));
    tenancy.edit(
        user,
        "own",
        r -> {
          r.getMetadata().setAnnotations(Map.of(CasAnnotations.CSR_ID, "1"));
          r.getMetadata().setFinalizers(List.of(CasAnnotations.FINALIZER));
          r.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
          return r;
        });

    assertForbidden(
        () ->
            user.client
                .resources(AliyunCsr.class)
                .inNamespace(user.namespace)
                .withName("own")
                .subresource("status")
                .patch(
                    PatchContext.of(PatchType.JSON_MERGE),
                    "{\"status\":{\"csrId\":1,\"account\":\"anyone\"}}"));
    assertForbidden(
        () -> user.client.resource(aliyunCsr(other.namespace, "intruder", "tls", null)).create());
    assertForbidden(() -> user.client.secrets().inNamespace(other.namespace).list());
    assertForbidden(() -> user.client.resources(AliyunCasAccount.class).list());
    assertForbidden(() -> user.client.secrets().inNamespace(tenancy.operatorNamespace).list());
    tenancy.delete(user, "own");
    tenancy.awaitGone(user.namespace, "own");
  }

  // ---- 1. Reaching an account that does not select you ----------------------------------------

  @Test
  void anAccountThatDoesNotSelectANamespaceIsNeverCalledForItWhateverFinalizerAndIntentItCopies() {
    NamespaceUser victim = tenancy.user();
    NamespaceUser attacker = tenancy.user();
    CasEmulator cas = tenancy.cas;
    CloudKey b = Tenancy.cloudAccount(cas);
    String account = "b-" + victim.namespace;
    tenancy.casAccount(account, cas, b, 50, victim.namespace);
    var pki = ec("shop.victim.example.com");
    tenancy.secret(victim, "tls", pki.csrPem(), null);
    tenancy.create(victim, aliyunCsr(victim.namespace, "shop", "tls", account));
    AliyunCsr shop = awaitSettled(victim.namespace, "shop");
    long csrId = shop.getStatus().getCsrId();

    // The attacker holds the victim's public CSR, and copies its account, finalizer and intent.
    tenancy.secret(attacker, "tls", pki.csrPem(), null);
    var accountCalls = cas.accountCallStats(b.accountId());
    var victimCalls = cas.csrCallStats(csrId);

    // a) Stalled first, then deleted.
    tenancy.create(attacker, attackCopy(shop, attacker.namespace, "intruder", "tls"));
    AliyunCsr refused = tenancy.awaitVerdict(attacker.namespace, "intruder");
    assertThat(Tenancy.verdict(refused)).isEqualTo("Stalled " + Reasons.ACCOUNT_NOT_PERMITTED);
    assertThat(readyMessage(refused))
        .contains(account, attacker.namespace, "nothing is sent to CAS");
    assertThat(tenancy.awaitWarning(attacker.namespace, "intruder", Reasons.ACCOUNT_NOT_PERMITTED))
        .contains(account);
    tenancy.delete(attacker, "intruder");
    tenancy.awaitGone(attacker.namespace, "intruder");

    // b) Deleted while its status still reads as lost: the status restore on deletion. Paused at
    // creation, it keeps no record (a pause writes only its condition), and waits in its deletion
    // until the attacker unpauses it.
    AliyunCsr paused = attackCopy(shop, attacker.namespace, "restore-on-delete", "tls");
    paused.getMetadata().getAnnotations().put(CasAnnotations.PAUSED, "true");
    tenancy.create(attacker, paused);
    await()
        .atMost(Tenancy.WAIT)
        .until(
            () -> tenancy.get(attacker.namespace, "restore-on-delete"),
            r -> paused(r) && r.getStatus().getObservedGeneration() == null);
    tenancy.delete(attacker, "restore-on-delete");
    await()
        .atMost(Tenancy.WAIT)
        .until(
            () -> tenancy.get(attacker.namespace, "restore-on-delete"),
            r -> pausedFor(r, Reasons.DELETION_PAUSED));
    tenancy.edit(
        attacker,
        "restore-on-delete",
        r -> {
          r.getMetadata().getAnnotations().remove(CasAnnotations.PAUSED);
          return r;
        });
    tenancy.awaitGone(attacker.namespace, "restore-on-delete");

    // c) Created and deleted at once.
    tenancy.create(attacker, attackCopy(shop, attacker.namespace, "hit-and-run", "tls"));
    tenancy.delete(attacker, "hit-and-run");
    tenancy.awaitGone(attacker.namespace, "hit-and-run");

    assertThat(cas.accountCallStats(b.accountId()))
        .as("no call of any kind into the account for the attacker")
        .isEqualTo(accountCalls);
    assertThat(cas.csrCallStats(csrId)).isEqualTo(victimCalls);
    assertThat(cas.csr(csrId)).as("the victim's CSR").isPresent();
    AliyunCsr after = tenancy.get(victim.namespace, "shop");
    assertThat(Tenancy.isReady(after)).isTrue();
    assertThat(after.getStatus().getCsrId()).isEqualTo(csrId);
  }

  // ---- 2. Claiming another tenant's CSR ---------------------------------------------------------

  @Test
  void aCopiedNameAndCsrNeverClaimAnUnrecordedCsrOfAnotherTenant() {
    NamespaceUser victim = tenancy.user();
    NamespaceUser attacker = tenancy.user();
    CasEmulator cas = tenancy.cas;
    CloudKey shared = Tenancy.cloudAccount(cas);
    String account = "shared-" + victim.namespace;
    tenancy.casAccount(account, cas, shared, 50, victim.namespace, attacker.namespace);
    // Three victims, each left with a CSR in CAS that its status does not record.
    String[] names = {"orphaned", "lost", "restored"};
    Map<String, TestPki.Material> csrs = new HashMap<>();
    Map<String, AliyunCsr> exported = new HashMap<>();
    for (String name : names) {
      csrs.put(name, ec(name + ".victim.example.com"));
      tenancy.secret(victim, name, csrs.get(name).csrPem(), null);
      AliyunCsr r = aliyunCsr(victim.namespace, name, name, account);
      r.getSpec().setName("shop-" + name);
      tenancy.create(victim, r);
    }
    Map<String, Long> victimIds = new HashMap<>();
    for (String name : names) {
      exported.put(name, export(awaitSettled(victim.namespace, name)));
      victimIds.put(name, exported.get(name).getStatus().getCsrId());
    }
    // a) Deleted with Orphan: its CSR stays, nobody records it.
    orphanAndDelete(victim, "orphaned");
    // b) Its status lost (an admin's replace or a restore without status); paused, so that it
    // stays unrecorded while the attack goes on.
    pause(victim, "lost");
    tenancy.loseStatus(victim.namespace, "lost");
    awaitPausedWithoutRecord(victim.namespace, "lost");
    // c) A Velero restore in progress: a new UID, no status, the finalizer and annotations kept.
    orphanAndDelete(victim, "restored");
    AliyunCsr restore = withoutStatus(exported.get("restored"));
    restore.getMetadata().getAnnotations().put(CasAnnotations.PAUSED, "true");
    tenancy.harness.client.resource(restore).create();
    awaitPausedWithoutRecord(victim.namespace, "restored");
    Map<String, Map<String, Map<String, Integer>>> victimCalls = new HashMap<>();
    victimIds.forEach((name, id) -> victimCalls.put(name, cas.csrCallStats(id)));

    // The attacker copies spec.name, the CSR, the annotations and the finalizer of each, under
    // deletionPolicy Delete.
    for (String name : names) {
      tenancy.secret(attacker, name, csrs.get(name).csrPem(), null);
      AliyunCsr copy = attackCopy(exported.get(name), attacker.namespace, "copy-" + name, name);
      copy.getSpec().setDeletionPolicy(DeletionPolicy.Delete);
      tenancy.create(attacker, copy);
    }
    Map<String, Long> attackerIds = new HashMap<>();
    for (String name : names) {
      AliyunCsr own = tenancy.awaitReady(attacker.namespace, "copy-" + name);
      String ownName =
          tenancy.harness.uploadName(attacker.namespace, "copy-" + name, "shop-" + name);
      assertThat(own.getStatus().getUploadName())
          .as("its own CSR under its own mark")
          .isEqualTo(ownName)
          .isNotEqualTo(exported.get(name).getStatus().getUploadName());
      assertThat(own.getStatus().getCsrId()).isNotEqualTo(victimIds.get(name));
      attackerIds.put(name, own.getStatus().getCsrId());
    }
    for (String name : names) {
      tenancy.delete(attacker, "copy-" + name);
    }
    for (String name : names) {
      tenancy.awaitGone(attacker.namespace, "copy-" + name);
      assertThat(cas.csr(attackerIds.get(name))).as("its own CSR is deleted").isEmpty();
      long id = victimIds.get(name);
      assertThat(cas.csr(id)).as("the victim's CSR %s stays", name).isPresent();
      assertThat(cas.csrCalls(id, "DeleteCsr")).isZero();
      assertThat(cas.csrCalls(id, "UpdateCsr")).isZero();
    }

    // With its own private key in keySecretRef the copy does not even validate: KeyMismatch.
    var accountCalls = cas.accountCallStats(shared.accountId());
    tenancy.secret(
        attacker, "with-own-key", csrs.get("orphaned").csrPem(), ec("x.example.com").pkcs8KeyPem());
    AliyunCsr keyed =
        attackCopy(exported.get("orphaned"), attacker.namespace, "with-key", "with-own-key");
    keyed.getSpec().setKeySecretRef(new SecretKeyRef("with-own-key", null));
    tenancy.create(attacker, keyed);
    assertThat(Tenancy.verdict(tenancy.awaitVerdict(attacker.namespace, "with-key")))
        .isEqualTo("Stalled " + Reasons.KEY_MISMATCH);
    tenancy.awaitWarning(attacker.namespace, "with-key", Reasons.KEY_MISMATCH);
    tenancy.delete(attacker, "with-key");
    tenancy.awaitGone(attacker.namespace, "with-key");
    assertThat(cas.accountCallStats(shared.accountId())).as("no call").isEqualTo(accountCalls);

    // The victims get their own back, untouched: each restore finds its CSR, no upload.
    int uploads = cas.accountCalls(shared.accountId(), "UploadCsr");
    List<String> restoring = List.of("lost", "restored");
    restoring.forEach(name -> unpause(victim, name));
    for (String name : restoring) {
      AliyunCsr back = tenancy.awaitReady(victim.namespace, name);
      assertThat(back.getStatus().getCsrId()).isEqualTo(victimIds.get(name));
      assertThat(Tenancy.hasReason(back, Reasons.RECOVERED)).isTrue();
    }
    assertThat(cas.accountCalls(shared.accountId(), "UploadCsr")).isEqualTo(uploads);
    for (String name : names) {
      long id = victimIds.get(name);
      assertThat(cas.csrCalls(id, "DeleteCsr")).isZero();
      assertThat(cas.csrCalls(id, "UpdateCsr")).isZero();
    }
  }

  // ---- 3. Two handles on one real account -------------------------------------------------------

  @Test
  void aSecondAccountObjectOnTheSameCloudAccountCannotAdoptWhatTheFirstRecords() {
    NamespaceUser victim = tenancy.user();
    NamespaceUser attacker = tenancy.user();
    CasEmulator cas = tenancy.cas;
    CloudKey first = Tenancy.cloudAccount(cas);
    CloudKey second = Tenancy.accessKey(cas, first.accountId());
    String one = "handle-1-" + victim.namespace;
    String two = "handle-2-" + attacker.namespace;
    tenancy.casAccount(one, cas, first, 50, victim.namespace);
    tenancy.casAccount(two, cas, second, 50, attacker.namespace);
    // The victim records three CSRs through handle 1 (see Victims); the attacker, through handle
    // 2, adopts each with the victim's public CSR.
    Victims victims = recordVictims(victim, first.accountId(), one, true);
    Map<String, Map<String, Map<String, Integer>>> before = new HashMap<>();
    for (String name : Victims.NAMES) {
      before.put(name, cas.csrCallStats(victims.id(name)));
      adoptAsAttacker(attacker, two, "adopt-" + name, victims.id(name), victims.csr(name));
    }
    for (String name : Victims.NAMES) {
      long id = victims.id(name);
      AliyunCsr refused = tenancy.awaitVerdict(attacker.namespace, "adopt-" + name);
      assertThat(Tenancy.verdict(refused))
          .as(name)
          .isEqualTo("Stalled " + Reasons.ADOPTION_CONFLICT);
      assertThat(readyMessage(refused)).contains(victim.namespace + "/" + name + " records it");
      assertThat(
              tenancy.awaitWarning(attacker.namespace, "adopt-" + name, Reasons.ADOPTION_CONFLICT))
          .contains(Long.toString(id));
      assertThat(refused.getStatus().getCsrId()).isNull();
      assertThat(cas.csrCallStats(id)).as("nothing named it").isEqualTo(before.get(name));
    }

    // The victim replaces its uploaded CSR (the old one is deleted), then deletes its objects.
    long uploaded = victims.id("uploaded");
    var replacement = ec("uploaded2.example.com");
    tenancy.secret(victim, "uploaded", replacement.csrPem(), replacement.pkcs8KeyPem());
    AliyunCsr replaced =
        await()
            .atMost(Tenancy.WAIT)
            .until(
                () -> tenancy.get(victim.namespace, "uploaded"),
                r ->
                    Tenancy.isReady(r)
                        && r.getStatus().getCsrId() != uploaded
                        && r.getStatus().getSupersededCsrs() == null);
    assertThat(cas.csr(uploaded)).as("deleted by its owner").isEmpty();
    long next = replaced.getStatus().getCsrId();
    Victims.NAMES.forEach(name -> tenancy.delete(victim, name));
    Victims.NAMES.forEach(name -> tenancy.awaitGone(victim.namespace, name));
    assertThat(cas.csr(next)).isEmpty();
    for (String name : Victims.NAMES) {
      long id = victims.id(name);
      assertThat(cas.csr(id)).as(name).isEmpty();
      tenancy.delete(attacker, "adopt-" + name);
      tenancy.awaitGone(attacker.namespace, "adopt-" + name);
      assertThat(cas.csrCalls(id, "DeleteCsr")).as("its owner's only").isEqualTo(1);
      assertThat(cas.csrCalls(id, "UpdateCsr"))
          .as("none but the owner's, before the attack")
          .isEqualTo(
              before.get(name).getOrDefault("UpdateCsr", Map.of()).values().stream()
                  .mapToInt(Integer::intValue)
                  .sum());
    }
  }

  // ---- 4. Adoption of a recorded CSR ----------------------------------------------------------

  @Test
  void adoptingARecordedCsrIsRefusedAndTheOwnerStillUpdatesAndDeletesIt() {
    NamespaceUser victim = tenancy.user();
    NamespaceUser attacker = tenancy.user();
    CasEmulator cas = tenancy.cas;
    CloudKey key = Tenancy.cloudAccount(cas);
    String account = "same-" + victim.namespace;
    tenancy.casAccount(account, cas, key, 50, victim.namespace, attacker.namespace);
    // Recorded without their keys (see Victims); the attacker adopts each.
    Victims victims = recordVictims(victim, key.accountId(), account, false);
    for (String name : Victims.NAMES) {
      adoptAsAttacker(attacker, account, "adopt-" + name, victims.id(name), victims.csr(name));
    }
    for (String name : Victims.NAMES) {
      AliyunCsr refused = tenancy.awaitVerdict(attacker.namespace, "adopt-" + name);
      assertThat(Tenancy.verdict(refused))
          .as(name)
          .isEqualTo("Stalled " + Reasons.ADOPTION_CONFLICT);
      assertThat(readyMessage(refused)).contains(victim.namespace + "/" + name + " records it");
      tenancy.awaitWarning(attacker.namespace, "adopt-" + name, Reasons.ADOPTION_CONFLICT);
    }

    // The owner adds its key (UpdateCsr), then deletes (DeleteCsr): neither is blocked.
    for (String name : Victims.NAMES) {
      tenancy.secret(victim, name, victims.csr(name).csrPem(), victims.csr(name).pkcs8KeyPem());
      tenancy.edit(
          victim,
          name,
          r -> {
            r.getSpec().setKeySecretRef(new SecretKeyRef(name, null));
            return r;
          });
    }
    for (String name : Victims.NAMES) {
      long id = victims.id(name);
      AliyunCsr keyed = tenancy.awaitVerdict(victim.namespace, name);
      assertThat(Tenancy.verdict(keyed)).as(name).startsWith("Ready");
      assertThat(keyed.getStatus().getPrivateKeyUploaded()).isTrue();
      assertThat(cas.csr(id).orElseThrow().hasPrivateKey()).isTrue();
      assertThat(cas.csrCalls(id, "UpdateCsr", CasEmulator.OK)).isEqualTo(1);
      tenancy.delete(victim, name);
    }
    for (String name : Victims.NAMES) {
      long id = victims.id(name);
      tenancy.awaitGone(victim.namespace, name);
      assertThat(cas.csr(id)).as(name).isEmpty();
      tenancy.delete(attacker, "adopt-" + name);
      tenancy.awaitGone(attacker.namespace, "adopt-" + name);
      assertThat(cas.csrCalls(id, "DeleteCsr")).isEqualTo(1);
      assertThat(cas.csrCalls(id, "UpdateCsr")).isEqualTo(1);
    }
  }

  @Test
  void adoptingACsrThatCasNamesUnderAnotherObjectsMarkIsRefusedWhileThatObjectsStatusIsLost() {
    NamespaceUser victim = tenancy.user();
    NamespaceUser attacker = tenancy.user();
    CasEmulator cas = tenancy.cas;
    CloudKey key = Tenancy.cloudAccount(cas);
    String account = "marked-" + victim.namespace;
    tenancy.casAccount(account, cas, key, 50, victim.namespace, attacker.namespace);
    var pki = ec("web.marked.example.com");
    tenancy.secret(victim, "tls", pki.csrPem(), null);
    tenancy.create(victim, aliyunCsr(victim.namespace, "web", "tls", account));
    AliyunCsr web = awaitSettled(victim.namespace, "web");
    long csrId = web.getStatus().getCsrId();
    pause(victim, "web");
    tenancy.loseStatus(victim.namespace, "web");
    awaitPausedWithoutRecord(victim.namespace, "web");

    tenancy.secret(attacker, "tls", pki.csrPem(), null);
    AliyunCsr adopt = aliyunCsr(attacker.namespace, "adopt", "tls", account);
    adopt.getSpec().setCsrId(csrId);
    tenancy.create(attacker, adopt);
    AliyunCsr refused = tenancy.awaitVerdict(attacker.namespace, "adopt");
    assertThat(Tenancy.verdict(refused)).isEqualTo("Stalled " + Reasons.ADOPTION_CONFLICT);
    assertThat(readyMessage(refused))
        .contains("CAS names it " + web.getStatus().getUploadName())
        .contains("another AliyunCsr");
    tenancy.awaitWarning(attacker.namespace, "adopt", Reasons.ADOPTION_CONFLICT);
    tenancy.delete(attacker, "adopt");
    tenancy.awaitGone(attacker.namespace, "adopt");
    assertThat(cas.csrCalls(csrId, "DeleteCsr")).isZero();
    assertThat(cas.csrCalls(csrId, "UpdateCsr")).isZero();
    assertThat(cas.csrCallStats(csrId).keySet()).as("read only").containsOnly("GetCsrDetail");

    unpause(victim, "web");
    AliyunCsr back = tenancy.awaitReady(victim.namespace, "web");
    assertThat(back.getStatus().getCsrId()).isEqualTo(csrId);
    assertThat(Tenancy.hasReason(back, Reasons.RECOVERED)).isTrue();
  }

  @Test
  void anAdoptedCsrIsDeletedOnlyWithTheProofOfPossession() {
    NamespaceUser user = tenancy.user();
    CasEmulator cas = tenancy.cas;
    CloudKey key = Tenancy.cloudAccount(cas);
    String account = "possession-" + user.namespace;
    tenancy.casAccount(account, cas, key, 50, user.namespace);
    var pki = ec("made-elsewhere.example.com");
    StoredCsr elsewhere = cas.putCsr(key.accountId(), "made-elsewhere", pki.csrPem(), null);
    long csrId = elsewhere.csrId();

    // Adopted with the public CSR only (anyone can have it): released on deletion, not deleted.
    tenancy.secret(user, "public", pki.csrPem(), null);
    AliyunCsr withoutKey = aliyunCsr(user.namespace, "without-key", "public", account);
    withoutKey.getSpec().setCsrId(csrId);
    tenancy.create(user, withoutKey);
    assertThat(
            Tenancy.hasReason(tenancy.awaitReady(user.namespace, "without-key"), Reasons.ADOPTED))
        .isTrue();
    tenancy.delete(user, "without-key");
    tenancy.awaitGone(user.namespace, "without-key");
    assertThat(cas.csr(csrId)).isPresent();
    assertThat(cas.csrCalls(csrId, "DeleteCsr")).isZero();
    assertThat(tenancy.awaitWarning(user.namespace, "without-key", Reasons.CSR_NOT_PROVEN))
        .contains(Long.toString(csrId), "proof of possession");

    // Adopted with its private key: the key is proof; it is sent, and the CSR deleted with it.
    tenancy.secret(user, "private", pki.csrPem(), pki.pkcs8KeyPem());
    AliyunCsr withKey = aliyunCsr(user.namespace, "with-key", "private", account);
    withKey.getSpec().setCsrId(csrId);
    withKey.getSpec().setKeySecretRef(new SecretKeyRef("private", null));
    tenancy.create(user, withKey);
    await()
        .atMost(Tenancy.WAIT)
        .until(
            () -> tenancy.get(user.namespace, "with-key"),
            r -> Tenancy.isReady(r) && Boolean.TRUE.equals(r.getStatus().getPrivateKeyUploaded()));
    tenancy.delete(user, "with-key");
    tenancy.awaitGone(user.namespace, "with-key");
    assertThat(cas.csr(csrId)).isEmpty();
    assertThat(cas.csrCalls(csrId, "DeleteCsr")).isEqualTo(1);
  }

  // ---- 5. Restore from a backup ---------------------------------------------------------------

  @Test
  void aRestoredObjectReattachesToItsCsrAndNeverClaimsADifferentOneUnderItsMark() {
    NamespaceUser user = tenancy.user();
    CasEmulator cas = tenancy.cas;
    CloudKey key = Tenancy.cloudAccount(cas);
    String account = "restore-" + user.namespace;
    tenancy.casAccount(account, cas, key, 50, user.namespace);
    // Two objects, backed up once Ready: "same" is restored with the CSR it had, "changed" after
    // its Secret got another CSR (the CSR its predecessor uploaded stays, kept by Orphan).
    Map<String, TestPki.Material> csrs = new HashMap<>();
    for (String name : List.of("same", "changed")) {
      csrs.put(name, ec(name + ".restore.example.com"));
      tenancy.secret(user, name, csrs.get(name).csrPem(), csrs.get(name).pkcs8KeyPem());
      AliyunCsr r = aliyunCsr(user.namespace, name, name, account);
      r.getSpec().setKeySecretRef(new SecretKeyRef(name, null));
      tenancy.create(user, r);
    }
    Map<String, AliyunCsr> originals = new HashMap<>();
    for (String name : List.of("same", "changed")) {
      originals.put(name, awaitSettled(user.namespace, name));
    }
    int uploads = cas.accountCalls(key.accountId(), "UploadCsr");
    var other = ec("other.restore.example.com");
    for (String name : List.of("same", "changed")) {
      orphanAndDelete(user, name);
    }
    tenancy.secret(user, "changed", other.csrPem(), other.pkcs8KeyPem());
    // What Velero keeps: spec, labels, annotations, finalizers; not the UID, nor status.
    for (String name : List.of("same", "changed")) {
      tenancy.harness.client.resource(withoutStatus(export(originals.get(name)))).create();
    }

    AliyunCsr same = tenancy.awaitReady(user.namespace, "same");
    long sameId = originals.get("same").getStatus().getCsrId();
    assertThat(same.getMetadata().getUid())
        .isNotEqualTo(originals.get("same").getMetadata().getUid());
    assertThat(same.getStatus().getCsrId()).as("the original CsrId").isEqualTo(sameId);
    assertThat(Tenancy.hasReason(same, Reasons.RECOVERED)).isTrue();
    assertThat(Boolean.TRUE.equals(same.getStatus().getPrivateKeyUploaded())).isTrue();
    assertThat(cas.csrCalls(sameId, "UpdateCsr")).as("CAS holds its key already").isZero();

    AliyunCsr changed = tenancy.awaitVerdict(user.namespace, "changed");
    assertThat(Tenancy.verdict(changed)).isEqualTo("Ready " + Reasons.UPLOADED);
    long predecessorId = originals.get("changed").getStatus().getCsrId();
    long ownId = changed.getStatus().getCsrId();
    assertThat(ownId).isNotEqualTo(predecessorId);
    assertThat(changed.getStatus().getUploadName())
        .as("the same mark")
        .isEqualTo(originals.get("changed").getStatus().getUploadName());
    assertThat(cas.accountCalls(key.accountId(), "UploadCsr"))
        .as("one upload: the changed CSR's")
        .isEqualTo(uploads + 1);

    // Deleted under Delete: each deletes its own; the predecessor's different CSR stays.
    tenancy.delete(user, "changed");
    tenancy.delete(user, "same");
    tenancy.awaitGone(user.namespace, "changed");
    tenancy.awaitGone(user.namespace, "same");
    assertThat(cas.csr(ownId)).isEmpty();
    assertThat(cas.csr(sameId)).as("its own, re-attached").isEmpty();
    StoredCsr predecessor = cas.csr(predecessorId).orElseThrow();
    assertThat(predecessor.csrPem()).isEqualTo(csrs.get("changed").csrPem());
    assertThat(predecessor.privateKeyPem()).isEqualTo(csrs.get("changed").pkcs8KeyPem());
    assertThat(cas.csrCalls(predecessorId, "DeleteCsr")).isZero();
    assertThat(cas.csrCalls(predecessorId, "UpdateCsr")).isZero();
  }

  /**
   * A victim's recorded CSRs by object name, the least protected first: "legacy" was uploaded by
   * the version before the mark (its name in CAS carries none: only the record protects it),
   * "adopted" was made elsewhere (no mark either, but an adoption), "uploaded" carries its mark.
   */
  record Victims(Map<String, Long> ids, Map<String, TestPki.Material> csrs) {
    static final List<String> NAMES = List.of("legacy", "adopted", "uploaded");

    long id(String name) {
      return ids.get(name);
    }

    TestPki.Material csr(String name) {
      return csrs.get(name);
    }
  }

  /**
   * The victim's three recorded CSRs (with their keys in keySecretRef when {@code withKeys}, which
   * the uploads then carry too).
   */
  static Victims recordVictims(
      NamespaceUser victim, String cloudAccount, String account, boolean withKeys) {
    Map<String, TestPki.Material> csrs = new HashMap<>();
    Victims.NAMES.forEach(name -> csrs.put(name, ec(name + ".victim.example.com")));
    long madeElsewhere =
        tenancy
            .cas
            .putCsr(cloudAccount, "made-elsewhere", csrs.get("adopted").csrPem(), null)
            .csrId();
    for (String name : Victims.NAMES) {
      var csr = csrs.get(name);
      tenancy.secret(victim, name, csr.csrPem(), withKeys ? csr.pkcs8KeyPem() : null);
      AliyunCsr r = aliyunCsr(victim.namespace, name, name, account);
      if (name.equals("adopted")) {
        r.getSpec().setCsrId(madeElsewhere);
      }
      if (withKeys) {
        r.getSpec().setKeySecretRef(new SecretKeyRef(name, null));
      }
      tenancy.create(victim, r);
    }
    Map<String, Long> ids = new HashMap<>();
    for (String name : Victims.NAMES) {
      ids.put(name, awaitSettled(victim.namespace, name).getStatus().getCsrId());
    }
    assertThat(ids.get("adopted")).isEqualTo(madeElsewhere);
    // As the version before the mark named its uploads: namespace, name and a UID hash.
    AliyunCsr legacy = tenancy.get(victim.namespace, "legacy");
    renameInConsole(
        cloudAccount,
        ids.get("legacy"),
        victim.namespace + "-legacy-" + legacy.getMetadata().getUid().substring(0, 8));
    return new Victims(ids, csrs);
  }

  /** The CSR's name in CAS becomes {@code name}, nothing else changes, and no call is counted. */
  static void renameInConsole(String cloudAccount, long csrId, String name) {
    StoredCsr c = tenancy.cas.csr(csrId).orElseThrow();
    assertThat(tenancy.cas.deleteInConsole(cloudAccount, csrId)).isTrue();
    tenancy.cas.putCsr(
        cloudAccount,
        new StoredCsr(
            c.csrId(),
            name,
            c.csrPem(),
            c.privateKeyPem(),
            c.commonName(),
            c.sans(),
            c.algorithm(),
            c.keySize(),
            c.keySha2(),
            c.createdAt()));
  }

  /** The attacker sets spec.csrId to the victim's CsrId, with the victim's public CSR. */
  static void adoptAsAttacker(
      NamespaceUser attacker, String account, String name, long csrId, TestPki.Material csr) {
    tenancy.secret(attacker, name, csr.csrPem(), null);
    AliyunCsr adopt = aliyunCsr(attacker.namespace, name, name, account);
    adopt.getSpec().setCsrId(csrId);
    tenancy.create(attacker, adopt);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  static TestPki.Material ec(String commonName) {
    return TestPki.ecCsr("secp256r1", commonName);
  }

  static void assertForbidden(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
  }

  /**
   * Ready with its CsrId recorded and no lease: the result write is an upload's last, so the victim
   * is settled and makes no more calls.
   */
  static AliyunCsr awaitSettled(String namespace, String name) {
    return await()
        .atMost(Tenancy.WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> tenancy.get(namespace, name),
            r ->
                Tenancy.isReady(r)
                    && r.getStatus().getCsrId() != null
                    && r.getStatus().getLease() == null);
  }

  /**
   * What an attacker writes after reading the victim's object: its spec (account, spec.name,
   * spec.csrId), its annotations and finalizers, in the attacker's namespace, reading the CSR from
   * the attacker's own Secret.
   */
  static AliyunCsr attackCopy(AliyunCsr victim, String namespace, String name, String secret) {
    AliyunCsr copy = new AliyunCsr();
    copy.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(namespace)
            .withName(name)
            .withAnnotations(new HashMap<>(annotations(victim)))
            .withFinalizers(victim.getMetadata().getFinalizers())
            .build());
    AliyunCsrSpec spec = Serialization.clone(victim.getSpec());
    spec.setCsrSecretRef(new SecretKeyRef(secret, null));
    spec.setKeySecretRef(null);
    copy.setSpec(spec);
    return copy;
  }

  static Map<String, String> annotations(AliyunCsr r) {
    return r.getMetadata().getAnnotations() == null ? Map.of() : r.getMetadata().getAnnotations();
  }

  /** The object as a backup holds it, status included (a restore drops it: withoutStatus). */
  static AliyunCsr export(AliyunCsr r) {
    return Serialization.clone(r);
  }

  /** As a restore creates it: same namespace, name, spec, labels, annotations and finalizers. */
  static AliyunCsr withoutStatus(AliyunCsr r) {
    AliyunCsr copy = new AliyunCsr();
    copy.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(r.getMetadata().getNamespace())
            .withName(r.getMetadata().getName())
            .withLabels(r.getMetadata().getLabels())
            .withAnnotations(new HashMap<>(annotations(r)))
            .withFinalizers(r.getMetadata().getFinalizers())
            .build());
    copy.setSpec(Serialization.clone(r.getSpec()));
    return copy;
  }

  static void orphanAndDelete(NamespaceUser user, String name) {
    tenancy.edit(
        user,
        name,
        r -> {
          r.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
          return r;
        });
    tenancy.delete(user, name);
    tenancy.awaitGone(user.namespace, name);
  }

  static void pause(NamespaceUser user, String name) {
    tenancy.edit(
        user,
        name,
        r -> {
          Map<String, String> annotations = new HashMap<>(annotations(r));
          annotations.put(CasAnnotations.PAUSED, "true");
          r.getMetadata().setAnnotations(annotations);
          return r;
        });
    await().atMost(Tenancy.WAIT).until(() -> tenancy.get(user.namespace, name), r -> paused(r));
  }

  static void unpause(NamespaceUser user, String name) {
    tenancy.edit(
        user,
        name,
        r -> {
          Map<String, String> annotations = new HashMap<>(annotations(r));
          annotations.remove(CasAnnotations.PAUSED);
          r.getMetadata().setAnnotations(annotations);
          return r;
        });
  }

  /** The operator saw the status go: it wrote the Paused condition into an empty status. */
  static void awaitPausedWithoutRecord(String namespace, String name) {
    await()
        .atMost(Tenancy.WAIT)
        .until(
            () -> tenancy.get(namespace, name),
            r ->
                paused(r)
                    && r.getStatus().getCsrId() == null
                    && r.getStatus().getObservedGeneration() == null);
  }

  static boolean paused(AliyunCsr r) {
    return pausedFor(r, Reasons.PAUSED);
  }

  static boolean pausedFor(AliyunCsr r, String reason) {
    return r != null
        && r.getStatus() != null
        && r.getStatus()
            .condition("Paused")
            .map(c -> "True".equals(c.getStatus()) && reason.equals(c.getReason()))
            .orElse(false);
  }
}
