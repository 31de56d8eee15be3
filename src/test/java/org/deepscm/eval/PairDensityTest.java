package org.deepscm.eval;

import static org.deepscm.scm.LinearGaussianScm.A;
import static org.deepscm.scm.LinearGaussianScm.B;
import static org.deepscm.scm.LinearGaussianScm.C;
import static org.deepscm.scm.LinearGaussianScm.D;
import static org.deepscm.scm.LinearGaussianScm.E;
import static org.deepscm.scm.LinearGaussianScm.MU;
import static org.deepscm.scm.LinearGaussianScm.R;
import static org.deepscm.scm.LinearGaussianScm.S;
import static org.deepscm.scm.LinearGaussianScm.SIGMA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deepscm.scm.LinearGaussianScm;
import org.deepscm.scm.StructuralCausalModel;
import org.junit.jupiter.api.Test;

/** Joint densities of a pair against closed forms: exact where the pair is the model, sampled elsewhere. */
class PairDensityTest {
  @Test
  void theSampledDensityOfAPairWithAVariableBetweenMatchesTheGaussianItMustBe() {
    try (StructuralCausalModel scm = LinearGaussianScm.build()) {
      // z = (C A + D) x + C B + E + C S eps_y + R eps_z: (x, z) is Gaussian, y marginalised out
      double slope = C * A + D;
      double sdZgivenX = Math.sqrt(C * C * S * S + R * R);
      for (double shift : new double[] {0, 1.5}) {
        double[] xs = PairDensity.grid(new double[] {MU + shift - 4 * SIGMA, MU + shift + 4 * SIGMA}, 60);
        double zMean = slope * (MU + shift) + C * B + E;
        double zSd = Math.sqrt(slope * slope * SIGMA * SIGMA + sdZgivenX * sdZgivenX);
        double[] zs = PairDensity.grid(new double[] {zMean - 4 * zSd, zMean + 4 * zSd}, 60);
        assertFalse(PairDensity.isExact(scm, "x", "z"));
        PairDensity d = PairDensity.of(scm, "x", "z", xs, zs, shift, 3);
        assertFalse(d.exact());
        double l1 = 0;
        double mass = 0;
        for (int r = 0; r < zs.length; r++) {
          for (int c = 0; c < xs.length; c++) {
            double x = xs[c];
            double truth = normal(x, MU + shift, SIGMA) * normal(zs[r], slope * x + C * B + E, sdZgivenX);
            l1 += Math.abs(d.density()[r][c] - truth) * d.cellArea();
            mass += d.density()[r][c] * d.cellArea();
          }
        }
        assertEquals(1.0, mass, 0.01, "shift " + shift);
        assertTrue(l1 < 0.12, "L1 distance to the closed form " + l1 + ", shift " + shift);
      }
    }
  }

  @Test
  void onATwoVariableModelTheExactDensityIsUsedAndTheSampledOneAgreesWithIt() {
    try (StructuralCausalModel full = LinearGaussianScm.build();
        StructuralCausalModel xy = full.marginal(List.of("x", "y"))) {
      assertTrue(PairDensity.isExact(xy, "x", "y"));
      double[] xs = PairDensity.grid(new double[] {MU - 4 * SIGMA, MU + 4 * SIGMA}, 60);
      double[] ys = PairDensity.grid(new double[] {-9, 9}, 60);
      PairDensity exact = PairDensity.of(xy, "x", "y", xs, ys, 0.5, 1);
      assertTrue(exact.exact());
      double[][] sampled = PairDensity.sampled(xy, "x", "y", xs, ys, 0.5, PairDensity.SAMPLES, 2);
      double l1 = 0;
      double err = 0;
      for (int r = 0; r < ys.length; r++) {
        for (int c = 0; c < xs.length; c++) {
          double truth = normal(xs[c], MU + 0.5, SIGMA) * normal(ys[r], A * xs[c] + B, S);
          err = Math.max(err, Math.abs(exact.density()[r][c] - truth));
          l1 += Math.abs(sampled[r][c] - exact.density()[r][c]) * exact.cellArea();
        }
      }
      assertTrue(err < 1e-4, "exact density off by " + err);
      assertTrue(l1 < 0.12, "sampled vs exact L1 " + l1);
    }
  }

  private static double normal(double v, double mean, double sd) {
    double u = (v - mean) / sd;
    return Math.exp(-0.5 * u * u) / (sd * Math.sqrt(2 * Math.PI));
  }
}
