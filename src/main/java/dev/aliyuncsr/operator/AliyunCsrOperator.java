package dev.aliyuncsr.operator;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.config.OperatorConfig;
import dev.aliyuncsr.operator.reconcile.AliyunCsrReconciler;
import dev.aliyuncsr.operator.reconcile.CrashPoints;
import dev.aliyuncsr.operator.reconcile.EventRecorder;
import dev.aliyuncsr.operator.reconcile.OutcomeRecorder;
import dev.aliyuncsr.operator.reconcile.RetryBackoff;
import dev.aliyuncsr.operator.reconcile.SecretInputs;
import dev.aliyuncsr.operator.reconcile.UploadCoordinator;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import java.time.Clock;
import java.time.Duration;

/**
 * Wires the reconciler to a Kubernetes client and a CAS client and runs it. Used by {@link
 * OperatorMain} and, in-process, by the tests and the demo.
 */
public final class AliyunCsrOperator implements AutoCloseable {
  public static final String FINALIZER = AliyunCsr.GROUP + "/finalizer";

  private final Operator operator;

  private AliyunCsrOperator(Operator operator) {
    this.operator = operator;
  }

  public static AliyunCsrOperator start(
      KubernetesClient client, CasClient cas, OperatorConfig config) {
    Clock clock = Clock.systemUTC();
    Operator operator =
        new Operator(
            o ->
                o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    .withUseSSAToPatchPrimaryResource(false)
                    .withConcurrentReconciliationThreads(config.reconcileThreads())
                    .withStopOnInformerErrorDuringStartup(true)
                    .withCacheSyncTimeout(Duration.ofMinutes(2)));
    EventRecorder events = new EventRecorder(client, clock);
    var reconciler =
        new AliyunCsrReconciler(
            new SecretInputs(client),
            new UploadCoordinator(
                client, cas, clock, CrashPoints.fromEnvironment(config.crashAt())),
            new OutcomeRecorder(client, events, clock),
            events,
            new RetryBackoff(Duration.ofSeconds(1), Duration.ofMinutes(5)));
    operator.register(
        reconciler,
        o -> {
          o.withFinalizer(FINALIZER)
              .withReconciliationMaxInterval(config.resyncInterval())
              // Kubernetes API errors only: CAS failures are rescheduled by the reconciler.
              .withRetry(
                  new GenericRetry()
                      .setInitialInterval(500)
                      .setIntervalMultiplier(2)
                      .setMaxInterval(60_000)
                      .withoutMaxAttempts());
          if (config.watchNamespaces().isEmpty()) {
            o.watchingAllNamespaces();
          } else {
            o.settingNamespaces(config.watchNamespaces());
          }
        });
    operator.start();
    return new AliyunCsrOperator(operator);
  }

  @Override
  public void close() {
    operator.stop();
  }
}
