package dev.aliyuncsr.operator.emulator;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The AccessKeys the emulator accepts; an STS credential also pins its security token. */
final class AccessKeyRegistry {

  /** One AccessKey pair; {@code securityToken} is null for a long-term key. */
  record AccessKey(String id, String secret, String securityToken) {
    @Override
    public String toString() {
      return "AccessKey[" + id + (securityToken == null ? "" : ", sts") + "]";
    }
  }

  private final Map<String, AccessKey> keys = new ConcurrentHashMap<>();

  void add(AccessKey key) {
    keys.put(key.id(), key);
  }

  Optional<AccessKey> find(String accessKeyId) {
    return Optional.ofNullable(keys.get(accessKeyId));
  }
}
