package dev.aliyuncsr.operator.upload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.kube.RetryBackoff;
import dev.aliyuncsr.operator.observability.OperatorMetrics;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which updates of an AliyunCsr reach the reconciler. */
class AliyunCsrReconcilerTest {
  private final AliyunCsrReconciler reconciler =
      new AliyunCsrReconciler(
          peers -> null,
          new RetryBackoff(Duration.ofSeconds(1), Duration.ofMinutes(1)),
          new OperatorMetrics());

  @Test
  void theEventOfThisProcesssOwnFinalizerWriteIsNoNewsButAnyOtherChangeIs() {
    AliyunCsr created = csr("1", List.of(), Map.of());
    AliyunCsr withFinalizer = csr("2", List.of("cas.aliyuncsr.dev/cleanup"), Map.of("a", "b"));

    reconciler.wrote(withFinalizer);
    assertThat(reconciler.acceptUpdate(withFinalizer, created))
        .as("the version this process wrote")
        .isFalse();

    // The same change again (another process, or a user) has another version.
    AliyunCsr again = csr("3", List.of(), Map.of());
    assertThat(reconciler.acceptUpdate(again, withFinalizer)).isTrue();

    // Seen once: a later event of that version (a relist) is not dropped again.
    assertThat(reconciler.acceptUpdate(withFinalizer, created)).isTrue();
  }

  @Test
  void aUsersEditAfterOurWriteIsSeenEvenWhenOurEventIsStillToCome() {
    AliyunCsr ours = csr("5", List.of("cas.aliyuncsr.dev/cleanup"), Map.of());
    AliyunCsr edited = csr("6", List.of(), Map.of());
    reconciler.wrote(ours);
    assertThat(reconciler.acceptUpdate(edited, ours)).isTrue();
  }

  private static AliyunCsr csr(
      String resourceVersion, List<String> finalizers, Map<String, String> annotations) {
    AliyunCsr r = new AliyunCsr();
    r.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace("team-a")
            .withName("shop")
            .withUid("uid-1")
            .withGeneration(1L)
            .withResourceVersion(resourceVersion)
            .withFinalizers(finalizers)
            .withAnnotations(annotations)
            .build());
    return r;
  }
}
