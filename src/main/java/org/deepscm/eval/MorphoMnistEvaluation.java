package org.deepscm.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.image.ImageMechanism;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.StructuralCausalModel;

/**
 * The measures of a Morpho-MNIST image model on test units (paper Table 1, and the counterfactual
 * measures of Monteiro et al. 2023 that the paper could only show as pictures):
 *
 * <ul>
 *   <li>{@code elbo_x_given_t_i}, {@code elbo_x_t_i}: lower bounds on log p(x | t, i) and log p(x, t, i)
 *       (nats per image; 4 particles);
 *   <li>{@code log_p_t}, {@code log_p_i_given_t} (or {@code log_p_i}): exact;
 *   <li>{@code recon_mae}: mean absolute pixel error (0..255) of the reconstruction (32 particles);
 *   <li>{@code cf_thickness_mae}, {@code cf_intensity_mae}: effectiveness: the morphometrics of each
 *       counterfactual image against the counterfactual t and i the model itself predicts, over
 *       do(t) and do(i) on a grid across the training range;
 *   <li>{@code cf_true_mae}: pixel MAE between the model's counterfactual and the true one of Eq. 7;
 *   <li>{@code composition_l1_1}, {@code composition_l1_10}: the null intervention applied 1 and
 *       10 times, mean absolute pixel change;
 *   <li>{@code reversibility_l1}: do(t := t + 1), then back to the observed (t, i);
 *   <li>{@code do_t_mean_abs_error}: E[i | do(t)] against the true SCM (t = 1..4).
 * </ul>
 */
public final class MorphoMnistEvaluation {
  public static final double[] T_TARGETS = {1.5, 2.5, 3.5, 4.5, 5.5};
  public static final double[] I_TARGETS = {80, 120, 160, 200, 240};
  private static final int CHUNK = 50;

  private MorphoMnistEvaluation() {}

  /**
   * @param test the test units with images; the image measures use the first {@code units} of them
   *     (each costs about 3 s on 2 CPU cores)
   * @param testCovariates every test unit's (t, i), for the exact covariate log-likelihoods
   * @param progress hears the number of units done
   */
  public static Map<String, Double> evaluate(StructuralCausalModel scm, MnistDigits digits,
      MorphoMnistDataset test, CovariateTable testCovariates, int units, int particles, long seed,
      IntConsumer progress) {
    ImageMechanism image = (ImageMechanism) scm.mechanism("x");
    StructuralCausalModel covariates = scm.scalarPart();
    int n = Math.min(units, test.size());
    CovariateTable cov = test.covariates();
    Map<String, Double> out = new LinkedHashMap<>(CovariateEvaluation.logLikelihoods(scm, testCovariates));
    out.remove("log_p_joint");
    out.put("covariate_test_units", out.remove("test_size"));

    List<Map<String, Intervention>> grid = new ArrayList<>();
    for (double t : T_TARGETS) {
      grid.add(Map.of("t", Intervention.set(t)));
    }
    for (double i : I_TARGETS) {
      grid.add(Map.of("i", Intervention.set(i)));
    }
    double elbo = 0;
    double recon = 0;
    double cfT = 0;
    double cfI = 0;
    double cfTrue = 0;
    // the same errors split by the intervened variable: [do(t), do(i)] x [thickness, intensity]
    double[][] byTarget = new double[2][2];
    int[] byTargetCount = new int[2];
    double comp1 = 0;
    double comp10 = 0;
    double reverse = 0;
    int cfCount = 0;
    for (int from = 0; from < n; from += CHUNK) {
      int to = Math.min(n, from + CHUNK);
      int m = to - from;
      try (NDManager nd = NDManager.newBaseManager()) {
        ai.djl.engine.Engine.getInstance().setRandomSeed((int) (seed + from));
        float[] px = new float[m * MnistDigits.PIXELS];
        for (int u = 0; u < m; u++) {
          double[] x = test.image(from + u);
          for (int p = 0; p < x.length; p++) {
            px[u * MnistDigits.PIXELS + p] = (float) x[p];
          }
        }
        NDArray x = nd.create(px, new Shape(m, MnistDigits.SIDE, MnistDigits.SIDE));
        Map<String, NDArray> pa = cov.slice(from, to).toArrays(nd, List.of("t", "i"));
        Map<String, NDArray> imagePa = parentsOf(image, pa);
        elbo += image.elbo(x, imagePa, ImageMechanism.ELBO_PARTICLES).toType(DataType.FLOAT64, false).sum()
            .getDouble();
        recon += meanAbs(image.reconstruct(x, imagePa, particles), x) * m;

        for (Map<String, Intervention> dos : grid) {
          Map<String, NDArray> star = covariates.counterfactual(pa, dos);
          NDArray cf = image.counterfactual(x, imagePa, parentsOf(image, star), particles);
          float[] cfPx = cf.toFloatArray();
          double[] tStar = star.get("t").toType(DataType.FLOAT64, false).toDoubleArray();
          double[] iStar = star.get("i").toType(DataType.FLOAT64, false).toDoubleArray();
          for (int u = 0; u < m; u++) {
            double[] img = new double[MnistDigits.PIXELS];
            for (int p = 0; p < img.length; p++) {
              img[p] = cfPx[u * MnistDigits.PIXELS + p];
            }
            double errT = Math.abs(Morphology.measureThickness(img) - tStar[u]);
            double errI = Math.abs(Morphology.measureIntensity(img) - iStar[u]);
            cfT += errT;
            cfI += errI;
            int target = dos.containsKey("t") ? 0 : 1;
            byTarget[target][0] += errT;
            byTarget[target][1] += errI;
            byTargetCount[target]++;
            int unit = from + u;
            double[] truth = MorphoMnistTrueScm.counterfactualImage(digits.imageDoubles(test.digit(unit)),
                test.epsT(unit), test.epsI(unit), dos.get("t"), dos.get("i"));
            double d = 0;
            for (int p = 0; p < img.length; p++) {
              d += Math.abs(img[p] - truth[p]);
            }
            cfTrue += d / img.length;
            cfCount++;
          }
        }

        NDArray again = x;
        for (int k = 1; k <= 10; k++) {
          again = image.counterfactual(again, imagePa, imagePa, particles);
          if (k == 1) {
            comp1 += meanAbs(again, x) * m;
          }
        }
        comp10 += meanAbs(again, x) * m;

        Map<String, NDArray> star = covariates.counterfactual(pa, Map.of("t", Intervention.shift(1)));
        NDArray there = image.counterfactual(x, imagePa, parentsOf(image, star), particles);
        NDArray back = image.counterfactual(there, parentsOf(image, star), imagePa, particles);
        reverse += meanAbs(back, x) * m;
      }
      if (progress != null) {
        progress.accept(to);
      }
    }
    out.put("elbo_x_given_t_i", elbo / n);
    // the joint bound on the same units as the image term
    double logCov = CovariateEvaluation.logLikelihoods(scm, cov.slice(0, n)).get("log_p_joint");
    out.put("elbo_x_t_i", elbo / n + logCov);
    out.put("recon_mae", recon / n);
    out.put("cf_thickness_mae", cfT / cfCount);
    out.put("cf_intensity_mae", cfI / cfCount);
    out.put("cf_thickness_mae_do_t", byTarget[0][0] / byTargetCount[0]);
    out.put("cf_thickness_mae_do_i", byTarget[1][0] / byTargetCount[1]);
    out.put("cf_intensity_mae_do_t", byTarget[0][1] / byTargetCount[0]);
    out.put("cf_intensity_mae_do_i", byTarget[1][1] / byTargetCount[1]);
    out.put("cf_true_mae", cfTrue / cfCount);
    out.put("composition_l1_1", comp1 / n);
    out.put("composition_l1_10", comp10 / n);
    out.put("reversibility_l1", reverse / n);
    out.putAll(CovariateEvaluation.interventionalChecks(scm, seed));
    out.put("test_units", (double) n);
    out.put("particles", (double) particles);
    return out;
  }

  /** The image's parents among the given values (none for the independent model). */
  private static Map<String, NDArray> parentsOf(ImageMechanism image, Map<String, NDArray> values) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (String p : image.parents()) {
      out.put(p, values.get(p));
    }
    return out;
  }

  private static double meanAbs(NDArray a, NDArray b) {
    return a.sub(b).abs().toType(DataType.FLOAT64, false).mean().getDouble();
  }
}
