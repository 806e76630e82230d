package dev.aliyuncsr.operator.reconcile;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.aliyuncsr.operator.api.AliyunCsr;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;

/**
 * An RFC 6902 JSON patch of an AliyunCsr. Its "test" operations make a write conditional on what
 * the operator saw, without sending the whole object.
 */
final class JsonPatch {
  private final ArrayNode operations = Serialization.jsonMapper().createArrayNode();

  JsonPatch test(String path, String value) {
    operations.addObject().put("op", "test").put("path", path).put("value", value);
    return this;
  }

  JsonPatch add(String path, String value) {
    operations.addObject().put("op", "add").put("path", path).put("value", value);
    return this;
  }

  JsonPatch add(String path, List<String> values) {
    var array = operations.addObject().put("op", "add").put("path", path).putArray("value");
    values.forEach(array::add);
    return this;
  }

  JsonPatch remove(String path) {
    operations.addObject().put("op", "remove").put("path", path);
    return this;
  }

  /** JSON pointer to an annotation ('/' in the key escaped as ~1). */
  static String annotation(String key) {
    return "/metadata/annotations/" + key.replace("~", "~0").replace("/", "~1");
  }

  /**
   * Sends the patch. On {@code resource(item)}, not {@code withName(name)}: fabric8 would GET the
   * object before patching it.
   */
  AliyunCsr applyTo(KubernetesClient client, AliyunCsr resource) {
    return client.resource(resource).patch(PatchContext.of(PatchType.JSON), operations.toString());
  }
}
