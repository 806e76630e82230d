package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.api.AliyunCsr;
import dev.aliyuncsr.operator.api.CasCsrRef;
import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasClient.CsrDetail;
import dev.aliyuncsr.operator.cloud.CasClient.CsrSummary;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.csr.CsrFacts;
import dev.aliyuncsr.operator.csr.CsrValidator;
import dev.aliyuncsr.operator.csr.Validated;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The protocol's reads of CAS, and what they prove. A CSR is this resource's upload when its name
 * is exactly the name looked up (which carries the resource's ownership mark) and its CSR is the
 * one looked for (GetCsrDetail: ListCsr's KeySha2 encoding is unconfirmed), and no other resource
 * records it.
 */
final class CasReads {
  private final Peers peers;
  private final UploadNames names;

  CasReads(Peers peers, UploadNames names) {
    this.peers = peers;
    this.names = names;
  }

  /** The CSRs in CAS that are the upload {@code ref}. */
  Observation.Lookup lookUp(CasClient cas, CasCsrRef ref, AliyunCsr self, Instant at)
      throws CasException {
    List<CasCsrRef> matches = new ArrayList<>();
    if (ref.getCsrSha256() != null) {
      for (CsrSummary candidate : cas.listCsr(ref.getUploadName())) {
        if (!ref.getUploadName().equals(candidate.name())
            || peers.recordedByAnother(self, candidate.csrId())) {
          continue;
        }
        Optional<String> sha = detail(cas, candidate.csrId()).flatMap(CasReads::csrSha256);
        if (sha.isPresent() && ref.getCsrSha256().equals(sha.get())) {
          matches.add(new CasCsrRef(candidate.csrId(), candidate.name(), sha.get()));
        }
      }
    }
    // A reference without a CSR (from an earlier version's restore) proves nothing: no match.
    return new Observation.Lookup(List.copyOf(matches), at);
  }

  /**
   * GetCsrDetail of the CSR spec.csrId names, and its name in CAS (ListCsr by its common name): a
   * name with another object's ownership mark is another resource's upload.
   */
  Observation.Adoption adoption(CasClient cas, AliyunCsr self, long csrId) throws CasException {
    CsrDetail detail;
    try {
      detail = cas.getCsrDetail(csrId);
    } catch (CasException e) {
      if (e.kind() == CasException.Kind.NOT_FOUND) {
        return new Observation.Adoption(
            csrId, Optional.empty(), Optional.empty(), e.code(), Optional.empty(), false);
      }
      throw e;
    }
    Optional<CsrFacts> facts = facts(detail);
    Optional<String> name = Optional.empty();
    if (facts.isPresent() && facts.get().commonName() != null) {
      // ListCsr's KeyWord matches the name or the primary domain (the CN); its exact rules are
      // unconfirmed, so a CSR not shown here is taken as unnamed, and only the records guard it.
      name =
          cas.listCsr(facts.get().commonName()).stream()
              .filter(c -> c.csrId() == csrId)
              .map(CsrSummary::name)
              .findFirst();
    }
    boolean anotherMark =
        name.filter(n -> names.carriesMark(n) && !n.equals(names.of(self))).isPresent();
    return new Observation.Adoption(
        csrId, Optional.of(detail), facts.map(CsrFacts::publicKeySha256), null, name, anotherMark);
  }

  /** GetCsrDetail; empty when CAS says the CSR does not exist. */
  static Optional<CsrDetail> detail(CasClient cas, long csrId) throws CasException {
    try {
      return Optional.of(cas.getCsrDetail(csrId));
    } catch (CasException e) {
      if (e.kind() == CasException.Kind.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  static Optional<CsrFacts> facts(CsrDetail detail) {
    if (detail.csrPem() == null) {
      return Optional.empty();
    }
    Validated<CsrFacts> facts =
        CsrValidator.validate(detail.csrPem().getBytes(StandardCharsets.UTF_8));
    return facts.isValid() ? Optional.of(facts.value()) : Optional.empty();
  }

  static Optional<String> csrSha256(CsrDetail detail) {
    return facts(detail).map(CsrFacts::csrSha256);
  }

  static Optional<String> publicKeySha256(CsrDetail detail) {
    return facts(detail).map(CsrFacts::publicKeySha256);
  }
}
