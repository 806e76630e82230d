package dev.aliyuncsr.operator.emulator;

import java.util.Objects;

/**
 * What a test buys with {@link CasEmulator#buyInstance(String, InstanceOptions)}: by default a new
 * ({@code inactive}, empty) DV instance for one exact name and no wildcard.
 */
public final class InstanceOptions {
  /** How far the instance is along when bought. */
  public enum Stage {
    /** New: no application data. */
    INACTIVE,
    /** {@code inactive}, filled in as by UpdateInstance, not applied for. */
    FILLED_IN,
    /** Applied for: {@code pending}, validation open. */
    PENDING,
    /** Issued: {@code normal}. */
    NORMAL
  }

  int fullDomainCount = 1;
  int wildcardDomainCount;
  Stage stage = Stage.INACTIVE;
  String csrPem;
  String validationMethod = "DNS";
  String instanceId;

  private InstanceOptions() {}

  public static InstanceOptions defaults() {
    return new InstanceOptions();
  }

  /** Exact names the instance allows; default 1. */
  public InstanceOptions fullDomainCount(int count) {
    this.fullDomainCount = nonNegative(count);
    return this;
  }

  /** Wildcard names the instance allows; default 0. */
  public InstanceOptions wildcardDomainCount(int count) {
    this.wildcardDomainCount = nonNegative(count);
    return this;
  }

  /**
   * How far along; past {@link Stage#INACTIVE} the application uses {@link #csr(String)}, or, by
   * default, someone else's CSR (an EC P-256 key the test never sees, for one name).
   */
  public InstanceOptions stage(Stage stage) {
    this.stage = Objects.requireNonNull(stage);
    return this;
  }

  /**
   * The CSR of the application (for {@link Stage#FILLED_IN} and later), checked as UpdateInstance
   * with {@code upload} checks it, with the CSR's own KeyAlgorithm.
   */
  public InstanceOptions csr(String csrPem) {
    this.csrPem = Objects.requireNonNull(csrPem);
    return this;
  }

  /** {@code DNS} (default) or {@code HTTP}, for {@link Stage#FILLED_IN} and later. */
  public InstanceOptions validationMethod(String method) {
    if (!method.equals("DNS") && !method.equals("HTTP")) {
      throw new IllegalArgumentException("DNS or HTTP");
    }
    this.validationMethod = method;
    return this;
  }

  /** A chosen id (of the shape {@code cas[a-z0-9_-]*}) instead of a random one. */
  public InstanceOptions instanceId(String instanceId) {
    this.instanceId = Objects.requireNonNull(instanceId);
    return this;
  }

  private static int nonNegative(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("a count is not negative");
    }
    return count;
  }
}
