package dev.aliyuncsr.operator.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * Where the Kubernetes Events about a resource of any kind go ({@link EventRecorder}, or a list in
 * tests); {@link EventSink} is the AliyunCsr-typed one the upload protocol uses.
 */
public interface ResourceEvents {
  void normal(HasMetadata resource, String reason, String message);

  void warning(HasMetadata resource, String reason, String message);
}
