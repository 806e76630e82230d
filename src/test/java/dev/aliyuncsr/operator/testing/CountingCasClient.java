package dev.aliyuncsr.operator.testing;

import dev.aliyuncsr.operator.cloud.CasClient;
import java.util.List;
import java.util.Optional;

/** A CasClient that counts its calls and answers each one with nothing much. */
public final class CountingCasClient implements CasClient {
  public int calls;

  @Override
  public UploadResult uploadCsr(String name, String csrPem, Optional<String> privateKeyPem) {
    calls++;
    return new UploadResult(calls, "request-" + calls);
  }

  @Override
  public List<CsrSummary> listCsr(String keyWord) {
    calls++;
    return List.of();
  }

  @Override
  public CsrPage listCsrPage(long page, long pageSize) {
    calls++;
    return new CsrPage(List.of(), 0);
  }

  @Override
  public CsrDetail getCsrDetail(long csrId) {
    calls++;
    return new CsrDetail(csrId, "", false, "request-" + calls);
  }

  @Override
  public String updateCsr(long csrId, String privateKeyPem) {
    calls++;
    return "request-" + calls;
  }

  @Override
  public String deleteCsr(long csrId) {
    calls++;
    return "request-" + calls;
  }
}
