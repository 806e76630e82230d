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
import dev.aliyuncsr.operator.config.CasSettings;
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

  private AlibabaCasClient(Client client, CasSettings settings) {
    this.client = client;
    this.settings = settings;
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
      return new AlibabaCasClient(new Client(config), settings);
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
      ListCsrRequest request =
          new ListCsrRequest().setKeyWord(keyWord).setCurrentPage(page).setShowSize(LIST_PAGE_SIZE);
      ListCsrResponseBody body =
          call("ListCsr", false, () -> client.listCsrWithOptions(request, runtime()).getBody());
      List<ListCsrResponseBody.ListCsrResponseBodyCsrList> items =
          body == null || body.getCsrList() == null ? List.of() : body.getCsrList();
      for (var item : items) {
        if (item.getCsrId() != null) {
          all.add(
              new CsrSummary(
                  item.getCsrId(),
                  item.getName(),
                  item.getKeySha2(),
                  Boolean.TRUE.equals(item.getHasPrivateKey())));
        }
      }
      long total = body == null || body.getTotalCount() == null ? 0 : body.getTotalCount();
      if (items.isEmpty() || all.size() >= total) {
        break;
      }
    }
    return all;
  }

  @Override
  public CsrDetail getCsrDetail(long csrId) throws CasException {
    GetCsrDetailRequest request = new GetCsrDetailRequest().setCsrId(csrId);
    GetCsrDetailResponseBody body =
        call(
            "GetCsrDetail",
            false,
            () -> client.getCsrDetailWithOptions(request, runtime()).getBody());
    boolean hasKey = body.getPrivateKey() != null && !body.getPrivateKey().isBlank();
    return new CsrDetail(csrId, body.getCsr(), hasKey, body.getRequestId());
  }

  @Override
  public String updateCsr(long csrId, String privateKeyPem) throws CasException {
    UpdateCsrRequest request = new UpdateCsrRequest().setCsrId(csrId).setKey(privateKeyPem);
    return call(
        "UpdateCsr",
        false,
        () -> client.updateCsrWithOptions(request, runtime()).getBody().getRequestId());
  }

  @Override
  public String deleteCsr(long csrId) throws CasException {
    DeleteCsrRequest request = new DeleteCsrRequest().setCsrId(csrId);
    return call(
        "DeleteCsr",
        false,
        () -> client.deleteCsrWithOptions(request, runtime()).getBody().getRequestId());
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

  private static <T> T call(String action, boolean createsResource, SdkCall<T> sdkCall)
      throws CasException {
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

    static Kind kindOf(String code, int status, boolean createsResource) {
      if (code.startsWith("Throttling")) {
        return Kind.RETRYABLE;
      }
      if (code.equals("SignatureNonceUsed")) {
        // OkHttp silently resends a request whose connection dropped; the gateway then rejects
        // the replayed nonce although the first copy may have been stored.
        return createsResource ? Kind.AMBIGUOUS : Kind.RETRYABLE;
      }
      if (code.startsWith("InvalidAccessKeyId")
          || code.startsWith("SignatureDoesNotMatch")
          || code.startsWith("IncompleteSignature")
          || code.startsWith("InvalidSecurityToken")
          || code.startsWith("InvalidTimeStamp")
          || code.startsWith("Forbidden")
          || code.equals("NoPermission")) {
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
