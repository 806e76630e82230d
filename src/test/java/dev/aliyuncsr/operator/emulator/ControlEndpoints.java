package dev.aliyuncsr.operator.emulator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The test controls over HTTP, under {@value #PREFIX}, for a test driving the emulator from another
 * process: no signature, JSON in and out, the same effect as {@link CasEmulator}'s methods. Control
 * requests are not CAS calls: they are not counted, and no fault applies to them. The endpoints are
 * listed in {@link CasEmulatorMain}. A refusal answers {@code {"Error": "..."}} with 400 (bad
 * input), 404 (no such instance or endpoint), 405 (wrong method) or 409 (wrong state).
 */
final class ControlEndpoints {
  static final String PREFIX = "/_emulator/";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final CasEmulator emulator;

  ControlEndpoints(CasEmulator emulator) {
    this.emulator = emulator;
  }

  /** CAS and STS calls are always {@code POST /}; anything under the prefix is a control. */
  boolean handles(RawHttpRequest request) {
    return request.path().startsWith(PREFIX);
  }

  HttpAnswer handle(RawHttpRequest request) {
    try {
      String[] path = request.path().substring(PREFIX.length()).split("/", -1);
      return route(request.method().toUpperCase(Locale.ROOT), path, body(request));
    } catch (NoSuchElementException e) {
      return error(404, e.getMessage());
    } catch (IllegalStateException e) {
      return error(409, e.getMessage());
    } catch (WrongMethod e) {
      return error(405, e.getMessage());
    } catch (IllegalArgumentException e) {
      return error(400, e.getMessage());
    }
  }

  private HttpAnswer route(String method, String[] path, JsonNode body) {
    String resource = path[0];
    if (resource.equals("instances") && path.length == 1) {
      if (method.equals("GET")) {
        return ok(emulator.instances().stream().map(ControlEndpoints::instance).toList());
      }
      requirePost(method);
      String id =
          emulator.buyInstance(text(body, "accountId", CasEmulator.DEFAULT_ACCOUNT), options(body));
      return ok(Map.of("InstanceId", id));
    }
    if (resource.equals("instances") && path.length == 2) {
      requireMethod(method, "GET");
      return ok(instance(existing(path[1])));
    }
    if (resource.equals("instances") && path.length == 3) {
      String id = path[1];
      switch (path[2]) {
        case "complete-validation" -> {
          requirePost(method);
          emulator.completeValidation(id, seconds(body, "reviewDelaySeconds", Duration.ZERO));
          return ok(instance(existing(id)));
        }
        case "fail-validation" -> {
          requirePost(method);
          emulator.failValidation(id, text(body, "message", null));
          return ok(instance(existing(id)));
        }
        case "issue-with-wrong-key" -> {
          requirePost(method);
          emulator.issueWithWrongKey(id);
          return ok(Map.of());
        }
        case "calls" -> {
          requireMethod(method, "GET");
          return ok(emulator.instanceCallStats(id));
        }
        default -> throw new NoSuchElementException("no such endpoint");
      }
    }
    if (path.length == 1) {
      switch (resource) {
        case "auto-complete-validation" -> {
          requirePost(method);
          emulator.autoCompleteValidationAfter(seconds(body, "afterSeconds", null));
          return ok(Map.of());
        }
        case "chain-mode" -> {
          requirePost(method);
          emulator.setChainMode(chainMode(text(body, "mode", null)));
          return ok(Map.of());
        }
        case "ca" -> {
          requireMethod(method, "GET");
          return ok(
              Map.of(
                  "Root", TestCa.pem(encoded(emulator.caRoot())),
                  "Intermediate", TestCa.pem(encoded(emulator.caIntermediate()))));
        }
        case "calls" -> {
          requireMethod(method, "GET");
          return ok(emulator.callStats());
        }
        case "reset" -> {
          requirePost(method);
          emulator.reset();
          return ok(Map.of());
        }
        default -> {
          // fall through to "no such endpoint"
        }
      }
    }
    throw new NoSuchElementException("no such endpoint");
  }

  /** The instance as GetInstanceDetail shows it, plus AccountId, UnderReview and the leaf. */
  static Map<String, Object> instance(CertificateInstance instance) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("InstanceId", instance.instanceId());
    body.put("AccountId", instance.accountId());
    body.put("Status", instance.status());
    body.put("CertificateStatus", instance.certificateStatus());
    body.put("FullDomainCount", instance.fullDomainCount());
    body.put("WildcardDomainCount", instance.wildcardDomainCount());
    body.put("GenerateCsrMethod", instance.generateCsrMethod());
    body.put("Csr", instance.csrPem());
    body.put("KeyAlgorithm", instance.keyAlgorithm());
    body.put("ValidationMethod", instance.validationMethod());
    body.put("Domain", String.join(",", instance.domains()));
    body.put("PendingResult", instance.pendingResult());
    body.put("UnderReview", instance.underReview());
    body.put(
        "DomainValidationList",
        instance.domainValidations().stream()
            .map(
                record -> {
                  Map<String, Object> item = new LinkedHashMap<>();
                  item.put("Domain", record.domain());
                  item.put("RootDomain", record.rootDomain());
                  item.put("ValidationType", record.validationType());
                  item.put("ValidationKey", record.validationKey());
                  item.put("ValidationValue", record.validationValue());
                  return item;
                })
            .toList());
    IssuedCertificate certificate = instance.certificate();
    if (certificate != null) {
      body.put("CertificateId", certificate.certificateId());
      body.put("CertIdentifier", certificate.certIdentifier());
      body.put("CertificateNotBefore", certificate.notBefore().toEpochMilli());
      body.put("CertificateNotAfter", certificate.notAfter().toEpochMilli());
      body.put("Leaf", certificate.leafPem());
    }
    return body;
  }

  private CertificateInstance existing(String instanceId) {
    return emulator
        .instance(instanceId)
        .orElseThrow(() -> new NoSuchElementException("no instance " + instanceId));
  }

  private static InstanceOptions options(JsonNode body) {
    InstanceOptions options = InstanceOptions.defaults();
    if (body.has("fullDomainCount")) {
      options.fullDomainCount(integer(body, "fullDomainCount"));
    }
    if (body.has("wildcardDomainCount")) {
      options.wildcardDomainCount(integer(body, "wildcardDomainCount"));
    }
    if (body.has("stage")) {
      options.stage(stage(text(body, "stage", null)));
    }
    if (body.has("csr")) {
      options.csr(text(body, "csr", null));
    }
    if (body.has("validationMethod")) {
      options.validationMethod(text(body, "validationMethod", null));
    }
    if (body.has("instanceId")) {
      options.instanceId(text(body, "instanceId", null));
    }
    return options;
  }

  /** {@code inactive}, {@code filledIn}, {@code pending} or {@code normal}. */
  private static InstanceOptions.Stage stage(String text) {
    return switch (text) {
      case "inactive" -> InstanceOptions.Stage.INACTIVE;
      case "filledIn" -> InstanceOptions.Stage.FILLED_IN;
      case "pending" -> InstanceOptions.Stage.PENDING;
      case "normal" -> InstanceOptions.Stage.NORMAL;
      default -> throw new IllegalArgumentException("stage: inactive, filledIn, pending or normal");
    };
  }

  private static ChainMode chainMode(String text) {
    try {
      return ChainMode.valueOf(text);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("mode: LEAF_AND_INTERMEDIATE, WITH_ROOT or LEAF_ONLY");
    }
  }

  private static JsonNode body(RawHttpRequest request) {
    if (request.body().length == 0) {
      return JSON.createObjectNode();
    }
    try {
      JsonNode node = JSON.readTree(request.body());
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException("the body is a JSON object");
      }
      return node;
    } catch (IOException e) {
      throw new IllegalArgumentException("the body is not JSON");
    }
  }

  private static String text(JsonNode body, String field, String defaultValue) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value instanceof NullNode) {
      if (defaultValue == null) {
        throw new IllegalArgumentException(field + " is required");
      }
      return defaultValue;
    }
    if (!value.isTextual()) {
      throw new IllegalArgumentException(field + " is a string");
    }
    return value.asText();
  }

  private static int integer(JsonNode body, String field) {
    JsonNode value = body.get(field);
    if (value == null || !value.canConvertToInt() || !value.isIntegralNumber()) {
      throw new IllegalArgumentException(field + " is an integer");
    }
    return value.intValue();
  }

  /** A number of seconds (fractions allowed); absent or null gives the default. */
  private static Duration seconds(JsonNode body, String field, Duration defaultValue) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return defaultValue;
    }
    if (!value.isNumber() || value.asDouble() < 0) {
      throw new IllegalArgumentException(field + " is a number of seconds, not negative");
    }
    return Duration.ofMillis(Math.round(value.asDouble() * 1000));
  }

  private static void requirePost(String method) {
    requireMethod(method, "POST");
  }

  private static void requireMethod(String method, String expected) {
    if (!method.equals(expected)) {
      throw new WrongMethod(expected);
    }
  }

  /** Answered 405. */
  private static final class WrongMethod extends IllegalArgumentException {
    WrongMethod(String expected) {
      super("use " + expected);
    }
  }

  private static byte[] encoded(java.security.cert.X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpAnswer ok(Object body) {
    return json(200, body);
  }

  private static HttpAnswer error(int status, String message) {
    return json(status, Map.of("Error", message == null ? "" : message));
  }

  private static HttpAnswer json(int status, Object body) {
    try {
      return new HttpAnswer.Respond(
          status, "application/json;charset=utf-8", Map.of(), JSON.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("maps of strings and numbers always serialise", e);
    }
  }
}
