package org.deepscm.app;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * Runs model work off the UI thread, one job at a time, keeping only the newest request: a slider
 * that moves faster than the model answers never builds a queue, and each job can ask whether a
 * newer one is waiting (to skip its slow second stage).
 */
public final class LatestOnlyExecutor implements AutoCloseable {
  /** A job; {@code superseded} says whether a newer job has arrived since it started. */
  public interface Job {
    void run(BooleanSupplier superseded);
  }

  private final ExecutorService worker;
  private final AtomicReference<Job> pending = new AtomicReference<>();
  private final boolean inline;
  private final java.util.concurrent.atomic.AtomicInteger jobsRun = new java.util.concurrent.atomic.AtomicInteger();
  private volatile boolean running;

  private LatestOnlyExecutor(boolean inline) {
    this.inline = inline;
    this.worker = inline ? null : Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "model-worker");
      t.setDaemon(true);
      return t;
    });
  }

  /** Jobs run on one background thread. */
  public static LatestOnlyExecutor background() {
    return new LatestOnlyExecutor(false);
  }

  /** Jobs run at once on the calling thread (tests: deterministic). */
  public static LatestOnlyExecutor inline() {
    return new LatestOnlyExecutor(true);
  }

  /** Another executor of the same kind, for work that must not replace this one's jobs. */
  public LatestOnlyExecutor sibling() {
    return new LatestOnlyExecutor(inline);
  }

  public void submit(Job job) {
    if (inline) {
      org.deepscm.flow.ParameterSet.stopRecordingGradients();
      job.run(() -> false);
      return;
    }
    if (pending.getAndSet(job) == null) {
      worker.execute(this::drain);
    }
  }

  private void drain() {
    // model work on this thread is inference: no autograd graph through the weights
    org.deepscm.flow.ParameterSet.stopRecordingGradients();
    Job job;
    while ((job = pending.getAndSet(null)) != null) {
      running = true;
      try {
        job.run(() -> pending.get() != null);
      } catch (RuntimeException e) {
        // jobs report their own errors to the UI; this only keeps the worker alive
        System.err.println("model worker: " + e);
      } finally {
        jobsRun.incrementAndGet();
        running = false;
      }
    }
  }

  /** Jobs waiting to run: 0 or 1, whatever the rate of submissions (a newer job replaces the waiting one). */
  public int waiting() {
    return pending.get() == null ? 0 : 1;
  }

  /** Whether jobs run on the calling thread ({@link #inline()}, tests) instead of a thread of their own. */
  boolean runsInline() {
    return inline;
  }

  /** Whether a job is running now. */
  public boolean busy() {
    return running;
  }

  /** Jobs run so far (the superseded ones that never ran are not counted). */
  public int jobsRun() {
    return jobsRun.get();
  }

  @Override
  public void close() {
    if (worker != null) {
      worker.shutdownNow();
    }
  }
}
