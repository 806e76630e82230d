package dev.aliyuncsr.operator.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;

/**
 * An RFC 6902 JSON patch of an AliyunCsr. Its "test" operations make a write conditional on what
 * the operator saw (a resourceVersion, a lease holder), without sending the whole object; fields
 * this version of the operator does not know are never touched.
 */
public final class JsonPatch {
  private final ArrayNode operations = Serialization.jsonMapper().createArrayNode();

  public JsonPatch test(String path, String value) {
    operations.addObject().put("op", "test").put("path", path).put("value", value);
    return this;
  }

  public JsonPatch test(String path, JsonNode value) {
    operations.addObject().put("op", "test").put("path", path).set("value", value);
    return this;
  }

  public JsonPatch add(String path, String value) {
    operations.addObject().put("op", "add").put("path", path).put("value", value);
    return this;
  }

  public JsonPatch add(String path, List<String> values) {
    var array = operations.addObject().put("op", "add").put("path", path).putArray("value");
    values.forEach(array::add);
    return this;
  }

  public JsonPatch add(String path, JsonNode value) {
    operations.addObject().put("op", "add").put("path", path).set("value", value);
    return this;
  }

  public JsonPatch remove(String path) {
    operations.addObject().put("op", "remove").put("path", path);
    return this;
  }

  public boolean isEmpty() {
    return operations.isEmpty();
  }

  /** How many operations change something (tests excluded). */
  public int changes() {
    int n = 0;
    for (JsonNode op : operations) {
      n += "test".equals(op.get("op").asText()) ? 0 : 1;
    }
    return n;
  }

  /** JSON pointer to an annotation ('/' in the key escaped as ~1). */
  public static String annotation(String key) {
    return "/metadata/annotations/" + key.replace("~", "~0").replace("/", "~1");
  }

  public JsonNode toJson() {
    return operations.deepCopy();
  }

  @Override
  public String toString() {
    return operations.toString();
  }
}
