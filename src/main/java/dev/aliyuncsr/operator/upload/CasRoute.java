package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.kube.Outcome;
import java.util.Optional;

/**
 * The accounts a resource's calls could go to, as facts for the decider: the account its spec
 * names, usable only while it exists, works and selects the resource's namespace; and the account
 * its status records CSRs in, usable for cleaning those up whatever the selector says now. The
 * decider picks one for each call (or none): nothing here decides what may be called.
 */
public interface CasRoute {

  /** Both accounts of {@code resource} as they stand now. */
  Routes routes(AliyunCsr resource);

  /** The resource is gone: its places in every account's budget go too. */
  void cancel(String uid);

  /**
   * One account's clients, for one resource.
   *
   * @param account the account's name as status.account records it; null for the default account
   * @param cas lookups, deletions and keys, each call budgeted on its own
   * @param uploads UploadCsr, called under a permit of {@code gate}
   * @param reuploadBlock set while the account's handle is suspected of reaching another Alibaba
   *     Cloud account (endpoint or credentials changed, or many CSRs missing at once): what to tell
   *     a resource whose CSR CAS says is gone; no CSR, uploaded or adopted, is taken as gone (nor
   *     uploaded again) until an administrator confirms
   */
  record Access(
      String account,
      CasClient cas,
      CasClient uploads,
      UploadProtocol.UploadGate gate,
      Optional<String> reuploadBlock) {
    public Access(
        String account, CasClient cas, CasClient uploads, UploadProtocol.UploadGate gate) {
      this(account, cas, uploads, gate, Optional.empty());
    }
  }

  /**
   * @param desired the account spec.accountRef names (the default account when absent): present
   *     when it exists, works, has been taken up and selects the resource's namespace now
   * @param refusal why {@code desired} is absent, as the resource should say it
   * @param holding the account status.account names, present only when the status holds a record (a
   *     CSR, a pending upload, a superseded CSR or a lease): for cleaning up that record. Its calls
   *     fail, saying so, when the account is gone.
   */
  record Routes(Optional<Access> desired, Optional<Outcome> refusal, Optional<Access> holding) {
    public static Routes refused(Outcome why, Optional<Access> holding) {
      return new Routes(Optional.empty(), Optional.of(why), holding);
    }
  }

  /** One account for everything: the operator's own credentials. */
  static CasRoute single(CasClient cas, CasClient uploads, UploadProtocol.UploadGate gate) {
    Access access = new Access(null, cas, uploads, gate);
    return new CasRoute() {
      @Override
      public Routes routes(AliyunCsr resource) {
        boolean holds = StatusBuilder.holdsRecord(resource.getStatus());
        return new Routes(
            Optional.of(access), Optional.empty(), holds ? Optional.of(access) : Optional.empty());
      }

      @Override
      public void cancel(String uid) {
        gate.cancel(uid);
      }
    };
  }
}
