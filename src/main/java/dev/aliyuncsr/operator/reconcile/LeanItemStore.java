package dev.aliyuncsr.operator.reconcile;

import dev.aliyuncsr.operator.api.AliyunCsr;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * An informer store that keeps a leaner copy of each object than the API server sends, so the
 * operator's memory grows with what it needs, not with what the cluster holds.
 */
public final class LeanItemStore<T extends HasMetadata> implements ItemStore<T> {
  private final BasicItemStore<T> delegate = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);
  private final UnaryOperator<T> lean;

  private LeanItemStore(UnaryOperator<T> lean) {
    this.lean = lean;
  }

  /**
   * Secrets: name, namespace, uid and resourceVersion only; no data, labels, annotations or
   * managedFields. The operator watches Secrets to learn when one it references appears or changes,
   * and reads the data with a GET when it needs it, so the memory the watch holds does not grow
   * with the size of unrelated Secrets.
   */
  public static LeanItemStore<Secret> secretsMetadataOnly() {
    return new LeanItemStore<>(LeanItemStore::metadataOnly);
  }

  /**
   * AliyunCsrs without managedFields, which are several times the size of the rest of the object
   * and which the operator never reads. Safe for the updates made from cached copies: an update
   * that omits managedFields leaves them as they are on the server.
   */
  public static LeanItemStore<AliyunCsr> withoutManagedFields() {
    return new LeanItemStore<>(
        resource -> {
          resource.getMetadata().setManagedFields(null);
          return resource;
        });
  }

  static Secret metadataOnly(Secret secret) {
    ObjectMeta meta = secret.getMetadata();
    return new SecretBuilder()
        .withMetadata(
            new ObjectMetaBuilder()
                .withName(meta.getName())
                .withNamespace(meta.getNamespace())
                .withUid(meta.getUid())
                .withResourceVersion(meta.getResourceVersion())
                .build())
        .build();
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
