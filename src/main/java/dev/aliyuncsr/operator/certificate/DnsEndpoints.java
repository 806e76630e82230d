package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.api.AliyunCertificate;
import dev.aliyuncsr.operator.api.ValidationRecord;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The external-dns DNSEndpoint (externaldns.k8s.io/v1alpha1) that publishes an AliyunCertificate's
 * DNS validation records: one per certificate, named after it, owned by it (so that deleting the
 * certificate deletes it too), labelled as this operator's, one TXT endpoint per record name with
 * every value CAS asked for there. external-dns (--source=crd, TXT among its managed record types)
 * creates the records, and removes them once the DNSEndpoint is gone.
 */
public final class DnsEndpoints {
  public static final String GROUP = "externaldns.k8s.io";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String KIND = "DNSEndpoint";
  public static final String PLURAL = "dnsendpoints";

  /** On every DNSEndpoint this operator writes: its informer watches only these. */
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

  public static final String MANAGED_BY = "aliyun-csr-operator";

  /** Short: a validation record is wanted for minutes, and a stale one should go soon. */
  static final long TTL_SECONDS = 60;

  private static final String PREFIX = "cas-validation-";

  private DnsEndpoints() {}

  /** The DNSEndpoint's name: the certificate's, prefixed, shortened with a hash when too long. */
  public static String nameFor(String certificateName) {
    String name = PREFIX + certificateName;
    if (name.length() <= 253) {
      return name;
    }
    return name.substring(0, 253 - 17) + "-" + sha256(certificateName).substring(0, 16);
  }

  /** The DNSEndpoint publishing {@code records} (TXT), owned by {@code owner}. */
  static GenericKubernetesResource build(AliyunCertificate owner, List<ValidationRecord> records) {
    GenericKubernetesResource endpoint = new GenericKubernetesResource();
    endpoint.setApiVersion(API_VERSION);
    endpoint.setKind(KIND);
    endpoint.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(owner.getMetadata().getNamespace())
            .withName(nameFor(owner.getMetadata().getName()))
            .withLabels(Map.of(MANAGED_BY_LABEL, MANAGED_BY))
            .withOwnerReferences(ownerReference(owner))
            .build());
    endpoint.setAdditionalProperty("spec", Map.of("endpoints", endpoints(records)));
    return endpoint;
  }

  /**
   * The owner reference: controller, so that garbage collection removes the DNSEndpoint with its
   * certificate; blockOwnerDeletion off, which would need the finalizers of AliyunCertificates.
   */
  static OwnerReference ownerReference(AliyunCertificate owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(owner.getApiVersion())
        .withKind(owner.getKind())
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .build();
  }

  /** spec.endpoints: one TXT endpoint per record name, its values in order. */
  static List<Map<String, Object>> endpoints(List<ValidationRecord> records) {
    Map<String, List<String>> byName = new LinkedHashMap<>();
    for (ValidationRecord r : records) {
      List<String> targets =
          byName.computeIfAbsent(normal(r.getRecordName()), n -> new ArrayList<>());
      if (!targets.contains(r.getValue())) {
        targets.add(r.getValue());
      }
    }
    List<Map<String, Object>> endpoints = new ArrayList<>();
    byName.forEach(
        (name, targets) -> {
          Map<String, Object> endpoint = new LinkedHashMap<>();
          endpoint.put("dnsName", name);
          endpoint.put("recordType", "TXT");
          endpoint.put("recordTTL", TTL_SECONDS);
          endpoint.put("targets", targets);
          endpoints.add(endpoint);
        });
    return endpoints;
  }

  /** The records a DNSEndpoint publishes: record name, type and value; nothing else is kept. */
  @SuppressWarnings("unchecked")
  static List<ValidationRecord> records(GenericKubernetesResource endpoint) {
    List<ValidationRecord> records = new ArrayList<>();
    Object spec = endpoint.getAdditionalProperties().get("spec");
    if (!(spec instanceof Map<?, ?> specMap)
        || !(specMap.get("endpoints") instanceof List<?> list)) {
      return records;
    }
    for (Object item : list) {
      if (!(item instanceof Map<?, ?> e)) {
        continue;
      }
      String name = Objects.toString(e.get("dnsName"), "");
      String type = Objects.toString(e.get("recordType"), "");
      if (e.get("targets") instanceof List<?> targets) {
        for (Object target : targets) {
          records.add(new ValidationRecord(null, null, type, null, name, String.valueOf(target)));
        }
      }
    }
    return records;
  }

  /** Whether {@code published} holds exactly the records of {@code wanted}: name, type, value. */
  static boolean sameRecords(List<ValidationRecord> published, List<ValidationRecord> wanted) {
    return keys(published).equals(keys(wanted));
  }

  /** Whether this operator made {@code endpoint} for {@code owner}. */
  static boolean ownedBy(GenericKubernetesResource endpoint, AliyunCertificate owner) {
    List<OwnerReference> refs = endpoint.getMetadata().getOwnerReferences();
    return refs != null
        && refs.stream()
            .anyMatch(
                r ->
                    owner.getKind().equals(r.getKind())
                        && Objects.equals(owner.getMetadata().getUid(), r.getUid()));
  }

  private static Set<String> keys(List<ValidationRecord> records) {
    return records.stream()
        .map(
            r ->
                normal(r.getRecordName())
                    + " "
                    + (r.getType() == null ? "" : r.getType().toUpperCase(Locale.ROOT))
                    + " "
                    + r.getValue())
        .collect(Collectors.toSet());
  }

  private static String normal(String name) {
    String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  private static String sha256(String value) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
