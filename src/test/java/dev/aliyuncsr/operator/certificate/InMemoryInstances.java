package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasInstances;
import dev.aliyuncsr.operator.testing.TestCa;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * One certificate instance of CAS in memory, with the contract's state machine (inactive, pending,
 * normal), the calls made on it in order, and switches for what can go wrong with ApplyCertificate:
 * its answer lost after it applied, or a refusal before it did.
 */
final class InMemoryInstances implements CasInstances {
  enum ApplyAnswer {
    OK,
    /** Applied, but the answer never came back (a timeout, a 5xx after the fact). */
    LOST_AFTER_APPLYING,
    /** Refused before anything was done. */
    THROTTLED
  }

  final String instanceId;
  final List<String> calls = new ArrayList<>();
  ApplyAnswer applyAnswer = ApplyAnswer.OK;

  /** When set, UpdateInstance is refused with this (as CAS refuses names the instance lacks). */
  CasException updateRefusal;

  int applications;

  private String status = "inactive";
  private String certificateStatus;
  private String csrPem;
  private List<String> domains = List.of();
  private String method;
  private String pendingResult;
  private List<DomainValidation> validation = List.of();
  private Long certificateId;
  private String chainPem;

  InMemoryInstances(String instanceId) {
    this.instanceId = instanceId;
  }

  int calls(String action) {
    return (int) calls.stream().filter(action::equals).count();
  }

  @Override
  public synchronized InstanceDetail getInstanceDetail(String id) throws CasException {
    calls.add("GetInstanceDetail");
    requireOurs("GetInstanceDetail", id);
    return new InstanceDetail(
        instanceId,
        status,
        certificateStatus,
        csrPem,
        String.join(",", domains),
        null,
        method,
        csrPem == null ? null : "upload",
        pendingResult,
        Optional.of(Duration.ofSeconds(300)),
        Optional.ofNullable(certificateId),
        null,
        validation,
        Optional.of(1L),
        Optional.of(0L),
        "request");
  }

  @Override
  public synchronized String updateInstance(
      String id, String csr, List<String> names, String keyAlgorithm, String validationMethod)
      throws CasException {
    calls.add("UpdateInstance");
    requireOurs("UpdateInstance", id);
    if (updateRefusal != null) {
      throw updateRefusal;
    }
    requireInactive("UpdateInstance");
    csrPem = csr;
    domains = List.copyOf(names);
    method = validationMethod;
    pendingResult = null;
    return "request";
  }

  @Override
  public synchronized String applyCertificate(String id) throws CasException {
    calls.add("ApplyCertificate");
    requireOurs("ApplyCertificate", id);
    if (applyAnswer == ApplyAnswer.THROTTLED) {
      throw new CasException(
          CasException.Kind.RETRYABLE, "ApplyCertificate", "Throttling.User", null, "throttled");
    }
    requireInactive("ApplyCertificate");
    applications++;
    status = "pending";
    validation =
        domains.stream()
            .map(d -> new DomainValidation(d, "example.com", "TXT", "_dnsauth." + d, "token-" + d))
            .toList();
    if (applyAnswer == ApplyAnswer.LOST_AFTER_APPLYING) {
      throw new CasException(
          CasException.Kind.AMBIGUOUS, "ApplyCertificate", "Timeout", null, "no answer");
    }
    return "request";
  }

  @Override
  public synchronized IssuedCertificate getUserCertificateDetail(long certId) throws CasException {
    calls.add("GetUserCertificateDetail");
    if (certificateId == null || certId != certificateId) {
      throw new CasException(
          CasException.Kind.NOT_FOUND, "GetUserCertificateDetail", "NotFound", null, "none");
    }
    return new IssuedCertificate(
        chainPem, certId, instanceId, domains.get(0), null, null, null, null, "request");
  }

  /** The CA validates and issues for the world's key, a leaf and its intermediate. */
  synchronized void completeValidation(TestCa ca, Instant now) {
    X509CertificateHolder leaf =
        ca.issue(
            CertificateWorld.MATERIAL.keyPair().getPublic(),
            domains.get(0),
            now.minusSeconds(60),
            now.plus(Duration.ofDays(90)));
    chainPem = TestCa.pem(leaf, ca.intermediate());
    status = "normal";
    certificateStatus = "issued";
    certificateId = 77L;
    validation = List.of();
  }

  synchronized void failValidation(String message) {
    status = "inactive";
    pendingResult = message;
    validation = List.of();
  }

  private void requireOurs(String action, String id) throws CasException {
    if (!instanceId.equals(id)) {
      throw new CasException(CasException.Kind.NOT_FOUND, action, "NotFound", null, id);
    }
  }

  private void requireInactive(String action) throws CasException {
    if (!status.equals("inactive")) {
      throw new CasException(
          CasException.Kind.TERMINAL,
          action,
          "OperationDenied.InstanceStatus",
          null,
          "the instance is " + status);
    }
  }
}
