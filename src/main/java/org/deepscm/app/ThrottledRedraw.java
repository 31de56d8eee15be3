package org.deepscm.app;

import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * The explorer's heavy redraws (the density chart, the rung comparison panels) while a slider is dragged:
 * the newest of a burst runs at most once per interval, the others are dropped unseen, and a redraw asked
 * for when nothing is dragged (or on release, {@link #flush}) runs at once. A JFreeChart redraw per answer
 * does not fit a 60 Hz frame; the images, which are cheap, still follow every answer. UI thread only.
 */
final class ThrottledRedraw {
  private final long intervalNanos;
  private final LongSupplier clock;
  private final BiConsumer<Long, Runnable> later;
  private Runnable pending;
  private boolean scheduled;
  private long lastRun = Long.MIN_VALUE / 2;

  /**
   * @param intervalMillis the least time between two redraws while dragging
   * @param clock nanoseconds ({@code System::nanoTime})
   * @param later runs a task on the UI thread after the given milliseconds
   */
  ThrottledRedraw(long intervalMillis, LongSupplier clock, BiConsumer<Long, Runnable> later) {
    this.intervalNanos = intervalMillis * 1_000_000L;
    this.clock = clock;
    this.later = later;
  }

  /** Asks for a redraw; while {@code dragging}, it may wait (at most one interval) or give way to a newer one. */
  void request(Runnable redraw, boolean dragging) {
    pending = redraw;
    long since = clock.getAsLong() - lastRun;
    if (!dragging || since >= intervalNanos) {
      runPending();
      return;
    }
    if (!scheduled) {
      scheduled = true;
      long waitMillis = Math.max(1, (intervalNanos - since + 999_999) / 1_000_000);
      later.accept(waitMillis, () -> {
        scheduled = false;
        runPending();
      });
    }
  }

  /** Runs a waiting redraw now (the slider was released). */
  void flush() {
    runPending();
  }

  private void runPending() {
    Runnable r = pending;
    pending = null;
    if (r != null) {
      lastRun = clock.getAsLong();
      r.run();
    }
  }
}
