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
 * CAS as the simulation sees it: a store of CSRs that remembers which resource uploaded each (the
 * caller is known in the simulation, never to the operator), and a network that fails the way the
 * real one does: the answer lost after the CSR was stored, a 5xx after the store (the soak's
 * transparent re-send met a 503), a 5xx before it, throttling, slow answers that outlive the read
 * timeout. Calls that violate invariant 2 or 4 are recorded as they happen. A person at the CAS
 * console may delete a CSR or drop its private key ({@link #consoleDelete}, {@link
 * #consoleDropKey}): drift the operator learns of only by confirming.
 */
final class SimCas {
  /** One CSR in CAS. {@code owner} is the UID of the resource whose upload stored it. */
  static final class Stored {
    final long id;
    final String name;
    final String pem;
    final String csrSha256;
    final String publicKeySha256;
    final String owner;
    boolean hasKey;

    Stored(
        long id, String name, String pem, String csrSha256, String publicKeySha256, String owner) {
      this.id = id;
      this.name = name;
      this.pem = pem;
      this.csrSha256 = csrSha256;
      this.publicKeySha256 = publicKeySha256;
      this.owner = owner;
    }
  }

  /** What the world knows of the caller when it calls: which resource it reconciles. */
  interface Caller {
    String uid();

    /** spec.csrId of that resource, and whether the call may touch {@code csr} as adopted. */
    boolean mayTouchAsAdopted(Stored csr);

    boolean isAdopting();

    /** The caller's upload name, and whether the resource that uploaded {@code csr} is gone. */
    boolean mayInherit(Stored csr);

    /** Every call, as it reaches the service (before any fault): the pause invariant's hook. */
    default void calling(String action) {}

    /** A GetCsrDetail answered (found or NOT_FOUND): the confirmation bookkeeping's hook. */
    default void answered(long csrId) {}
  }

  enum UploadFault {
    NONE,
    THROTTLED,
    LOST_AFTER_STORE,
    RESEND_503_AFTER_STORE,
    SERVER_ERROR_BEFORE_STORE
  }

  final Map<Long, Stored> live = new LinkedHashMap<>();
  final Map<Long, Stored> deletedByOperator = new LinkedHashMap<>();

  /**
   * CSRs a person deleted in the CAS console: neither live nor deleted by the operator (invariants
   * 4 and 5 are about the operator's deletions only).
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
  private final Map<String, String> pemsBySha;
  boolean faults = true;
  private long nextId = 2000;

  SimCas(
      Random random,
      Supplier<Instant> now,
      Duration connectTimeout,
      Duration maxCallTime,
      Map<String, String> pemsBySha) {
    this.random = random;
    this.now = now;
    this.connectTimeout = connectTimeout;
    this.maxCallTime = maxCallTime;
    this.pemsBySha = pemsBySha;
  }

  Stored plant(String name, String pem, String csrSha256, String publicKeySha256) {
    Stored s = new Stored(nextId++, name, pem, csrSha256, publicKeySha256, null);
    live.put(s.id, s);
    return s;
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

  /** The client one operator process uses; every call is a yield point. */
  CasClient client(Scheduler scheduler, Supplier<Caller> caller) {
    return new CasClient() {
      @Override
      public UploadResult uploadCsr(String name, String csrPem, Optional<String> key)
          throws CasException {
        Instant start = now.get();
        scheduler.yieldNow();
        count("UploadCsr");
        Caller who = caller.get();
        who.calling("UploadCsr");
        if (Duration.between(start, now.get()).compareTo(connectTimeout) > 0) {
          // The request never reached the service within the connect timeout.
          throw error("UploadCsr", "Timeout", 0, Kind.AMBIGUOUS);
        }
        UploadFault fault = faults ? pickUploadFault() : UploadFault.NONE;
        if (fault == UploadFault.THROTTLED) {
          throw answer("UploadCsr", "Throttling.User", 400, true);
        }
        if (who.isAdopting()) {
          violations.add("invariant 4: UploadCsr for adopting resource " + who.uid());
        }
        Stored stored = null;
        if (fault != UploadFault.SERVER_ERROR_BEFORE_STORE) {
          String sha = shaOf(csrPem);
          stored = new Stored(nextId++, name, csrPem, sha, null, who.uid());
          stored.hasKey = key.isPresent();
          live.put(stored.id, stored);
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
        caller.get().calling("ListCsr");
        maybeFail("ListCsr");
        List<CsrSummary> out = new ArrayList<>();
        for (Stored s : live.values()) {
          // KeyWord matching is unconfirmed: the emulator and this world match substrings.
          if (s.name != null && s.name.contains(keyWord)) {
            out.add(new CsrSummary(s.id, s.name, null, s.hasKey));
          }
        }
        return out;
      }

      @Override
      public CsrPage listCsrPage(long page, long pageSize) throws CasException {
        scheduler.yieldNow();
        count("ListCsr");
        caller.get().calling("ListCsr");
        maybeFail("ListCsr");
        List<CsrSummary> all = new ArrayList<>();
        for (Stored s : live.values()) {
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
        who.calling("GetCsrDetail");
        maybeFail("GetCsrDetail");
        who.answered(csrId);
        Stored s = live.get(csrId);
        if (s == null) {
          throw error("GetCsrDetail", "NotFound", 404, Kind.NOT_FOUND);
        }
        return new CsrDetail(s.id, s.pem, s.hasKey, "req-detail");
      }

      @Override
      public String updateCsr(long csrId, String privateKeyPem) throws CasException {
        scheduler.yieldNow();
        count("UpdateCsr");
        caller.get().calling("UpdateCsr");
        maybeFail("UpdateCsr");
        Stored s = live.get(csrId);
        if (s == null) {
          throw error("UpdateCsr", "NotFound", 404, Kind.NOT_FOUND);
        }
        checkOwnership("UpdateCsr", s, caller.get());
        s.hasKey = true;
        return "req-update";
      }

      @Override
      public String deleteCsr(long csrId) throws CasException {
        scheduler.yieldNow();
        count("DeleteCsr");
        caller.get().calling("DeleteCsr");
        maybeFail("DeleteCsr");
        Stored s = live.get(csrId);
        if (s == null) {
          throw error("DeleteCsr", "NotFound", 404, Kind.NOT_FOUND);
        }
        checkOwnership("DeleteCsr", s, caller.get());
        live.remove(csrId);
        deletedByOperator.put(csrId, s);
        return "req-delete";
      }
    };
  }

  private void checkOwnership(String action, Stored s, Caller who) {
    boolean own = who.uid().equals(s.owner) || who.mayTouchAsAdopted(s) || who.mayInherit(s);
    if (!own) {
      violations.add(
          "invariant 2: "
              + action
              + " "
              + s.id
              + " by resource "
              + who.uid()
              + " (the CSR is "
              + (s.owner == null ? "foreign" : "resource " + s.owner + "'s")
              + ")");
    }
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

  private String shaOf(String pem) {
    for (var e : pemsBySha.entrySet()) {
      if (e.getValue().equals(pem)) {
        return e.getKey();
      }
    }
    throw new IllegalStateException("unknown CSR uploaded");
  }

  /** The connect timeout bounds how late a request can reach the service after the call starts. */
  Duration connectTimeout() {
    return connectTimeout;
  }

  private static CasException error(String action, String code, int status, Kind kind) {
    return new CasException(
        kind, action, code, null, action + " failed with " + code + " (HTTP " + status + ")");
  }
}
