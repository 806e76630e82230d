package dev.aliyuncsr.operator.upload.simulation;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aliyuncsr.operator.api.AccountRef;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrSpec;
import dev.aliyuncsr.operator.api.DeletionPolicy;
import dev.aliyuncsr.operator.api.SecretKeyRef;
import dev.aliyuncsr.operator.upload.CasAnnotations;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The adversary: tenants with edit rights in their own namespace, writing whatever a namespace user
 * may write (spec, annotations, finalizers, Secrets, deletes, re-creates; never status, and never
 * another tenant's private key), mostly with what they can see or guess of another tenant's
 * objects: its account, its spec.name, its CsrIds, its annotations, its public CSR.
 */
final class Tenants {
  private final SimWorld w;

  Tenants(SimWorld world) {
    this.w = world;
  }

  /** One tenant's move. */
  void act() {
    String tenant = w.pick(w.namespaces);
    List<AliyunCsr> own = objectsOf(tenant, true);
    List<AliyunCsr> others = objectsOf(tenant, false);
    int roll = w.random.nextInt(100);
    if (own.isEmpty() || roll < 10) {
      if (w.kube.all().size() < 5) {
        createAttacker(tenant, others);
      }
      return;
    }
    AliyunCsr r = w.pick(own);
    if (roll >= 66 && roll < 80) {
      // Backups are mostly of objects that are done: their restore has something to find.
      List<AliyunCsr> ready = own.stream().filter(SimWorld::isReady).toList();
      if (!ready.isEmpty() && w.random.nextInt(100) < 80) {
        r = w.pick(ready);
      }
    }
    if (roll < 20) {
      pointAccount(r);
    } else if (roll < 27) {
      copyName(r, others);
    } else if (roll < 40) {
      adopt(r, others);
    } else if (roll < 48) {
      copyAnnotations(r, others);
    } else if (roll < 56) {
      finalizerByHand(r);
    } else if (roll < 66) {
      copyPublicCsr(r, others);
    } else if (roll < 80) {
      startRestore(r);
    } else if (roll < 88) {
      spam(r);
    } else if (roll < 94) {
      w.togglePause(r);
    } else {
      w.kube.delete(InMemoryKube.key(r), w.now);
      w.restoreExpect.remove(r.getMetadata().getUid());
      w.note("tenant " + tenant + " deletes " + InMemoryKube.key(r));
    }
  }

  private List<AliyunCsr> objectsOf(String tenant, boolean own) {
    List<AliyunCsr> out = new ArrayList<>();
    for (AliyunCsr r : w.kube.all()) {
      if (r.getMetadata().getNamespace().equals(tenant) == own) {
        out.add(r);
      }
    }
    return out;
  }

  /** spec.accountRef to any account: one that selects the tenant, one that does not, none. */
  private void pointAccount(AliyunCsr r) {
    List<String> choices = new ArrayList<>(w.accounts.named);
    choices.add(SimAccounts.NONE);
    choices.add(null);
    String account = w.pick(choices);
    AliyunCsr written =
        w.edited(
            InMemoryKube.key(r),
            n -> {
              ObjectNode spec = (ObjectNode) n.get("spec");
              if (account == null) {
                spec.remove("accountRef");
              } else {
                spec.putObject("accountRef").put("name", account);
              }
            });
    w.count("attackAccountRef");
    w.note(
        "tenant sets "
            + InMemoryKube.key(r)
            + " accountRef "
            + account
            + (written == null ? " (refused by CEL)" : ""));
  }

  /** spec.name copied from another tenant's object (its CSRs are named after it). */
  private void copyName(AliyunCsr r, List<AliyunCsr> others) {
    if (others.isEmpty()) {
      return;
    }
    AliyunCsr victim = w.pick(others);
    String name =
        victim.getSpec().getName() != null
            ? victim.getSpec().getName()
            : victim.getMetadata().getNamespace() + "-" + victim.getMetadata().getName();
    AliyunCsr written =
        w.edited(InMemoryKube.key(r), n -> ((ObjectNode) n.get("spec")).put("name", name));
    w.count("attackSpecName");
    w.note(
        "tenant sets "
            + InMemoryKube.key(r)
            + " spec.name "
            + name
            + " (copied from "
            + InMemoryKube.key(victim)
            + ")"
            + (written == null ? " (refused by CEL)" : ""));
  }

  /**
   * spec.csrId of another tenant's CsrId (its status or annotations show it; CsrIds are also easy
   * to guess) or of its own, sometimes with that CSR (public) copied into its own Secret, so that
   * the public keys match; or spec.csrId removed.
   */
  private void adopt(AliyunCsr r, List<AliyunCsr> others) {
    List<Long> targets = new ArrayList<>();
    for (AliyunCsr o : w.kube.all()) {
      if (o.getStatus() != null && o.getStatus().getCsrId() != null) {
        targets.add(o.getStatus().getCsrId());
      }
      if (o.getSpec() != null && o.getSpec().getCsrId() != null) {
        targets.add(o.getSpec().getCsrId());
      }
    }
    for (SimCas.Stored s : w.cas.live.values()) {
      if (s.owner != null || w.planted.contains(s.id)) {
        targets.add(s.id);
      }
    }
    // Most telling: a CSR in CAS that no status records now (its resource went under Orphan, or
    // lost its status), in the store of the account this tenant's object uses.
    List<Long> unrecorded = new ArrayList<>();
    String store =
        w.accounts.exists(r.getSpec().accountName())
            ? w.accounts.store(r.getSpec().accountName())
            : SimWorld.DEFAULT_STORE;
    for (SimCas.Stored s : w.cas.live.values()) {
      boolean recorded =
          w.kube.all().stream()
              .anyMatch(
                  o -> o.getStatus() != null && SimWorld.recordedIds(o.getStatus()).contains(s.id));
      if (s.owner != null && !recorded && s.store.equals(store)) {
        unrecorded.add(s.id);
      }
    }
    if (!unrecorded.isEmpty() && w.random.nextInt(100) < 50) {
      targets = unrecorded;
    }
    if (targets.isEmpty() || w.random.nextInt(100) < 10) {
      AliyunCsr written =
          w.edited(InMemoryKube.key(r), n -> ((ObjectNode) n.get("spec")).remove("csrId"));
      w.note(
          "tenant drops spec.csrId of "
              + InMemoryKube.key(r)
              + (written == null ? " (refused by CEL)" : ""));
      return;
    }
    long target = w.pick(targets);
    AliyunCsr written =
        w.edited(InMemoryKube.key(r), n -> ((ObjectNode) n.get("spec")).put("csrId", target));
    w.count("attackAdopt");
    SimCas.Stored stored = w.anyStored(target);
    String whose = stored == null ? "?" : stored.ownerKey == null ? "planted" : stored.ownerKey;
    w.note(
        "tenant sets "
            + InMemoryKube.key(r)
            + " spec.csrId "
            + target
            + " ("
            + whose
            + ")"
            + (written == null ? " (refused by CEL)" : ""));
    if (written != null && stored != null && w.random.nextInt(100) < 60) {
      copyIntoSecret(r, entryOf(stored.csrSha256));
    }
  }

  /** The upload-intent, csr-id and request-id annotations of another tenant's object. */
  private void copyAnnotations(AliyunCsr r, List<AliyunCsr> others) {
    if (others.isEmpty()) {
      return;
    }
    AliyunCsr victim = w.pick(others);
    Map<String, String> copied = mirrorAnnotations(victim);
    if (copied.isEmpty()) {
      return;
    }
    w.edited(InMemoryKube.key(r), n -> copied.forEach((k, v) -> SimWorld.annotations(n).put(k, v)));
    w.count("attackAnnotations");
    w.note(
        "tenant copies the annotations "
            + copied.keySet()
            + " of "
            + InMemoryKube.key(victim)
            + " onto "
            + InMemoryKube.key(r));
  }

  private static Map<String, String> mirrorAnnotations(AliyunCsr victim) {
    Map<String, String> copied = new LinkedHashMap<>();
    Map<String, String> theirs = victim.getMetadata().getAnnotations();
    if (theirs != null) {
      for (String k :
          List.of(CasAnnotations.UPLOAD_INTENT, CasAnnotations.CSR_ID, CasAnnotations.REQUEST_ID)) {
        if (theirs.containsKey(k)) {
          copied.put(k, theirs.get(k));
        }
      }
    }
    return copied;
  }

  /** The operator's finalizer added by hand, or taken off (without deleting). */
  private void finalizerByHand(AliyunCsr r) {
    boolean has = r.hasFinalizer(CasAnnotations.FINALIZER);
    w.edited(
        InMemoryKube.key(r),
        n -> {
          ObjectNode meta = (ObjectNode) n.get("metadata");
          if (has) {
            meta.remove("finalizers");
          } else {
            ArrayNode list = meta.putArray("finalizers");
            list.add(CasAnnotations.FINALIZER);
          }
        });
    w.count("attackFinalizer");
    w.note(
        "tenant "
            + (has ? "removes the finalizer of " : "adds the finalizer to ")
            + InMemoryKube.key(r));
  }

  /** Another tenant's public CSR (never its key) copied into this tenant's own Secret. */
  private void copyPublicCsr(AliyunCsr r, List<AliyunCsr> others) {
    List<Integer> entries = new ArrayList<>();
    for (AliyunCsr o : others) {
      int e = w.currentEntry(o);
      if (e >= 0) {
        entries.add(e);
      }
    }
    for (SimCas.Stored s : w.cas.live.values()) {
      if (s.ownerKey != null && !s.ownerKey.startsWith(r.getMetadata().getNamespace() + "/")) {
        entries.add(entryOf(s.csrSha256));
      }
    }
    if (entries.isEmpty()) {
      return;
    }
    copyIntoSecret(r, w.pick(entries));
  }

  private void copyIntoSecret(AliyunCsr r, int entry) {
    String secret = r.getMetadata().getNamespace() + "/" + r.getSpec().getCsrSecretRef().getName();
    SimWorld.SecretContent before = w.secrets.get(secret);
    int ownKey = before == null ? -1 : before.key();
    // The tenant holds no key of another tenant's CSR: its own key stays, or none.
    int key = w.random.nextBoolean() ? ownKey : -1;
    w.putSecret(secret, new SimWorld.SecretContent(entry, key));
    w.count("attackCopyCsr");
    w.note(
        "tenant copies public CSR "
            + entry
            + " into "
            + secret
            + (key < 0 ? " (no key)" : " (its own key stays)"));
  }

  /**
   * A Velero-style restore: the object goes at once (the cluster is lost, or a user strips the
   * finalizer and deletes), and a copy from a backup comes back later with a new UID and no status:
   * with the original's finalizer and annotations, one of them, or neither.
   */
  private void startRestore(AliyunCsr r) {
    if (r.isMarkedForDeletion()) {
      return;
    }
    String key = InMemoryKube.key(r);
    AliyunCsr backup =
        InMemoryKube.read(
            Serialization.jsonMapper()
                .valueToTree(
                    w.kube
                        .get(r.getMetadata().getNamespace(), r.getMetadata().getName())
                        .orElseThrow()));
    int roll = w.random.nextInt(100);
    String traces =
        roll < 60
            ? "annotations+finalizer"
            : roll < 75 ? "finalizer" : roll < 85 ? "annotations" : "no traces";
    int logIndex = w.kube.log().size();
    w.kube.vanish(key);
    w.restoreExpect.remove(r.getMetadata().getUid());
    w.pendingRestores.add(
        new SimWorld.PendingRestore(
            backup,
            traces,
            logIndex + 1,
            w.now.plusSeconds(5 + w.random.nextInt(60)),
            r.getMetadata().getUid()));
    w.count("attackRestore");
    w.note(
        "tenant's backup: " + key + " (" + r.getMetadata().getUid() + ") is gone, to be restored");
  }

  /** A burst of reconcile requests. */
  private void spam(AliyunCsr r) {
    int n = 2 + w.random.nextInt(3);
    for (int i = 0; i < n; i++) {
      w.kube
          .get(r.getMetadata().getNamespace(), r.getMetadata().getName())
          .ifPresent(w::requestReconcile);
    }
    w.count("attackSpam");
  }

  /**
   * A new object made from another tenant's: its account (selecting this namespace or not), its
   * spec.name, sometimes its spec.csrId, its public CSR, its finalizer and mirror annotations, as
   * if it had uploaded; then sometimes deleted at once.
   */
  private void createAttacker(String tenant, List<AliyunCsr> others) {
    String name = w.freeName(tenant);
    if (name == null) {
      return;
    }
    if (others.isEmpty()) {
      w.createResource(tenant, name, w.random.nextInt(100));
      return;
    }
    AliyunCsr victim = w.pick(others);
    AliyunCsr r = SimWorld.newResource(tenant, name);
    AliyunCsrSpec spec = new AliyunCsrSpec();
    String secret = "s-" + name;
    spec.setCsrSecretRef(new SecretKeyRef(secret, null));
    if (w.random.nextInt(100) < 30) {
      spec.setKeySecretRef(new SecretKeyRef(secret, null));
    }
    spec.setDeletionPolicy(DeletionPolicy.Delete);
    if (victim.getSpec().getAccountRef() != null) {
      spec.setAccountRef(new AccountRef(victim.getSpec().accountName()));
    } else if (w.random.nextBoolean()) {
      spec.setAccountRef(new AccountRef(w.pick(w.accounts.named)));
    }
    if (w.random.nextBoolean()) {
      spec.setName(
          victim.getSpec().getName() != null
              ? victim.getSpec().getName()
              : victim.getMetadata().getNamespace() + "-" + victim.getMetadata().getName());
    }
    if (w.random.nextInt(100) < 30) {
      Long target =
          victim.getStatus() != null && victim.getStatus().getCsrId() != null
              ? victim.getStatus().getCsrId()
              : victim.getSpec().getCsrId();
      spec.setCsrId(target);
    }
    r.setSpec(spec);
    int victimEntry = w.currentEntry(victim);
    int ownKey = w.pick(w.tenantKeys.get(tenant));
    int entry = victimEntry >= 0 && w.random.nextInt(100) < 70 ? victimEntry : 2 * ownKey;
    boolean copiedTraces = w.random.nextInt(100) < 60;
    if (copiedTraces) {
      Map<String, String> copied = mirrorAnnotations(victim);
      if (!copied.isEmpty()) {
        r.getMetadata().setAnnotations(copied);
      }
      r.getMetadata().setFinalizers(new ArrayList<>(List.of(CasAnnotations.FINALIZER)));
    }
    w.putSecret(tenant + "/" + secret, new SimWorld.SecretContent(entry, ownKey));
    AliyunCsr created = w.kube.create(r, w.now);
    w.track(created);
    w.count("attackCreate");
    w.note(
        "tenant "
            + tenant
            + " creates "
            + name
            + " after "
            + InMemoryKube.key(victim)
            + ": "
            + SimWorld.describe(spec)
            + ", CSR "
            + entry
            + (copiedTraces ? ", with its finalizer and annotations" : ""));
    if (w.random.nextInt(100) < 30) {
      w.kube.delete(InMemoryKube.key(created), w.now);
      w.note("tenant deletes " + InMemoryKube.key(created) + " at once");
    }
  }

  private static int entryOf(String sha) {
    for (int i = 0; i < SimPool.ENTRIES.size(); i++) {
      if (Objects.equals(SimPool.entry(i).csr().csrSha256(), sha)) {
        return i;
      }
    }
    throw new IllegalStateException("unknown CSR " + sha);
  }
}
