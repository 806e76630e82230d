package dev.aliyuncsr.operator.emulator;

import java.util.concurrent.CountDownLatch;

/**
 * Runs a CAS emulator until the process is stopped, for trying the operator by hand.
 *
 * <p>Usage: {@code CasEmulatorMain [port [accessKeyId accessKeySecret]]}. Without a key on the
 * command line it takes {@code ALIBABA_CLOUD_ACCESS_KEY_ID} / {@code
 * ALIBABA_CLOUD_ACCESS_KEY_SECRET}, else {@code testAccessKeyId} / {@code testAccessKeySecret}.
 * Port 0 (the default) picks a free one.
 */
public final class CasEmulatorMain {
  private CasEmulatorMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 0 && args.length != 1 && args.length != 3) {
      System.err.println("usage: CasEmulatorMain [port [accessKeyId accessKeySecret]]");
      System.exit(2);
    }
    int port = args.length >= 1 ? Integer.parseInt(args[0]) : 0;
    String accessKeyId =
        args.length == 3 ? args[1] : envOr("ALIBABA_CLOUD_ACCESS_KEY_ID", "testAccessKeyId");
    String accessKeySecret =
        args.length == 3
            ? args[2]
            : envOr("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testAccessKeySecret");

    CasEmulator emulator =
        CasEmulator.builder().port(port).accessKey(accessKeyId, accessKeySecret).build().start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  emulator.close();
                  stopped.countDown();
                }));
    // The secret is the caller's own; printing only the id keeps it out of terminal logs.
    System.out.println("CAS emulator listening on " + emulator.endpoint());
    System.out.println("AccessKeyId " + accessKeyId + ", protocol HTTP, regionId cn-hangzhou");
    stopped.await();
  }

  private static String envOr(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
