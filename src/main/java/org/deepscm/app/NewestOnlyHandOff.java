package org.deepscm.app;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Hands a worker's answers to the UI thread so that at most one waits there, the newest: when the UI
 * thread falls behind (a slider storm), older answers are dropped unseen instead of queueing up.
 */
final class NewestOnlyHandOff {
  private final Consumer<Runnable> ui;
  private final AtomicReference<Runnable> waiting = new AtomicReference<>();

  NewestOnlyHandOff(Consumer<Runnable> ui) {
    this.ui = ui;
  }

  void post(Runnable answer) {
    if (waiting.getAndSet(answer) == null) {
      ui.accept(() -> {
        Runnable newest = waiting.getAndSet(null);
        if (newest != null) {
          newest.run();
        }
      });
    }
  }
}
