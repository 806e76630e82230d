package dev.aliyuncsr.operator.accounts;

import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasInstances;
import java.util.List;

/**
 * The certificate-instance actions of a client that has none (a CSR-only client in tests): every
 * call is refused before anything is sent.
 */
final class NoInstanceActions implements CasInstances {
  private NoInstanceActions() {}

  /** {@code client}'s own instance actions when it has them (the SDK client does), else none. */
  static CasInstances of(Object client) {
    return client instanceof CasInstances instances ? instances : new NoInstanceActions();
  }

  private static CasException unsupported(String action) {
    return new CasException(
        CasException.Kind.TERMINAL,
        action,
        "NotSupported",
        null,
        "this account's client has no certificate-instance actions");
  }

  @Override
  public InstanceDetail getInstanceDetail(String instanceId) throws CasException {
    throw unsupported("GetInstanceDetail");
  }

  @Override
  public String updateInstance(
      String instanceId,
      String csrPem,
      List<String> domains,
      String keyAlgorithm,
      String validationMethod)
      throws CasException {
    throw unsupported("UpdateInstance");
  }

  @Override
  public String applyCertificate(String instanceId) throws CasException {
    throw unsupported("ApplyCertificate");
  }

  @Override
  public IssuedCertificate getUserCertificateDetail(long certId) throws CasException {
    throw unsupported("GetUserCertificateDetail");
  }
}
