package org.deepscm.eval;

import static org.deepscm.scm.LinearGaussianScm.A;
import static org.deepscm.scm.LinearGaussianScm.B;
import static org.deepscm.scm.LinearGaussianScm.MU;
import static org.deepscm.scm.LinearGaussianScm.S;
import static org.deepscm.scm.LinearGaussianScm.SIGMA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Map;
import org.deepscm.scm.LinearGaussianScm;
import org.deepscm.scm.StructuralCausalModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The three rungs on x -> y (y = A x + B + S eps) against their closed forms. */
class RungComparisonTest {
  private static StructuralCausalModel scm;
  private static final Map<String, Double> CASE = Map.of("x", 2.0, "y", 0.2, "z", 1.0);
  private static final int N = 40_000;

  @BeforeAll
  static void build() {
    scm = LinearGaussianScm.build();
  }

  @AfterAll
  static void close() {
    scm.close();
  }

  @Test
  void seeingAnEffectMovesTheCauseButSettingItDoesNot() {
    double yStar = 3.0;
    RungComparison r = RungComparison.compute(scm, CASE, "x", "y", yStar, N, 5);
    // conditioning: Gaussian regression of x on y
    double varY = A * A * SIGMA * SIGMA + S * S;
    double meanY = A * MU + B;
    double condMean = MU + A * SIGMA * SIGMA / varY * (yStar - meanY);
    double condSd = Math.sqrt(SIGMA * SIGMA - Math.pow(A * SIGMA * SIGMA, 2) / varY);
    assertEquals(condMean, mean(r.conditional()), 4 * condSd / Math.sqrt(r.conditional().length) + 0.02);
    assertEquals(condSd, sd(r.conditional()), 0.08);
    // intervening on the effect leaves the cause's distribution alone
    assertEquals(MU, mean(r.interventional()), 4 * SIGMA / Math.sqrt(N));
    assertEquals(SIGMA, sd(r.interventional()), 0.05);
    // and this case's counterfactual x is the observed one
    assertEquals(2.0, r.counterfactual(), 1e-5);
    assertEquals(2.0, r.observed(), 0);
  }

  @Test
  void onACauseSeeingAndSettingAgreeAndTheCounterfactualKeepsTheNoise() {
    double xStar = 4.0;
    RungComparison r = RungComparison.compute(scm, CASE, "y", "x", xStar, N, 6);
    assertEquals(A * xStar + B, mean(r.interventional()), 4 * S / Math.sqrt(N));
    assertEquals(S, sd(r.interventional()), 0.05);
    // nearest neighbours in x: x within a narrow window of x*, so nearly the same distribution
    assertEquals(A * xStar + B, mean(r.conditional()), 4 * S / Math.sqrt(r.conditional().length) + 0.05);
    // y* = y + A (x* - x): the case's own noise carried over
    assertEquals(0.2 + A * (xStar - 2.0), r.counterfactual(), 1e-4);
  }

  @Test
  void theDensityEstimateIntegratesToOneAndPeaksAtTheMode() {
    double[] samples = new double[5000];
    java.util.Random rng = new java.util.Random(3);
    for (int k = 0; k < samples.length; k++) {
      samples[k] = 10 + 2 * rng.nextGaussian();
    }
    double[] grid = new double[401];
    for (int g = 0; g < grid.length; g++) {
      grid[g] = g * 0.05;
    }
    double[] d = RungComparison.density(samples, grid);
    assertEquals(1.0, Arrays.stream(d).sum() * 0.05, 0.01);
    int argmax = 0;
    for (int g = 1; g < d.length; g++) {
      argmax = d[g] > d[argmax] ? g : argmax;
    }
    assertEquals(10, grid[argmax], 0.4);
    assertEquals(1 / (2 * Math.sqrt(2 * Math.PI)), d[200], 0.01);
  }

  @Test
  void badRequestsAreRefusedByName() {
    var e = assertThrows(IllegalArgumentException.class, () -> RungComparison.compute(scm, CASE, "x", "x", 1, N, 1));
    assertEquals(true, e.getMessage().contains("x"));
    assertThrows(RuntimeException.class, () -> RungComparison.compute(scm, CASE, "x", "nope", 1, N, 1));
    assertThrows(RuntimeException.class, () -> RungComparison.compute(scm, CASE, "x", "y", Double.NaN, N, 1));
    assertThrows(RuntimeException.class, () -> RungComparison.compute(scm, Map.of("x", 1.0), "x", "y", 1, N, 1));
  }

  private static double mean(double[] a) {
    return Arrays.stream(a).average().orElseThrow();
  }

  private static double sd(double[] a) {
    double m = mean(a);
    return Math.sqrt(Arrays.stream(a).map(x -> (x - m) * (x - m)).sum() / (a.length - 1));
  }
}
