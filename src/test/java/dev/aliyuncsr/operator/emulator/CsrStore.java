package dev.aliyuncsr.operator.emulator;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * Every account's CSRs, in CsrId order; each entry names the account that owns it. Ids are global
 * (unique across accounts, as CAS's are), sequential and never reused, not even after {@link
 * #clear()}, so a CsrId a test kept from before a reset cannot name another CSR. The account-scoped
 * methods treat another account's CSR exactly like a missing one.
 */
final class CsrStore {
  static final long FIRST_CSR_ID = 2000;

  /**
   * A stored CSR plus what {@link StoredCsr} leaves out: its public key (null for a pre-seeded CSR
   * that does not parse) for UpdateCsr, and the subject fields ListCsr reports.
   */
  record Entry(
      StoredCsr csr,
      SubjectPublicKeyInfo publicKey,
      Map<String, String> subjectDetails,
      String accountId) {
    Entry {
      subjectDetails = Map.copyOf(subjectDetails);
      java.util.Objects.requireNonNull(accountId);
    }

    boolean ownedBy(String account) {
      return accountId.equals(account);
    }
  }

  private final ConcurrentSkipListMap<Long, Entry> entries = new ConcurrentSkipListMap<>();

  /**
   * One sequence for every emulator in the JVM: a test that runs several emulators as several
   * Alibaba Cloud accounts sees CsrIds unique across them, as the real service's are.
   */
  private static final AtomicLong NEXT_ID = new AtomicLong(FIRST_CSR_ID);

  long nextId() {
    return NEXT_ID.getAndIncrement();
  }

  /** Stores a CSR under its own id; the id must be new. Later ids continue after it. */
  void put(Entry entry) {
    long id = entry.csr().csrId();
    if (entries.putIfAbsent(id, entry) != null) {
      throw new IllegalArgumentException("CsrId " + id + " is already taken");
    }
    NEXT_ID.accumulateAndGet(id + 1, Math::max);
  }

  Optional<Entry> get(long id) {
    return Optional.ofNullable(entries.get(id));
  }

  /** The CSR if it exists and belongs to the account. */
  Optional<Entry> get(String accountId, long id) {
    return get(id).filter(entry -> entry.ownedBy(accountId));
  }

  boolean remove(long id) {
    return entries.remove(id) != null;
  }

  /** Removes the CSR only if it belongs to the account. */
  boolean remove(String accountId, long id) {
    Entry entry = entries.get(id);
    return entry != null && entry.ownedBy(accountId) && entries.remove(id, entry);
  }

  /** Sets or replaces the private key; false when no such CSR exists. */
  boolean updatePrivateKey(long id, String keyPem) {
    return entries.computeIfPresent(
            id,
            (key, entry) ->
                new Entry(
                    entry.csr().withPrivateKey(keyPem),
                    entry.publicKey(),
                    entry.subjectDetails(),
                    entry.accountId()))
        != null;
  }

  List<Entry> all() {
    return List.copyOf(entries.values());
  }

  List<Entry> all(String accountId) {
    return entries.values().stream().filter(entry -> entry.ownedBy(accountId)).toList();
  }

  void clear() {
    entries.clear();
  }
}
