package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The chart's redraws while a slider is dragged: the newest, at most every 100 ms; at once otherwise. */
class ThrottledRedrawTest {
  private long now;
  private final List<Runnable> timers = new ArrayList<>();
  private final List<Long> waits = new ArrayList<>();
  private final List<String> drawn = new ArrayList<>();
  private final ThrottledRedraw redraw = new ThrottledRedraw(100, () -> now, (ms, task) -> {
    waits.add(ms);
    timers.add(task);
  });

  private void tick(long millis) {
    now += millis * 1_000_000L;
  }

  @Test
  void aBurstWhileDraggingDrawsTheFirstAndThenOnlyTheNewestAfterTheInterval() {
    redraw.request(() -> drawn.add("a"), true);
    assertEquals(List.of("a"), drawn, "the first of a drag is drawn at once");
    for (String s : List.of("b", "c", "d")) {
      tick(16);
      redraw.request(() -> drawn.add(s), true);
    }
    assertEquals(List.of("a"), drawn, "within 100 ms nothing more is drawn");
    assertEquals(1, timers.size(), "one wait for the whole burst");
    assertEquals(List.of(84L), waits, "it ends 100 ms after the last drawing (asked for 16 ms after it)");
    tick(52);
    timers.get(0).run();
    assertEquals(List.of("a", "d"), drawn, "then the newest only");
  }

  @Test
  void notDraggingOrReleasedItDrawsAtOnce() {
    redraw.request(() -> drawn.add("a"), false);
    tick(5);
    redraw.request(() -> drawn.add("b"), false);
    assertEquals(List.of("a", "b"), drawn);
    tick(5);
    redraw.request(() -> drawn.add("c"), true);
    assertEquals(List.of("a", "b"), drawn);
    redraw.flush();
    assertEquals(List.of("a", "b", "c"), drawn, "release draws what waits");
    timers.get(0).run();
    assertEquals(List.of("a", "b", "c"), drawn, "and the timer finds nothing left to draw");
  }
}
