package dev.aliyuncsr.operator.cloud;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The CAS V2.0 certificate-instance actions (API 2020-04-07, cas-instance-api.md) for applying, on
 * an instance a person bought, for a certificate with our own CSR, in the project's own types.
 * Every failure is a {@link CasException} that says what kind of failure it is; nothing else
 * escapes.
 */
public interface CasInstances {

  /**
   * GetInstanceDetail: the instance is the record of any application made on it, so it is read
   * before {@link #updateInstance} and {@link #applyCertificate}, and after either was ambiguous.
   * {@link CasException.Kind#NOT_FOUND} when the account has no such instance.
   */
  InstanceDetail getInstanceDetail(String instanceId) throws CasException;

  /**
   * UpdateInstance with {@code GenerateCsrMethod=upload}: fills the instance in with our CSR. On an
   * {@code inactive} instance this starts a new application, replacing its data and its
   * PendingResult. Returns the RequestId.
   *
   * @param domains the CSR's names, CN first; sent comma-joined as {@code Domain}, left out if
   *     empty
   * @param keyAlgorithm the CSR's {@code RSA_2048}, {@code ECC_256}, ...; left out if null
   * @param validationMethod {@code DNS} or {@code HTTP}; left out if null
   */
  String updateInstance(
      String instanceId,
      String csrPem,
      List<String> domains,
      String keyAlgorithm,
      String validationMethod)
      throws CasException;

  /**
   * ApplyCertificate. Paid and not idempotent, with no client token: after an {@link
   * CasException.Kind#AMBIGUOUS} failure only {@link #getInstanceDetail} tells whether it was
   * applied. Returns the RequestId.
   */
  String applyCertificate(String instanceId) throws CasException;

  /**
   * GetUserCertificateDetail of an issued certificate ({@link InstanceDetail#certificateId()}).
   * {@link CasException.Kind#NOT_FOUND} when the account has no such certificate.
   */
  IssuedCertificate getUserCertificateDetail(long certId) throws CasException;

  /**
   * GetInstanceDetail's answer. Fields the answer leaves out are null, empty or an empty list.
   *
   * @param instanceId as answered, else the id asked for
   * @param status {@code inactive}, {@code pending}, {@code normal}, {@code willExpire}, ...
   * @param certificateStatus {@code issued}, ... once a certificate exists, else null
   * @param csrPem the application's CSR as CAS holds it: compare it by public key, not by text
   * @param domain the application's names, comma-separated, as CAS answered them
   * @param pendingResult the CA's message about the last application (why it failed), or null
   * @param averageWaitingTime CAS's typical time to issuance: a polling hint, no promise
   * @param certificateId the issued certificate's {@code CertId}, once issued
   * @param validation the records to publish; empty unless validation is open
   * @param fullDomainCount exact names the instance allows
   * @param wildcardDomainCount wildcard names the instance allows
   */
  record InstanceDetail(
      String instanceId,
      String status,
      String certificateStatus,
      String csrPem,
      String domain,
      String keyAlgorithm,
      String validationMethod,
      String generateCsrMethod,
      String pendingResult,
      Optional<Duration> averageWaitingTime,
      Optional<Long> certificateId,
      String certIdentifier,
      List<DomainValidation> validation,
      Optional<Long> fullDomainCount,
      Optional<Long> wildcardDomainCount,
      String requestId) {

    public InstanceDetail {
      validation = List.copyOf(validation);
    }
  }

  /**
   * One item of DomainValidationList (contract §4).
   *
   * @param validationType {@code TXT}, {@code HTTP} or {@code CNAME}
   * @param validationKey the host record relative to {@code rootDomain} (or already the full name)
   *     for DNS; the URL path (or a full URL) for HTTP
   */
  record DomainValidation(
      String domain,
      String rootDomain,
      String validationType,
      String validationKey,
      String validationValue) {}

  /**
   * GetUserCertificateDetail's answer, without any private key: CAS never had ours.
   *
   * @param certPem the {@code Cert} field: the leaf first, then the intermediate(s); whether a root
   *     follows is unconfirmed, so count the blocks and verify the chain
   * @param id as answered, else the id asked for
   * @param sans comma-separated, as CAS answered them
   * @param startDate {@code YYYY-MM-DD}; read validity from the certificate itself
   */
  record IssuedCertificate(
      String certPem,
      long id,
      String instanceId,
      String commonName,
      String sans,
      String serialNo,
      String startDate,
      String endDate,
      String requestId) {}
}
