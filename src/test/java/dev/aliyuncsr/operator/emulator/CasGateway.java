package dev.aliyuncsr.operator.emulator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one HTTP request into one answer, in the order the Alibaba gateway works: route (action and
 * version), authenticate, admit (RAM, flow control, injected faults), run the action, then maybe
 * lose the response. Requests of version 2015-04-01 go to STS ({@link StsActions}), all others to
 * CAS 2020-04-07 (the CSR actions, {@link CsrActions}, and the certificate-instance actions, {@link
 * InstanceActions}), on the same port: the real endpoints differ only by host name. Every request
 * is counted exactly once, under its action and outcome, before the answer leaves; a call naming a
 * certificate instance, or a CsrId, is counted for that instance or CsrId too.
 */
final class CasGateway {
  static final String API_VERSION = "2020-04-07";

  /** The counter key for requests that name no action. */
  static final String NO_ACTION = "(none)";

  static final String OK = "OK";
  static final String LOST_RESPONSE = "LostResponse";

  private static final int LOST_NONCE_CAPACITY = 10_000;

  private static final Logger LOG = LoggerFactory.getLogger(CasGateway.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RequestAuthenticator authenticator;
  private final FaultSwitches faults;
  private final CsrActions actions;
  private final InstanceActions instances;
  private final StsActions sts;
  private final CallCounters counters;
  private final Supplier<String> hostId;

  /** Nonces of requests whose response was lost: a request repeating one is a re-send. */
  private final Set<String> lostNonces =
      Collections.newSetFromMap(
          Collections.synchronizedMap(
              new LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > LOST_NONCE_CAPACITY;
                }
              }));

  CasGateway(
      RequestAuthenticator authenticator,
      FaultSwitches faults,
      CsrActions actions,
      InstanceActions instances,
      StsActions sts,
      CallCounters counters,
      Supplier<String> hostId) {
    this.authenticator = authenticator;
    this.faults = faults;
    this.actions = actions;
    this.instances = instances;
    this.sts = sts;
    this.counters = counters;
    this.hostId = hostId;
  }

  HttpAnswer handle(RawHttpRequest request) {
    java.time.Instant arrived = java.time.Instant.now();
    String requestId = UUID.randomUUID().toString().toUpperCase(Locale.ROOT);
    String action = request.header("x-acs-action");
    String nonce = request.header("x-acs-signature-nonce");
    boolean reachedAction = false;
    String accountId = null;
    String instanceId = null;
    Long csrId = null;
    HttpAnswer answer;
    String outcome;
    try {
      QueryParameters query = parseQuery(request);
      if (action == null) {
        action = query.get("Action").orElse(null);
      }
      instanceId = instances.instanceNamedBy(action, query).orElse(null);
      csrId = CsrActions.csrIdNamedBy(action, query).orElse(null);
      Map<String, Object> body;
      if (StsActions.API_VERSION.equals(version(request, query))) {
        QueryParameters parameters = withFormBody(request, query);
        // AssumeRole counts for the caller's account, AssumeRoleWithOIDC for the role's.
        accountId =
            authenticator
                .claimedKey(request, parameters)
                .map(AccessKeyRegistry.AccessKey::accountId)
                .orElseGet(() -> sts.accountOfRole(parameters));
        if (action == null || action.isEmpty()) {
          throw CasError.missingAction();
        }
        if (!StsActions.NAMES.contains(action)) {
          throw CasError.actionNotFound();
        }
        AccessKeyRegistry.AccessKey caller = null;
        if (action.equals("AssumeRole")) {
          // credentials-java signs AssumeRole with v1 (HMAC-SHA1) query parameters; an
          // ACS3-signed call (a tea OpenAPI client) is verified as ACS3.
          caller =
              request.header("authorization") != null
                  ? authenticator.authenticate(request, query)
                  : authenticator.authenticateV1(request.method(), parameters);
          accountId = caller.accountId();
        }
        faults.admit(caller == null ? "" : caller.id(), accountId == null ? "" : accountId, action);
        reachedAction = true;
        body =
            caller != null
                ? sts.assumeRole(parameters, caller)
                : sts.assumeRoleWithOidc(parameters);
      } else {
        // Calls are counted for the account whose AccessKey they name, whatever their outcome.
        accountId =
            authenticator
                .claimedKey(request, query)
                .map(AccessKeyRegistry.AccessKey::accountId)
                .orElse(null);
        // 1. Route: a known action of this API version.
        route(request, query, action);
        // 2. Authenticate, 3. admit.
        AccessKeyRegistry.AccessKey key = authenticator.authenticate(request, query);
        accountId = key.accountId();
        faults.admit(key.id(), accountId, action);
        // 4. Run the action; from here on the call counts as processed.
        reachedAction = true;
        body =
            InstanceActions.NAMES.contains(action)
                ? instances.handle(action, query, accountId)
                : actions.handle(action, query, accountId);
      }
      answer = success(body, requestId);
      outcome = OK;
    } catch (CasError refused) {
      CasError error = refused;
      CasError resendAnswer = faults.resendAnswer();
      if (resendAnswer != null
          && refused.code().equals("SignatureNonceUsed")
          && lostNonces.contains(nonce)) {
        // A transparent re-send of a request that was processed and lost (see the soak's trace).
        error = resendAnswer;
      }
      answer = error(error, requestId);
      outcome = error.code();
    } catch (RuntimeException bug) {
      // Only the type and place: a message might quote request data.
      LOG.warn(
          "CAS emulator failed on {}: {} at {}",
          action,
          bug.getClass().getName(),
          bug.getStackTrace().length > 0 ? bug.getStackTrace()[0] : "?");
      CasError error = CasError.internalError();
      answer = error(error, requestId);
      outcome = error.code();
    }
    String counterKey = action == null || action.isEmpty() ? NO_ACTION : action;
    // 5. A lost response: the work is done (a CSR may be stored), the client learns nothing.
    if (reachedAction && faults.loseResponse(counterKey)) {
      answer = HttpAnswer.drop();
      outcome = LOST_RESPONSE;
      if (nonce != null) {
        lostNonces.add(nonce);
      }
    } else if (OK.equals(outcome) && faults.emptyAnswer(counterKey)) {
      // A 2xx without a body: the work is done, the client gets nothing to read.
      answer =
          new HttpAnswer.Respond(
              200,
              "application/json;charset=utf-8",
              Map.of("x-acs-request-id", requestId),
              new byte[0]);
    }
    counters.record(accountId, counterKey, outcome);
    if (accountId != null) {
      counters.arrived(accountId, arrived);
    }
    if (instanceId != null) {
      counters.recordForInstance(instanceId, counterKey, outcome);
    }
    if (csrId != null) {
      counters.recordForCsr(csrId, counterKey, outcome);
    }
    return delayed(answer);
  }

  private static QueryParameters parseQuery(RawHttpRequest request) {
    try {
      return QueryParameters.parse(request.rawQuery());
    } catch (IllegalArgumentException e) {
      throw CasError.malformedQuery();
    }
  }

  private static String version(RawHttpRequest request, QueryParameters query) {
    String version = request.header("x-acs-version");
    return version != null ? version : query.get("Version").orElse(null);
  }

  /**
   * The query plus, for a form-encoded body (credentials-java's AssumeRoleWithOIDC), the body's
   * parameters: STS reads both, and v1 signatures cover both.
   */
  private static QueryParameters withFormBody(RawHttpRequest request, QueryParameters query) {
    String contentType = request.header("content-type");
    if (contentType == null
        || !contentType.toLowerCase(java.util.Locale.ROOT).contains("x-www-form-urlencoded")
        || request.body().length == 0) {
      return query;
    }
    try {
      QueryParameters form =
          QueryParameters.parse(
              new String(request.body(), java.nio.charset.StandardCharsets.UTF_8));
      java.util.List<QueryParameters.Parameter> all = new java.util.ArrayList<>(query.asList());
      all.addAll(form.asList());
      return QueryParameters.of(all);
    } catch (IllegalArgumentException e) {
      throw CasError.malformedQuery();
    }
  }

  private static void route(RawHttpRequest request, QueryParameters query, String action) {
    if (action == null || action.isEmpty()) {
      throw CasError.missingAction();
    }
    String version = version(request, query);
    if (!API_VERSION.equals(version)) {
      throw CasError.invalidVersion();
    }
    if (!CsrActions.NAMES.contains(action) && !InstanceActions.NAMES.contains(action)) {
      throw CasError.actionNotFound();
    }
  }

  /** Injected latency comes on top of every answer, dropped ones included. */
  private HttpAnswer delayed(HttpAnswer answer) {
    Duration latency = faults.latency();
    if (!latency.isZero()) {
      try {
        Thread.sleep(latency.toMillis(), latency.toNanosPart() % 1_000_000);
      } catch (InterruptedException e) {
        // The emulator is closing; the connection goes with it.
        Thread.currentThread().interrupt();
        return HttpAnswer.drop();
      }
    }
    return answer;
  }

  private static HttpAnswer success(Map<String, Object> fields, String requestId) {
    Map<String, Object> body = new LinkedHashMap<>(fields);
    body.put("RequestId", requestId);
    return json(200, body, requestId);
  }

  private HttpAnswer error(CasError error, String requestId) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("RequestId", requestId);
    body.put("HostId", hostId.get());
    body.put("Code", error.code());
    body.put("Message", error.getMessage());
    body.put(
        "Recommend",
        "https://api.aliyun.com/troubleshoot?q="
            + error.code()
            + "&product=cas&requestId="
            + requestId);
    return json(error.status(), body, requestId);
  }

  private static HttpAnswer json(int status, Map<String, Object> body, String requestId) {
    try {
      return new HttpAnswer.Respond(
          status,
          "application/json;charset=utf-8",
          Map.of("x-acs-request-id", requestId),
          JSON.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a map of strings and numbers always serialises", e);
    }
  }
}
