package dev.aliyuncsr.operator.upload.simulation;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.AliyunCsrStatus;
import dev.aliyuncsr.operator.api.Reasons;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.kube.Outcome;
import dev.aliyuncsr.operator.upload.CasRoute;
import dev.aliyuncsr.operator.upload.StatusBuilder;
import dev.aliyuncsr.operator.upload.UploadProtocol;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;

/**
 * The accounts of one world, and the routing rules of {@code accounts/CasAccounts.routes} over
 * them: the operator's default account (every namespace), AliyunCasAccounts with namespace
 * selectors that change during the run, and an account name that specs may give but that does not
 * exist. Each account is a handle on a store (two may be handles on one); a handle may suddenly
 * reach another store (an endpoint or credentials of another Alibaba Cloud account), and then its
 * migration guard is suspected (the route's {@code reuploadBlock}) until an administrator confirms,
 * or the handle goes back.
 */
final class SimAccounts {
  /** The key of the operator's default account (status.account null). */
  static final String DEFAULT = "(default)";

  /** A name specs may give that no AliyunCasAccount has. */
  static final String NONE = "acct-none";

  /** A store no account reaches at first: where a switched handle may land. */
  static final String SPARE_STORE = "store-spare";

  final List<String> named = new ArrayList<>();
  private final Map<String, Set<String>> selectors = new TreeMap<>();

  /** The selectors after each change; version v is {@code history.get(v)}. */
  private final List<Map<String, Set<String>>> history = new ArrayList<>();

  private final Map<String, String> handles = new TreeMap<>();
  private final Map<String, String> original = new TreeMap<>();
  private final Map<String, String> previous = new TreeMap<>();
  private final Map<String, Set<String>> reached = new TreeMap<>();
  private final Map<String, String> blocks = new TreeMap<>();
  private final Set<String> switched = new TreeSet<>();
  private int alarms;

  static String key(String account) {
    return account == null ? DEFAULT : account;
  }

  static String account(String key) {
    return DEFAULT.equals(key) ? null : key;
  }

  /** The default account on its own store. */
  SimAccounts(String defaultStore) {
    handles.put(DEFAULT, defaultStore);
    original.put(DEFAULT, defaultStore);
    reached.computeIfAbsent(DEFAULT, k -> new TreeSet<>()).add(defaultStore);
    history.add(Map.of());
  }

  /** An AliyunCasAccount on {@code store}, selecting {@code namespaces}. */
  void add(String name, String store, Set<String> namespaces) {
    named.add(name);
    handles.put(name, store);
    original.put(name, store);
    reached.computeIfAbsent(name, k -> new TreeSet<>()).add(store);
    selectors.put(name, new TreeSet<>(namespaces));
    snapshot();
  }

  /** Every account key: the default first. */
  List<String> keys() {
    List<String> out = new ArrayList<>();
    out.add(DEFAULT);
    out.addAll(named);
    return out;
  }

  Set<String> stores() {
    return new TreeSet<>(handles.values());
  }

  boolean exists(String account) {
    return account == null || named.contains(account);
  }

  /** The account selects {@code namespace} now (the default account selects every namespace). */
  boolean selects(String account, String namespace) {
    return account == null
        || (selectors.containsKey(account) && selectors.get(account).contains(namespace));
  }

  /** The account selected {@code namespace} at some moment since selector version {@code since}. */
  boolean selectedSince(String account, String namespace, int since) {
    if (account == null) {
      return true;
    }
    for (int v = Math.max(0, since); v < history.size(); v++) {
      Set<String> selected = history.get(v).get(account);
      if (selected != null && selected.contains(namespace)) {
        return true;
      }
    }
    return false;
  }

  int version() {
    return history.size() - 1;
  }

  Set<String> selected(String account) {
    return Set.copyOf(selectors.getOrDefault(account, Set.of()));
  }

  /** The account's selector changes to {@code namespaces}. */
  void select(String account, Set<String> namespaces) {
    selectors.put(account, new TreeSet<>(namespaces));
    snapshot();
  }

  /** The store {@code account}'s handle reaches now. */
  String store(String account) {
    return handles.get(key(account));
  }

  /** Every store {@code account}'s handle has reached. */
  Set<String> reached(String account) {
    return reached.getOrDefault(key(account), Set.of());
  }

  String originalStore(String account) {
    return original.get(key(account));
  }

  boolean everSwitched(String account) {
    return switched.contains(key(account));
  }

  /** The migration guard's block: present while the account is suspected. */
  Optional<String> block(String account) {
    return Optional.ofNullable(blocks.get(key(account)));
  }

  /**
   * The handle reaches {@code store} from now on; with {@code suspect} (the guard found none of the
   * recorded CSRs there) re-uploads are blocked until {@link #confirm} or {@link #switchBack}.
   */
  void switchTo(String account, String store, boolean suspect) {
    String k = key(account);
    previous.put(k, handles.get(k));
    handles.put(k, store);
    reached.computeIfAbsent(k, x -> new TreeSet<>()).add(store);
    switched.add(k);
    if (suspect) {
      alarms++;
      blocks.put(
          k,
          describe(account)
              + " is suspected of reaching another Alibaba Cloud account; nothing is uploaded again"
              + " until an administrator confirms (token "
              + alarms
              + ")");
    } else {
      blocks.remove(k);
    }
  }

  /** An administrator confirms the migration: re-uploads into the new store may go. */
  void confirm(String account) {
    blocks.remove(key(account));
  }

  /** The handle goes back to the store it reached before: the guard's check sees the CSRs again. */
  void switchBack(String account) {
    String k = key(account);
    handles.put(k, previous.getOrDefault(k, original.get(k)));
    blocks.remove(k);
  }

  /** Why the account spec names is not usable for {@code r} now; null when it is. */
  Outcome refusal(AliyunCsr r) {
    AliyunCsrStatus status = r.getStatus();
    boolean holds = StatusBuilder.holdsRecord(status);
    if (r.getSpec() == null) {
      return Outcome.stalled(Reasons.INVALID_SPEC, "spec is required", null);
    }
    String desired = r.getSpec().accountName();
    if (holds && !Objects.equals(status.getAccount(), desired)) {
      return Outcome.stalled(
          Reasons.INVALID_SPEC,
          "spec.accountRef names "
              + describe(desired)
              + ", but this resource's CSRs are held in "
              + describe(status.getAccount())
              + "; set it back",
          null);
    }
    if (!exists(desired)) {
      return Outcome.progressing(
          Reasons.ACCOUNT_NOT_FOUND,
          "AliyunCasAccount " + desired + " does not exist; waiting for it",
          null);
    }
    String namespace = r.getMetadata().getNamespace();
    if (!selects(desired, namespace)) {
      return Outcome.stalled(
          Reasons.ACCOUNT_NOT_PERMITTED,
          "AliyunCasAccount "
              + desired
              + " does not select namespace "
              + namespace
              + " (spec.namespaceSelector); nothing is sent to CAS",
          null);
    }
    return null;
  }

  /**
   * One process's route: the rules of CasAccounts.routes over this world's accounts, with the
   * process's own clients of each account ({@code clients}: lookups, then uploads, for an account
   * key and the store its handle reaches). As CasAccounts builds new clients when a handle changes,
   * a client keeps the store it was made for: an Access taken before a switch still reaches the old
   * store, and one taken after it is a different Access.
   */
  CasRoute route(BiFunction<String, String, CasClient[]> clients, UploadProtocol.UploadGate gate) {
    Map<String, CasClient[]> byHandle = new LinkedHashMap<>();
    return new CasRoute() {
      @Override
      public Routes routes(AliyunCsr r) {
        AliyunCsrStatus status = r.getStatus();
        Optional<Access> holding =
            StatusBuilder.holdsRecord(status)
                ? Optional.of(access(status.getAccount()))
                : Optional.empty();
        Outcome refused = refusal(r);
        if (refused != null) {
          return Routes.refused(refused, holding);
        }
        return new Routes(
            Optional.of(access(r.getSpec().accountName())), Optional.empty(), holding);
      }

      private Access access(String account) {
        String k = key(account);
        String store = handles.get(k);
        if (store == null) {
          throw new IllegalStateException("no account " + account);
        }
        CasClient[] c = byHandle.computeIfAbsent(k + "@" + store, h -> clients.apply(k, store));
        return new Access(account, c[0], c[1], gate, block(account));
      }

      @Override
      public void cancel(String uid) {
        gate.cancel(uid);
      }
    };
  }

  /** For the trace: each account's selector, store and block. */
  String describeAll() {
    List<String> parts = new ArrayList<>();
    for (String k : keys()) {
      parts.add(
          k
              + (DEFAULT.equals(k) ? "" : " selects " + selectors.get(k))
              + " on "
              + handles.get(k)
              + (blocks.containsKey(k) ? " (suspected)" : ""));
    }
    return String.join("; ", parts);
  }

  static String describe(String account) {
    return account == null ? "the operator's default account" : "AliyunCasAccount " + account;
  }

  private void snapshot() {
    Map<String, Set<String>> copy = new LinkedHashMap<>();
    selectors.forEach((k, v) -> copy.put(k, new LinkedHashSet<>(v)));
    history.add(copy);
  }
}
