package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
    // model jobs waiting, sampled every millisecond while the storm runs
    AtomicInteger mostJobs = new AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean storming = new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread sampler = new Thread(() -> {
      while (storming.get()) {
        mostJobs.accumulateAndGet(executor.waiting(), Math::max);
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
    });
    sampler.start();
    SliderStorm.Stats stats = SliderStorm.run(t, EVENTS_PER_SECOND, SECONDS,
        () -> executor.waiting() == 0 && !executor.busy() && answersWaiting.get() == 0);
    storming.set(false);
    sampler.join();
    int events = stats.events();
    int mostJobsWaiting = mostJobs.get();
    double lastSent = stats.lastSent();
    WaitForAsyncUtils.waitForFxEvents();
    System.out.println(stats.describe() + String.format(Locale.ROOT, "; %d model jobs run; most answers waiting for "
        + "the UI thread %d", executor.jobsRun(), mostAnswersWaiting.get()));
    assertTrue(mostJobsWaiting <= 1, "model jobs waiting: " + mostJobsWaiting);
    // a worker faster than the events may run one job per event; a slower one skips the superseded ones
    assertTrue(executor.jobsRun() <= events, "no more jobs than events: " + executor.jobsRun());
    // at most one from each hand-off: the counterfactual, the rung comparison and the graph's redraw
    assertTrue(mostAnswersWaiting.get() <= 3, "answers waiting for the UI thread: " + mostAnswersWaiting.get());
    assertTrue(stats.frames() > SECONDS, "the window kept drawing frames: " + stats.frames());
    assertTrue(stats.widestGapMs() < 1000, "the UI thread froze for " + stats.widestGapMs() + " ms");
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
