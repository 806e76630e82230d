package dev.aliyuncsr.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/**
 * Runs a health script of deploy/argocd/ as Argo CD does: the object as global {@code obj}. By
 * default the AliyunCsr's, aliyuncsr-health.lua.
 */
public final class ArgoHealthScript {
  public record Health(String status, String message) {}

  private final String script;

  public ArgoHealthScript() throws IOException {
    this("aliyuncsr-health.lua");
  }

  /** The script {@code file} in deploy/argocd/, e.g. aliyuncertificate-health.lua. */
  public ArgoHealthScript(String file) throws IOException {
    script = Files.readString(Path.of(System.getProperty("user.dir"), "deploy", "argocd", file));
  }

  public Health evaluate(Object kubernetesObject) {
    JsonNode json = Serialization.jsonMapper().valueToTree(kubernetesObject);
    Globals globals = JsePlatform.standardGlobals();
    globals.set("obj", toLua(json));
    LuaValue result = globals.load(script, "health.lua").call();
    return new Health(result.get("status").tojstring(), result.get("message").tojstring());
  }

  private static LuaValue toLua(JsonNode node) {
    if (node == null || node.isNull()) {
      return LuaValue.NIL;
    }
    if (node.isObject()) {
      LuaTable table = new LuaTable();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        var field = it.next();
        table.set(field.getKey(), toLua(field.getValue()));
      }
      return table;
    }
    if (node.isArray()) {
      LuaTable table = new LuaTable();
      for (int i = 0; i < node.size(); i++) {
        table.set(i + 1, toLua(node.get(i)));
      }
      return table;
    }
    if (node.isBoolean()) {
      return LuaValue.valueOf(node.booleanValue());
    }
    if (node.isNumber()) {
      return LuaValue.valueOf(node.doubleValue());
    }
    return LuaValue.valueOf(node.asText());
  }
}
