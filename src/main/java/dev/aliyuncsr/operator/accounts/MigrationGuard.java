package dev.aliyuncsr.operator.accounts;

import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Whether one account's handle (its endpoint and credentials) still reaches the Alibaba Cloud
 * account that holds the CSRs recorded under it. A changed endpoint, or credentials of another
 * account, make every recorded CSR answer NotFound at once; re-uploading them all would duplicate
 * every CSR in the new account and leave the old ones behind. So before anything counts as gone:
 *
 * <ul>
 *   <li>when the handle is built or changes, a few recorded CsrIds are asked for with GetCsrDetail:
 *       a rotated key of the same account sees them, another account does not;
 *   <li>an observation pass that finds at least {@value #MASS_SHARE_PERCENT} % (and at least
 *       {@value #MASS_MINIMUM}) of the account's recorded CSRs missing raises the same alarm.
 * </ul>
 *
 * While suspected, nothing is uploaded again in the account until an administrator sets the
 * confirmation annotation to the token the message shows (a new token each time, so an old
 * confirmation never covers a new alarm). One instance per account; thread-safe.
 */
final class MigrationGuard {
  /** The annotation an administrator sets to the token to let missing CSRs be uploaded again. */
  static final String CONFIRM_ANNOTATION = "cas.aliyuncsr.dev/confirm-migration";

  /** How many recorded CsrIds a changed handle is checked with. */
  static final int SAMPLE = 3;

  static final int MASS_SHARE_PERCENT = 10;
  static final int MASS_MINIMUM = 5;

  private static final SecureRandom TOKENS = new SecureRandom();

  /** Where this guard stands. */
  enum State {
    /** Built, not checked yet (the check runs right after the build). */
    UNCHECKED,
    /** The handle sees recorded CSRs, or nothing was recorded to check. */
    TRUSTED,
    /** Re-uploads wait for an administrator's confirmation. */
    SUSPECTED
  }

  private final String account;
  private final String confirmHow;
  private String handle;
  private State state = State.UNCHECKED;
  private String token;
  private String why;
  private Instant since;

  /** The alarm came from a changed handle (a later check that sees CSRs lifts it). */
  private boolean fromHandle;

  /**
   * @param account how messages name the account
   * @param confirmHow how to confirm, with "%s" standing for the token (a kubectl command)
   */
  MigrationGuard(String account, String confirmHow) {
    this.account = account;
    this.confirmHow = confirmHow;
  }

  /**
   * The account was built from {@code handle}: a new handle is checked again ({@link #check}); the
   * same one keeps its state.
   *
   * @return whether a check is due
   */
  synchronized boolean built(String handle) {
    if (handle.equals(this.handle) && state != State.UNCHECKED) {
      return false;
    }
    this.handle = handle;
    if (state != State.SUSPECTED) {
      state = State.UNCHECKED;
    }
    return true;
  }

  /**
   * Asks CAS for up to {@value #SAMPLE} of the {@code recorded} CsrIds with {@code cas}: any one
   * found trusts the handle; all NotFound suspects it. Other failures decide nothing (the check
   * runs again at the next build or status period).
   */
  void check(CasClient cas, List<Long> recorded, Instant now) {
    if (recorded.isEmpty()) {
      trust();
      return;
    }
    int asked = 0;
    for (long id : recorded.subList(0, Math.min(SAMPLE, recorded.size()))) {
      try {
        cas.getCsrDetail(id);
        trust();
        return;
      } catch (CasException e) {
        if (e.kind() != CasException.Kind.NOT_FOUND) {
          return;
        }
        asked++;
      }
    }
    suspect(
        true,
        "its endpoint or credentials changed, and CAS answers NotFound for all "
            + asked
            + " of the recorded CSRs asked for: it may now reach another Alibaba Cloud account",
        now);
  }

  /**
   * An observation pass of the account ended with {@code missing} of its {@code recorded} CSRs not
   * listed.
   *
   * @return whether this raised the alarm
   */
  boolean missingInPass(int missing, int recorded, Instant now) {
    if (missing < MASS_MINIMUM || missing * 100L < (long) recorded * MASS_SHARE_PERCENT) {
      return false;
    }
    synchronized (this) {
      if (state == State.SUSPECTED) {
        return false;
      }
    }
    suspect(
        false,
        missing
            + " of its "
            + recorded
            + " recorded CSRs were missing from CAS in one observation pass",
        now);
    return true;
  }

  /** The confirmation annotation's value: the current token confirms, and trusts the handle. */
  synchronized boolean confirm(String value) {
    if (state != State.SUSPECTED || value == null || !value.trim().equals(token)) {
      return false;
    }
    state = State.TRUSTED;
    token = null;
    why = null;
    since = null;
    return true;
  }

  /** While suspected: what a resource whose CSR CAS says is gone should be told. */
  synchronized Optional<String> reuploadBlock() {
    if (state != State.SUSPECTED) {
      return Optional.empty();
    }
    return Optional.of(
        account
            + " is suspected of reaching another Alibaba Cloud account ("
            + why
            + "); nothing is uploaded again until an administrator confirms: "
            + String.format(confirmHow, token));
  }

  synchronized State state() {
    return state;
  }

  synchronized Optional<Instant> since() {
    return Optional.ofNullable(since);
  }

  /** The handle sees a recorded CSR: trusted, and an alarm its change raised is lifted. */
  private synchronized void trust() {
    if (state == State.UNCHECKED || (state == State.SUSPECTED && fromHandle)) {
      state = State.TRUSTED;
      token = null;
      why = null;
      since = null;
    }
  }

  private synchronized void suspect(boolean handleChanged, String reason, Instant now) {
    state = State.SUSPECTED;
    fromHandle = handleChanged;
    why = reason;
    since = now;
    byte[] bytes = new byte[4];
    TOKENS.nextBytes(bytes);
    token = HexFormat.of().formatHex(bytes);
  }
}
