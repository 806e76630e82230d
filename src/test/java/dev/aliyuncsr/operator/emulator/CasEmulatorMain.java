package dev.aliyuncsr.operator.emulator;

import java.util.concurrent.CountDownLatch;

/**
 * Runs a CAS emulator until the process is stopped, for trying the operator by hand.
 *
 * <p>Usage: {@code CasEmulatorMain [port [accessKeyId accessKeySecret]]}. Without a key on the
 * command line it takes {@code ALIBABA_CLOUD_ACCESS_KEY_ID} / {@code
 * ALIBABA_CLOUD_ACCESS_KEY_SECRET}, else {@code testAccessKeyId} / {@code testAccessKeySecret}.
 * Port 0 (the default) picks a free one. That key belongs to {@link CasEmulator#DEFAULT_ACCOUNT}.
 *
 * <p>More accounts, limits and STS come from the environment (entries separated by {@code ;}):
 *
 * <ul>
 *   <li>{@code CAS_EMULATOR_ACCOUNTS}: {@code account:accessKeyId:secret}, more AccessKeys
 *   <li>{@code CAS_EMULATOR_RATE_LIMITS}: {@code Action=perSecond} (every account) or {@code
 *       account/Action=perSecond}, e.g. {@code 111/UploadCsr=1;222/UploadCsr=10}
 *   <li>{@code CAS_EMULATOR_ROLES}: {@code roleArn=trustedAccount,...[|externalId]}
 *   <li>{@code CAS_EMULATOR_OIDC_PROVIDERS}: {@code providerArn|issuer|audience} (signatures not
 *       verified)
 *   <li>{@code CAS_EMULATOR_OIDC_ROLES}: {@code roleArn|providerArn[|subject]}
 *   <li>{@code CAS_EMULATOR_HTTPS_PORT}: also serve HTTPS there (0: any free port), as
 *       credentials-java's STS calls need; the trust store to give the client JVM is printed
 * </ul>
 *
 * <p><b>Test controls over HTTP</b> (CAS V2.0 certificate instances), on the same port, with no
 * signature; JSON bodies (all fields optional unless said), JSON answers. A refusal answers {@code
 * {"Error": "..."}} with 400 (bad input), 404 (no such instance or endpoint), 405 (wrong method) or
 * 409 (wrong state). Controls are not counted as calls and no fault applies to them.
 *
 * <ul>
 *   <li>{@code POST /_emulator/instances} {@code {"accountId", "fullDomainCount" (1),
 *       "wildcardDomainCount" (0), "stage": "inactive"|"filledIn"|"pending"|"normal", "csr" (PEM;
 *       default someone else's), "validationMethod": "DNS"|"HTTP", "instanceId"}} buys an instance
 *       ({@link CasEmulator#DEFAULT_ACCOUNT} without accountId); answers {@code {"InstanceId"}}
 *   <li>{@code GET /_emulator/instances} and {@code GET /_emulator/instances/{id}}: instances as
 *       GetInstanceDetail shows them, plus {@code AccountId}, {@code UnderReview} and the issued
 *       {@code Leaf}
 *   <li>{@code POST /_emulator/instances/{id}/complete-validation} {@code {"reviewDelaySeconds"}}:
 *       the domains of a pending instance are validated; the CA issues after the delay (0: at once)
 *   <li>{@code POST /_emulator/instances/{id}/fail-validation} {@code {"message"}} (required): back
 *       to inactive with PendingResult = the message
 *   <li>{@code POST /_emulator/instances/{id}/issue-with-wrong-key}: its next certificate is for
 *       another key
 *   <li>{@code GET /_emulator/instances/{id}/calls}: the calls that named it, action → outcome →
 *       count
 *   <li>{@code POST /_emulator/auto-complete-validation} {@code {"afterSeconds"}}: every pending
 *       instance is validated that long after its ApplyCertificate; null switches it off
 *   <li>{@code POST /_emulator/chain-mode} {@code {"mode": "LEAF_AND_INTERMEDIATE"|"WITH_ROOT"|
 *       "LEAF_ONLY"}}: what GetUserCertificateDetail's Cert holds
 *   <li>{@code GET /_emulator/ca}: {@code {"Root", "Intermediate"}} PEMs of the test CA
 *   <li>{@code GET /_emulator/calls}: every call, action → outcome → count
 *   <li>{@code POST /_emulator/reset}: {@link CasEmulator#reset()}
 * </ul>
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

    CasEmulator.Builder builder =
        CasEmulator.builder().port(port).accessKey(accessKeyId, accessKeySecret);
    configureFromEnvironment(builder, System::getenv);
    CasEmulator emulator = builder.build().start();
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
    if (!envOr("CAS_EMULATOR_HTTPS_PORT", "").isEmpty()) {
      System.out.println("HTTPS (CAS and STS) on " + emulator.httpsEndpoint());
      System.out.println(
          "trust store "
              + emulator.trustStore()
              + " (PKCS12, password "
              + emulator.trustStorePassword()
              + ")");
    }
    stopped.await();
  }

  /** Applies the CAS_EMULATOR_* variables described above. */
  static void configureFromEnvironment(
      CasEmulator.Builder builder, java.util.function.UnaryOperator<String> env) {
    for (String entry : entries(env.apply("CAS_EMULATOR_ACCOUNTS"))) {
      String[] parts = entry.split(":", 3);
      require(parts.length == 3, "CAS_EMULATOR_ACCOUNTS entry: account:accessKeyId:secret");
      builder.accessKey(parts[0], parts[1], parts[2]);
    }
    for (String entry : entries(env.apply("CAS_EMULATOR_RATE_LIMITS"))) {
      String[] parts = entry.split("=", 2);
      require(parts.length == 2, "CAS_EMULATOR_RATE_LIMITS entry: [account/]Action=perSecond");
      int perSecond = Integer.parseInt(parts[1].trim());
      int slash = parts[0].indexOf('/');
      if (slash < 0) {
        builder.rateLimit(parts[0], perSecond);
      } else {
        builder.rateLimit(parts[0].substring(0, slash), parts[0].substring(slash + 1), perSecond);
      }
    }
    for (String entry : entries(env.apply("CAS_EMULATOR_ROLES"))) {
      String[] parts = entry.split("\\|", 2);
      String[] arnAndTrusted = parts[0].split("=", 2);
      String[] trusted =
          arnAndTrusted.length == 2 && !arnAndTrusted[1].isBlank()
              ? arnAndTrusted[1].split(",")
              : new String[0];
      builder.role(arnAndTrusted[0], trusted);
      if (parts.length == 2 && !parts[1].isEmpty()) {
        builder.roleExternalId(arnAndTrusted[0], parts[1]);
      }
    }
    for (String entry : entries(env.apply("CAS_EMULATOR_OIDC_PROVIDERS"))) {
      String[] parts = entry.split("\\|");
      require(parts.length == 3, "CAS_EMULATOR_OIDC_PROVIDERS entry: providerArn|issuer|audience");
      builder.oidcProvider(parts[0], parts[1], parts[2]);
    }
    for (String entry : entries(env.apply("CAS_EMULATOR_OIDC_ROLES"))) {
      String[] parts = entry.split("\\|");
      require(
          parts.length == 2 || parts.length == 3,
          "CAS_EMULATOR_OIDC_ROLES entry: roleArn|providerArn[|subject]");
      builder.oidcRole(parts[0], parts[1], parts.length == 3 ? parts[2] : null);
    }
    String httpsPort = env.apply("CAS_EMULATOR_HTTPS_PORT");
    if (httpsPort != null && !httpsPort.isBlank()) {
      builder.httpsPort(Integer.parseInt(httpsPort.trim()));
    }
  }

  private static java.util.List<String> entries(String value) {
    if (value == null || value.isBlank()) {
      return java.util.List.of();
    }
    return java.util.Arrays.stream(value.split(";"))
        .map(String::trim)
        .filter(e -> !e.isEmpty())
        .toList();
  }

  private static void require(boolean condition, String expected) {
    if (!condition) {
      // The entry itself may hold a secret: name only the expected shape.
      throw new IllegalArgumentException("malformed " + expected);
    }
  }

  private static String envOr(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
