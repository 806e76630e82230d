package dev.aliyuncsr.operator.reconcile;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.stream.Stream;

/**
 * The informer store for Secrets. It keeps name, namespace, uid and resourceVersion only: no data,
 * no labels, no annotations, no managedFields. The operator watches Secrets to learn when one it
 * references appears or changes, and reads the data with a GET when it needs it, so the memory the
 * watch holds does not grow with the size of unrelated Secrets.
 */
public final class MetadataOnlySecretStore implements ItemStore<Secret> {
  private final BasicItemStore<Secret> delegate = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);

  @Override
  public String getKey(Secret secret) {
    return delegate.getKey(secret);
  }

  @Override
  public Secret put(String key, Secret secret) {
    return delegate.put(key, strip(secret));
  }

  static Secret strip(Secret secret) {
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
  public Secret remove(String key) {
    return delegate.remove(key);
  }

  @Override
  public Stream<String> keySet() {
    return delegate.keySet();
  }

  @Override
  public Stream<Secret> values() {
    return delegate.values();
  }

  @Override
  public int size() {
    return delegate.size();
  }

  @Override
  public Secret get(String key) {
    return delegate.get(key);
  }
}
