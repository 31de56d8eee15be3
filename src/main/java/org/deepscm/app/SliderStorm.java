package org.deepscm.app;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import javafx.application.Platform;
import javafx.scene.control.Slider;

/**
 * A drag as a fast hand makes it, to measure how smooth the window stays: {@code perSecond} value
 * events on one slider for {@code seconds}, to and fro across its whole range, the slider held
 * (valueChanging) throughout; the gaps between the window's frames (post-layout pulses) are timed until
 * the explorer has settled after the release. Runs on the calling thread, which must not be the UI
 * thread. Used by {@code bench} (through {@code explore --storm}) and by the storm test.
 */
final class SliderStorm {
  /** What a storm measured: events sent, frames drawn, the widest and the 99th-percentile gap (ms). */
  record Stats(int events, double sentSeconds, int frames, double widestGapMs, double p99GapMs, double lastSent) {
    String describe() {
      return String.format(Locale.ROOT, "storm: %d slider events in %.1f s; %d frames, widest gap between frames "
          + "%.0f ms, 99th percentile %.0f ms", events, sentSeconds, frames, widestGapMs, p99GapMs);
    }
  }

  private SliderStorm() {}

  /**
   * @param settled true once no model job runs or waits and every answer is on screen
   */
  static Stats run(Slider slider, int perSecond, int seconds, BooleanSupplier settled) throws InterruptedException {
    double lo = slider.getMin();
    double span = slider.getMax() - slider.getMin();
    AtomicLong lastPulse = new AtomicLong(System.nanoTime());
    AtomicInteger pulses = new AtomicInteger();
    List<Long> gaps = Collections.synchronizedList(new ArrayList<>());
    Runnable pulse = () -> {
      long now = System.nanoTime();
      gaps.add(now - lastPulse.getAndSet(now));
      pulses.incrementAndGet();
    };
    onUiThread(() -> slider.getScene().addPostLayoutPulseListener(pulse));
    lastPulse.set(System.nanoTime());
    gaps.clear();
    pulses.set(0);
    Platform.runLater(() -> slider.setValueChanging(true));
    int events = perSecond * seconds;
    long periodNanos = 1_000_000_000L / perSecond;
    double lastSent = Double.NaN;
    long start = System.nanoTime();
    for (int k = 0; k < events; k++) {
      // to and fro across the whole range, one full sweep each way in two seconds' worth of events
      double phase = (k % (2 * perSecond)) / (double) perSecond;
      double value = lo + span * (phase <= 1 ? phase : 2 - phase) * 0.999;
      lastSent = value;
      Platform.runLater(() -> slider.setValue(value));
      // parked, not spinning: a spinning sender would take one of the machine's cores from the explorer
      long due = start + (k + 1) * periodNanos;
      for (long left = due - System.nanoTime(); left > 0; left = due - System.nanoTime()) {
        java.util.concurrent.locks.LockSupport.parkNanos(left);
      }
    }
    double sentSeconds = (System.nanoTime() - start) / 1e9;
    Platform.runLater(() -> slider.setValueChanging(false));
    // settled three polls in a row: the last answer is on screen
    long until = System.nanoTime() + 120_000_000_000L;
    for (int quiet = 0; quiet < 3 && System.nanoTime() < until; ) {
      Thread.sleep(20);
      boolean[] idle = new boolean[1];
      onUiThread(() -> idle[0] = settled.getAsBoolean());
      quiet = idle[0] ? quiet + 1 : 0;
    }
    onUiThread(() -> slider.getScene().removePostLayoutPulseListener(pulse));
    long[] sorted;
    synchronized (gaps) {
      sorted = gaps.stream().mapToLong(Long::longValue).sorted().toArray();
    }
    double widest = sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6;
    double p99 = sorted.length == 0 ? Double.NaN
        : sorted[(int) Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] / 1e6;
    return new Stats(events, sentSeconds, pulses.get(), widest, p99, lastSent);
  }

  /** Runs {@code r} on the UI thread and waits for it. */
  private static void onUiThread(Runnable r) throws InterruptedException {
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    Platform.runLater(() -> {
      try {
        r.run();
      } finally {
        done.countDown();
      }
    });
    done.await();
  }
}
