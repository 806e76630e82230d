package dev.aliyuncsr.operator.certificate;

import dev.aliyuncsr.operator.cloud.CasInstances;
import dev.aliyuncsr.operator.kube.Outcome;
import java.util.List;
import java.util.Optional;

/**
 * The account an AliyunCertificate's calls go to, as the account code sees it: the AliyunCsr's
 * account (status.account; null: the operator's default), usable only while it exists, has been
 * taken up, works and selects the certificate's namespace now; and what that account lets its
 * namespaces spend and publish. A refusal comes with no client at all, so nothing can be called.
 */
public interface CertificateRoute {

  /** The route of a certificate in {@code namespace} whose AliyunCsr uses {@code account}. */
  Route route(String namespace, String account);

  /**
   * @param account the account's name, null for the operator's default
   * @param calls UpdateInstance, ApplyCertificate, GetUserCertificateDetail: each in the
   *     namespace's turn of the account's budget
   * @param polls GetInstanceDetail: in the turns of the background class "certificates", within its
   *     share of the account's budget
   */
  record InstanceAccess(String account, CasInstances calls, CasInstances polls) {}

  /**
   * @param access present when the certificate may call CAS with the account
   * @param refusal why {@code access} is absent, as the certificate should say it
   * @param instanceIds the instances the account allows (spec.issuance.instanceIds); empty: any
   * @param dnsZones the zones validation records may be published in (spec.issuance.dnsZones, or
   *     DNS_VALIDATION_ZONES for the default account)
   */
  record Route(
      Optional<InstanceAccess> access,
      Optional<Outcome> refusal,
      Optional<List<String>> instanceIds,
      List<String> dnsZones) {
    public static Route refused(Outcome why) {
      return new Route(Optional.empty(), Optional.of(why), Optional.empty(), List.of());
    }
  }
}
