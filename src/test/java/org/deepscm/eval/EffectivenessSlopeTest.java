package org.deepscm.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The effectiveness slope: how far the image moved per unit of requested change. */
class EffectivenessSlopeTest {
  @Test
  void anImageThatMovesPartOfTheWayHasThatSlope() {
    Regression r = new Regression();
    java.util.Random rng = new java.util.Random(5);
    for (int k = 0; k < 2000; k++) {
      double requested = rng.nextGaussian() * 40;
      r.add(requested, 0.7 * requested + 3 + rng.nextGaussian());
    }
    assertEquals(0.7, r.slope(), 0.01);
  }

  @Test
  void noSpreadInTheRequestsHasNoSlope() {
    Regression r = new Regression();
    r.add(1, 2);
    r.add(1, 3);
    r.add(Double.NaN, 1);
    assertTrue(Double.isNaN(r.slope()));
  }
}
