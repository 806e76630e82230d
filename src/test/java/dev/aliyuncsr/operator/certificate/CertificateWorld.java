package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.AliyunCertificateSpec;
import dev.aliyuncsr.operator.api.AliyunCertificateStatus;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.ApplicationLease;
import dev.aliyuncsr.operator.api.ApplicationRecord;
import dev.aliyuncsr.operator.api.CsrCondition;
import dev.aliyuncsr.operator.api.CsrRef;
import dev.aliyuncsr.operator.api.ValidationRecord;
import dev.aliyuncsr.operator.certificate.Observation.Account;
import dev.aliyuncsr.operator.certificate.Observation.TargetSecret;
import dev.aliyuncsr.operator.cloud.CasInstances.DomainValidation;
import dev.aliyuncsr.operator.cloud.CasInstances.InstanceDetail;
import dev.aliyuncsr.operator.cloud.CasInstances.IssuedCertificate;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.csr.PrivateKeyFacts;
import dev.aliyuncsr.operator.csr.PrivateKeyValidator;
import dev.aliyuncsr.operator.csr.Validated;
import dev.aliyuncsr.operator.testing.TestCa;
import dev.aliyuncsr.operator.testing.TestPki;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * One pass's world for the decider's table tests, built with small {@code with…} steps on top of a
 * default in which everything is in order and nothing was read from CAS yet. Keys, CSRs and
 * certificates are made once per JVM at test time.
 */
final class CertificateWorld {
  static final Instant NOW = Instant.parse("2026-12-03T08:00:00Z");
  static final String INSTANCE = "cas_dv-cn-0a1b2c3d";
  static final String NAME = "shop";
  static final String SECRET = "shop-cert";

  static final TestPki.Material MATERIAL =
      TestPki.ecCsr("secp256r1", "shop.example.com", "www.shop.example.com");
  static final CsrFacts CSR = CsrValidator.validate(MATERIAL.csrPem()).value();
  static final PrivateKeyFacts KEY = PrivateKeyValidator.validate(MATERIAL.pkcs8KeyPem()).value();
  static final TestPki.Material OTHER = TestPki.ecCsr("secp256r1", "shop.example.com");
  static final TestCa CA = TestCa.create("World");

  AliyunCertificate resource = certificate();
  Instant now = NOW;
  Optional<AliyunCsr> csr = Optional.of(readyCsr());
  Validated<CsrFacts> csrInput = Validated.valid(CSR);
  Validated<PrivateKeyFacts> key = Validated.valid(KEY);
  Account account = new Account(null, Optional.empty(), Optional.empty(), List.of("example.com"));
  Optional<AliyunCertificate> conflict = Optional.empty();
  TargetSecret secret = TargetSecret.absent();
  Optional<List<ValidationRecord>> published = Optional.empty();
  Optional<InstanceDetail> instance = Optional.empty();
  Optional<IssuedCertificate> download = Optional.empty();
  Optional<String> held = Optional.empty();
  Optional<Instant> pollDue = Optional.empty();
  boolean dnsEndpointApi = true;

  Observation observation() {
    return new Observation(
        resource,
        now,
        csr,
        csrInput,
        key,
        account,
        conflict,
        secret,
        published,
        instance,
        download,
        held,
        pollDue,
        dnsEndpointApi);
  }

  static AliyunCertificate certificate() {
    AliyunCertificate r = new AliyunCertificate();
    r.setMetadata(
        new ObjectMetaBuilder()
            .withName(NAME)
            .withNamespace("default")
            .withGeneration(1L)
            .withUid("uid-shop")
            .withResourceVersion("7")
            .build());
    AliyunCertificateSpec spec = new AliyunCertificateSpec();
    spec.setCsrRef(new CsrRef("shop"));
    spec.setInstanceId(INSTANCE);
    spec.setSecretName(SECRET);
    r.setSpec(spec);
    r.setStatus(new AliyunCertificateStatus());
    return r;
  }

  static AliyunCsr readyCsr() {
    AliyunCsr csr = new AliyunCsr();
    csr.setMetadata(
        new ObjectMetaBuilder()
            .withName("shop")
            .withNamespace("default")
            .withGeneration(2L)
            .build());
    AliyunCsrStatus status = new AliyunCsrStatus();
    status.setObservedGeneration(2L);
    status.setCsrId(42L);
    status.setCsrSha256(CSR.csrSha256());
    status.setConditions(
        new ArrayList<>(
            List.of(new CsrCondition("Ready", "True", "Uploaded", "Uploaded", 2L, "t"))));
    csr.setStatus(status);
    return csr;
  }

  CertificateWorld with(java.util.function.Consumer<CertificateWorld> change) {
    change.accept(this);
    return this;
  }

  AliyunCertificateStatus status() {
    return resource.getStatus();
  }

  CertificateWorld annotate(String key, String value) {
    if (resource.getMetadata().getAnnotations() == null) {
      resource.getMetadata().setAnnotations(new HashMap<>());
    }
    resource.getMetadata().getAnnotations().put(key, value);
    return this;
  }

  CertificateWorld application(
      String instanceId, String retry, String appliedAt, ApplicationLease lease) {
    ApplicationRecord record = new ApplicationRecord(instanceId, CSR.csrSha256(), retry, lease);
    record.setAppliedAt(appliedAt);
    status().setApplication(record);
    return this;
  }

  static ApplicationLease lease(String token, Instant expiresAt) {
    return new ApplicationLease("other-pod/1", token, expiresAt.toString());
  }

  /** The instance as GetInstanceDetail shows it. */
  CertificateWorld instance(
      String status, String csrPem, String pendingResult, List<DomainValidation> validations) {
    return instance(status, csrPem, pendingResult, validations, null, "DNS");
  }

  CertificateWorld instance(
      String status,
      String csrPem,
      String pendingResult,
      List<DomainValidation> validations,
      Long certificateId,
      String method) {
    instance =
        Optional.of(
            detail(
                INSTANCE,
                status,
                certificateId == null ? null : "issued",
                csrPem,
                method,
                pendingResult,
                validations,
                certificateId));
    return this;
  }

  /**
   * GetInstanceDetail's answer with the fields the decider reads; the rest as CAS may leave them.
   */
  static InstanceDetail detail(
      String instanceId,
      String status,
      String certificateStatus,
      String csrPem,
      String method,
      String pendingResult,
      List<DomainValidation> validations,
      Long certificateId) {
    return new InstanceDetail(
        instanceId,
        status,
        certificateStatus,
        csrPem,
        null,
        null,
        method,
        csrPem == null ? null : "upload",
        pendingResult,
        Optional.empty(),
        Optional.ofNullable(certificateId),
        certificateId == null ? null : certificateId + "-cn-hangzhou",
        validations,
        Optional.of(1L),
        Optional.of(0L),
        "req-1");
  }

  /** Our CSR as CAS may return it: the same DER, wrapped at 76 characters instead of 64. */
  static String ourCsrRewrapped() {
    String base64 =
        Base64.getMimeEncoder(76, "\n".getBytes()).encodeToString(TestPki.der(MATERIAL.csr()));
    return "-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64
        + "\n-----END CERTIFICATE REQUEST-----\n";
  }

  static List<DomainValidation> dnsValidations() {
    return List.of(
        new DomainValidation("shop.example.com", "example.com", "TXT", "_dnsauth.shop", "token-1"),
        new DomainValidation(
            "www.shop.example.com", "example.com", "TXT", "_dnsauth.www.shop", "token-2"));
  }

  /** The chain CAS returns for our CSR: leaf and intermediate. */
  static X509CertificateHolder leaf(Instant notBefore, Instant notAfter) {
    return CA.issue(MATERIAL.keyPair().getPublic(), "shop.example.com", notBefore, notAfter);
  }

  CertificateWorld downloaded(long certificateId, String pem) {
    download =
        Optional.of(
            new IssuedCertificate(
                pem, certificateId, INSTANCE, null, null, null, null, null, "req-2"));
    return this;
  }

  /** Status and Secret as they are once certificate 77 of the instance was written. */
  CertificateWorld issuedEarlier(String instanceId, Instant notAfter) {
    status().setCertificateId(77L);
    status().setCertificateInstanceId(instanceId);
    status().setSerialNumber("abc123");
    status().setNotBefore(notAfter.minus(Duration.ofDays(90)).toString());
    status().setNotAfter(notAfter.toString());
    secret = new TargetSecret(true, Optional.of(NAME), Optional.of("abc123"));
    return this;
  }
}
