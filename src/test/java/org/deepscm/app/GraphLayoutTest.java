package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.Variable;
import org.junit.jupiter.api.Test;

class GraphLayoutTest {
  @Test
  void aBackgroundLayoutIsTheLayoutAndIsMadeOncePerGraph() {
    CausalGraph g = new CausalGraph(List.of(Variable.positive("t", "px"), Variable.bounded("i", "", 0, 255),
        Variable.image("x", 28, 28)), Map.of("i", List.of("t"), "x", List.of("t", "i")));
    var first = GraphLayout.layoutInBackground(g, 150, 48);
    GraphLayout.Placement direct = GraphLayout.layout(g, 150, 48);
    GraphLayout.Placement background = first.join();
    for (String v : direct.topLeft().keySet()) {
      assertArrayEquals(direct.topLeft().get(v), background.topLeft().get(v), 1e-9, v);
    }
    // the same graph again (a model reopened, a view rebuilt): the same layout, not a new thread
    CausalGraph same = new CausalGraph(List.of(Variable.positive("t", "px"), Variable.bounded("i", "", 0, 255),
        Variable.image("x", 28, 28)), Map.of("i", List.of("t"), "x", List.of("t", "i")));
    assertSame(first, GraphLayout.layoutInBackground(same, 150, 48));
    // another node size is another layout
    assertNotSame(first, GraphLayout.layoutInBackground(g, 100, 48));
  }

  @Test
  void causesAreDrawnAboveTheirEffectsWithoutOverlap() {
    CausalGraph brain = new CausalGraph(
        List.of(Variable.positive("age", "years"), Variable.binary("sex", "female", "male"),
            Variable.positive("brain", "ml"), Variable.positive("ventricles", "ml"), Variable.image("x", 64, 64)),
        Map.of("brain", List.of("age", "sex"), "ventricles", List.of("age", "brain"), "x",
            List.of("brain", "ventricles")));
    GraphLayout.Placement p = GraphLayout.layout(brain, 120, 50);
    for (String[] e : brain.edges()) {
      assertTrue(p.topLeft().get(e[0])[1] + 50 <= p.topLeft().get(e[1])[1],
          e[0] + " must be drawn above " + e[1]);
    }
    var names = List.copyOf(p.topLeft().keySet());
    for (int a = 0; a < names.size(); a++) {
      for (int b = a + 1; b < names.size(); b++) {
        double[] u = p.topLeft().get(names.get(a));
        double[] v = p.topLeft().get(names.get(b));
        boolean apart = Math.abs(u[0] - v[0]) >= 120 || Math.abs(u[1] - v[1]) >= 50;
        assertTrue(apart, names.get(a) + " overlaps " + names.get(b));
      }
    }
  }

  @Test
  void edgesGoAroundTheNodesBetweenTheirEnds() {
    // Morpho-MNIST's full graph: t -> i -> x and t -> x; a straight t -> x would run through i
    CausalGraph g = new CausalGraph(List.of(Variable.positive("t", "px"), Variable.bounded("i", "", 0, 255),
        Variable.image("x", 28, 28)), Map.of("i", List.of("t"), "x", List.of("t", "i")));
    double w = 150;
    double h = 48;
    GraphLayout.Placement p = GraphLayout.layout(g, w, h);
    for (String[] e : g.edges()) {
      List<double[]> route = p.routes().get(e[0] + "->" + e[1]);
      assertTrue(route != null && route.size() >= 2, "a route for " + e[0] + " -> " + e[1]);
      double[] end = route.get(route.size() - 1);
      double[] target = p.topLeft().get(e[1]);
      assertTrue(Math.abs(end[1] - target[1]) < 1e-6 && end[0] >= target[0] && end[0] <= target[0] + w,
          e[0] + " -> " + e[1] + " must end on the top side of " + e[1]);
      for (String other : p.topLeft().keySet()) {
        if (other.equals(e[0]) || other.equals(e[1])) {
          continue;
        }
        double[] box = p.topLeft().get(other);
        for (int k = 0; k + 1 < route.size(); k++) {
          for (double f = 0; f <= 1; f += 0.01) {
            double x = route.get(k)[0] + f * (route.get(k + 1)[0] - route.get(k)[0]);
            double y = route.get(k)[1] + f * (route.get(k + 1)[1] - route.get(k)[1]);
            boolean inside = x > box[0] && x < box[0] + w && y > box[1] && y < box[1] + h;
            assertTrue(!inside, e[0] + " -> " + e[1] + " passes through " + other);
          }
        }
      }
    }
  }
}
