package dev.aliyuncsr.operator.emulator;

import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The RAM roles and OIDC providers STS knows: which account a role belongs to, who may assume it
 * (AssumeRole: trusted accounts, optional ExternalId; AssumeRoleWithOIDC: a provider and an
 * optional subject), and for how long. Thread-safe; entries may be added while serving.
 */
final class StsDirectory {
  /** Default and documented upper bound of a role's maximum session duration. */
  static final Duration DEFAULT_MAX_SESSION = Duration.ofHours(1);

  static final Duration LONGEST_MAX_SESSION = Duration.ofHours(12);

  private static final Pattern ROLE_ARN = Pattern.compile("acs:ram::([^:]+):role/([^/]+)");
  private static final Pattern PROVIDER_ARN =
      Pattern.compile("acs:ram::([^:]+):oidc-provider/([^/]+)");

  /**
   * One role.
   *
   * @param trustedAccounts accounts whose keys may AssumeRole it; empty: OIDC only
   * @param externalId null when the trust policy has no {@code sts:ExternalId} condition
   * @param oidcProviderArn null when no OIDC provider is trusted
   * @param oidcSubject null: any subject of that provider
   */
  record Role(
      String arn,
      String accountId,
      String name,
      Set<String> trustedAccounts,
      String externalId,
      Duration maxSessionDuration,
      String oidcProviderArn,
      String oidcSubject) {
    Role {
      trustedAccounts = Set.copyOf(trustedAccounts);
    }

    /** A stable 19-digit role id, as RAM shows one in AssumedRoleId. */
    String roleId() {
      long hash = arn.hashCode() & 0xFFFFFFFFL;
      return String.format("3%018d", hash);
    }
  }

  /** One OIDC identity provider; {@code signingKey} null: token signatures are not verified. */
  record OidcProvider(
      String arn, String accountId, String issuer, List<String> audiences, PublicKey signingKey) {
    OidcProvider {
      audiences = List.copyOf(audiences);
    }
  }

  private final Map<String, Role> roles = new ConcurrentHashMap<>();
  private final Map<String, OidcProvider> providers = new ConcurrentHashMap<>();

  /** The account in a role ARN {@code acs:ram::<account>:role/<name>}, or empty if malformed. */
  static Optional<String[]> parseRoleArn(String arn) {
    Matcher matcher = ROLE_ARN.matcher(arn == null ? "" : arn);
    return matcher.matches()
        ? Optional.of(new String[] {matcher.group(1), matcher.group(2)})
        : Optional.empty();
  }

  private static String providerAccount(String arn) {
    Matcher matcher = PROVIDER_ARN.matcher(Objects.requireNonNull(arn));
    if (!matcher.matches()) {
      throw new IllegalArgumentException("expected acs:ram::<account>:oidc-provider/<name>");
    }
    return matcher.group(1);
  }

  private Role existingOrNew(String roleArn) {
    String[] parts =
        parseRoleArn(roleArn)
            .orElseThrow(
                () -> new IllegalArgumentException("expected acs:ram::<account>:role/<name>"));
    Role existing = roles.get(roleArn);
    return existing != null
        ? existing
        : new Role(roleArn, parts[0], parts[1], Set.of(), null, DEFAULT_MAX_SESSION, null, null);
  }

  synchronized void trustAccounts(String roleArn, Set<String> accounts) {
    Role role = existingOrNew(roleArn);
    Set<String> trusted = new java.util.HashSet<>(role.trustedAccounts());
    trusted.addAll(accounts.isEmpty() ? Set.of(role.accountId()) : accounts);
    roles.put(
        roleArn,
        new Role(
            roleArn,
            role.accountId(),
            role.name(),
            trusted,
            role.externalId(),
            role.maxSessionDuration(),
            role.oidcProviderArn(),
            role.oidcSubject()));
  }

  synchronized void requireExternalId(String roleArn, String externalId) {
    Role role = existingOrNew(roleArn);
    roles.put(
        roleArn,
        new Role(
            roleArn,
            role.accountId(),
            role.name(),
            role.trustedAccounts(),
            Objects.requireNonNull(externalId),
            role.maxSessionDuration(),
            role.oidcProviderArn(),
            role.oidcSubject()));
  }

  synchronized void maxSessionDuration(String roleArn, Duration max) {
    if (max.compareTo(Duration.ofMinutes(15)) < 0 || max.compareTo(LONGEST_MAX_SESSION) > 0) {
      throw new IllegalArgumentException("a role's maximum session is 1 to 12 hours");
    }
    Role role = existingOrNew(roleArn);
    roles.put(
        roleArn,
        new Role(
            roleArn,
            role.accountId(),
            role.name(),
            role.trustedAccounts(),
            role.externalId(),
            max,
            role.oidcProviderArn(),
            role.oidcSubject()));
  }

  synchronized void trustOidc(String roleArn, String providerArn, String subject) {
    Role role = existingOrNew(roleArn);
    providerAccount(providerArn);
    roles.put(
        roleArn,
        new Role(
            roleArn,
            role.accountId(),
            role.name(),
            role.trustedAccounts(),
            role.externalId(),
            role.maxSessionDuration(),
            providerArn,
            subject));
  }

  void addProvider(String providerArn, String issuer, List<String> audiences, PublicKey key) {
    if (audiences.isEmpty()) {
      throw new IllegalArgumentException("an OIDC provider needs at least one audience");
    }
    providers.put(
        providerArn,
        new OidcProvider(
            providerArn,
            providerAccount(providerArn),
            Objects.requireNonNull(issuer),
            audiences,
            key));
  }

  synchronized void providerSigningKey(String providerArn, PublicKey key) {
    OidcProvider provider = providers.get(providerArn);
    if (provider == null) {
      throw new IllegalArgumentException("register the OIDC provider first");
    }
    providers.put(
        providerArn,
        new OidcProvider(
            providerArn,
            provider.accountId(),
            provider.issuer(),
            provider.audiences(),
            Objects.requireNonNull(key)));
  }

  Optional<Role> role(String roleArn) {
    return roleArn == null ? Optional.empty() : Optional.ofNullable(roles.get(roleArn));
  }

  Optional<OidcProvider> provider(String providerArn) {
    return providerArn == null ? Optional.empty() : Optional.ofNullable(providers.get(providerArn));
  }
}
