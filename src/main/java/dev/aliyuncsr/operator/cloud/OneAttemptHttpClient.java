package dev.aliyuncsr.operator.cloud;

import com.aliyun.tea.okhttp.ClientHelper;
import java.net.MalformedURLException;
import java.net.URL;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;

/**
 * Makes every CAS call one HTTP attempt: no transparent re-send by OkHttp.
 *
 * <p><b>Why.</b> OkHttp's {@code retryOnConnectionFailure} is on by default. When a pooled
 * keep-alive connection drops after the server has read (and stored) an UploadCsr, OkHttp sends the
 * identical request again on a new connection, and the caller only sees the second answer: a {@code
 * SignatureNonceUsed}, a 503, or even a second stored CSR. SDK 2.0.1 (tea 1.3.0) offers no option
 * for it: {@code OkHttpClientBuilder} never calls {@code retryOnConnectionFailure(false)}.
 *
 * <p><b>The hook.</b> tea builds one {@link OkHttpClient} per key and keeps it in the public static
 * map {@link ClientHelper#clients}; every call gets its client from there through {@link
 * ClientHelper#getOkHttpClient(String, int, Map)} (host and port of the request URL, and the call's
 * runtime options, of which proxies, {@code connectTimeout}, {@code readTimeout} and {@code
 * ignoreSSL} are part of the key). So this class asks tea itself for the client of exactly the
 * options {@link AlibabaCasClient} passes on every call (its {@code RuntimeOptions}: connect and
 * read timeout, nothing else), finds the key tea filed it under by identity (the key function is
 * private, so it is not re-implemented here), and replaces that entry with {@code
 * client.newBuilder().retryOnConnectionFailure(false)...}. The replacement shares tea's connection
 * pool, TLS and proxy settings. This uses only public API, needs no reflection and no fork of the
 * SDK, and it is checked again before every call ({@link #ensure()}), so an entry that was evicted
 * or overwritten is hardened again before it is used. Other entries of the map (other endpoints or
 * options) are left alone. Rejected alternatives: an SDK-level option (there is none in 2.0.1); a
 * custom {@code Tea.doAction} (would mean re-implementing the signing path); reflection on tea's
 * private key function (breaks silently on an upgrade, where this lookup fails loudly).
 *
 * <p><b>What else changes.</b> Redirects are not followed (the CAS gateway does not redirect; a
 * followed redirect would be a second request). {@code callTimeout} is set to connect timeout +
 * read timeout, so one CAS call, UploadCsr included, is in flight for at most that long on this
 * side: OkHttp's read timeout alone only bounds each single read, not the whole call. The
 * operator's own retry (with a lookup first after an UploadCsr) replaces OkHttp's, including for a
 * connect failure on one of several addresses, which is now reported as "not sent".
 */
final class OneAttemptHttpClient {
  private final String host;
  private final int port;
  private final Map<String, Object> runtimeOptions;
  private final Duration callTimeout;
  private volatile String cacheKey;

  /**
   * @param protocol {@code HTTP} or {@code HTTPS}, as in the SDK's config
   * @param endpoint {@code host} or {@code host:port}, as in the SDK's config
   */
  OneAttemptHttpClient(
      String protocol, String endpoint, Duration connectTimeout, Duration readTimeout)
      throws MalformedURLException {
    // tea builds the request URL as protocol://endpoint/... and keys its cache on that URL's host
    // and getPort() (-1 when the endpoint names no port).
    URL url = new URL(protocol.toLowerCase(Locale.ROOT) + "://" + endpoint + "/");
    this.host = url.getHost();
    this.port = url.getPort();
    Map<String, Object> options = new HashMap<>();
    options.put("connectTimeout", (int) connectTimeout.toMillis());
    options.put("readTimeout", (int) readTimeout.toMillis());
    this.runtimeOptions = Map.copyOf(options);
    this.callTimeout = connectTimeout.plus(readTimeout);
  }

  /** Hardens the cached client before the first call; fails if tea cannot build one. */
  void install() throws Exception {
    ensure();
  }

  /** Makes sure the client tea will use for the next call makes one attempt only. Cheap. */
  void ensure() throws Exception {
    String key = cacheKey;
    if (key != null) {
      OkHttpClient cached = ClientHelper.clients.get(key);
      if (cached != null && isHardened(cached)) {
        return;
      }
    }
    OkHttpClient teaClient =
        ClientHelper.getOkHttpClient(host, port, new HashMap<>(runtimeOptions));
    key = keyOf(teaClient);
    if (!isHardened(teaClient)) {
      ClientHelper.clients.replace(key, teaClient, harden(teaClient));
    }
    cacheKey = key;
  }

  /** The client tea would use now for this endpoint and these options; for tests. */
  OkHttpClient current() throws Exception {
    return ClientHelper.getOkHttpClient(host, port, new HashMap<>(runtimeOptions));
  }

  private static String keyOf(OkHttpClient client) {
    for (Map.Entry<String, OkHttpClient> entry : ClientHelper.clients.entrySet()) {
      if (entry.getValue() == client) {
        return entry.getKey();
      }
    }
    throw new IllegalStateException("tea returned an OkHttp client that it does not cache");
  }

  private boolean isHardened(OkHttpClient client) {
    return !client.retryOnConnectionFailure()
        && !client.followRedirects()
        && client.callTimeoutMillis() == callTimeout.toMillis();
  }

  private OkHttpClient harden(OkHttpClient client) {
    return client
        .newBuilder()
        .retryOnConnectionFailure(false)
        .followRedirects(false)
        .followSslRedirects(false)
        .callTimeout(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .build();
  }
}
