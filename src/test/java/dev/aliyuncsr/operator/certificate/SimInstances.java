package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasException.Kind;
import dev.aliyuncsr.operator.cloud.CasInstances;
import dev.aliyuncsr.operator.cloud.CasInstances.DomainValidation;
import dev.aliyuncsr.operator.testing.TestCa;
import dev.aliyuncsr.operator.testing.TestPki;
import dev.aliyuncsr.operator.upload.simulation.Scheduler;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * CAS's certificate instances as the certificate simulation sees them: the contract's state machine
 * (inactive, pending, normal), a test CA that issues for the public key of the CSR the instance
 * holds, and a network that fails the way the real one does: a 5xx or throttling before anything
 * was done, the answer lost after the instance changed, a 5xx after it changed (a re-sent request
 * met a 503), a request that did not reach CAS within the connect timeout, and an answer that
 * outlived the read timeout. Every call is a yield point before it reaches CAS and after it changed
 * the instance, so a process may die (or the clock move) in between.
 *
 * <p>The invariants on CAS's side are checked at the moment a call reaches it: no UpdateInstance on
 * an instance that holds another CSR or an application; no ApplyCertificate on an instance that
 * already holds an application; no more applications per instance and CSR than one plus the failed
 * validations a person asked to retry.
 */
final class SimInstances {
  /** One instance in CAS. */
  static final class Instance {
    final String id;
    String status = "inactive";
    String certificateStatus;
    String csrPem;
    List<String> domains = List.of();
    String method;
    String pendingResult;
    List<DomainValidation> validation = List.of();
    Long certificateId;
    String chainPem;

    Instance(String id) {
      this.id = id;
    }
  }

  enum Fault {
    NONE,
    THROTTLED,
    SERVER_ERROR_BEFORE,
    LOST_AFTER,
    SERVER_ERROR_AFTER
  }

  private final Random random;
  private final Supplier<Instant> now;
  private final Scheduler scheduler;
  private final Duration connectTimeout;
  private final Duration maxCallTime;
  private final TestCa ca;
  private final Map<String, TestPki.Material> materials;
  private long nextCertificateId = 1000;

  final Map<String, Instance> instances = new TreeMap<>();
  final Map<String, Integer> calls = new TreeMap<>();

  /** Applications CAS accepted, per instance and CSR. */
  final Map<String, Integer> applications = new TreeMap<>();

  /**
   * Validations that failed, per instance and CSR: each may be retried once, on a person's word.
   */
  final Map<String, Integer> failures = new TreeMap<>();

  /** Retry values a person set (distinct), per instance the certificate named at the time. */
  final Map<String, Integer> retries = new TreeMap<>();

  boolean faults;
  String violation;

  /** Calls between leaving a process and its answer arriving (or not). */
  int inFlight;

  final List<String> trace;

  SimInstances(
      Random random,
      Supplier<Instant> now,
      Scheduler scheduler,
      Duration connectTimeout,
      Duration maxCallTime,
      TestCa ca,
      Map<String, TestPki.Material> materials,
      List<String> trace) {
    this.random = random;
    this.now = now;
    this.scheduler = scheduler;
    this.connectTimeout = connectTimeout;
    this.maxCallTime = maxCallTime;
    this.ca = ca;
    this.materials = materials;
    this.trace = trace;
  }

  Instance buy(String id) {
    Instance instance = new Instance(id);
    instances.put(id, instance);
    return instance;
  }

  /** An instance someone filled and applied for in the console, with a CSR of their own. */
  Instance buyTaken(String id, String foreignCsrPem) {
    Instance instance = buy(id);
    instance.csrPem = foreignCsrPem;
    instance.domains = List.of("someone-else.example.com");
    instance.method = "DNS";
    instance.status = "pending";
    instance.validation = validations(instance.domains);
    return instance;
  }

  static String key(String instanceId, String csrPem) {
    return instanceId + "|" + Integer.toHexString(csrPem.strip().hashCode());
  }

  /** The CA validates the names and issues for the CSR's key, or for {@code wrongKey}. */
  void completeValidation(String id, Optional<PublicKey> wrongKey) {
    Instance i = instances.get(id);
    TestPki.Material m = materials.get(i.csrPem.strip());
    PublicKey key = wrongKey.orElse(m.keyPair().getPublic());
    Instant at = now.get();
    X509CertificateHolder leaf =
        ca.issue(key, i.domains.get(0), at.minusSeconds(60), at.plus(Duration.ofDays(90)));
    i.chainPem = TestCa.pem(leaf, ca.intermediate());
    i.status = "normal";
    i.certificateStatus = "issued";
    i.certificateId = nextCertificateId++;
    i.validation = List.of();
  }

  void failValidation(String id) {
    Instance i = instances.get(id);
    i.status = "inactive";
    i.pendingResult = "DNS record not found";
    i.validation = List.of();
    failures.merge(key(id, i.csrPem), 1, Integer::sum);
  }

  /** The client one operator process uses; every call is a yield point. */
  CasInstances client(String process) {
    return new CasInstances() {
      @Override
      public InstanceDetail getInstanceDetail(String id) throws CasException {
        Instant start = now.get();
        Fault fault = reach("GetInstanceDetail", start, true);
        Instance i = find("GetInstanceDetail", id);
        InstanceDetail detail =
            new InstanceDetail(
                i.id,
                i.status,
                i.certificateStatus,
                i.csrPem,
                String.join(",", i.domains),
                null,
                i.method,
                i.csrPem == null ? null : "upload",
                i.pendingResult,
                Optional.of(Duration.ofSeconds(300)),
                Optional.ofNullable(i.certificateId),
                null,
                i.validation,
                Optional.of(1L),
                Optional.of(0L),
                "req");
        answer("GetInstanceDetail", start, fault);
        return detail;
      }

      @Override
      public String updateInstance(
          String id, String csr, List<String> names, String keyAlgorithm, String method)
          throws CasException {
        Instant start = now.get();
        Fault fault = reach("UpdateInstance", start, false);
        Instance i = find("UpdateInstance", id);
        trace.add("  CAS UpdateInstance " + id + " by " + process + " (instance " + i.status + ")");
        if (i.csrPem != null && !i.csrPem.strip().equals(csr.strip())) {
          violate("UpdateInstance on " + id + " which holds another CSR (" + process + ")");
        } else if (!i.status.equals("inactive")) {
          // Even this very CSR's application (CAS would refuse it): the fill is made under the
          // application lease, so no process fills beside an application it did not see.
          violate("UpdateInstance on " + id + " which holds an application (" + process + ")");
        } else if (i.pendingResult != null) {
          calls.merge("UpdateInstance:refillAfterFailure", 1, Integer::sum);
        }
        refuseUnlessInactive("UpdateInstance", i);
        i.csrPem = csr;
        i.domains = List.copyOf(names);
        i.method = method;
        i.pendingResult = null;
        answer("UpdateInstance", start, fault);
        return "req";
      }

      @Override
      public String applyCertificate(String id) throws CasException {
        Instant start = now.get();
        Fault fault = reach("ApplyCertificate", start, false);
        Instance i = find("ApplyCertificate", id);
        trace.add(
            "  CAS ApplyCertificate " + id + " by " + process + " (instance " + i.status + ")");
        if (!i.status.equals("inactive")) {
          violate(
              "a second ApplyCertificate on "
                  + id
                  + " while it is "
                  + i.status
                  + " ("
                  + process
                  + ")");
        }
        refuseUnlessInactive("ApplyCertificate", i);
        if (i.csrPem == null) {
          throw new CasException(
              Kind.TERMINAL,
              "ApplyCertificate",
              "OperationDenied.ApplicationIncomplete",
              null,
              "not filled in");
        }
        String k = key(id, i.csrPem);
        int applied = applications.merge(k, 1, Integer::sum);
        int allowed = 1 + Math.min(failures.getOrDefault(k, 0), retries.getOrDefault(id, 0));
        if (applied > allowed) {
          violate(
              "ApplyCertificate #"
                  + applied
                  + " on "
                  + id
                  + " for one CSR, "
                  + allowed
                  + " allowed ("
                  + process
                  + ")");
        }
        i.status = "pending";
        i.pendingResult = null;
        i.validation = validations(i.domains);
        answer("ApplyCertificate", start, fault);
        return "req";
      }

      @Override
      public IssuedCertificate getUserCertificateDetail(long certId) throws CasException {
        Instant start = now.get();
        Fault fault = reach("GetUserCertificateDetail", start, true);
        Instance found =
            instances.values().stream()
                .filter(i -> i.certificateId != null && i.certificateId == certId)
                .findFirst()
                .orElse(null);
        if (found == null) {
          throw new CasException(
              Kind.NOT_FOUND, "GetUserCertificateDetail", "NotFound", null, "no " + certId);
        }
        IssuedCertificate issued =
            new IssuedCertificate(
                found.chainPem,
                certId,
                found.id,
                found.domains.get(0),
                null,
                null,
                null,
                null,
                "r");
        answer("GetUserCertificateDetail", start, fault);
        return issued;
      }
    };
  }

  /** The request on its way: it may die, be late, or be refused before CAS does anything. */
  private Fault reach(String action, Instant start, boolean read) throws CasException {
    inFlight++;
    try {
      scheduler.yieldNow();
    } finally {
      inFlight--;
    }
    calls.merge(action, 1, Integer::sum);
    if (Duration.between(start, now.get()).compareTo(connectTimeout) > 0) {
      // It never reached the service within the connect timeout.
      throw new CasException(Kind.AMBIGUOUS, action, "Timeout", null, "connect timeout");
    }
    Fault fault = faults ? pick() : Fault.NONE;
    if (read && fault != Fault.NONE) {
      // Reads fail less often, and before anything as after it: a read changes nothing.
      fault = random.nextBoolean() ? Fault.NONE : Fault.SERVER_ERROR_BEFORE;
    }
    if (fault == Fault.THROTTLED) {
      calls.merge(action + ":throttled", 1, Integer::sum);
      throw new CasException(Kind.RETRYABLE, action, "Throttling.User", null, "throttled");
    }
    if (fault == Fault.SERVER_ERROR_BEFORE) {
      calls.merge(action + ":5xx", 1, Integer::sum);
      throw new CasException(
          Kind.RETRYABLE, action, "ServiceUnavailable", null, "503 before anything was done");
    }
    return fault;
  }

  /** The answer on its way back: time passes, the caller may die, the answer may be lost. */
  private void answer(String action, Instant start, Fault fault) throws CasException {
    inFlight++;
    try {
      scheduler.yieldNow();
    } finally {
      inFlight--;
    }
    if (Duration.between(start, now.get()).compareTo(maxCallTime) > 0) {
      calls.merge(action + ":late", 1, Integer::sum);
      throw new CasException(Kind.AMBIGUOUS, action, "Timeout", null, "read timeout");
    }
    if (fault == Fault.LOST_AFTER) {
      calls.merge(action + ":lost", 1, Integer::sum);
      throw new CasException(Kind.AMBIGUOUS, action, "TransportError", null, "answer lost");
    }
    if (fault == Fault.SERVER_ERROR_AFTER) {
      // The SDK's re-send of a request that was carried out met a 503: it looks like a refusal.
      calls.merge(action + ":5xxAfter", 1, Integer::sum);
      throw new CasException(
          Kind.RETRYABLE, action, "ServiceUnavailable", null, "503 after it was done");
    }
  }

  private Fault pick() {
    int r = random.nextInt(100);
    if (r < 6) {
      return Fault.THROTTLED;
    }
    if (r < 12) {
      return Fault.SERVER_ERROR_BEFORE;
    }
    if (r < 20) {
      return Fault.LOST_AFTER;
    }
    if (r < 26) {
      return Fault.SERVER_ERROR_AFTER;
    }
    return Fault.NONE;
  }

  private Instance find(String action, String id) throws CasException {
    Instance i = instances.get(id);
    if (i == null) {
      throw new CasException(Kind.NOT_FOUND, action, "NotFound", null, "no instance " + id);
    }
    return i;
  }

  private static void refuseUnlessInactive(String action, Instance i) throws CasException {
    if (!i.status.equals("inactive")) {
      throw new CasException(
          Kind.TERMINAL,
          action,
          "OperationDenied.InstanceStatus",
          null,
          "the instance is " + i.status);
    }
  }

  private static List<DomainValidation> validations(List<String> domains) {
    List<DomainValidation> out = new ArrayList<>();
    for (String d : domains) {
      out.add(new DomainValidation(d, "example.com", "TXT", "_dnsauth." + d, "token-" + d));
    }
    return out;
  }

  private void violate(String what) {
    if (violation == null) {
      violation = what;
    }
    trace.add("  VIOLATION " + what);
  }
}
