package dev.aliyuncsr.operator.emulator;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The CAS V2.0 certificate-instance actions (cas-instance-api.md §3), on behalf of one account:
 * UpdateInstance, ApplyCertificate, GetInstanceDetail, ListInstances, CancelPendingCertificate, and
 * the download GetUserCertificateDetail. Each returns the response fields except RequestId, or
 * throws a {@link CasError}. Everything the request alone decides (missing and malformed
 * parameters, the CSR, its key, the names) is checked before the instance is looked up; then
 * NotFound, then the state, then what the instance was bought for. A refused call changes nothing.
 */
final class InstanceActions {
  static final Set<String> NAMES =
      Set.of(
          "UpdateInstance",
          "ApplyCertificate",
          "GetInstanceDetail",
          "ListInstances",
          "CancelPendingCertificate",
          "GetUserCertificateDetail");

  /** What was bought: the emulator sells one kind, a DigiCert DV instance. */
  static final String INSTANCE_TYPE = "BUY";

  static final String BRAND = "DigiCert";
  static final String CERTIFICATE_TYPE = "DV";

  private static final Set<String> STATUSES =
      Set.of("inactive", "pending", "normal", "willExpire", "expired", "refund", "closed");
  private static final Set<String> CERTIFICATE_STATUSES =
      Set.of("issued", "revoked", "willExpire", "expired");
  private static final int DEFAULT_SHOW_SIZE = 10;
  private static final int MAX_SHOW_SIZE = 100;
  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT).withZone(ZoneOffset.UTC);

  private final InstanceLifecycle lifecycle;
  private final Clock clock;

  InstanceActions(InstanceLifecycle lifecycle, Clock clock) {
    this.lifecycle = lifecycle;
    this.clock = clock;
  }

  Map<String, Object> handle(String action, QueryParameters query, String accountId) {
    return switch (action) {
      case "UpdateInstance" -> updateInstance(query, accountId);
      case "ApplyCertificate" -> applyCertificate(query, accountId);
      case "GetInstanceDetail" -> getInstanceDetail(query, accountId);
      case "ListInstances" -> listInstances(query, accountId);
      case "CancelPendingCertificate" -> cancelPendingCertificate(query, accountId);
      case "GetUserCertificateDetail" -> getUserCertificateDetail(query, accountId);
      default -> throw CasError.actionNotFound();
    };
  }

  /**
   * The instance a call of this action is about, for counting calls per instance: the {@code
   * InstanceId} sent, or the instance of the certificate a download names. Never throws.
   */
  Optional<String> instanceNamedBy(String action, QueryParameters query) {
    if (action == null || !NAMES.contains(action) || action.equals("ListInstances")) {
      return Optional.empty();
    }
    if (action.equals("GetUserCertificateDetail")) {
      try {
        long certId = Long.parseLong(query.get("CertId").orElse("").trim());
        return lifecycle.certificate(certId).map(IssuedCertificate::instanceId);
      } catch (NumberFormatException unreadable) {
        return Optional.empty();
      }
    }
    return query.get("InstanceId").filter(id -> InstanceStore.INSTANCE_ID.matcher(id).matches());
  }

  /**
   * The application a test buys an instance with: the CSR as UpdateInstance would take it with its
   * own KeyAlgorithm, or someone else's. Null for a new instance.
   */
  InstanceApplication purchasedApplication(InstanceOptions options) {
    if (options.stage == InstanceOptions.Stage.INACTIVE) {
      return null;
    }
    try {
      if (options.csrPem == null) {
        String name = "someone-else-" + Long.toString(System.nanoTime(), 36) + ".example.net";
        GeneratedCsr generated = GeneratedCsr.make(InstanceKeyAlgorithm.ECC_256, List.of(name));
        return new InstanceApplication(
            "upload",
            generated.csrPem(),
            generated.publicKey(),
            name,
            List.of(name),
            InstanceKeyAlgorithm.ECC_256,
            options.validationMethod,
            null,
            "disable",
            List.of(),
            null);
      }
      ParsedCsr csr = ParsedCsr.parse(options.csrPem);
      InstanceKeyAlgorithm algorithm =
          InstanceKeyAlgorithm.of(csr)
              .orElseThrow(
                  () -> CasError.invalidParameter("KeyAlgorithm", "no value fits the CSR's key"));
      return uploaded(csr, algorithm, options.validationMethod, null, "disable", List.of());
    } catch (CasError refused) {
      throw new IllegalArgumentException(refused.code() + ": " + refused.getMessage());
    }
  }

  // ---- UpdateInstance ----

  private Map<String, Object> updateInstance(QueryParameters query, String accountId) {
    String instanceId = instanceId(query);
    String method = oneOf(query, "GenerateCsrMethod", Set.of("online", "upload"), "online");
    String validationMethod = oneOf(query, "ValidationMethod", Set.of("DNS", "HTTP"), "DNS");
    InstanceKeyAlgorithm keyAlgorithm =
        nonBlank(query, "KeyAlgorithm")
            .map(InstanceKeyAlgorithm::parse)
            .orElse(InstanceKeyAlgorithm.DEFAULT);
    String autoReissue = oneOf(query, "AutoReissue", Set.of("enable", "disable"), "disable");
    List<Long> contactIds = contactIds(query);
    String certificateName = nonBlank(query, "CertificateName").orElse(null);
    Optional<List<String>> domain = nonBlank(query, "Domain").map(DomainNames::parse);

    InstanceApplication application;
    if (method.equals("upload")) {
      String csrPem = nonBlank(query, "Csr").orElseThrow(() -> CasError.missing("Csr"));
      ParsedCsr csr = ParsedCsr.parse(csrPem);
      if (InstanceKeyAlgorithm.of(csr).filter(keyAlgorithm::equals).isEmpty()) {
        throw CasError.invalidParameter(
            "KeyAlgorithm", "the CSR's key is not " + keyAlgorithm.name());
      }
      // The CSR's names win over Domain: CAS binds the certificate to the CSR's CN.
      application =
          uploaded(csr, keyAlgorithm, validationMethod, certificateName, autoReissue, contactIds);
    } else {
      List<String> names = domain.orElseThrow(() -> CasError.missing("Domain"));
      requireMethodFits(names, validationMethod);
      GeneratedCsr generated = GeneratedCsr.make(keyAlgorithm, names);
      application =
          new InstanceApplication(
              "online",
              generated.csrPem(),
              generated.publicKey(),
              names.get(0),
              names,
              keyAlgorithm,
              validationMethod,
              certificateName,
              autoReissue,
              contactIds,
              generated.privateKeyPem());
    }
    lifecycle.fillIn(accountId, instanceId, application);
    return new LinkedHashMap<>();
  }

  /** An upload application: the CSR's CN, then its DNS SANs. */
  private static InstanceApplication uploaded(
      ParsedCsr csr,
      InstanceKeyAlgorithm keyAlgorithm,
      String validationMethod,
      String certificateName,
      String autoReissue,
      List<Long> contactIds) {
    if (csr.commonName() == null || csr.commonName().isBlank()) {
      throw CasError.invalidParameter("Csr", "the CSR has no common name");
    }
    List<String> candidates = new ArrayList<>();
    candidates.add(csr.commonName());
    candidates.addAll(csr.dnsNames());
    List<String> names = DomainNames.checked(candidates);
    requireMethodFits(names, validationMethod);
    return new InstanceApplication(
        "upload",
        csr.pem(),
        csr.publicKeyInfo(),
        csr.commonName(),
        names,
        keyAlgorithm,
        validationMethod,
        certificateName,
        autoReissue,
        contactIds,
        null);
  }

  /** A wildcard can be validated only by DNS. */
  private static void requireMethodFits(List<String> names, String validationMethod) {
    if (validationMethod.equals("HTTP") && names.stream().anyMatch(DomainNames::isWildcard)) {
      throw CasError.invalidParameter("ValidationMethod", "wildcard names need DNS validation");
    }
  }

  // ---- ApplyCertificate, CancelPendingCertificate, GetInstanceDetail ----

  private Map<String, Object> applyCertificate(QueryParameters query, String accountId) {
    lifecycle.apply(accountId, instanceId(query));
    return new LinkedHashMap<>();
  }

  private Map<String, Object> cancelPendingCertificate(QueryParameters query, String accountId) {
    lifecycle.cancel(accountId, instanceId(query));
    return new LinkedHashMap<>();
  }

  private Map<String, Object> getInstanceDetail(QueryParameters query, String accountId) {
    CertificateInstance instance = lifecycle.read(accountId, instanceId(query));
    Map<String, Object> body = summary(instance);
    if (instance.csrPem() != null) {
      body.put("Csr", instance.csrPem());
    }
    body.put("AverageWaitingTime", Long.toString(lifecycle.averageWaitingSeconds()));
    body.put(
        "DomainValidationList", instance.domainValidations().stream().map(this::record).toList());
    return body;
  }

  private Map<String, Object> record(ValidationRecord record) {
    Map<String, Object> item = new LinkedHashMap<>();
    item.put("Domain", record.domain());
    item.put("RootDomain", record.rootDomain());
    item.put("ValidationType", record.validationType());
    item.put("ValidationKey", record.validationKey());
    item.put("ValidationValue", record.validationValue());
    item.put("Cname", record.cname());
    item.put("CnameKey", record.cnameKey());
    return item;
  }

  /**
   * The fields GetInstanceDetail and ListInstances share. Epoch times are milliseconds (the unit is
   * UNCONFIRMED; the doc page's example is in milliseconds); fields with no value are left out.
   */
  private static Map<String, Object> summary(CertificateInstance instance) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("InstanceId", instance.instanceId());
    body.put("InstanceType", INSTANCE_TYPE);
    body.put("Brand", BRAND);
    body.put("CertificateType", CERTIFICATE_TYPE);
    body.put("Spec", BRAND + " " + CERTIFICATE_TYPE);
    body.put("Status", instance.status());
    putIfPresent(body, "CertificateStatus", instance.certificateStatus());
    putIfPresent(body, "GenerateCsrMethod", instance.generateCsrMethod());
    putIfPresent(body, "KeyAlgorithm", instance.keyAlgorithm());
    putIfPresent(body, "ValidationMethod", instance.validationMethod());
    if (!instance.domains().isEmpty()) {
      body.put("Domain", String.join(",", instance.domains()));
    }
    putIfPresent(body, "CertificateName", instance.certificateName());
    putIfPresent(body, "PendingResult", instance.pendingResult());
    body.put("FullDomainCount", (long) instance.fullDomainCount());
    body.put("WildcardDomainCount", (long) instance.wildcardDomainCount());
    body.put("InstanceStartTime", instance.instanceStartTime().toEpochMilli());
    body.put("InstanceEndTime", instance.instanceEndTime().toEpochMilli());
    if (instance.orderStartTime() != null) {
      body.put("OrderStartTime", instance.orderStartTime().toEpochMilli());
    }
    IssuedCertificate certificate = instance.certificate();
    if (certificate != null) {
      body.put("CertificateId", certificate.certificateId());
      body.put("CertIdentifier", certificate.certIdentifier());
      body.put("CertificateNotBefore", certificate.notBefore().toEpochMilli());
      body.put("CertificateNotAfter", certificate.notAfter().toEpochMilli());
    }
    return body;
  }

  // ---- ListInstances ----

  /**
   * Keyword is a case-insensitive substring of the Domain, the CertificateName or the InstanceId
   * (the docs say "fuzzy"; UNCONFIRMED); results in the order the instances were bought.
   */
  private Map<String, Object> listInstances(QueryParameters query, String accountId) {
    Optional<String> status = optionalOneOf(query, "Status", STATUSES);
    Optional<String> certificateStatus =
        optionalOneOf(query, "CertificateStatus", CERTIFICATE_STATUSES);
    Optional<String> instanceType = optionalOneOf(query, "InstanceType", Set.of("BUY", "TEST"));
    Optional<String> certificateType =
        optionalOneOf(query, "CertificateType", Set.of("DV", "OV", "EV"));
    Optional<String> brand = nonBlank(query, "Brand");
    Optional<String> keyword = nonBlank(query, "Keyword").map(k -> k.toLowerCase(Locale.ROOT));
    long currentPage = positive(query, "CurrentPage", 1, Long.MAX_VALUE);
    long showSize = positive(query, "ShowSize", DEFAULT_SHOW_SIZE, MAX_SHOW_SIZE);

    Predicate<CertificateInstance> matches =
        instance ->
            status.map(instance.status()::equals).orElse(true)
                && certificateStatus.map(s -> s.equals(instance.certificateStatus())).orElse(true)
                && instanceType.map(INSTANCE_TYPE::equals).orElse(true)
                && certificateType.map(CERTIFICATE_TYPE::equals).orElse(true)
                && brand.map(BRAND::equalsIgnoreCase).orElse(true)
                && keyword.map(k -> searchText(instance).contains(k)).orElse(true);
    List<CertificateInstance> found = lifecycle.list(accountId).stream().filter(matches).toList();

    List<Map<String, Object>> page = new ArrayList<>();
    long from =
        currentPage - 1 > Long.MAX_VALUE / showSize ? Long.MAX_VALUE : (currentPage - 1) * showSize;
    for (long i = from; i < found.size() && i < from + showSize; i++) {
      CertificateInstance instance = found.get((int) i);
      Map<String, Object> item = summary(instance);
      if (instance.certificate() != null) {
        item.put("CertificateDomain", instance.certificate().commonName());
      }
      page.add(item);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("TotalCount", (long) found.size());
    body.put("CurrentPage", currentPage);
    body.put("ShowSize", showSize);
    body.put("InstanceList", page);
    return body;
  }

  private static String searchText(CertificateInstance instance) {
    return String.join(",", instance.domains())
        + "|"
        + Optional.ofNullable(instance.certificateName()).orElse("").toLowerCase(Locale.ROOT)
        + "|"
        + instance.instanceId();
  }

  // ---- GetUserCertificateDetail ----

  /**
   * The download. {@code Key} only when CAS made the key ({@code online}); never for an uploaded
   * CSR. {@code CertFilter=true} leaves out every PEM field.
   */
  private Map<String, Object> getUserCertificateDetail(QueryParameters query, String accountId) {
    String certIdText = nonBlank(query, "CertId").orElseThrow(() -> CasError.missing("CertId"));
    long certId;
    try {
      certId = Long.parseLong(certIdText.trim());
    } catch (NumberFormatException e) {
      throw CasError.invalidParameter("CertId", "not an integer");
    }
    boolean filter =
        Boolean.parseBoolean(oneOf(query, "CertFilter", Set.of("true", "false"), "false"));
    IssuedCertificate certificate = lifecycle.certificate(accountId, certId);
    Instant now = clock.instant();

    Map<String, Object> body = new LinkedHashMap<>();
    body.put("Id", certificate.certificateId());
    body.put("InstanceId", certificate.instanceId());
    body.put("CertIdentifier", certificate.certIdentifier());
    body.put("Name", certificate.commonName());
    body.put("Common", certificate.commonName());
    body.put("Sans", String.join(",", certificate.dnsNames()));
    body.put("Issuer", certificate.issuer());
    body.put("Algorithm", certificate.algorithm());
    body.put("SerialNo", certificate.serialHex());
    body.put("Sha2", certificate.sha256Hex().toUpperCase(Locale.ROOT));
    body.put("Fingerprint", certificate.sha1Hex().toUpperCase(Locale.ROOT));
    body.put("StartDate", DAY.format(certificate.notBefore()));
    body.put("EndDate", DAY.format(certificate.notAfter()));
    body.put("Expired", !now.isBefore(certificate.notAfter()));
    body.put("BuyInAliyun", true);
    if (!filter) {
      body.put("Cert", lifecycle.chainPem(certificate));
      if (certificate.privateKeyPem() != null) {
        body.put("Key", certificate.privateKeyPem());
      }
    }
    return body;
  }

  // ---- Parameters ----

  /** {@code MissingInstanceId}, or {@code InvalidParameter.InstanceId} off the id shape. */
  private static String instanceId(QueryParameters query) {
    String id = nonBlank(query, "InstanceId").orElseThrow(() -> CasError.missing("InstanceId"));
    if (!InstanceStore.INSTANCE_ID.matcher(id).matches()) {
      throw CasError.invalidParameter("InstanceId", "not an instance id");
    }
    return id;
  }

  private static String oneOf(
      QueryParameters query, String name, Set<String> allowed, String defaultValue) {
    return optionalOneOf(query, name, allowed).orElse(defaultValue);
  }

  private static Optional<String> optionalOneOf(
      QueryParameters query, String name, Set<String> allowed) {
    Optional<String> value = nonBlank(query, name);
    if (value.isPresent() && !allowed.contains(value.get())) {
      throw CasError.invalidParameter(name, "must be one of " + new TreeSet<>(allowed));
    }
    return value;
  }

  /** {@code ContactIdList.1}, {@code ContactIdList.2}, ... as openapiutil flattens a list. */
  private static List<Long> contactIds(QueryParameters query) {
    List<Long> ids = new ArrayList<>();
    for (QueryParameters.Parameter parameter : query.asList()) {
      if (parameter.name().startsWith("ContactIdList.")) {
        try {
          ids.add(Long.parseLong(parameter.value().trim()));
        } catch (NumberFormatException e) {
          throw CasError.invalidParameter("ContactIdList", "not a list of integers");
        }
      }
    }
    return ids;
  }

  private static long positive(QueryParameters query, String name, long defaultValue, long max) {
    Optional<String> text = nonBlank(query, name);
    if (text.isEmpty()) {
      return defaultValue;
    }
    try {
      long value = Long.parseLong(text.get().trim());
      if (value >= 1 && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw CasError.invalidParameter(
        name, max == Long.MAX_VALUE ? "must be a positive integer" : "must be 1 to " + max);
  }

  private static Optional<String> nonBlank(QueryParameters query, String name) {
    return query.get(name).filter(value -> !value.isBlank());
  }

  private static void putIfPresent(Map<String, Object> body, String name, Object value) {
    if (value != null) {
      body.put(name, value);
    }
  }
}
