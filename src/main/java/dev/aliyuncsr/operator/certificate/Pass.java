package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.ApplicationLease;
import dev.aliyuncsr.operator.api.ValidationRecord;
import dev.aliyuncsr.operator.cloud.CasInstances.InstanceDetail;
import dev.aliyuncsr.operator.cloud.CasInstances.IssuedCertificate;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.Validated;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.util.List;

/**
 * What one reconcile carries from one observe-decide-act turn to the next; nothing survives it.
 * What CAS said is kept until this reconcile changes CAS (UpdateInstance, ApplyCertificate) or the
 * object moves under it; what the cluster said until this reconcile writes it, or a write of its is
 * refused.
 */
final class Pass {
  /** The Secrets' contents, read once per reconcile; null until read. */
  boolean inputsRead;

  Validated<CsrFacts> csrInput;
  Validated<PrivateKeyFacts> key;

  /** The target Secret as read; null until read. */
  Observation.TargetSecret secret;

  /** Its resourceVersion, the fence of an update; null when it does not exist. */
  String secretVersion;

  /** The DNSEndpoint of this certificate as read; {@code dnsRead} false until read. */
  boolean dnsRead;

  GenericKubernetesResource dnsEndpoint;

  /** A DNSEndpoint of that name exists and is not this certificate's: never touched. */
  boolean dnsEndpointForeign;

  List<ValidationRecord> published;

  /** The account's clients, when the route allows calls. */
  CertificateRoute.InstanceAccess access;

  /** What CAS answered in this reconcile. */
  InstanceDetail instance;

  IssuedCertificate download;

  /** The application lease this reconcile wrote, until its result is written. */
  ApplicationLease heldLease;

  /** CAS changed: what it said before is stale. */
  void forgetCas() {
    instance = null;
    download = null;
  }

  /** Someone else wrote, perhaps on newer Secrets: read everything again. */
  void forgetCluster() {
    inputsRead = false;
    csrInput = null;
    key = null;
    secret = null;
    secretVersion = null;
    forgetDnsEndpoint();
  }

  void forgetSecret() {
    secret = null;
    secretVersion = null;
  }

  void forgetDnsEndpoint() {
    dnsRead = false;
    dnsEndpoint = null;
    dnsEndpointForeign = false;
    published = null;
  }
}
