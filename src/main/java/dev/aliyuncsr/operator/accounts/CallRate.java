package dev.aliyuncsr.operator.accounts;

import dev.aliyuncsr.operator.cloud.CasClient;
import dev.aliyuncsr.operator.cloud.CasException;
import dev.aliyuncsr.operator.cloud.CasInstances;
import dev.aliyuncsr.operator.cloud.InterceptingCasClient;
import dev.aliyuncsr.operator.cloud.InterceptingCasInstances;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/** Calls per second over the last minute, in one-second buckets: an account's current rate. */
final class CallRate {
  private static final int SECONDS = 60;
  private final AtomicLongArray counts = new AtomicLongArray(SECONDS);
  private final AtomicLongArray stamps = new AtomicLongArray(SECONDS);
  private final LongSupplier nowSeconds;

  CallRate(LongSupplier nowSeconds) {
    this.nowSeconds = nowSeconds;
  }

  void record() {
    long now = nowSeconds.getAsLong();
    int i = (int) Math.floorMod(now, SECONDS);
    synchronized (this) {
      if (stamps.get(i) != now) {
        stamps.set(i, now);
        counts.set(i, 0);
      }
      counts.incrementAndGet(i);
    }
  }

  /** Calls per second over the last full minute. */
  synchronized double perSecond() {
    long now = nowSeconds.getAsLong();
    long total = 0;
    for (int i = 0; i < SECONDS; i++) {
      if (now - stamps.get(i) < SECONDS) {
        total += counts.get(i);
      }
    }
    return total / (double) SECONDS;
  }

  /** {@code delegate}, counting every call it makes. */
  CasClient counting(CasClient delegate) {
    return new InterceptingCasClient(delegate) {
      @Override
      protected <T> T around(String action, Call<T> call) throws CasException {
        record();
        return call.run();
      }
    };
  }

  /** {@code delegate}'s instance actions, counting every call: they are the account's calls too. */
  CasInstances counting(CasInstances delegate) {
    return new InterceptingCasInstances(delegate) {
      @Override
      protected <T> T around(String action, InterceptingCasClient.Call<T> call)
          throws CasException {
        record();
        return call.run();
      }
    };
  }
}
