package dev.aliyuncsr.operator.kube;

import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributesBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Collection;
import java.util.List;

/**
 * What the cluster serves to this operator, asked once at start: whether a kind is installed (API
 * discovery, which every authenticated user may read) and whether the operator may use it (a
 * SelfSubjectAccessReview, likewise open to all), so that a missing CRD or RBAC rule says so
 * instead of failing the operator's informers.
 */
public final class ApiAccess {
  private ApiAccess() {}

  /** Whether {@code group/version} serves the resource {@code plural}. */
  public static boolean serves(KubernetesClient client, String groupVersion, String plural) {
    try {
      APIResourceList resources = client.getApiResources(groupVersion);
      return resources != null
          && resources.getResources() != null
          && resources.getResources().stream().anyMatch(r -> plural.equals(r.getName()));
    } catch (KubernetesClientException e) {
      return false;
    }
  }

  /**
   * Whether this client may do each of {@code verbs} on {@code group}'s {@code resource} in each of
   * {@code namespaces} (empty: cluster-wide, every namespace).
   */
  public static boolean allowed(
      KubernetesClient client,
      String group,
      String resource,
      List<String> verbs,
      Collection<String> namespaces) {
    List<String> scopes = namespaces.isEmpty() ? List.of("") : List.copyOf(namespaces);
    try {
      for (String namespace : scopes) {
        for (String verb : verbs) {
          SelfSubjectAccessReview review =
              new SelfSubjectAccessReviewBuilder()
                  .withNewSpec()
                  .withResourceAttributes(
                      new ResourceAttributesBuilder()
                          .withGroup(group)
                          .withResource(resource)
                          .withVerb(verb)
                          .withNamespace(namespace)
                          .build())
                  .endSpec()
                  .build();
          SelfSubjectAccessReview answer =
              client.authorization().v1().selfSubjectAccessReview().create(review);
          if (answer.getStatus() == null || !Boolean.TRUE.equals(answer.getStatus().getAllowed())) {
            return false;
          }
        }
      }
      return true;
    } catch (KubernetesClientException e) {
      return false;
    }
  }
}
