package dev.aliyuncsr.operator.cloud;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.DeleteCsrRequest;
import com.aliyun.cas20200407.models.GetCsrDetailRequest;
import com.aliyun.cas20200407.models.GetCsrDetailResponseBody;
import com.aliyun.cas20200407.models.GetUserCertificateDetailRequest;
import com.aliyun.cas20200407.models.GetUserCertificateDetailResponseBody;
import com.aliyun.cas20200407.models.ListCsrRequest;
import com.aliyun.cas20200407.models.ListCsrResponseBody;
import com.aliyun.cas20200407.models.UpdateCsrRequest;
import com.aliyun.cas20200407.models.UploadCsrRequest;
import com.aliyun.cas20200407.models.UploadCsrResponseBody;
import com.aliyun.tea.TeaException;
import com.aliyun.tea.TeaUnretryableException;
import com.aliyun.teaopenapi.models.Config;
import com.aliyun.teaopenapi.models.OpenApiRequest;
import com.aliyun.teaopenapi.models.Params;
import com.aliyun.teautil.models.RuntimeOptions;
import dev.aliyuncsr.operator.cloud.CasException.Kind;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The only class that speaks to the Alibaba SDK: the CSR actions ({@link CasClient}) and the V2.0
 * certificate-instance actions ({@link CasInstances}) on one SDK client. It turns every SDK answer
 * and exception into the project's types, and keeps request URLs out of messages: with SDK 2.0.1
 * every parameter, including the private key and the CSR, travels in the query string.
 */
public final class AlibabaCasClient implements CasClient, CasInstances {
  private static final long LIST_PAGE_SIZE = 50;
  private static final int LIST_MAX_PAGES = 200;
  private static final String API_VERSION = "2020-04-07";

  private final Client client;
  private final CasSettings settings;
  private final OneAttemptHttpClient http;
  private final com.aliyun.credentials.Client credentials;

  private AlibabaCasClient(
      Client client,
      CasSettings settings,
      OneAttemptHttpClient http,
      com.aliyun.credentials.Client credentials) {
    this.client = client;
    this.settings = settings;
    this.http = http;
    this.credentials = credentials;
  }

  /**
   * Builds a client on the given credentials, resolved eagerly so that a machine without usable
   * credentials fails at startup with the chain's explanation, not at the first upload.
   */
  public static AlibabaCasClient create(
      CasSettings settings, com.aliyun.credentials.Client credentials) throws CasException {
    try {
      credentials.getCredential();
    } catch (RuntimeException e) {
      throw noCredentials(e);
    }
    Config config =
        new Config()
            .setEndpoint(settings.endpoint())
            .setProtocol(settings.protocol())
            .setRegionId(settings.region())
            .setConnectTimeout((int) settings.connectTimeout().toMillis())
            .setReadTimeout((int) settings.readTimeout().toMillis());
    config.setCredential(credentials);
    try {
      // No transparent re-send by OkHttp: see OneAttemptHttpClient for the hook and why.
      OneAttemptHttpClient http =
          new OneAttemptHttpClient(
              settings.protocol(),
              settings.endpoint(),
              settings.connectTimeout(),
              settings.readTimeout());
      http.install();
      return new AlibabaCasClient(new Client(config), settings, http, credentials);
    } catch (Exception e) {
      throw new CasException(
          Kind.TERMINAL, "Configure", "InvalidConfig", null, firstLine(e.getMessage()));
    }
  }

  /** A client on the SDK's default credential chain (environment, RRSA, files, ECS role). */
  public static AlibabaCasClient create(CasSettings settings) throws CasException {
    com.aliyun.credentials.Client credentials;
    try {
      credentials = new com.aliyun.credentials.Client();
    } catch (RuntimeException e) {
      throw noCredentials(e);
    }
    return create(settings, credentials);
  }

  private static CasException noCredentials(RuntimeException e) {
    return new CasException(
        Kind.AUTH,
        "Credentials",
        "NoCredentials",
        null,
        "no usable Alibaba Cloud credentials: " + firstLine(e.getMessage()));
  }

  /**
   * credentials-java refreshes an STS session inside getCredential() when it is close to expiry (an
   * AssumeRole or AssumeRoleWithOIDC call of up to 15 s); asking now does that here, outside the
   * upload lease.
   */
  @Override
  public void refreshCredentials() throws CasException {
    try {
      credentials.getCredential();
    } catch (RuntimeException e) {
      throw noCredentials(e);
    }
  }

  @Override
  public UploadResult uploadCsr(String name, String csrPem, Optional<String> privateKeyPem)
      throws CasException {
    UploadCsrRequest request = new UploadCsrRequest().setName(name).setCsr(csrPem);
    privateKeyPem.ifPresent(request::setKey);
    UploadCsrResponseBody body =
        call(
            "UploadCsr",
            CallEffect.CREATES,
            () -> client.uploadCsrWithOptions(request, runtime()).getBody());
    if (body == null || body.getCsrId() == null) {
      // The service answered 2xx but without an id: the CSR may exist, so look it up.
      throw new CasException(
          Kind.AMBIGUOUS,
          "UploadCsr",
          "MissingCsrId",
          body == null ? null : body.getRequestId(),
          "UploadCsr answered without a CsrId");
    }
    return new UploadResult(body.getCsrId(), body.getRequestId());
  }

  @Override
  public List<CsrSummary> listCsr(String keyWord) throws CasException {
    List<CsrSummary> all = new ArrayList<>();
    for (long page = 1; page <= LIST_MAX_PAGES; page++) {
      CsrPage one = page(keyWord, page, LIST_PAGE_SIZE);
      all.addAll(one.items());
      if (one.items().isEmpty() || all.size() >= one.totalCount()) {
        break;
      }
    }
    return all;
  }

  @Override
  public CsrPage listCsrPage(long page, long pageSize) throws CasException {
    return page(null, page, pageSize);
  }

  private CsrPage page(String keyWord, long page, long pageSize) throws CasException {
    ListCsrRequest request = new ListCsrRequest().setCurrentPage(page).setShowSize(pageSize);
    if (keyWord != null) {
      request.setKeyWord(keyWord);
    }
    ListCsrResponseBody body =
        call(
            "ListCsr",
            CallEffect.REPEATABLE,
            () -> client.listCsrWithOptions(request, runtime()).getBody());
    List<ListCsrResponseBody.ListCsrResponseBodyCsrList> items =
        body == null || body.getCsrList() == null ? List.of() : body.getCsrList();
    List<CsrSummary> summaries = new ArrayList<>();
    for (var item : items) {
      if (item.getCsrId() != null) {
        summaries.add(
            new CsrSummary(
                item.getCsrId(),
                item.getName(),
                item.getKeySha2(),
                Boolean.TRUE.equals(item.getHasPrivateKey())));
      }
    }
    long total = body == null || body.getTotalCount() == null ? 0 : body.getTotalCount();
    return new CsrPage(summaries, total);
  }

  @Override
  public CsrDetail getCsrDetail(long csrId) throws CasException {
    GetCsrDetailRequest request = new GetCsrDetailRequest().setCsrId(csrId);
    GetCsrDetailResponseBody body =
        call(
            "GetCsrDetail",
            CallEffect.REPEATABLE,
            () -> client.getCsrDetailWithOptions(request, runtime()).getBody());
    if (body == null) {
      throw CasErrors.notACasAnswer("GetCsrDetail", CallEffect.REPEATABLE, null);
    }
    boolean hasKey = body.getPrivateKey() != null && !body.getPrivateKey().isBlank();
    return new CsrDetail(csrId, body.getCsr(), hasKey, body.getRequestId());
  }

  @Override
  public String updateCsr(long csrId, String privateKeyPem) throws CasException {
    UpdateCsrRequest request = new UpdateCsrRequest().setCsrId(csrId).setKey(privateKeyPem);
    var body =
        call(
            "UpdateCsr",
            CallEffect.REPEATABLE,
            () -> client.updateCsrWithOptions(request, runtime()).getBody());
    if (body == null) {
      throw CasErrors.notACasAnswer("UpdateCsr", CallEffect.REPEATABLE, null);
    }
    return body.getRequestId();
  }

  @Override
  public String deleteCsr(long csrId) throws CasException {
    DeleteCsrRequest request = new DeleteCsrRequest().setCsrId(csrId);
    var body =
        call(
            "DeleteCsr",
            CallEffect.REPEATABLE,
            () -> client.deleteCsrWithOptions(request, runtime()).getBody());
    if (body == null) {
      throw CasErrors.notACasAnswer("DeleteCsr", CallEffect.REPEATABLE, null);
    }
    return body.getRequestId();
  }

  // ---- Certificate instances (CAS V2.0): cas-instance-api.md ----

  @Override
  public InstanceDetail getInstanceDetail(String instanceId) throws CasException {
    Objects.requireNonNull(instanceId, "instanceId");
    Map<?, ?> body =
        callUntyped("GetInstanceDetail", CallEffect.REPEATABLE, Map.of("InstanceId", instanceId));
    return InstanceDetailAnswer.read(body, instanceId);
  }

  @Override
  public String updateInstance(
      String instanceId,
      String csrPem,
      List<String> domains,
      String keyAlgorithm,
      String validationMethod)
      throws CasException {
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("InstanceId", Objects.requireNonNull(instanceId, "instanceId"));
    parameters.put("GenerateCsrMethod", "upload");
    parameters.put("Csr", Objects.requireNonNull(csrPem, "csrPem"));
    if (!domains.isEmpty()) {
      parameters.put("Domain", String.join(",", domains));
    }
    if (keyAlgorithm != null) {
      parameters.put("KeyAlgorithm", keyAlgorithm);
    }
    if (validationMethod != null) {
      parameters.put("ValidationMethod", validationMethod);
    }
    Map<?, ?> body = callUntyped("UpdateInstance", CallEffect.CHANGES_INSTANCE, parameters);
    return InstanceDetailAnswer.text(body.get("RequestId"));
  }

  @Override
  public String applyCertificate(String instanceId) throws CasException {
    Objects.requireNonNull(instanceId, "instanceId");
    Map<?, ?> body =
        callUntyped(
            "ApplyCertificate", CallEffect.CHANGES_INSTANCE, Map.of("InstanceId", instanceId));
    return InstanceDetailAnswer.text(body.get("RequestId"));
  }

  @Override
  public IssuedCertificate getUserCertificateDetail(long certId) throws CasException {
    GetUserCertificateDetailRequest request =
        new GetUserCertificateDetailRequest().setCertId(certId);
    GetUserCertificateDetailResponseBody body =
        call(
            "GetUserCertificateDetail",
            CallEffect.REPEATABLE,
            () -> client.getUserCertificateDetailWithOptions(request, runtime()).getBody());
    if (body == null) {
      throw CasErrors.notACasAnswer("GetUserCertificateDetail", CallEffect.REPEATABLE, null);
    }
    // Only the fields below are read: never Key (or any other private-key field) of the answer.
    return new IssuedCertificate(
        body.getCert(),
        body.getId() == null ? certId : body.getId(),
        body.getInstanceId(),
        body.getCommon(),
        body.getSans(),
        body.getSerialNo(),
        body.getStartDate(),
        body.getEndDate(),
        body.getRequestId());
  }

  /**
   * An action SDK 2.0.1 has no typed method for, called as its generated methods call theirs
   * (contract §1): RPC, every parameter in the query, the JSON body as a map. The protocol here is
   * the generated code's; the client's {@code Config.protocol} takes precedence over it.
   */
  private Map<?, ?> callUntyped(String action, CallEffect effect, Map<String, Object> parameters)
      throws CasException {
    Params params =
        new Params()
            .setAction(action)
            .setVersion(API_VERSION)
            .setProtocol("HTTPS")
            .setPathname("/")
            .setMethod("POST")
            .setAuthType("AK")
            .setStyle("RPC")
            .setReqBodyType("formData")
            .setBodyType("json");
    Map<String, ?> result =
        call(
            action,
            effect,
            () ->
                client.callApi(
                    params,
                    new OpenApiRequest().setQuery(com.aliyun.openapiutil.Client.query(parameters)),
                    runtime()));
    Object body = result == null ? null : result.get("body");
    if (body instanceof Map<?, ?> map) {
      return map;
    }
    throw CasErrors.notACasAnswer(
        action, effect, body == null ? null : body.getClass().getSimpleName());
  }

  // The SDK's own retry stays off: it would resend a non-idempotent UploadCsr after a timeout.
  private RuntimeOptions runtime() {
    RuntimeOptions options = new RuntimeOptions();
    options.setAutoretry(false);
    options.setConnectTimeout((int) settings.connectTimeout().toMillis());
    options.setReadTimeout((int) settings.readTimeout().toMillis());
    return options;
  }

  private interface SdkCall<T> {
    T run() throws Exception;
  }

  /**
   * What a call may have done in CAS when its answer is unknown, which decides what each of its
   * failures means (see {@link CasErrors#kindOf(String, int, CallEffect)}).
   */
  public enum CallEffect {
    /**
     * Reads, or changes that are safe to send again (UpdateCsr, DeleteCsr): a server or transport
     * failure is retried.
     */
    REPEATABLE,
    /** Creates a CSR (UploadCsr): only a refusal by the gateway proves that nothing was stored. */
    CREATES,
    /**
     * Changes a certificate instance (UpdateInstance, ApplyCertificate; the application is paid and
     * has no client token): a refusal by the gateway, or the action's own refusal of this instance
     * (NotFound, OperationDenied.*), proves that nothing changed.
     */
    CHANGES_INSTANCE
  }

  private <T> T call(String action, CallEffect effect, SdkCall<T> sdkCall) throws CasException {
    try {
      http.ensure();
    } catch (Exception e) {
      // Nothing was sent: without the guard, a call could be re-sent silently.
      throw new CasException(
          Kind.RETRYABLE,
          action,
          "ClientSetup",
          null,
          action
              + " was not sent: the HTTP client could not be prepared ("
              + e.getClass().getSimpleName()
              + ")");
    }
    try {
      return sdkCall.run();
    } catch (Exception e) {
      throw CasErrors.classify(action, effect, e);
    }
  }

  static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  /**
   * What an answer with this CAS error code and HTTP status means after a CSR action (see {@link
   * CasErrors}); public so that the protocol's simulation sorts its faults exactly as this client
   * does.
   */
  public static Kind kindOf(String code, int httpStatus, boolean createsResource) {
    return kindOf(code, httpStatus, createsResource ? CallEffect.CREATES : CallEffect.REPEATABLE);
  }

  /** What an answer with this CAS error code and HTTP status means after a call with the effect. */
  public static Kind kindOf(String code, int httpStatus, CallEffect effect) {
    return CasErrors.kindOf(code, httpStatus, effect);
  }

  /** Sorts SDK exceptions into {@link Kind}s. Package-private for tests. */
  static final class CasErrors {
    private CasErrors() {}

    static CasException classify(String action, CallEffect effect, Exception e) {
      if (e instanceof TeaException tea) {
        return fromServiceError(action, effect, tea);
      }
      if (e instanceof TeaUnretryableException) {
        return fromTransportError(action, effect, e);
      }
      // A 2xx or 5xx answer that is not JSON (an HTML proxy page, say): its status is lost, so an
      // upload or an application may have happened.
      return notACasAnswer(action, effect, isEmptyBody(e) ? null : e.getClass().getSimpleName());
    }

    /**
     * An answer that is not a CAS response: its status is lost or it says nothing, so the call may
     * have been carried out.
     *
     * @param what what came instead, for the message; null for an empty body
     */
    static CasException notACasAnswer(String action, CallEffect effect, String what) {
      Kind kind = effect == CallEffect.REPEATABLE ? Kind.RETRYABLE : Kind.AMBIGUOUS;
      if (what == null) {
        return new CasException(
            kind, action, "EmptyResponse", null, action + " answered without a body");
      }
      return new CasException(
          kind,
          action,
          "UnreadableResponse",
          null,
          action + " answered something that is not a CAS response (" + what + ")");
    }

    /**
     * tea-util's {@code readAsJSON} on an empty body: "Error: convert to JSON, response is:\n"
     * followed by nothing. Only the ending is looked at; the message is never repeated.
     */
    private static boolean isEmptyBody(Exception e) {
      String message = e.getMessage();
      return message != null
          && message.startsWith("Error: convert to JSON")
          && message.strip().endsWith("response is:");
    }

    private static CasException fromServiceError(
        String action, CallEffect effect, TeaException tea) {
      String code =
          tea.getCode() == null || "null".equals(tea.getCode()) ? "Unknown" : tea.getCode();
      int status = tea.getStatusCode() == null ? 0 : tea.getStatusCode();
      String requestId = stringData(tea, "RequestId");
      Kind kind = kindOf(code, status, effect);
      String message =
          action
              + " failed with "
              + code
              + " (HTTP "
              + status
              + ")"
              + serviceMessage(tea)
              + (requestId == null ? "" : ", request id " + requestId);
      return new CasException(kind, action, code, requestId, message);
    }

    /**
     * The kind of a service error. After a call that creates something (UploadCsr), only the codes
     * the gateway checks before the action runs prove that nothing was stored (see {@link
     * #checkedBeforeTheAction}); every other answer, 5xx and unknown codes included, means "maybe
     * stored". After a change to a certificate instance, so do the action's own refusals of the
     * instance ({@link #refusedByTheInstance}). The README's tables list the same classes.
     */
    static Kind kindOf(String code, int status, CallEffect effect) {
      if (effect != CallEffect.REPEATABLE) {
        Kind refused = checkedBeforeTheAction(code);
        if (refused == null && effect == CallEffect.CHANGES_INSTANCE) {
          refused = refusedByTheInstance(code);
        }
        return refused == null ? Kind.AMBIGUOUS : refused;
      }
      if (code.startsWith("Throttling")) {
        return Kind.RETRYABLE;
      }
      if (code.equals("SignatureNonceUsed")) {
        return Kind.RETRYABLE;
      }
      if (isCredentialCode(code)) {
        return Kind.AUTH;
      }
      if (code.contains("NotFound") || code.contains("NotExist")) {
        return code.startsWith("InvalidAction") || code.startsWith("InvalidApi")
            ? Kind.TERMINAL
            : Kind.NOT_FOUND;
      }
      if (status >= 500 || code.equals("InternalError") || code.equals("ServiceUnavailable")) {
        return Kind.RETRYABLE;
      }
      return Kind.TERMINAL;
    }

    /**
     * For codes the gateway answers before it runs the action (routing, authentication, RAM, flow
     * control, parameter checks), the kind; null for every other code. {@code SignatureNonceUsed}
     * is deliberately not here: it is what a re-send of a stored request gets.
     */
    static Kind checkedBeforeTheAction(String code) {
      if (code.startsWith("Throttling")) {
        return Kind.RETRYABLE;
      }
      if (isCredentialCode(code)) {
        return Kind.AUTH;
      }
      if (code.startsWith("Missing")
          || code.startsWith("InvalidParameter")
          || code.equals("InvalidVersion")
          || code.startsWith("InvalidAction")
          || code.startsWith("InvalidApi")) {
        return Kind.TERMINAL;
      }
      return null;
    }

    /**
     * For the codes with which UpdateInstance or ApplyCertificate refuse the instance itself (it is
     * not in this account, or its state does not allow the call: contract §5), the kind; null for
     * every other code. They prove that nothing changed because every call is one HTTP attempt
     * ({@link OneAttemptHttpClient}): no silent re-send of an applied request can meet them.
     */
    static Kind refusedByTheInstance(String code) {
      if (code.contains("NotFound") || code.contains("NotExist")) {
        return Kind.NOT_FOUND;
      }
      if (code.startsWith("OperationDenied")) {
        return Kind.TERMINAL;
      }
      return null;
    }

    private static boolean isCredentialCode(String code) {
      return code.startsWith("InvalidAccessKeyId")
          || code.startsWith("SignatureDoesNotMatch")
          || code.startsWith("IncompleteSignature")
          || code.startsWith("InvalidSecurityToken")
          || code.startsWith("InvalidTimeStamp")
          || code.startsWith("Forbidden")
          || code.equals("NoPermission");
    }

    private static CasException fromTransportError(String action, CallEffect effect, Exception e) {
      boolean neverSent = false;
      boolean timedOut = false;
      Throwable root = e;
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        neverSent |=
            t instanceof ConnectException
                || t instanceof UnknownHostException
                || t instanceof NoRouteToHostException;
        timedOut |= t instanceof InterruptedIOException;
        root = t;
      }
      String code = timedOut ? "Timeout" : "TransportError";
      Kind kind = neverSent || effect == CallEffect.REPEATABLE ? Kind.RETRYABLE : Kind.AMBIGUOUS;
      // Only the exception's type: OkHttp's messages can name the request URL.
      return new CasException(
          kind,
          action,
          code,
          null,
          action
              + " did not complete: "
              + root.getClass().getSimpleName()
              + (neverSent ? " (not sent)" : ""));
    }

    private static String serviceMessage(TeaException tea) {
      String message = stringData(tea, "Message");
      if (message == null || message.isBlank()) {
        return "";
      }
      message = firstLine(message);
      // The gateway can quote the string it signed, which holds the query: never repeat it.
      int quoted = message.indexOf("server string to sign is");
      if (quoted >= 0) {
        message = message.substring(0, quoted).trim();
      }
      // The key and the CSR travel in the query (Key=, Csr=): a message that may quote them is
      // dropped whole.
      if (message.contains("BEGIN") || message.contains("Key=") || message.contains("Csr=")) {
        return "";
      }
      return ": " + (message.length() > 200 ? message.substring(0, 200) + "..." : message);
    }

    private static String stringData(TeaException tea, String field) {
      if (tea.getData() == null) {
        return null;
      }
      Object value = tea.getData().get(field);
      return value == null ? null : value.toString();
    }
  }
}
