package dev.aliyuncsr.operator.cloud;

import dev.aliyuncsr.operator.cloud.InterceptingCasClient.Call;
import java.util.List;

/**
 * A {@link CasInstances} that passes every call through {@link #around}, like {@link
 * InterceptingCasClient} does for the CSR actions, so a decorator writes its behaviour once.
 */
public abstract class InterceptingCasInstances implements CasInstances {
  private final CasInstances delegate;

  protected InterceptingCasInstances(CasInstances delegate) {
    this.delegate = delegate;
  }

  /** Runs {@code call}, the CAS action named {@code action}, with this decorator's behaviour. */
  protected abstract <T> T around(String action, Call<T> call) throws CasException;

  @Override
  public final InstanceDetail getInstanceDetail(String instanceId) throws CasException {
    return around("GetInstanceDetail", () -> delegate.getInstanceDetail(instanceId));
  }

  @Override
  public final String updateInstance(
      String instanceId,
      String csrPem,
      List<String> domains,
      String keyAlgorithm,
      String validationMethod)
      throws CasException {
    return around(
        "UpdateInstance",
        () -> delegate.updateInstance(instanceId, csrPem, domains, keyAlgorithm, validationMethod));
  }

  @Override
  public final String applyCertificate(String instanceId) throws CasException {
    return around("ApplyCertificate", () -> delegate.applyCertificate(instanceId));
  }

  @Override
  public final IssuedCertificate getUserCertificateDetail(long certId) throws CasException {
    return around("GetUserCertificateDetail", () -> delegate.getUserCertificateDetail(certId));
  }
}
