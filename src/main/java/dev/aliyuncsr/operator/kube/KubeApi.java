package dev.aliyuncsr.operator.kube;

import dev.aliyuncsr.operator.api.AliyunCsr;
import java.util.Optional;

/**
 * The reads and writes the upload protocol makes to Kubernetes, and nothing else. Every write is an
 * RFC 6902 JSON patch whose "test" operations fence it on what the protocol saw, so the same
 * protocol runs against the real API server ({@link FabricKubeApi}) and an in-memory one in tests.
 */
public interface KubeApi {

  /** A fresh read from the API server, never from a cache; empty when the object is gone. */
  Optional<AliyunCsr> get(String namespace, String name);

  /** Patches metadata or spec; returns the object as written. */
  AliyunCsr patch(AliyunCsr at, JsonPatch patch) throws WriteRefused;

  /** Patches the status subresource; returns the object as written. */
  AliyunCsr patchStatus(AliyunCsr at, JsonPatch patch) throws WriteRefused;

  /**
   * The API server refused a write: a fence did not hold (HTTP 409 or 422), or the object is gone
   * (404). Either way the protocol observes again from a fresh read.
   */
  final class WriteRefused extends Exception {
    private final boolean gone;

    public WriteRefused(boolean gone, String message) {
      super(message);
      this.gone = gone;
    }

    public boolean gone() {
      return gone;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
