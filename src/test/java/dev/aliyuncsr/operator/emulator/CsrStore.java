package dev.aliyuncsr.operator.emulator;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * The emulated account's CSRs, in CsrId order. Ids are sequential and never reused, not even after
 * {@link #clear()}, so a CsrId a test kept from before a reset cannot name another CSR.
 */
final class CsrStore {
  static final long FIRST_CSR_ID = 2000;

  /**
   * A stored CSR plus what {@link StoredCsr} leaves out: its public key (null for a pre-seeded CSR
   * that does not parse) for UpdateCsr, and the subject fields ListCsr reports.
   */
  record Entry(StoredCsr csr, SubjectPublicKeyInfo publicKey, Map<String, String> subjectDetails) {
    Entry {
      subjectDetails = Map.copyOf(subjectDetails);
    }
  }

  private final ConcurrentSkipListMap<Long, Entry> entries = new ConcurrentSkipListMap<>();
  private final AtomicLong nextId = new AtomicLong(FIRST_CSR_ID);

  long nextId() {
    return nextId.getAndIncrement();
  }

  /** Stores a CSR under its own id; the id must be new. Later ids continue after it. */
  void put(Entry entry) {
    long id = entry.csr().csrId();
    if (entries.putIfAbsent(id, entry) != null) {
      throw new IllegalArgumentException("CsrId " + id + " is already taken");
    }
    nextId.accumulateAndGet(id + 1, Math::max);
  }

  Optional<Entry> get(long id) {
    return Optional.ofNullable(entries.get(id));
  }

  boolean remove(long id) {
    return entries.remove(id) != null;
  }

  /** Sets or replaces the private key; false when no such CSR exists. */
  boolean updatePrivateKey(long id, String keyPem) {
    return entries.computeIfPresent(
            id,
            (key, entry) ->
                new Entry(
                    entry.csr().withPrivateKey(keyPem), entry.publicKey(), entry.subjectDetails()))
        != null;
  }

  List<Entry> all() {
    return List.copyOf(entries.values());
  }

  void clear() {
    entries.clear();
  }
}
