package dev.aliyuncsr.operator.cloud;

import java.util.List;
import java.util.Optional;

/**
 * The CSR operations of Alibaba Cloud CAS (API 2020-04-07), in the project's own types. Every
 * failure is a {@link CasException} that says what kind of failure it is; nothing else escapes.
 */
public interface CasClient {

  /**
   * Brings the credentials up to date now (an STS session due for refresh is refreshed here), so
   * that the next call does not refresh them inside itself: before an upload lease is taken, the
   * lease must cover the call only. Nothing is sent to CAS.
   */
  default void refreshCredentials() throws CasException {}

  /** UploadCsr. Not idempotent: every successful call creates a new CSR in CAS. */
  UploadResult uploadCsr(String name, String csrPem, Optional<String> privateKeyPem)
      throws CasException;

  /** ListCsr with the keyword, every page. The keyword's matching rules are unconfirmed. */
  List<CsrSummary> listCsr(String keyWord) throws CasException;

  /**
   * One page of ListCsr without a keyword: every CSR of the account, {@code pageSize} at a time
   * (pages from 1). The order of the pages is not documented; a CSR added or deleted meanwhile can
   * shift the others between pages.
   */
  CsrPage listCsrPage(long page, long pageSize) throws CasException;

  /** GetCsrDetail; {@link CasException.Kind#NOT_FOUND} when the CSR does not exist. */
  CsrDetail getCsrDetail(long csrId) throws CasException;

  /** UpdateCsr: sends the private key of an uploaded CSR. Returns the RequestId. */
  String updateCsr(long csrId, String privateKeyPem) throws CasException;

  /** DeleteCsr. Returns the RequestId. */
  String deleteCsr(long csrId) throws CasException;

  /** One page of ListCsr and the total it reports. */
  record CsrPage(List<CsrSummary> items, long totalCount) {}

  /** UploadCsr's answer. */
  record UploadResult(long csrId, String requestId) {}

  /** One ListCsr entry. {@code keySha2}'s exact encoding is unconfirmed, so it only narrows. */
  record CsrSummary(long csrId, String name, String keySha2, boolean hasPrivateKey) {}

  /** GetCsrDetail's answer, without the private key: the operator never needs to read it back. */
  record CsrDetail(long csrId, String csrPem, boolean hasPrivateKey, String requestId) {}
}
