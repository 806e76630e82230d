package dev.aliyuncsr.operator.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

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

  /**
   * A patch that applies only to {@code object}'s resourceVersion (its first operation tests it).
   */
  public static JsonPatch fencedOn(HasMetadata object) {
    return new JsonPatch()
        .test("/metadata/resourceVersion", object.getMetadata().getResourceVersion());
  }

  /**
   * Adds the operations that turn the status {@code previous} into {@code next}, field by field.
   * {@code empty} is a new status of the kind: fabric8 shows a missing status as an empty one, and
   * JSON has no status to add fields to, so the whole status is added then.
   */
  public JsonPatch statusChanges(Object previous, Object next, Object empty) {
    ObjectNode after = Serialization.jsonMapper().valueToTree(next);
    if (previous == null || previous.equals(empty)) {
      return add("/status", after);
    }
    ObjectNode before = Serialization.jsonMapper().valueToTree(previous);
    for (Iterator<String> names = before.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!after.has(name)) {
        remove("/status/" + name);
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> fields = after.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      if (!field.getValue().equals(before.get(field.getKey()))) {
        add("/status/" + field.getKey(), field.getValue());
      }
    }
    return this;
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
