package dev.aliyuncsr.operator.emulator;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The AccessKeys the emulator accepts, each belonging to one account (a main-account id, the
 * "ParentUid" Alibaba counts quotas by). An STS credential also pins its security token and may
 * expire. Keys can be added, disabled, enabled and removed at runtime, as in the RAM console.
 */
final class AccessKeyRegistry {

  /**
   * One AccessKey pair; {@code securityToken} is null for a long-term key, {@code expiration} null
   * for a key that does not expire.
   */
  record AccessKey(
      String id, String secret, String securityToken, String accountId, Instant expiration) {
    AccessKey(String id, String secret, String securityToken) {
      this(id, secret, securityToken, CasEmulator.DEFAULT_ACCOUNT, null);
    }

    @Override
    public String toString() {
      return "AccessKey[" + id + (securityToken == null ? "" : ", sts") + ", " + accountId + "]";
    }
  }

  private final Map<String, AccessKey> keys = new ConcurrentHashMap<>();
  private final Set<String> disabled = ConcurrentHashMap.newKeySet();

  void add(AccessKey key) {
    keys.put(key.id(), key);
    disabled.remove(key.id());
  }

  Optional<AccessKey> find(String accessKeyId) {
    return accessKeyId == null ? Optional.empty() : Optional.ofNullable(keys.get(accessKeyId));
  }

  boolean isDisabled(String accessKeyId) {
    return disabled.contains(accessKeyId);
  }

  /** False when there is no such key. */
  boolean setDisabled(String accessKeyId, boolean disable) {
    if (!keys.containsKey(accessKeyId)) {
      return false;
    }
    if (disable) {
      disabled.add(accessKeyId);
    } else {
      disabled.remove(accessKeyId);
    }
    return true;
  }

  boolean remove(String accessKeyId) {
    disabled.remove(accessKeyId);
    return keys.remove(accessKeyId) != null;
  }

  /** The ids of the account's keys, long-term and STS. */
  Set<String> idsOf(String accountId) {
    Set<String> ids = new java.util.TreeSet<>();
    keys.values().stream()
        .filter(k -> k.accountId().equals(accountId))
        .forEach(k -> ids.add(k.id()));
    return ids;
  }
}
