package dev.aliyuncsr.operator.testing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A namespace user as a cluster grants one: bound, in their own namespace only, to the built-in
 * {@code edit} ClusterRole, into which the project's {@code aliyun-csr-operator-edit} role
 * (deploy/02-rbac.yaml) aggregates AliyunCsrs. Their client impersonates them, so the API server's
 * RBAC decides what they may write: spec, metadata and Secrets of their namespace; never status,
 * nor another namespace.
 *
 * <p>kube-api-test runs no kube-controller-manager, so nothing aggregates ClusterRoles: {@link
 * #grantEdit} installs the project's role and fills {@code edit}'s rules from every ClusterRole its
 * aggregationRule selects, as the aggregation controller would.
 */
public final class NamespaceUser implements AutoCloseable {
  public static final String EDIT_ROLE = "aliyun-csr-operator-edit";

  public final String namespace;
  public final String user;
  public final KubernetesClient client;

  private NamespaceUser(String namespace, String user, KubernetesClient client) {
    this.namespace = namespace;
    this.user = user;
    this.client = client;
  }

  /** A new namespace and its user, bound to {@code edit} there. */
  public static NamespaceUser inNewNamespace(KubernetesClient admin, String prefix) {
    String namespace = OperatorHarness.newNamespace(admin, prefix);
    String user = "user-of-" + namespace;
    grantEdit(admin);
    admin
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withNamespace(namespace)
                .withName("edit-" + user)
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName("edit")
                .endRoleRef()
                .addNewSubject()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("User")
                .withName(user)
                .endSubject()
                .build())
        .create();
    Config config = Config.fromKubeconfig(KubeApiServerFixture.kubeConfigYaml());
    config.setImpersonateUsername(user);
    config.setImpersonateGroups("system:authenticated");
    config.setNamespace(namespace);
    return new NamespaceUser(
        namespace, user, new KubernetesClientBuilder().withConfig(config).build());
  }

  /**
   * Installs {@value #EDIT_ROLE} from deploy/02-rbac.yaml when it is not there, then aggregates
   * {@code edit}.
   */
  public static synchronized void grantEdit(KubernetesClient admin) {
    if (admin.rbac().clusterRoles().withName(EDIT_ROLE).get() == null) {
      admin.resource(projectRole(admin, EDIT_ROLE)).create();
    }
    aggregate(admin, "edit");
  }

  /** What the ClusterRole aggregation controller does for one aggregated role. */
  static void aggregate(KubernetesClient admin, String name) {
    ClusterRole role = admin.rbac().clusterRoles().withName(name).get();
    Objects.requireNonNull(role, "no ClusterRole " + name);
    if (role.getAggregationRule() == null) {
      return;
    }
    Set<PolicyRule> rules = new LinkedHashSet<>();
    for (LabelSelector selector : role.getAggregationRule().getClusterRoleSelectors()) {
      Map<String, String> labels = selector.getMatchLabels();
      for (ClusterRole part :
          admin
              .rbac()
              .clusterRoles()
              .withLabels(labels == null ? Map.of() : labels)
              .list()
              .getItems()) {
        if (!part.getMetadata().getName().equals(name) && part.getRules() != null) {
          rules.addAll(part.getRules());
        }
      }
    }
    List<PolicyRule> wanted = new ArrayList<>(rules);
    if (!wanted.equals(role.getRules())) {
      admin
          .rbac()
          .clusterRoles()
          .withName(name)
          .edit(
              r -> {
                r.setRules(wanted);
                return r;
              });
    }
  }

  private static ClusterRole projectRole(KubernetesClient admin, String name) {
    Path rbac = Path.of(System.getProperty("user.dir"), "deploy", "02-rbac.yaml");
    try (InputStream in = Files.newInputStream(rbac)) {
      for (HasMetadata item : admin.load(in).items()) {
        if (item instanceof ClusterRole role && name.equals(role.getMetadata().getName())) {
          return role;
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + rbac, e);
    }
    throw new IllegalStateException("no ClusterRole " + name + " in " + rbac);
  }

  @Override
  public void close() {
    client.close();
  }
}
