package dev.aliyuncsr.operator.kube;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCsr;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LeanItemStoreTest {
  @Test
  void secretStoreKeepsOnlyWhereTheSecretIsAndItsVersion() {
    var store = LeanItemStore.secretsMetadataOnly();
    Secret full =
        new SecretBuilder()
            .withMetadata(
                new ObjectMetaBuilder()
                    .withNamespace("team-a")
                    .withName("csr")
                    .withUid("u-1")
                    .withResourceVersion("41")
                    .withLabels(Map.of("app", "x"))
                    .withAnnotations(Map.of("note", "y"))
                    .build())
            .withData(Map.of("tls.csr", "c2VjcmV0"))
            .build();
    String key = store.getKey(full);
    assertThat(key).isEqualTo("team-a/csr");
    assertThat(store.put(key, full)).isNull();

    Secret kept = store.get(key);
    assertThat(kept.getMetadata().getNamespace()).isEqualTo("team-a");
    assertThat(kept.getMetadata().getName()).isEqualTo("csr");
    assertThat(kept.getMetadata().getResourceVersion()).isEqualTo("41");
    assertThat(kept.getData()).isNullOrEmpty();
    assertThat(kept.getMetadata().getLabels()).isNullOrEmpty();
    assertThat(kept.getMetadata().getAnnotations()).isNullOrEmpty();

    full.getMetadata().setResourceVersion("42");
    assertThat(store.put(key, full).getMetadata().getResourceVersion()).isEqualTo("41");
    assertThat(store.size()).isEqualTo(1);
    assertThat(store.keySet()).containsExactly(key);
    assertThat(store.values().map(s -> s.getMetadata().getResourceVersion())).containsExactly("42");
    assertThat(store.remove(key).getMetadata().getName()).isEqualTo("csr");
    assertThat(store.get(key)).isNull();
    assertThat(store.remove(key)).isNull();
    assertThat(store.size()).isZero();
  }

  @Test
  void aliyunCsrStoreDropsManagedFieldsOnly() {
    var store = LeanItemStore.withoutManagedFields();
    AliyunCsr resource = new AliyunCsr();
    resource.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace("team-a")
            .withName("r")
            .withAnnotations(Map.of("cas.aliyuncsr.dev/csr-id", "7"))
            .withManagedFields(
                List.of(new ManagedFieldsEntryBuilder().withManager("kubectl").build()))
            .build());
    String key = store.getKey(resource);
    store.put(key, resource);
    AliyunCsr kept = store.get(key);
    assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(kept.getMetadata().getAnnotations()).containsEntry("cas.aliyuncsr.dev/csr-id", "7");
  }
}
