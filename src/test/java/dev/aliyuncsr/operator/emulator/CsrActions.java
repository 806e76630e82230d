package dev.aliyuncsr.operator.emulator;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The five CSR operations of CAS 2020-04-07, working on a {@link CsrStore} on behalf of one
 * account. Each returns the response fields except RequestId, or throws a {@link CasError};
 * validation happens before any change, so a rejected call stores nothing. Another account's CsrId
 * is answered exactly like an unknown one ({@code NotFound.Csr}): what the real service says for a
 * foreign CsrId is UNCONFIRMED, and answering alike reveals nothing about other accounts.
 */
final class CsrActions {
  static final Set<String> NAMES =
      Set.of("UploadCsr", "ListCsr", "GetCsrDetail", "DeleteCsr", "UpdateCsr");

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{0,50}");
  private static final Set<String> ALGORITHMS = Set.of("RSA", "ECC", "SM2");
  private static final int DEFAULT_SHOW_SIZE = 50;

  private final CsrStore store;
  private final Clock clock;

  /** How long a newly stored CSR stays invisible to ListCsr and GetCsrDetail; zero: not at all. */
  private volatile java.time.Duration readLag = java.time.Duration.ZERO;

  CsrActions(CsrStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  void setReadLag(java.time.Duration lag) {
    if (lag.isNegative()) {
      throw new IllegalArgumentException("lag must not be negative");
    }
    this.readLag = lag;
  }

  /** The CsrId a call of GetCsrDetail, DeleteCsr or UpdateCsr names, if it is a number. */
  static java.util.Optional<Long> csrIdNamedBy(String action, QueryParameters query) {
    if (!"GetCsrDetail".equals(action)
        && !"DeleteCsr".equals(action)
        && !"UpdateCsr".equals(action)) {
      return java.util.Optional.empty();
    }
    try {
      return query.get("CsrId").map(String::trim).map(Long::parseLong);
    } catch (NumberFormatException unreadable) {
      return java.util.Optional.empty();
    }
  }

  /** Whether the reads of the CSR's account see it yet (see {@link #setReadLag}). */
  private boolean readable(CsrStore.Entry entry) {
    java.time.Duration lag = readLag;
    java.time.Instant stored = entry.csr().createdAt();
    return lag.isZero() || stored == null || !clock.instant().isBefore(stored.plus(lag));
  }

  Map<String, Object> handle(String action, QueryParameters query, String accountId) {
    return switch (action) {
      case "UploadCsr" -> uploadCsr(query, accountId);
      case "ListCsr" -> listCsr(query, accountId);
      case "GetCsrDetail" -> getCsrDetail(query, accountId);
      case "DeleteCsr" -> deleteCsr(query, accountId);
      case "UpdateCsr" -> updateCsr(query, accountId);
      default -> throw CasError.actionNotFound();
    };
  }

  /** Parses, checks and stores a CSR the way UploadCsr does; also used to pre-seed CSRs. */
  StoredCsr store(String csrPem, String name, String keyPem, String accountId) {
    ParsedCsr csr = ParsedCsr.parse(csrPem);
    if (name != null && !NAME.matcher(name).matches()) {
      throw CasError.invalidParameter("Name", "at most 50 characters of A-Z a-z 0-9 _ -");
    }
    if (keyPem != null) {
      PrivateKeyMatcher.requireMatch(keyPem, csr.publicKeyInfo());
    }
    StoredCsr stored =
        new StoredCsr(
            store.nextId(),
            name == null || name.isEmpty() ? null : name,
            csrPem,
            keyPem,
            csr.commonName(),
            csr.sans(),
            csr.algorithm(),
            csr.keySize(),
            csr.keySha2(),
            clock.instant());
    store.put(new CsrStore.Entry(stored, csr.publicKeyInfo(), csr.subjectDetails(), accountId));
    return stored;
  }

  private Map<String, Object> uploadCsr(QueryParameters query, String accountId) {
    String csrPem = nonBlank(query, "Csr");
    if (csrPem == null) {
      throw CasError.missing("Csr");
    }
    StoredCsr stored =
        store(csrPem, query.get("Name").orElse(null), nonBlank(query, "Key"), accountId);
    return body("CsrId", stored.csrId());
  }

  /**
   * KeyWord is a case-sensitive substring match on Name or CommonName; results are in CsrId order.
   * Both are UNCONFIRMED: the docs say only "matches the CSR name or the primary domain". ShowSize
   * is not capped; the real maximum is unknown.
   */
  private Map<String, Object> listCsr(QueryParameters query, String accountId) {
    String keyWord = query.get("KeyWord").orElse("");
    String algorithm = query.get("Algorithm").filter(a -> !a.isEmpty()).orElse(null);
    if (algorithm != null && !ALGORITHMS.contains(algorithm)) {
      throw CasError.invalidParameter("Algorithm", "must be RSA, ECC or SM2");
    }
    String currentPageText = query.get("CurrentPage").orElse(null);
    String showSizeText = query.get("ShowSize").orElse(null);
    long currentPage = positiveNumber("CurrentPage", currentPageText, 1);
    long showSize = positiveNumber("ShowSize", showSizeText, DEFAULT_SHOW_SIZE);

    List<CsrStore.Entry> matches = new ArrayList<>();
    for (CsrStore.Entry entry : store.all(accountId)) {
      if (!readable(entry)) {
        continue;
      }
      StoredCsr csr = entry.csr();
      boolean keyWordMatches =
          keyWord.isEmpty()
              || (csr.name() != null && csr.name().contains(keyWord))
              || (csr.commonName() != null && csr.commonName().contains(keyWord));
      if (keyWordMatches && (algorithm == null || algorithm.equals(csr.algorithm()))) {
        matches.add(entry);
      }
    }
    List<Map<String, Object>> page = new ArrayList<>();
    long from;
    try {
      from = Math.multiplyExact(currentPage - 1, showSize);
    } catch (ArithmeticException beyondAnyPage) {
      from = Long.MAX_VALUE;
    }
    for (long i = from; i < matches.size() && i < from + showSize; i++) {
      page.add(listItem(matches.get((int) i)));
    }

    Map<String, Object> body = body("TotalCount", (long) matches.size());
    if (currentPageText != null) {
      body.put("CurrentPage", currentPage);
    }
    if (showSizeText != null) {
      body.put("ShowSize", showSize);
    }
    body.put("CsrList", page);
    return body;
  }

  private Map<String, Object> getCsrDetail(QueryParameters query, String accountId) {
    StoredCsr csr =
        store
            .get(accountId, csrId(query))
            .filter(this::readable)
            .orElseThrow(CasError::csrNotFound)
            .csr();
    Map<String, Object> body = body("Csr", csr.csrPem());
    if (csr.privateKeyPem() != null) {
      body.put("PrivateKey", csr.privateKeyPem());
    }
    return body;
  }

  /** Deleting an unknown (or already deleted) CSR is NotFound.Csr; real behaviour UNCONFIRMED. */
  private Map<String, Object> deleteCsr(QueryParameters query, String accountId) {
    if (!store.remove(accountId, csrId(query))) {
      throw CasError.csrNotFound();
    }
    return new LinkedHashMap<>();
  }

  private Map<String, Object> updateCsr(QueryParameters query, String accountId) {
    long id = csrId(query);
    String keyPem = nonBlank(query, "Key");
    if (keyPem == null) {
      throw CasError.missing("Key");
    }
    CsrStore.Entry entry = store.get(accountId, id).orElseThrow(CasError::csrNotFound);
    if (entry.publicKey() == null) {
      throw CasError.invalidParameter("Key", "the stored CSR has no readable public key");
    }
    PrivateKeyMatcher.requireMatch(keyPem, entry.publicKey());
    if (!store.updatePrivateKey(id, keyPem)) {
      throw CasError.csrNotFound(); // deleted meanwhile
    }
    return new LinkedHashMap<>();
  }

  private static Map<String, Object> listItem(CsrStore.Entry entry) {
    StoredCsr csr = entry.csr();
    Map<String, Object> item = new LinkedHashMap<>();
    item.put("CsrId", csr.csrId());
    if (csr.name() != null) {
      item.put("Name", csr.name());
    }
    if (csr.commonName() != null) {
      item.put("CommonName", csr.commonName());
    }
    item.put("Sans", String.join(",", csr.sans()));
    item.put("Algorithm", csr.algorithm());
    item.put("KeySize", csr.keySize());
    item.put("KeySha2", csr.keySha2());
    item.put("HasPrivateKey", csr.hasPrivateKey());
    item.putAll(entry.subjectDetails());
    return item;
  }

  private static long csrId(QueryParameters query) {
    String text = nonBlank(query, "CsrId");
    if (text == null) {
      throw CasError.missing("CsrId");
    }
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw CasError.invalidParameter("CsrId", "not an integer");
    }
  }

  private static long positiveNumber(String parameter, String text, long defaultValue) {
    if (text == null || text.isEmpty()) {
      return defaultValue;
    }
    try {
      long value = Long.parseLong(text.trim());
      if (value >= 1) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw CasError.invalidParameter(parameter, "must be a positive integer");
  }

  private static String nonBlank(QueryParameters query, String name) {
    return query.get(name).filter(value -> !value.isBlank()).orElse(null);
  }

  private static Map<String, Object> body(String field, Object value) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put(field, value);
    return body;
  }
}
