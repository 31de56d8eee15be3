package org.deepscm.train;

/** Hears about training progress; {@link #cancelled()} lets a caller stop it between steps. */
public interface TrainingListener {

  /** After each epoch; NLLs are per unit (nats). */
  void epochEnded(int epoch, int maxEpochs, double trainNll, double validationNll, boolean best, double seconds);

  default void message(String text) {}

  default boolean cancelled() {
    return Thread.currentThread().isInterrupted();
  }

  TrainingListener SILENT = (epoch, max, train, val, best, seconds) -> {};
}
