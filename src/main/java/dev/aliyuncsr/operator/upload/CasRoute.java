package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.kube.Outcome;
import java.util.Optional;

/**
 * Which CAS account a resource's calls go to, and whether they may go at all. With accounts, the
 * calls of a resource that holds CSRs go to the account that holds them (status.account), and
 * uploads to the account its spec names, if that account exists, works and selects the resource's
 * namespace. Refusals call nothing.
 */
public interface CasRoute {

  /** Where the calls of {@code resource} go in this reconcile, or why none may go. */
  Route route(AliyunCsr resource);

  /** The resource is gone: its places in every account's budget go too. */
  void cancel(String uid);

  /**
   * @param account the account's name as status.account records it; null for the default account
   * @param cas lookups, deletions and keys, each call budgeted on its own
   * @param uploads UploadCsr, called under a permit of {@code gate}
   * @param refusal set when no call may be made: the outcome to report instead
   */
  record Route(
      String account,
      CasClient cas,
      CasClient uploads,
      UploadProtocol.UploadGate gate,
      Optional<Outcome> refusal) {

    public static Route refused(Outcome why) {
      return new Route(null, null, null, null, Optional.of(why));
    }
  }

  /** One account for everything: the operator's own credentials. */
  static CasRoute single(CasClient cas, CasClient uploads, UploadProtocol.UploadGate gate) {
    Route route = new Route(null, cas, uploads, gate, Optional.empty());
    return new CasRoute() {
      @Override
      public Route route(AliyunCsr resource) {
        return route;
      }

      @Override
      public void cancel(String uid) {
        gate.cancel(uid);
      }
    };
  }
}
