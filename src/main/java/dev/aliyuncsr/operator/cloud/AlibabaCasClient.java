package dev.aliyuncsr.operator.cloud;

import com.aliyun.cas20200407.Client;
import com.aliyun.cas20200407.models.DeleteCsrRequest;
import com.aliyun.cas20200407.models.GetCsrDetailRequest;
import com.aliyun.cas20200407.models.GetCsrDetailResponseBody;
import com.aliyun.cas20200407.models.ListCsrRequest;
import com.aliyun.cas20200407.models.ListCsrResponseBody;
import com.aliyun.cas20200407.models.UpdateCsrRequest;
import com.aliyun.cas20200407.models.UploadCsrRequest;
import com.aliyun.cas20200407.models.UploadCsrResponseBody;
import com.aliyun.tea.TeaException;
import com.aliyun.tea.TeaUnretryableException;
import com.aliyun.teaopenapi.models.Config;
import com.aliyun.teautil.models.RuntimeOptions;
import dev.aliyuncsr.operator.cloud.CasException.Kind;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The only class that speaks to the Alibaba SDK. It turns every SDK answer and exception into the
 * project's types, and keeps request URLs out of messages: with SDK 2.0.1 every parameter,
 * including the private key, travels in the query string.
 */
public final class AlibabaCasClient implements CasClient {
  private static final long LIST_PAGE_SIZE = 50;
  private static final int LIST_MAX_PAGES = 200;

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
        call("UploadCsr", true, () -> client.uploadCsrWithOptions(request, runtime()).getBody());
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
        call("ListCsr", false, () -> client.listCsrWithOptions(request, runtime()).getBody());
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
            false,
            () -> client.getCsrDetailWithOptions(request, runtime()).getBody());
    if (body == null) {
      throw emptyResponse("GetCsrDetail");
    }
    boolean hasKey = body.getPrivateKey() != null && !body.getPrivateKey().isBlank();
    return new CsrDetail(csrId, body.getCsr(), hasKey, body.getRequestId());
  }

  @Override
  public String updateCsr(long csrId, String privateKeyPem) throws CasException {
    UpdateCsrRequest request = new UpdateCsrRequest().setCsrId(csrId).setKey(privateKeyPem);
    var body =
        call("UpdateCsr", false, () -> client.updateCsrWithOptions(request, runtime()).getBody());
    if (body == null) {
      throw emptyResponse("UpdateCsr");
    }
    return body.getRequestId();
  }

  @Override
  public String deleteCsr(long csrId) throws CasException {
    DeleteCsrRequest request = new DeleteCsrRequest().setCsrId(csrId);
    var body =
        call("DeleteCsr", false, () -> client.deleteCsrWithOptions(request, runtime()).getBody());
    if (body == null) {
      throw emptyResponse("DeleteCsr");
    }
    return body.getRequestId();
  }

  /**
   * A 2xx answer without a body is not a CAS response. Only used for calls that create nothing
   * (UploadCsr has its own "maybe stored" answer), so asking again is safe.
   */
  private static CasException emptyResponse(String action) {
    return new CasException(
        Kind.RETRYABLE, action, "EmptyResponse", null, action + " answered without a body");
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

  private <T> T call(String action, boolean createsResource, SdkCall<T> sdkCall)
      throws CasException {
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
      throw CasErrors.classify(action, createsResource, e);
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
   * What an answer with this CAS error code and HTTP status means for the caller (see {@link
   * CasErrors}); public so that the protocol's simulation sorts its faults exactly as this client
   * does.
   */
  public static Kind kindOf(String code, int httpStatus, boolean createsResource) {
    return CasErrors.kindOf(code, httpStatus, createsResource);
  }

  /** Sorts SDK exceptions into {@link Kind}s. Package-private for tests. */
  static final class CasErrors {
    private CasErrors() {}

    static CasException classify(String action, boolean createsResource, Exception e) {
      if (e instanceof TeaException tea) {
        return fromServiceError(action, createsResource, tea);
      }
      if (e instanceof TeaUnretryableException) {
        return fromTransportError(action, createsResource, e);
      }
      // A 2xx or 5xx answer that is not JSON (an HTML proxy page, say): its status is lost, so an
      // upload may have happened.
      if (isEmptyBody(e)) {
        return new CasException(
            createsResource ? Kind.AMBIGUOUS : Kind.RETRYABLE,
            action,
            "EmptyResponse",
            null,
            action + " answered without a body");
      }
      return new CasException(
          createsResource ? Kind.AMBIGUOUS : Kind.RETRYABLE,
          action,
          "UnreadableResponse",
          null,
          action
              + " answered something that is not a CAS response ("
              + e.getClass().getSimpleName()
              + ")");
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
        String action, boolean createsResource, TeaException tea) {
      String code =
          tea.getCode() == null || "null".equals(tea.getCode()) ? "Unknown" : tea.getCode();
      int status = tea.getStatusCode() == null ? 0 : tea.getStatusCode();
      String requestId = stringData(tea, "RequestId");
      Kind kind = kindOf(code, status, createsResource);
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
     * stored". The README's table lists the same classes.
     */
    static Kind kindOf(String code, int status, boolean createsResource) {
      if (createsResource) {
        Kind refusedBeforeTheAction = checkedBeforeTheAction(code);
        return refusedBeforeTheAction == null ? Kind.AMBIGUOUS : refusedBeforeTheAction;
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

    private static boolean isCredentialCode(String code) {
      return code.startsWith("InvalidAccessKeyId")
          || code.startsWith("SignatureDoesNotMatch")
          || code.startsWith("IncompleteSignature")
          || code.startsWith("InvalidSecurityToken")
          || code.startsWith("InvalidTimeStamp")
          || code.startsWith("Forbidden")
          || code.equals("NoPermission");
    }

    private static CasException fromTransportError(
        String action, boolean createsResource, Exception e) {
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
      Kind kind = neverSent || !createsResource ? Kind.RETRYABLE : Kind.AMBIGUOUS;
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
      if (message.contains("-----BEGIN") || message.contains("Key=")) {
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
