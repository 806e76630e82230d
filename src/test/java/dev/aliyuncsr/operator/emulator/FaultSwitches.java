package dev.aliyuncsr.operator.emulator;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The failures a test can switch on at runtime. All methods are thread-safe; random faults draw
 * from generators seeded once, so a sequential run with the same seed fails the same calls.
 */
final class FaultSwitches {

  /** One {@code failNext} order: the next {@code remaining} calls answer this error. */
  private static final class InjectedFailure {
    final int status;
    final String code;
    int remaining;

    InjectedFailure(int status, String code, int remaining) {
      this.status = status;
      this.code = code;
      this.remaining = remaining;
    }
  }

  private final LongSupplier nanoTime;
  private final Random serverErrorRandom;
  private final Random lostResponseRandom;

  private volatile Duration latency = Duration.ZERO;
  private volatile double serverErrorRate;

  /** action → calls per second, for every account that has no limit of its own. */
  private final Map<String, Integer> defaultRateLimits = new ConcurrentHashMap<>();

  /** account + action → calls per second (0: none), overriding the default. */
  private final Map<String, Integer> accountRateLimits = new ConcurrentHashMap<>();

  /** account + action → its window; flow control counts per account and API. */
  private final Map<String, OneSecondWindow> windows = new ConcurrentHashMap<>();

  private final Map<String, Double> lostResponseRates = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> lostResponsesToCome = new ConcurrentHashMap<>();
  private final Map<String, ArrayDeque<InjectedFailure>> injectedFailures =
      new ConcurrentHashMap<>();
  private final Set<String> deniedActions = ConcurrentHashMap.newKeySet();
  private final Map<String, AtomicInteger> emptyAnswersToCome = new ConcurrentHashMap<>();
  private volatile CasError resendAnswer;

  FaultSwitches(long seed, LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    this.serverErrorRandom = new Random(seed);
    // A different stream, so switching one fault on does not shift the other's sequence.
    this.lostResponseRandom = new Random(seed ^ 0x5DEECE66DL);
  }

  void setLatency(Duration latency) {
    if (latency.isNegative()) {
      throw new IllegalArgumentException("latency must not be negative");
    }
    this.latency = latency;
  }

  Duration latency() {
    return latency;
  }

  /** The limit for every account without its own; 0 removes it. Restarts the action's windows. */
  void setRateLimit(String action, int perSecond) {
    checkedLimit(perSecond);
    if (perSecond == 0) {
      defaultRateLimits.remove(action);
    } else {
      defaultRateLimits.put(action, perSecond);
    }
    windows.keySet().removeIf(key -> key.endsWith('\u0000' + action));
  }

  /** The account's own limit (0: unlimited, whatever the default); restarts its window. */
  void setRateLimit(String accountId, String action, int perSecond) {
    checkedLimit(perSecond);
    String key = accountKey(accountId, action);
    accountRateLimits.put(key, perSecond);
    windows.remove(key);
  }

  /** The account falls back to the default limit of the action. */
  void clearRateLimit(String accountId, String action) {
    String key = accountKey(accountId, action);
    accountRateLimits.remove(key);
    windows.remove(key);
  }

  private static void checkedLimit(int perSecond) {
    if (perSecond < 0) {
      throw new IllegalArgumentException("perSecond must not be negative");
    }
  }

  private boolean tryAdmit(String accountId, String action) {
    String key = accountKey(accountId, action);
    Integer own = accountRateLimits.get(key);
    int limit = own != null ? own : defaultRateLimits.getOrDefault(action, 0);
    if (limit == 0) {
      return true;
    }
    OneSecondWindow window =
        windows.compute(
            key,
            (k, existing) ->
                existing != null && existing.perSecond() == limit
                    ? existing
                    : new OneSecondWindow(limit, nanoTime));
    return window.tryAdmit();
  }

  void setServerErrorRate(double rate) {
    this.serverErrorRate = checkedRate(rate);
  }

  void setLostResponseRate(String action, double rate) {
    if (checkedRate(rate) == 0) {
      lostResponseRates.remove(action);
    } else {
      lostResponseRates.put(action, rate);
    }
  }

  void loseNextResponses(String action, int n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative");
    }
    lostResponsesToCome.computeIfAbsent(action, a -> new AtomicInteger()).addAndGet(n);
  }

  void failNext(String action, int n, int httpStatus, String code) {
    if (n < 0 || httpStatus < 400 || httpStatus > 599 || code == null || code.isBlank()) {
      throw new IllegalArgumentException("need n >= 0, a 4xx/5xx status and a code");
    }
    ArrayDeque<InjectedFailure> queue =
        injectedFailures.computeIfAbsent(action, a -> new ArrayDeque<>());
    synchronized (queue) {
      queue.addLast(new InjectedFailure(httpStatus, code, n));
    }
  }

  /**
   * What a re-send of a request whose response was lost is answered, instead of {@code
   * SignatureNonceUsed}; null for the default.
   */
  void setResendAnswer(int httpStatus, String code) {
    if (httpStatus < 400 || httpStatus > 599 || code == null || code.isBlank()) {
      throw new IllegalArgumentException("need a 4xx/5xx status and a code");
    }
    resendAnswer = CasError.injected(httpStatus, code);
  }

  CasError resendAnswer() {
    return resendAnswer;
  }

  void answerNextWithEmptyBody(String action, int n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative");
    }
    emptyAnswersToCome.computeIfAbsent(action, a -> new AtomicInteger()).addAndGet(n);
  }

  /** Whether the successful answer to a processed call of this action is to lose its body. */
  boolean emptyAnswer(String action) {
    AtomicInteger toCome = emptyAnswersToCome.get(action);
    return toCome != null && toCome.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
  }

  void denyAction(String accessKeyId, String action) {
    deniedActions.add(denyKey(accessKeyId, action));
  }

  void allowAction(String accessKeyId, String action) {
    deniedActions.remove(denyKey(accessKeyId, action));
  }

  /**
   * Throws the error an authenticated call should get before it reaches the action, in the order a
   * gateway would apply them: RAM denial, flow control (per account and API, as the CAS quota page
   * counts "per regionId, API, ParentUid"; one region here), injected failure, random 503.
   */
  void admit(String accessKeyId, String accountId, String action) {
    if (deniedActions.contains(denyKey(accessKeyId, action))) {
      throw CasError.forbiddenByRam();
    }
    if (!tryAdmit(accountId, action)) {
      throw CasError.throttledUser();
    }
    CasError injected = takeInjectedFailure(action);
    if (injected != null) {
      throw injected;
    }
    double rate = serverErrorRate;
    if (rate > 0 && draw(serverErrorRandom) < rate) {
      throw CasError.serviceUnavailable();
    }
  }

  /** Whether the answer to a processed call of this action is to be lost. */
  boolean loseResponse(String action) {
    AtomicInteger toCome = lostResponsesToCome.get(action);
    if (toCome != null && toCome.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      return true;
    }
    Double rate = lostResponseRates.get(action);
    return rate != null && draw(lostResponseRandom) < rate;
  }

  void clear() {
    latency = Duration.ZERO;
    serverErrorRate = 0;
    defaultRateLimits.clear();
    accountRateLimits.clear();
    windows.clear();
    lostResponseRates.clear();
    lostResponsesToCome.clear();
    injectedFailures.clear();
    deniedActions.clear();
    emptyAnswersToCome.clear();
    resendAnswer = null;
  }

  private CasError takeInjectedFailure(String action) {
    ArrayDeque<InjectedFailure> queue = injectedFailures.get(action);
    if (queue == null) {
      return null;
    }
    synchronized (queue) {
      while (!queue.isEmpty()) {
        InjectedFailure head = queue.peekFirst();
        if (head.remaining > 0) {
          head.remaining--;
          return CasError.injected(head.status, head.code);
        }
        queue.pollFirst();
      }
    }
    return null;
  }

  private static double draw(Random random) {
    return random.nextDouble(); // Random is thread-safe
  }

  private static double checkedRate(double rate) {
    if (!(rate >= 0 && rate <= 1)) {
      throw new IllegalArgumentException("rate must be within [0, 1]");
    }
    return rate;
  }

  private static String accountKey(String accountId, String action) {
    return accountId + '\u0000' + action;
  }

  private static String denyKey(String accessKeyId, String action) {
    return accessKeyId + '\u0000' + action;
  }
}
