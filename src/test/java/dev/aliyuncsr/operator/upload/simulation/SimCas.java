package dev.aliyuncsr.operator.upload.simulation;

import dev.aliyuncsr.operator.cloud.AlibabaCasClient;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasException.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * CAS as the simulation sees it: several real stores (Alibaba Cloud accounts), each reached through
 * account handles whose store can change under them (an endpoint or credentials of another
 * account), with CsrIds unique across stores as the real service's are. The store remembers who
 * uploaded each CSR (the caller is known in the simulation, never to the operator), and the network
 * fails the way the real one does: the answer lost after the CSR was stored, a 5xx after the store
 * (the soak's transparent re-send met a 503), a 5xx before it, throttling, slow answers that
 * outlive the read timeout. Reads lag behind writes: a CSR just stored is missing from ListCsr and
 * GetCsrDetail for a moment shorter than the missing window. Every call is reported to the {@link
 * Caller} as it reaches the service, so that the world records a violation at the moment of the
 * call. A person at the CAS console may delete a CSR or drop its private key ({@link
 * #consoleDelete}, {@link #consoleDropKey}): drift the operator learns of only by confirming.
 */
final class SimCas {
  /** The longest a CSR just stored stays missing from reads: well under the missing window. */
  static final Duration MAX_LAG = Duration.ofSeconds(20);

  /** One CSR in one store. */
  static final class Stored {
    final long id;
    final String store;
    final String name;
    final String pem;
    final String csrSha256;
    final String publicKeySha256;
    final String commonName;

    /** The UID of the resource whose upload stored it; null for one planted by another tool. */
    final String owner;

    /** namespace/name of that resource: whose ownership mark the name carries. */
    final String ownerKey;

    /** The account whose handle uploaded it ({@link SimAccounts#key}); null when planted. */
    final String via;

    /** When the UploadCsr that stored it started (an upload in flight at a status loss). */
    final Instant calledAt;

    /** Reads miss it before this instant (read-after-write lag). */
    final Instant visibleAt;

    boolean hasKey;

    Stored(
        long id,
        String store,
        String name,
        SimPool.Entry entry,
        String owner,
        String ownerKey,
        String via,
        Instant calledAt,
        Instant visibleAt) {
      this.id = id;
      this.store = store;
      this.name = name;
      this.pem = entry.csr().pem();
      this.csrSha256 = entry.csr().csrSha256();
      this.publicKeySha256 = entry.csr().publicKeySha256();
      this.commonName = entry.csr().commonName();
      this.owner = owner;
      this.ownerKey = ownerKey;
      this.via = via;
      this.calledAt = calledAt;
      this.visibleAt = visibleAt;
    }

    @Override
    public String toString() {
      return id + "@" + store + "(" + name + ")";
    }
  }

  /**
   * What the world knows of the caller when it calls: which resource it reconciles. Each hook may
   * record a violation in {@link #violations}.
   */
  interface Caller {
    String uid();

    /** namespace/name of the resource. */
    String key();

    /** Every call, as it reaches the service, with the account whose handle makes it. */
    void calling(String action, String account);

    /** A GetCsrDetail answered from {@code store}: {@code found} as seen then (lag included). */
    void answered(long csrId, boolean found, String store);

    /** DeleteCsr or UpdateCsr of {@code csr} ({@code keyPem} for UpdateCsr), before it acts. */
    void touching(String action, Stored csr, String keyPem);

    /** UploadCsr of {@code sha} under {@code name} through {@code account}, before it stores. */
    void uploading(String account, String name, String sha);

    /** UploadCsr stored {@code csr}. */
    default void stored(Stored csr) {}
  }

  /**
   * One account's handle: its name, and the store its endpoint and credentials reached when the
   * client was made (a switched handle is a new client; calls through the old one go on to the old
   * store).
   */
  interface Handle {
    String account();

    String store();
  }

  enum UploadFault {
    NONE,
    THROTTLED,
    LOST_AFTER_STORE,
    RESEND_503_AFTER_STORE,
    SERVER_ERROR_BEFORE_STORE
  }

  /** Every live CSR of every store, by CsrId (unique across stores). */
  final Map<Long, Stored> live = new LinkedHashMap<>();

  final Map<Long, Stored> deletedByOperator = new LinkedHashMap<>();

  /**
   * CSRs a person deleted in the CAS console: neither live nor deleted by the operator (the
   * clean-up invariants are about the operator's deletions only).
   */
  final Map<Long, Stored> deletedByConsole = new LinkedHashMap<>();

  /** CSRs whose private key a person dropped in the console (CAS then says hasPrivateKey false). */
  final Set<Long> keyDroppedByConsole = new LinkedHashSet<>();

  final List<String> violations = new ArrayList<>();
  final Map<String, Integer> calls = new LinkedHashMap<>();
  private final Random random;
  private final Supplier<Instant> now;
  private final Duration connectTimeout;
  private final Duration maxCallTime;
  boolean faults = true;
  private long nextId = 2000;

  SimCas(Random random, Supplier<Instant> now, Duration connectTimeout, Duration maxCallTime) {
    this.random = random;
    this.now = now;
    this.connectTimeout = connectTimeout;
    this.maxCallTime = maxCallTime;
  }

  /** A CSR another tool stored long ago (visible at once, no owner). */
  Stored plant(String store, String name, SimPool.Entry entry) {
    Stored s =
        new Stored(nextId++, store, name, entry, null, null, null, Instant.EPOCH, Instant.EPOCH);
    live.put(s.id, s);
    return s;
  }

  /** Whether a read made now sees {@code s}. */
  boolean visible(Stored s) {
    return !now.get().isBefore(s.visibleAt);
  }

  /** The live CSR {@code id} if it is in {@code store}. */
  Optional<Stored> in(String store, long id) {
    Stored s = live.get(id);
    return s != null && s.store.equals(store) ? Optional.of(s) : Optional.empty();
  }

  /** A person deletes {@code id} in the CAS console: no operator call, no ownership check. */
  Stored consoleDelete(long id) {
    Stored s = live.remove(id);
    if (s != null) {
      deletedByConsole.put(id, s);
    }
    return s;
  }

  /** A person drops the private key of {@code id} in the console. */
  boolean consoleDropKey(long id) {
    Stored s = live.get(id);
    if (s == null || !s.hasKey) {
      return false;
    }
    s.hasKey = false;
    keyDroppedByConsole.add(id);
    return true;
  }

  /** The client one operator process uses for one account's handle; every call is a yield point. */
  CasClient client(Scheduler scheduler, Supplier<Caller> caller, Handle handle) {
    return new CasClient() {
      @Override
      public UploadResult uploadCsr(String name, String csrPem, Optional<String> key)
          throws CasException {
        Instant start = now.get();
        scheduler.yieldNow();
        count("UploadCsr");
        Caller who = caller.get();
        who.calling("UploadCsr", handle.account());
        if (Duration.between(start, now.get()).compareTo(connectTimeout) > 0) {
          // The request never reached the service within the connect timeout.
          throw error("UploadCsr", "Timeout", 0, Kind.AMBIGUOUS);
        }
        UploadFault fault = faults ? pickUploadFault() : UploadFault.NONE;
        if (fault == UploadFault.THROTTLED) {
          throw answer("UploadCsr", "Throttling.User", 400, true);
        }
        SimPool.Entry entry = SimPool.byPem(csrPem);
        who.uploading(handle.account(), name, entry.csr().csrSha256());
        Stored stored = null;
        if (fault != UploadFault.SERVER_ERROR_BEFORE_STORE) {
          String uid = who.uid();
          stored =
              new Stored(
                  nextId++,
                  handle.store(),
                  name,
                  entry,
                  uid,
                  who.key(),
                  handle.account(),
                  start,
                  now.get().plus(lag()));
          stored.hasKey = key.isPresent();
          live.put(stored.id, stored);
          who.stored(stored);
        }
        scheduler.yieldNow(); // the answer is on its way: time passes, the caller may die
        if (Duration.between(start, now.get()).compareTo(maxCallTime) > 0) {
          throw error("UploadCsr", "Timeout", 0, Kind.AMBIGUOUS);
        }
        return switch (fault) {
          case LOST_AFTER_STORE -> throw error("UploadCsr", "TransportError", 0, Kind.AMBIGUOUS);
          // The transparent re-send of a stored request met a 503 (the soak's trace), or the
          // service failed before storing: the caller cannot tell them apart.
          case RESEND_503_AFTER_STORE, SERVER_ERROR_BEFORE_STORE ->
              throw answer("UploadCsr", "ServiceUnavailable", 503, true);
          default -> new UploadResult(stored.id, "req-" + stored.id);
        };
      }

      @Override
      public List<CsrSummary> listCsr(String keyWord) throws CasException {
        scheduler.yieldNow();
        count("ListCsr");
        caller.get().calling("ListCsr", handle.account());
        maybeFail("ListCsr");
        List<CsrSummary> out = new ArrayList<>();
        for (Stored s : readable(handle.store())) {
          // KeyWord is a substring of the name or the common name (as the emulator has it).
          if ((s.name != null && s.name.contains(keyWord))
              || (s.commonName != null && s.commonName.contains(keyWord))) {
            out.add(new CsrSummary(s.id, s.name, null, s.hasKey));
          }
        }
        return out;
      }

      @Override
      public CsrPage listCsrPage(long page, long pageSize) throws CasException {
        scheduler.yieldNow();
        count("ListCsr");
        caller.get().calling("ListCsr", handle.account());
        maybeFail("ListCsr");
        List<CsrSummary> all = new ArrayList<>();
        for (Stored s : readable(handle.store())) {
          all.add(new CsrSummary(s.id, s.name, null, s.hasKey));
        }
        int from = (int) Math.min(all.size(), (page - 1) * pageSize);
        int to = (int) Math.min(all.size(), from + pageSize);
        return new CsrPage(new ArrayList<>(all.subList(from, to)), all.size());
      }

      @Override
      public CsrDetail getCsrDetail(long csrId) throws CasException {
        scheduler.yieldNow();
        count("GetCsrDetail");
        Caller who = caller.get();
        who.calling("GetCsrDetail", handle.account());
        maybeFail("GetCsrDetail");
        Optional<Stored> s = in(handle.store(), csrId).filter(SimCas.this::visible);
        who.answered(csrId, s.isPresent(), handle.store());
        if (s.isEmpty()) {
          throw error("GetCsrDetail", "NotFound", 404, Kind.NOT_FOUND);
        }
        return new CsrDetail(s.get().id, s.get().pem, s.get().hasKey, "req-detail");
      }

      @Override
      public String updateCsr(long csrId, String privateKeyPem) throws CasException {
        scheduler.yieldNow();
        count("UpdateCsr");
        Caller who = caller.get();
        who.calling("UpdateCsr", handle.account());
        maybeFail("UpdateCsr");
        Optional<Stored> s = in(handle.store(), csrId);
        if (s.isEmpty()) {
          throw error("UpdateCsr", "NotFound", 404, Kind.NOT_FOUND);
        }
        who.touching("UpdateCsr", s.get(), privateKeyPem);
        s.get().hasKey = true;
        return "req-update";
      }

      @Override
      public String deleteCsr(long csrId) throws CasException {
        scheduler.yieldNow();
        count("DeleteCsr");
        Caller who = caller.get();
        who.calling("DeleteCsr", handle.account());
        maybeFail("DeleteCsr");
        Optional<Stored> s = in(handle.store(), csrId);
        if (s.isEmpty()) {
          throw error("DeleteCsr", "NotFound", 404, Kind.NOT_FOUND);
        }
        who.touching("DeleteCsr", s.get(), null);
        live.remove(csrId);
        deletedByOperator.put(csrId, s.get());
        return "req-delete";
      }
    };
  }

  private List<Stored> readable(String store) {
    List<Stored> out = new ArrayList<>();
    for (Stored s : live.values()) {
      if (s.store.equals(store) && visible(s)) {
        out.add(s);
      }
    }
    return out;
  }

  /** Half of the uploads are readable at once; the rest after up to {@link #MAX_LAG}. */
  private Duration lag() {
    return random.nextBoolean()
        ? Duration.ZERO
        : Duration.ofMillis(1 + random.nextInt((int) MAX_LAG.toMillis()));
  }

  private UploadFault pickUploadFault() {
    int roll = random.nextInt(100);
    if (roll < 8) {
      return UploadFault.THROTTLED;
    }
    if (roll < 16) {
      return UploadFault.LOST_AFTER_STORE;
    }
    if (roll < 24) {
      return UploadFault.RESEND_503_AFTER_STORE;
    }
    if (roll < 30) {
      return UploadFault.SERVER_ERROR_BEFORE_STORE;
    }
    return UploadFault.NONE;
  }

  private void maybeFail(String action) throws CasException {
    if (faults && random.nextInt(100) < 6) {
      throw answer(action, "ServiceUnavailable", 503, false);
    }
  }

  /** An error answer from the service, sorted by the real client's rules. */
  private static CasException answer(String action, String code, int status, boolean creates) {
    return error(action, code, status, AlibabaCasClient.kindOf(code, status, creates));
  }

  private void count(String action) {
    calls.merge(action, 1, Integer::sum);
  }

  private static CasException error(String action, String code, int status, Kind kind) {
    return new CasException(
        kind, action, code, null, action + " failed with " + code + " (HTTP " + status + ")");
  }
}
