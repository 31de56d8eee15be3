package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.Variable;
import org.junit.jupiter.api.Test;

class GraphLayoutTest {
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
}
