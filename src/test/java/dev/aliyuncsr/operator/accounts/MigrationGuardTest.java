package dev.aliyuncsr.operator.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MigrationGuardTest {
  private static final Instant NOW = Instant.parse("2026-12-03T00:00:00Z");

  private static MigrationGuard guard() {
    return new MigrationGuard("AliyunCasAccount a", "kubectl annotate aliyuncasaccount a x=%s");
  }

  /** A CAS that holds {@code held} and counts GetCsrDetail calls. */
  private static final class Cas implements CasClient {
    final Set<Long> held;
    final List<Long> asked = new ArrayList<>();
    CasException failure;

    Cas(Set<Long> held) {
      this.held = held;
    }

    @Override
    public CsrDetail getCsrDetail(long csrId) throws CasException {
      asked.add(csrId);
      if (failure != null) {
        throw failure;
      }
      if (!held.contains(csrId)) {
        throw new CasException(CasException.Kind.NOT_FOUND, "GetCsrDetail", "NotFound", null, "x");
      }
      return new CsrDetail(csrId, null, false, "r");
    }

    @Override
    public UploadResult uploadCsr(String n, String c, Optional<String> k) {
      throw new AssertionError("no upload");
    }

    @Override
    public List<CsrSummary> listCsr(String keyWord) {
      throw new AssertionError();
    }

    @Override
    public CsrPage listCsrPage(long page, long pageSize) {
      throw new AssertionError();
    }

    @Override
    public String updateCsr(long csrId, String key) {
      throw new AssertionError();
    }

    @Override
    public String deleteCsr(long csrId) {
      throw new AssertionError();
    }
  }

  @Test
  void aRotatedKeyOfTheSameAccountSeesTheRecordedCsrsAndIsTrusted() {
    MigrationGuard guard = guard();
    assertThat(guard.built("gen1/v1")).isTrue();
    Cas cas = new Cas(Set.of(7L));
    guard.check(cas, List.of(5L, 7L, 9L, 11L), NOW);
    assertThat(guard.state()).isEqualTo(MigrationGuard.State.TRUSTED);
    assertThat(cas.asked).containsExactly(5L, 7L);
    assertThat(guard.reuploadBlock()).isEmpty();
    assertThat(guard.built("gen1/v1")).as("the same handle is not checked again").isFalse();
  }

  @Test
  void aHandleThatSeesNoneOfTheRecordedCsrsBlocksReuploadsUntilTheTokenIsConfirmed() {
    MigrationGuard guard = guard();
    guard.built("gen2/v1");
    Cas other = new Cas(Set.of());
    guard.check(other, List.of(5L, 7L, 9L, 11L), NOW);
    assertThat(other.asked).as("a sample, not every CSR").hasSize(MigrationGuard.SAMPLE);
    assertThat(guard.state()).isEqualTo(MigrationGuard.State.SUSPECTED);
    String block = guard.reuploadBlock().orElseThrow();
    assertThat(block).contains("NotFound for all 3").contains("kubectl annotate");
    String token = block.substring(block.lastIndexOf('=') + 1);
    assertThat(guard.confirm("wrong")).isFalse();
    assertThat(guard.confirm(null)).isFalse();
    assertThat(guard.state()).isEqualTo(MigrationGuard.State.SUSPECTED);
    assertThat(guard.confirm(token)).isTrue();
    assertThat(guard.reuploadBlock()).isEmpty();
    assertThat(guard.confirm(token)).as("an old confirmation confirms nothing new").isFalse();
  }

  @Test
  void puttingTheHandleBackLiftsItsAlarm() {
    MigrationGuard guard = guard();
    guard.built("other-endpoint");
    guard.check(new Cas(Set.of()), List.of(5L), NOW);
    assertThat(guard.state()).isEqualTo(MigrationGuard.State.SUSPECTED);
    assertThat(guard.built("original-endpoint")).isTrue();
    guard.check(new Cas(Set.of(5L)), List.of(5L), NOW);
    assertThat(guard.state()).isEqualTo(MigrationGuard.State.TRUSTED);
  }

  @Test
  void nothingRecordedIsNothingToCheck_andOtherFailuresDecideNothing() {
    MigrationGuard empty = guard();
    empty.built("h");
    empty.check(new Cas(Set.of()), List.of(), NOW);
    assertThat(empty.state()).isEqualTo(MigrationGuard.State.TRUSTED);

    MigrationGuard failing = guard();
    failing.built("h");
    Cas down = new Cas(Set.of());
    down.failure =
        new CasException(
            CasException.Kind.RETRYABLE, "GetCsrDetail", "ServiceUnavailable", null, "x");
    failing.check(down, List.of(5L, 7L), NOW);
    assertThat(failing.state()).isEqualTo(MigrationGuard.State.UNCHECKED);
    assertThat(failing.reuploadBlock()).isEmpty();
  }

  @Test
  void manyMissingInOnePassRaiseTheAlarm_aFewDoNot() {
    MigrationGuard guard = guard();
    guard.built("h");
    guard.check(new Cas(Set.of(1L)), List.of(1L), NOW);
    assertThat(guard.missingInPass(4, 10, NOW)).as("fewer than 5").isFalse();
    assertThat(guard.missingInPass(9, 100, NOW)).as("under 10 %").isFalse();
    assertThat(guard.state()).isEqualTo(MigrationGuard.State.TRUSTED);
    assertThat(guard.missingInPass(10, 100, NOW)).isTrue();
    assertThat(guard.reuploadBlock().orElseThrow()).contains("10 of its 100");
    // A later check that sees CSRs does not lift an alarm of many missing: they may be deleted.
    guard.built("h2");
    guard.check(new Cas(Set.of(1L)), List.of(1L), NOW);
    assertThat(guard.state()).isEqualTo(MigrationGuard.State.SUSPECTED);
  }
}
