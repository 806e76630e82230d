package dev.aliyuncsr.operator.emulator;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimal HTTP/1.1 server on 127.0.0.1, written on plain sockets because the emulator must be
 * able to close a connection after processing a request without sending a single response byte,
 * which the JDK's {@code HttpServer} does not allow. One thread per connection; keep-alive as the
 * client asks.
 */
final class LoopbackHttpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LoopbackHttpServer.class);

  /** Longer than any test pause, short enough that a soak run does not pile up idle threads. */
  private static final int IDLE_TIMEOUT_MILLIS = 120_000;

  private final int requestedPort;
  private final Function<RawHttpRequest, HttpAnswer> handler;
  private final Set<Socket> openConnections = ConcurrentHashMap.newKeySet();
  private final ExecutorService connectionThreads;
  private volatile ServerSocket serverSocket;
  private volatile boolean closed;

  private final javax.net.ServerSocketFactory sockets;

  LoopbackHttpServer(int port, Function<RawHttpRequest, HttpAnswer> handler) {
    this(port, handler, javax.net.ServerSocketFactory.getDefault());
  }

  /** With an {@code SSLServerSocketFactory}, serves HTTPS; everything else is the same. */
  LoopbackHttpServer(
      int port,
      Function<RawHttpRequest, HttpAnswer> handler,
      javax.net.ServerSocketFactory sockets) {
    this.sockets = sockets;
    this.requestedPort = port;
    this.handler = handler;
    this.connectionThreads = Executors.newCachedThreadPool(daemonThreads("cas-emulator-conn-"));
  }

  synchronized void start() {
    if (serverSocket != null || closed) {
      throw new IllegalStateException("an emulator starts once");
    }
    try {
      ServerSocket socket = sockets.createServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), requestedPort), 512);
      serverSocket = socket;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind 127.0.0.1:" + requestedPort, e);
    }
    Thread acceptor = daemonThreads("cas-emulator-accept-").newThread(this::acceptLoop);
    acceptor.start();
  }

  int port() {
    ServerSocket socket = serverSocket;
    if (socket == null) {
      throw new IllegalStateException("the emulator has not been started");
    }
    return socket.getLocalPort();
  }

  @Override
  public void close() {
    closed = true;
    ServerSocket socket = serverSocket;
    if (socket != null) {
      closeQuietly(socket);
    }
    openConnections.forEach(LoopbackHttpServer::closeQuietly);
    // Interrupts handlers sleeping on injected latency.
    connectionThreads.shutdownNow();
    try {
      connectionThreads.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket connection;
      try {
        connection = serverSocket.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("CAS emulator stopped accepting connections: {}", e.getClass().getSimpleName());
        }
        return;
      }
      openConnections.add(connection);
      try {
        connectionThreads.execute(() -> serve(connection));
      } catch (RuntimeException rejectedWhileClosing) {
        openConnections.remove(connection);
        closeQuietly(connection);
      }
    }
  }

  private void serve(Socket connection) {
    try (connection) {
      connection.setTcpNoDelay(true);
      connection.setSoTimeout(IDLE_TIMEOUT_MILLIS);
      HttpRequestReader reader =
          new HttpRequestReader(new BufferedInputStream(connection.getInputStream(), 16 * 1024));
      OutputStream out = new BufferedOutputStream(connection.getOutputStream(), 16 * 1024);
      while (!closed) {
        RawHttpRequest request;
        try {
          request = reader.next();
        } catch (HttpRequestReader.MalformedRequestException e) {
          write(out, badRequest(), false);
          return;
        }
        if (request == null) {
          return;
        }
        HttpAnswer answer = handler.apply(request);
        if (answer instanceof HttpAnswer.Respond response) {
          boolean keepAlive = request.wantsKeepAlive() && !closed;
          write(out, response, keepAlive);
          if (!keepAlive) {
            return;
          }
        } else {
          // Lost response: everything was read, so closing sends a clean FIN and no bytes.
          return;
        }
      }
    } catch (SocketException | EOFException | SocketTimeoutException e) {
      // The client went away, or was idle too long: nothing to report.
    } catch (IOException e) {
      LOG.debug("CAS emulator connection ended: {}", e.getClass().getSimpleName());
    } finally {
      openConnections.remove(connection);
    }
  }

  private static void write(OutputStream out, HttpAnswer.Respond response, boolean keepAlive)
      throws IOException {
    StringBuilder text = new StringBuilder(256);
    text.append("HTTP/1.1 ")
        .append(response.status())
        .append(' ')
        .append(reasonPhrase(response.status()))
        .append("\r\n");
    text.append("Content-Type: ").append(response.contentType()).append("\r\n");
    text.append("Content-Length: ").append(response.body().length).append("\r\n");
    for (Map.Entry<String, String> header : response.headers().entrySet()) {
      text.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
    }
    text.append("Connection: ").append(keepAlive ? "keep-alive" : "close").append("\r\n\r\n");
    out.write(text.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.write(response.body());
    out.flush();
  }

  private static HttpAnswer.Respond badRequest() {
    return new HttpAnswer.Respond(
        400,
        "text/plain;charset=utf-8",
        Map.of(),
        "malformed HTTP request\n".getBytes(StandardCharsets.UTF_8));
  }

  private static String reasonPhrase(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 409 -> "Conflict";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> "Status";
    };
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger counter = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + counter.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception ignored) {
      // closing is best effort
    }
  }
}
