package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.csr.CertificateChecks;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Gathers one {@link Observation}: the certificate (as given), its AliyunCsr (from the cache), the
 * CSR and key Secrets, the target Secret and the DNSEndpoint (GETs, once per reconcile until this
 * reconcile writes them), the account's route, the earliest other certificate naming the instance,
 * when the next poll is due, and what CAS said in this reconcile. It calls nothing in CAS and
 * writes nothing: the decider decides every call.
 */
final class CertificateObserver {
  private final CertificateKube kube;
  private final CertificateInputs inputs;
  private final CertificatePeers peers;
  private final CertificateRoute routes;
  private final PollHolds holds;
  private final Clock clock;
  private final BooleanSupplier dnsEndpointApi;

  CertificateObserver(
      CertificateKube kube,
      CertificatePeers peers,
      CertificateRoute routes,
      PollHolds holds,
      Clock clock,
      BooleanSupplier dnsEndpointApi) {
    this.kube = kube;
    this.inputs = new CertificateInputs(kube);
    this.peers = peers;
    this.routes = routes;
    this.holds = holds;
    this.clock = clock;
    this.dnsEndpointApi = dnsEndpointApi;
  }

  Observation observe(AliyunCertificate r, Pass pass) {
    Instant now = clock.instant();
    String namespace = r.getMetadata().getNamespace();
    var spec = r.getSpec();
    Optional<AliyunCsr> csr =
        spec == null || spec.getCsrRef() == null
            ? Optional.empty()
            : peers.csr(namespace, spec.getCsrRef().getName());

    // 1. The Secrets the CSR and tls.key come from, once per reconcile.
    if (csr.isPresent() && !pass.inputsRead) {
      pass.csrInput = inputs.csr(csr.get());
      pass.key = inputs.key(r, csr.get());
      pass.inputsRead = true;
    }

    // 2. The account: its clients for this reconcile, and what it allows.
    Observation.Account account =
        new Observation.Account(null, Optional.empty(), Optional.empty(), List.of());
    Optional<AliyunCertificate> conflict = Optional.empty();
    pass.access = null;
    if (csr.isPresent() && spec != null) {
      String accountName = CertificatePeers.accountOf(csr.get());
      CertificateRoute.Route route = routes.route(namespace, accountName);
      pass.access = route.access().orElse(null);
      account =
          new Observation.Account(
              accountName, route.refusal(), route.instanceIds(), route.dnsZones());
      if (spec.getInstanceId() != null) {
        conflict = peers.earlierNaming(r, spec.getInstanceId(), accountName);
      }
    }

    // 3. The target Secret and the DNSEndpoint, until this reconcile writes them.
    if (spec != null && spec.getSecretName() != null && pass.secret == null) {
      readSecret(namespace, spec.getSecretName(), pass);
    }
    boolean api = dnsEndpointApi.getAsBoolean();
    if (api && !pass.dnsRead) {
      readDnsEndpoint(r, pass);
    }
    return new Observation(
        r,
        now,
        csr,
        csr.isPresent() ? pass.csrInput : null,
        csr.isPresent() ? pass.key : null,
        account,
        conflict,
        pass.secret == null ? Observation.TargetSecret.absent() : pass.secret,
        Optional.ofNullable(pass.published),
        Optional.ofNullable(pass.instance),
        Optional.ofNullable(pass.download),
        Optional.ofNullable(pass.heldLease).map(l -> l.getToken()),
        holds.due(r),
        api);
  }

  private void readSecret(String namespace, String name, Pass pass) {
    Optional<Secret> secret = kube.secret(namespace, name);
    if (secret.isEmpty()) {
      pass.secret = Observation.TargetSecret.absent();
      pass.secretVersion = null;
      return;
    }
    Map<String, String> annotations = secret.get().getMetadata().getAnnotations();
    Optional<String> owner =
        Optional.ofNullable(
            annotations == null ? null : annotations.get(CertificateAnnotations.SECRET_OWNER));
    Map<String, String> data = secret.get().getData();
    Optional<String> serial = Optional.empty();
    if (data != null && data.get("tls.crt") != null) {
      try {
        serial =
            CertificateChecks.leafSerialNumber(
                new String(
                    Base64.getDecoder().decode(data.get("tls.crt")), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        serial = Optional.empty();
      }
    }
    pass.secret = new Observation.TargetSecret(true, owner, serial);
    pass.secretVersion = secret.get().getMetadata().getResourceVersion();
  }

  private void readDnsEndpoint(AliyunCertificate r, Pass pass) {
    Optional<GenericKubernetesResource> endpoint =
        kube.dnsEndpoint(
            r.getMetadata().getNamespace(), DnsEndpoints.nameFor(r.getMetadata().getName()));
    pass.dnsRead = true;
    pass.dnsEndpoint = null;
    pass.dnsEndpointForeign = false;
    pass.published = null;
    if (endpoint.isEmpty()) {
      return;
    }
    if (!DnsEndpoints.ownedBy(endpoint.get(), r)) {
      // Someone else's: it is not this certificate's to publish in, nor to remove.
      pass.dnsEndpointForeign = true;
      return;
    }
    pass.dnsEndpoint = endpoint.get();
    pass.published = DnsEndpoints.records(endpoint.get());
  }
}
