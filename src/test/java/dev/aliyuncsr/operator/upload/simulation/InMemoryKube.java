package dev.aliyuncsr.operator.upload.simulation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.kube.JsonPatch;
import dev.aliyuncsr.operator.kube.KubeApi.WriteRefused;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * An API server for AliyunCsrs in memory, with the semantics the protocol leans on: one
 * resourceVersion counter, JSON patches whose failed "test" is a 422, a status subresource that
 * keeps spec and metadata, a main resource that keeps status, generation bumped on spec changes,
 * deletion held by finalizers, and a log of watch events that each operator's cache receives late.
 */
final class InMemoryKube {
  private static final ObjectMapper JSON = Serialization.jsonMapper();

  /** One watch event: the object after a change, or its key with null when it was removed. */
  record WatchEvent(String key, ObjectNode object) {}

  private final Map<String, ObjectNode> objects = new LinkedHashMap<>();
  private final List<WatchEvent> log = new ArrayList<>();
  private long resourceVersion = 1000;
  private int uids;

  /** Told of each object removed: its last state, and whether a user's write removed it. */
  interface Removals {
    void removed(AliyunCsr last, boolean byUser);
  }

  private final Removals onRemoved;
  private boolean userWriting;

  InMemoryKube(Removals onRemoved) {
    this.onRemoved = onRemoved;
  }

  static String key(AliyunCsr r) {
    return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }

  AliyunCsr create(AliyunCsr r, Instant now) {
    ObjectNode node = JSON.valueToTree(r);
    ObjectNode meta = (ObjectNode) node.get("metadata");
    meta.put("uid", String.format("uid-%04d", ++uids));
    meta.put("generation", 1);
    meta.put("creationTimestamp", now.toString());
    store(key(r), node);
    return read(node);
  }

  Optional<AliyunCsr> get(String namespace, String name) {
    ObjectNode node = objects.get(namespace + "/" + name);
    return node == null ? Optional.empty() : Optional.of(read(node));
  }

  /**
   * Every object, for the world's own reads (the checks, the tenants): shared copies, parsed once
   * per write, that nobody may change.
   */
  List<AliyunCsr> all() {
    if (all == null) {
      all = objects.values().stream().map(InMemoryKube::read).toList();
    }
    return all;
  }

  private List<AliyunCsr> all;

  List<WatchEvent> log() {
    return log;
  }

  AliyunCsr patch(AliyunCsr at, JsonPatch patch, boolean status) throws WriteRefused {
    String key = key(at);
    ObjectNode current = objects.get(key);
    if (current == null) {
      throw new WriteRefused(true, "404");
    }
    JsonNode patched;
    try {
      patched = io.fabric8.zjsonpatch.JsonPatch.apply(patch.toJson(), current.deepCopy());
    } catch (RuntimeException e) {
      throw new WriteRefused(false, "422 " + e.getMessage());
    }
    ObjectNode next = current.deepCopy();
    if (status) {
      // The status subresource changes status only.
      if (patched.has("status")) {
        next.set("status", patched.get("status"));
      } else {
        next.remove("status");
      }
    } else {
      next.set("metadata", patched.get("metadata"));
      if (patched.has("spec")) {
        next.set("spec", patched.get("spec"));
      } else {
        next.remove("spec");
      }
      keepServerFields(current, next);
    }
    return write(key, current, next);
  }

  /**
   * A user's PUT of metadata and spec (status is kept, as the main resource ignores it); null when
   * the object is gone or the CRD's CEL rules refuse the change.
   */
  AliyunCsr userReplace(String key, Consumer<ObjectNode> change) {
    ObjectNode current = objects.get(key);
    if (current == null) {
      return null;
    }
    ObjectNode next = current.deepCopy();
    change.accept(next);
    if (current.has("status")) {
      next.set("status", current.get("status"));
    } else {
      next.remove("status");
    }
    keepServerFields(current, next);
    if (!celAllows(current, next)) {
      return null;
    }
    // A finalizer can be removed, but deletionTimestamp cannot be undone.
    return uncheckedWrite(key, current, next);
  }

  /** Someone with status rights (a restore, another tool) writes status. */
  AliyunCsr userWriteStatus(String key, JsonNode status) {
    ObjectNode current = objects.get(key);
    if (current == null) {
      return null;
    }
    ObjectNode next = current.deepCopy();
    if (status == null) {
      next.remove("status");
    } else {
      next.set("status", status);
    }
    return uncheckedWrite(key, current, next);
  }

  void delete(String key, Instant now) {
    ObjectNode current = objects.get(key);
    if (current == null) {
      return;
    }
    ObjectNode next = current.deepCopy();
    ObjectNode meta = (ObjectNode) next.get("metadata");
    if (!meta.has("deletionTimestamp")) {
      meta.put("deletionTimestamp", now.toString());
    }
    uncheckedWrite(key, current, next);
  }

  private AliyunCsr uncheckedWrite(String key, ObjectNode current, ObjectNode next) {
    userWriting = true;
    try {
      return write(key, current, next);
    } catch (WriteRefused e) {
      throw new IllegalStateException(e);
    } finally {
      userWriting = false;
    }
  }

  /**
   * The AliyunCsr CRD's CEL rules: once status names a CsrId, spec.csrSecretRef, spec.name,
   * spec.csrId and spec.accountRef are fixed, and spec.keySecretRef may be added but not changed.
   */
  static boolean celAllows(ObjectNode current, ObjectNode next) {
    JsonNode csrId = current.path("status").path("csrId");
    if (csrId.isMissingNode() || csrId.isNull()) {
      return true;
    }
    JsonNode before = current.path("spec");
    JsonNode after = next.path("spec");
    for (String field : List.of("csrSecretRef", "name", "csrId")) {
      if (!before.path(field).equals(after.path(field))) {
        return false;
      }
    }
    if (!before.path("accountRef").path("name").equals(after.path("accountRef").path("name"))
        || before.has("accountRef") != after.has("accountRef")) {
      return false;
    }
    return !before.has("keySecretRef")
        || before.get("keySecretRef").equals(after.get("keySecretRef"));
  }

  /**
   * The object goes at once, whatever its finalizers (a user takes them off and deletes it, or the
   * cluster is lost): no operator sees a deletion to clean up after.
   */
  void vanish(String key) {
    ObjectNode current = objects.get(key);
    if (current == null) {
      return;
    }
    ObjectNode next = current.deepCopy();
    ObjectNode meta = (ObjectNode) next.get("metadata");
    meta.remove("finalizers");
    if (!meta.has("deletionTimestamp")) {
      meta.put("deletionTimestamp", "1970-01-01T00:00:00Z");
    }
    uncheckedWrite(key, current, next);
  }

  private static void keepServerFields(ObjectNode current, ObjectNode next) {
    ObjectNode before = (ObjectNode) current.get("metadata");
    ObjectNode after = (ObjectNode) next.get("metadata");
    for (String field :
        List.of("uid", "creationTimestamp", "generation", "resourceVersion", "deletionTimestamp")) {
      if (before.has(field)) {
        after.set(field, before.get(field));
      } else {
        after.remove(field);
      }
    }
  }

  private AliyunCsr write(String key, ObjectNode current, ObjectNode next) throws WriteRefused {
    if (next.equals(current)) {
      return read(next);
    }
    ObjectNode meta = (ObjectNode) next.get("metadata");
    if (!Objects.equals(current.get("spec"), next.get("spec"))) {
      meta.put("generation", current.get("metadata").get("generation").asLong() + 1);
    }
    JsonNode finalizers = meta.get("finalizers");
    if (meta.has("deletionTimestamp") && (finalizers == null || finalizers.isEmpty())) {
      objects.remove(key);
      all = null;
      log.add(new WatchEvent(key, null));
      onRemoved.removed(read(next), userWriting);
      return read(next);
    }
    store(key, next);
    return read(next);
  }

  private void store(String key, ObjectNode node) {
    ((ObjectNode) node.get("metadata")).put("resourceVersion", Long.toString(++resourceVersion));
    objects.put(key, node);
    all = null;
    log.add(new WatchEvent(key, node.deepCopy()));
  }

  static AliyunCsr read(ObjectNode node) {
    try {
      return JSON.treeToValue(node, AliyunCsr.class);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static ObjectNode tree(AliyunCsr r) {
    return JSON.valueToTree(r);
  }
}
