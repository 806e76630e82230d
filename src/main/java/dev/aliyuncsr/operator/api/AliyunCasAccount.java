package dev.aliyuncsr.operator.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * An Alibaba Cloud account, or a RAM role, that the AliyunCsrs of the namespaces it selects upload
 * into. Cluster-scoped and owned by platform admins: a namespace user can name an account but never
 * make one, and the account says which namespaces may use it.
 */
@Group(AliyunCsr.GROUP)
@Version(AliyunCsr.VERSION)
@Kind("AliyunCasAccount")
@Plural("aliyuncasaccounts")
@ShortNames({"casaccount", "acsa"})
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "QPS",
    jsonPath = ".spec.qps",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "Namespaces",
    jsonPath = ".status.namespaceCount",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class AliyunCasAccount extends CustomResource<AliyunCasAccountSpec, AliyunCasAccountStatus> {
  /** Kept while any AliyunCsr holds a CSR in the account: cleanup needs its credentials. */
  public static final String FINALIZER = "cas.aliyuncsr.dev/account-in-use";
}
