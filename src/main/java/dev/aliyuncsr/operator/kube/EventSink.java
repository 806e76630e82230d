package dev.aliyuncsr.operator.kube;

import dev.aliyuncsr.operator.api.AliyunCsr;

/** Where the protocol's Kubernetes Events go ({@link EventRecorder}, or a list in tests). */
public interface EventSink {
  void normal(AliyunCsr resource, String reason, String message);

  void warning(AliyunCsr resource, String reason, String message);
}
