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
  private final Map<String, OneSecondWindow> rateLimits = new ConcurrentHashMap<>();
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

  void setRateLimit(String action, int perSecond) {
    if (perSecond < 0) {
      throw new IllegalArgumentException("perSecond must not be negative");
    }
    if (perSecond == 0) {
      rateLimits.remove(action);
    } else {
      rateLimits.put(action, new OneSecondWindow(perSecond, nanoTime));
    }
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
   * gateway would apply them: RAM denial, flow control, injected failure, random 503.
   */
  void admit(String accessKeyId, String action) {
    if (deniedActions.contains(denyKey(accessKeyId, action))) {
      throw CasError.forbiddenByRam();
    }
    OneSecondWindow window = rateLimits.get(action);
    if (window != null && !window.tryAdmit()) {
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
    rateLimits.clear();
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

  private static String denyKey(String accessKeyId, String action) {
    return accessKeyId + '\u0000' + action;
  }
}
