package dev.aliyuncsr.operator.kube;

import dev.aliyuncsr.operator.api.AliyunCsr;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Informer stores that keep less of each object than the API server sends, so the operator's memory
 * grows with what it needs, not with what the cluster holds.
 */
public final class LeanItemStore {
  private LeanItemStore() {}

  /**
   * Secrets: the store keeps namespace, name and resourceVersion only (about 150 bytes a Secret,
   * against several KiB as sent), and hands out a metadata-only Secret built on demand. No data,
   * labels, annotations or managedFields are kept. The operator watches Secrets to learn when one
   * it references appears or changes, and reads the data with a GET when it needs it, so the memory
   * the watch holds grows little with the number of unrelated Secrets and not at all with their
   * size.
   */
  public static ItemStore<Secret> secretsMetadataOnly() {
    return new SecretVersions();
  }

  /**
   * AliyunCsrs without managedFields, which are several times the size of the rest of the object
   * and which the operator never reads. Safe for the updates made from cached copies: an update
   * that omits managedFields leaves them as they are on the server.
   */
  public static ItemStore<AliyunCsr> withoutManagedFields() {
    return new Stripping<>(
        resource -> {
          resource.getMetadata().setManagedFields(null);
          return resource;
        });
  }

  /** Objects as {@code lean} makes them leaner: the fields a kind's reader needs, nothing else. */
  public static <T extends HasMetadata> ItemStore<T> stripping(UnaryOperator<T> lean) {
    return new Stripping<>(lean);
  }

  /** Key "namespace/name" (or "name") to resourceVersion. */
  static final class SecretVersions implements ItemStore<Secret> {
    private final ConcurrentHashMap<String, String> versions = new ConcurrentHashMap<>();

    @Override
    public String getKey(Secret secret) {
      return Cache.metaNamespaceKeyFunc(secret);
    }

    @Override
    public Secret put(String key, Secret secret) {
      return materialize(key, versions.put(key, secret.getMetadata().getResourceVersion()));
    }

    @Override
    public Secret remove(String key) {
      return materialize(key, versions.remove(key));
    }

    @Override
    public Stream<String> keySet() {
      return versions.keySet().stream();
    }

    @Override
    public Stream<Secret> values() {
      return versions.entrySet().stream().map(e -> materialize(e.getKey(), e.getValue()));
    }

    @Override
    public int size() {
      return versions.size();
    }

    @Override
    public Secret get(String key) {
      return materialize(key, versions.get(key));
    }

    private static Secret materialize(String key, String resourceVersion) {
      if (resourceVersion == null) {
        return null;
      }
      int slash = key.indexOf('/');
      ObjectMeta meta = new ObjectMeta();
      meta.setNamespace(slash < 0 ? null : key.substring(0, slash));
      meta.setName(key.substring(slash + 1));
      meta.setResourceVersion(resourceVersion);
      Secret secret = new Secret();
      secret.setMetadata(meta);
      return secret;
    }
  }

  /** Keeps each object after a function has made it leaner. */
  static final class Stripping<T extends HasMetadata> implements ItemStore<T> {
    private final BasicItemStore<T> delegate = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);
    private final UnaryOperator<T> lean;

    Stripping(UnaryOperator<T> lean) {
      this.lean = lean;
    }

    @Override
    public String getKey(T object) {
      return delegate.getKey(object);
    }

    @Override
    public T put(String key, T object) {
      return delegate.put(key, lean.apply(object));
    }

    @Override
    public T remove(String key) {
      return delegate.remove(key);
    }

    @Override
    public Stream<String> keySet() {
      return delegate.keySet();
    }

    @Override
    public Stream<T> values() {
      return delegate.values();
    }

    @Override
    public int size() {
      return delegate.size();
    }

    @Override
    public T get(String key) {
      return delegate.get(key);
    }
  }
}
