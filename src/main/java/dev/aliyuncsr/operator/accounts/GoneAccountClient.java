package dev.aliyuncsr.operator.accounts;

import dev.aliyuncsr.operator.cloud.CallBudget;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.upload.UploadProtocol;
import java.util.List;
import java.util.Optional;

/**
 * The CAS client of an account that does not exist (any more): every call fails, saying so, and
 * nothing reaches any account. A deletion then reports it and waits, and Orphan releases it.
 */
final class GoneAccountClient implements CasClient {
  private final String account;

  private GoneAccountClient(String account) {
    this.account = account;
  }

  static CasClient of(String account) {
    return new GoneAccountClient(account);
  }

  /** Never used for an upload (a gone account is routed for cleanup only); admits nothing. */
  static UploadProtocol.UploadGate gate() {
    return new UploadProtocol.UploadGate() {
      @Override
      public CallBudget.Admission admit(String tenant, String key) {
        return new CallBudget.Later(java.time.Duration.ofSeconds(30));
      }

      @Override
      public CallBudget.Slot acquire() {
        throw new IllegalStateException("no upload goes to an account that is gone");
      }

      @Override
      public void cancel(String key) {}
    };
  }

  private CasException gone(String action) {
    return new CasException(
        CasException.Kind.TERMINAL,
        action,
        "AccountNotFound",
        null,
        account + ", which holds this resource's CSRs, does not exist");
  }

  @Override
  public UploadResult uploadCsr(String name, String csrPem, Optional<String> privateKeyPem)
      throws CasException {
    throw gone("UploadCsr");
  }

  @Override
  public List<CsrSummary> listCsr(String keyWord) throws CasException {
    throw gone("ListCsr");
  }

  @Override
  public CsrPage listCsrPage(long page, long pageSize) throws CasException {
    throw gone("ListCsr");
  }

  @Override
  public CsrDetail getCsrDetail(long csrId) throws CasException {
    throw gone("GetCsrDetail");
  }

  @Override
  public String updateCsr(long csrId, String privateKeyPem) throws CasException {
    throw gone("UpdateCsr");
  }

  @Override
  public String deleteCsr(long csrId) throws CasException {
    throw gone("DeleteCsr");
  }
}
