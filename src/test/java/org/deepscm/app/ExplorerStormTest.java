package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javafx.application.Platform;
import javafx.scene.control.Slider;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The explorer on the shipped Morpho-MNIST image model under a storm: 1,000 slider events a second for 10
 * seconds, with the real background worker. Nothing may pile up (neither model jobs nor answers waiting
 * for the UI thread), the UI thread keeps drawing frames, and the last value sent is the one on screen.
 * The frame gaps are printed (they are a measurement, not a pass mark: a loaded CI machine stretches
 * them); the test fails only on a freeze of a second or more.
 */
@ExtendWith(ApplicationExtension.class)
class ExplorerStormTest {
  private static final int EVENTS_PER_SECOND = 1000;
  private static final int SECONDS = 10;

  private ExplorerApp app;
  private LatestOnlyExecutor executor;
  private final AtomicInteger answersWaiting = new AtomicInteger();
  private final AtomicInteger mostAnswersWaiting = new AtomicInteger();

  @Start
  void start(Stage stage) {
    Assumptions.assumeTrue(Files.isRegularFile(ExplorerApp.IMAGE_MODEL.resolve("weights.safetensors")),
        "needs the shipped models/morphomnist-full");
    executor = LatestOnlyExecutor.background();
    // the UI hand-off counted: each answer the worker posts waits here until the UI thread shows it
    java.util.function.Consumer<Runnable> ui = r -> {
      mostAnswersWaiting.accumulateAndGet(answersWaiting.incrementAndGet(), Math::max);
      Platform.runLater(() -> {
        answersWaiting.decrementAndGet();
        r.run();
      });
    };
    app = new ExplorerApp(executor, ui, ExplorerApp.IMAGE_MODEL);
    app.start(stage);
  }

  @AfterEach
  void stop() {
    if (executor != null) {
      executor.close();
    }
  }

  @Test
  void aThousandSliderEventsASecondNeverPileUpAndTheLastOneWins() throws Exception {
    waitForIdle(); // the opening case's answers (first counterfactual, case strip, typicality) are shown
    mostAnswersWaiting.set(0);
    Slider t = app.view().slider("t");
    double lo = t.getMin();
    double span = t.getMax() - t.getMin();
    AtomicLong lastPulse = new AtomicLong(System.nanoTime());
    AtomicLong widestGap = new AtomicLong();
    AtomicInteger pulses = new AtomicInteger();
    java.util.List<Long> gaps = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    Runnable pulse = () -> {
      long now = System.nanoTime();
      long gap = now - lastPulse.getAndSet(now);
      widestGap.accumulateAndGet(gap, Math::max);
      gaps.add(gap);
      pulses.incrementAndGet();
    };
    Platform.runLater(() -> t.getScene().addPostLayoutPulseListener(pulse));
    WaitForAsyncUtils.waitForFxEvents();
    lastPulse.set(System.nanoTime());
    widestGap.set(0);
    gaps.clear();
    // a drag, as the mouse makes it: the slider's value changes while it is held
    Platform.runLater(() -> t.setValueChanging(true));

    int events = EVENTS_PER_SECOND * SECONDS;
    int mostJobsWaiting = 0;
    double lastSent = Double.NaN;
    long start = System.nanoTime();
    for (int k = 0; k < events; k++) {
      // a to-and-fro drag across the slider's whole range, one event a millisecond
      double phase = (k % 2000) / 1000.0;
      double value = lo + span * (phase <= 1 ? phase : 2 - phase) * 0.999;
      lastSent = value;
      Platform.runLater(() -> t.setValue(value));
      mostJobsWaiting = Math.max(mostJobsWaiting, executor.waiting());
      long due = start + (k + 1) * 1_000_000L;
      while (System.nanoTime() < due) {
        Thread.onSpinWait();
      }
    }
    double sentSeconds = (System.nanoTime() - start) / 1e9;
    Platform.runLater(() -> t.setValueChanging(false));
    waitForIdle();
    Platform.runLater(() -> t.getScene().removePostLayoutPulseListener(pulse));
    WaitForAsyncUtils.waitForFxEvents();

    long[] sorted;
    synchronized (gaps) {
      sorted = gaps.stream().mapToLong(Long::longValue).sorted().toArray();
    }
    double p99 = sorted.length == 0 ? Double.NaN : sorted[(int) Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] / 1e6;
    System.out.printf(Locale.ROOT, "storm: %d slider events in %.1f s; %d model jobs run; %d frames, widest gap "
        + "between frames %.0f ms, 99th percentile %.0f ms; most answers waiting for the UI thread %d%n", events,
        sentSeconds, executor.jobsRun(), pulses.get(), widestGap.get() / 1e6, p99, mostAnswersWaiting.get());
    assertTrue(mostJobsWaiting <= 1, "model jobs waiting: " + mostJobsWaiting);
    // a worker faster than the events may run one job per event; a slower one skips the superseded ones
    assertTrue(executor.jobsRun() <= events, "no more jobs than events: " + executor.jobsRun());
    // at most one from each hand-off: the counterfactual, the rung comparison and the graph's redraw
    assertTrue(mostAnswersWaiting.get() <= 3, "answers waiting for the UI thread: " + mostAnswersWaiting.get());
    assertTrue(pulses.get() > SECONDS, "the window kept drawing frames: " + pulses.get());
    assertTrue(widestGap.get() < 1_000_000_000L, "the UI thread froze for " + widestGap.get() / 1e6 + " ms");
    double wanted = lastSent;
    assertEquals(wanted, t.getValue(), 1e-9, "the slider shows the last value sent");
    assertEquals(wanted, app.view().session().interventions().get("t"), 1e-9, "do(t) holds the last value");
    assertEquals(wanted, app.view().lastResult().values().get("t"), 1e-6, "the answer on screen is for it");
    assertTrue(app.view().lastResult().particles() > ExplorerView.PREVIEW_PARTICLES, "and it is the full answer");
  }

  /** Waits until no model job runs or waits and every answer has reached the screen. */
  private void waitForIdle() throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    int quiet = 0;
    while (quiet < 3) {
      assertTrue(System.nanoTime() < until, "the explorer settles within two minutes");
      WaitForAsyncUtils.waitForFxEvents();
      quiet = executor.waiting() == 0 && !executor.busy() && answersWaiting.get() == 0 ? quiet + 1 : 0;
      Thread.sleep(20);
    }
  }
}
