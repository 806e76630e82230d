package dev.aliyuncsr.operator.emulator;

/**
 * Which certificates GetUserCertificateDetail's {@code Cert} holds, leaf first. Whether CAS ever
 * includes the root is UNCONFIRMED (cas-instance-api.md §3.6), so tests can try each.
 */
public enum ChainMode {
  /** The leaf, then the intermediate: the default. */
  LEAF_AND_INTERMEDIATE,
  /** The leaf, the intermediate, then the root. */
  WITH_ROOT,
  /** The leaf alone. */
  LEAF_ONLY
}
