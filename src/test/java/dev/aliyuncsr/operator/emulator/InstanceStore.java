package dev.aliyuncsr.operator.emulator;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Every account's instances, in the order they were bought, and the certificates issued for them.
 * Not thread-safe: {@link InstanceLifecycle} holds its lock around every use. Instance ids and
 * CertificateIds are never reused, not even after {@link #clear()}, so an id a test kept from
 * before a reset cannot name something new.
 */
final class InstanceStore {
  static final long FIRST_CERTIFICATE_ID = 12_000_000;

  /**
   * The loose shape of an id (cas-instance-api.md §2): {@code cas}, then lower-case letters,
   * digits, {@code _} and {@code -}. Real ids look like {@code cas_dv-cn-rp643r82d0i1}.
   */
  static final Pattern INSTANCE_ID = Pattern.compile("cas[a-z0-9_-]{0,61}");

  private static final char[] ID_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final SecureRandom random = new SecureRandom();
  private final Map<String, StoredInstance> instances = new LinkedHashMap<>();
  private final Map<Long, IssuedCertificate> certificates = new HashMap<>();
  private final Set<String> usedIds = new HashSet<>();
  private long nextCertificateId = FIRST_CERTIFICATE_ID;

  /** A fresh id of the DV shape, {@code cas_dv-cn-} and 12 characters. */
  String newInstanceId() {
    while (true) {
      StringBuilder id = new StringBuilder("cas_dv-cn-");
      for (int i = 0; i < 12; i++) {
        id.append(ID_CHARACTERS[random.nextInt(ID_CHARACTERS.length)]);
      }
      if (!usedIds.contains(id.toString())) {
        return id.toString();
      }
    }
  }

  /** Adds a bought instance; its id must be of the id shape and never used before. */
  void add(StoredInstance instance) {
    if (!INSTANCE_ID.matcher(instance.instanceId).matches()) {
      throw new IllegalArgumentException("an instance id is cas[a-z0-9_-]*");
    }
    if (!usedIds.add(instance.instanceId)) {
      throw new IllegalArgumentException("instance id " + instance.instanceId + " is taken");
    }
    instances.put(instance.instanceId, instance);
  }

  Optional<StoredInstance> get(String instanceId) {
    return Optional.ofNullable(instances.get(instanceId));
  }

  /** The instance if it exists and belongs to the account. */
  Optional<StoredInstance> get(String accountId, String instanceId) {
    return get(instanceId).filter(instance -> instance.accountId.equals(accountId));
  }

  List<StoredInstance> all() {
    return new ArrayList<>(instances.values());
  }

  List<StoredInstance> all(String accountId) {
    return instances.values().stream().filter(i -> i.accountId.equals(accountId)).toList();
  }

  long nextCertificateId() {
    return nextCertificateId++;
  }

  void addCertificate(IssuedCertificate certificate) {
    certificates.put(certificate.certificateId(), certificate);
  }

  Optional<IssuedCertificate> certificate(long certificateId) {
    return Optional.ofNullable(certificates.get(certificateId));
  }

  void clear() {
    instances.clear();
    certificates.clear();
  }
}
