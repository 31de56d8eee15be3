package org.deepscm.data.morphomnist;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.math3.analysis.integration.gauss.GaussIntegrator;
import org.apache.commons.math3.analysis.integration.gauss.GaussIntegratorFactory;
import org.apache.commons.math3.distribution.GammaDistribution;
import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.deepscm.data.CovariateTable;

/**
 * The true causal world of the Morpho-MNIST experiment (paper Eq. 7):
 *
 * <pre>
 *   t := 0.5 + eps_T,                          eps_T ~ Gamma(shape 10, rate 5)
 *   i := 64 + 191 * sigmoid(0.5 eps_I + 2 t - 5), eps_I ~ N(0, 1)
 *   x := SetIntensity(SetThickness(digit, t), i),   digit a real MNIST digit
 * </pre>
 *
 * Draws keep their exogenous noise (columns eps_t and eps_i, and for images the digit) so that the
 * true answer to any intervention or counterfactual can be computed for every unit.
 */
public final class MorphoMnistTrueScm {
  public static final double GAMMA_SHAPE = 10;
  public static final double GAMMA_RATE = 5;
  /** Seeds of the fixed splits: training (60,000 draws) and test (10,000 draws). */
  public static final long TRAIN_SEED = 20200601L;
  public static final long TEST_SEED = 20201206L;
  public static final int TRAIN_SIZE = 60_000;
  public static final int TEST_SIZE = 10_000;

  private MorphoMnistTrueScm() {}

  public static double thickness(double epsT) {
    return 0.5 + epsT;
  }

  public static double intensity(double t, double epsI) {
    return 64 + 191 * sigmoid(0.5 * epsI + 2 * t - 5);
  }

  /** Abduction of eps_I from an observed (t, i). */
  public static double abductIntensityNoise(double t, double i) {
    double p = (i - 64) / 191;
    return (Math.log(p / (1 - p)) - 2 * t + 5) / 0.5;
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /** n draws of (t, i) with their noise, from a seed. */
  public static CovariateTable draw(int n, long seed) {
    RandomGenerator rng = new MersenneTwister(seed);
    GammaDistribution gamma = new GammaDistribution(rng, GAMMA_SHAPE, 1 / GAMMA_RATE);
    double[] epsT = new double[n];
    double[] epsI = new double[n];
    double[] t = new double[n];
    double[] i = new double[n];
    for (int k = 0; k < n; k++) {
      epsT[k] = gamma.sample();
      epsI[k] = rng.nextGaussian();
      t[k] = thickness(epsT[k]);
      i[k] = intensity(t[k], epsI[k]);
    }
    Map<String, double[]> cols = new LinkedHashMap<>();
    cols.put("t", t);
    cols.put("i", i);
    cols.put("eps_t", epsT);
    cols.put("eps_i", epsI);
    return new CovariateTable(cols);
  }

  public static CovariateTable trainingSet() {
    return draw(TRAIN_SIZE, TRAIN_SEED);
  }

  public static CovariateTable testSet() {
    return draw(TEST_SIZE, TEST_SEED);
  }

  private static final GaussIntegrator HERMITE = new GaussIntegratorFactory().hermite(64);

  /** E[i | do(t)] exactly (Gauss-Hermite quadrature over eps_I). */
  public static double interventionalIntensityMean(double t) {
    // integral of f(x) exp(-x^2) dx with eps = sqrt(2) x
    double s = HERMITE.integrate(x -> intensity(t, Math.sqrt(2) * x));
    return s / Math.sqrt(Math.PI);
  }

  /** The image mechanism: x = SetIntensity(SetThickness(digit, t), i), pixels 0..255. */
  public static double[] image(double[] digit, double t, double i) {
    return Morphology.setIntensity(Morphology.setThickness(digit, t), i);
  }

  /**
   * The true counterfactual (t', i') of a unit with noise (epsT, epsI) under the given
   * interventions (null for none): abduction is exact, the noise is the unit's own.
   */
  public static double[] counterfactualCovariates(double epsT, double epsI, org.deepscm.scm.Intervention doT,
      org.deepscm.scm.Intervention doI) {
    double t = apply(doT, thickness(epsT));
    double i = apply(doI, intensity(t, epsI));
    return new double[] {t, i};
  }

  private static double apply(org.deepscm.scm.Intervention action, double natural) {
    if (action == null) {
      return natural;
    }
    return action.apply(natural);
  }

  /** The true counterfactual image of a unit (its digit and noise) under interventions on t and i. */
  public static double[] counterfactualImage(double[] digit, double epsT, double epsI,
      org.deepscm.scm.Intervention doT, org.deepscm.scm.Intervention doI) {
    double[] ti = counterfactualCovariates(epsT, epsI, doT, doI);
    return image(digit, ti[0], ti[1]);
  }

  /** E[t], unchanged by any intervention on i. */
  public static double thicknessMean() {
    return 0.5 + GAMMA_SHAPE / GAMMA_RATE;
  }
}
