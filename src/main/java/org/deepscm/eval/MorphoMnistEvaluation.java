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
import org.deepscm.data.StratifiedSample;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.data.morphomnist.TypicalIntensity;
import org.deepscm.scm.SavedModel;
import org.deepscm.image.DigitClassifier;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.ParentPredictor;
import org.deepscm.image.ParticleSpread;
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
 *   <li>{@code recon_mae}: mean absolute pixel error (0..255) of the reconstruction (32 particles),
 *       also per digit class ({@code recon_mae_class_3}, as the effectiveness errors);
 *   <li>{@code cf_thickness_mae}, {@code cf_intensity_mae}: effectiveness: the morphometrics of each
 *       counterfactual image against the counterfactual t and i the model itself predicts, over
 *       do(t) and do(i) on a grid across the training range; {@code cf_thickness_slope_do_t} and
 *       {@code cf_intensity_slope_do_i}: the least-squares slope of the measured change (counterfactual
 *       image against the observed one) on the requested change, 1 when the image moves all the way;
 *   <li>{@code cf_true_mae}: pixel MAE between the model's counterfactual and the true one of Eq. 7;
 *   <li>how well the counterfactual's spread over its particles foretells its error against the true image, per
 *       do() ({@link SpreadCalibration}, a case being one unit under one grid target: {@code
 *       cf_sd_error_spearman_do_t}, {@code cf_true_coverage_2sd_do_t}, {@code cf_sd_error_unit_corr_do_t}, and
 *       the same for i);
 *   <li>{@code composition_l1_1}, {@code composition_l1_10}: the null intervention applied 1 and
 *       10 times, mean absolute pixel change;
 *   <li>{@code reversibility_l1}: do(t := t + 1), then back to the observed (t, i);
 *   <li>{@code do_t_mean_abs_error}: E[i | do(t)] against the true SCM (t = 1..4);
 *   <li>with a judge ({@link DigitClassifier}, trained apart from every model): {@code digit_kept_do_t},
 *       {@code digit_kept_do_i}, the share of counterfactuals still read as the unit's own digit, and
 *       {@code digit_read_observed}, the share of observed images read right (the ceiling); the anticausal
 *       predictors' digit head gives the same as {@code pred_digit_*}.
 * </ul>
 */
public final class MorphoMnistEvaluation {
  public static final double[] T_TARGETS = {1.5, 2.5, 3.5, 4.5, 5.5};
  public static final double[] I_TARGETS = {80, 120, 160, 200, 240};
  private static final int CHUNK = 50;

  private MorphoMnistEvaluation() {}

  /**
   * The measures on a seeded, class-stratified random sample of {@code units} test units (the whole
   * test split when {@code units} is at least its size); the same {@code seed} draws the sample and
   * the particles.
   */
  public static Map<String, Double> evaluateTestSplit(StructuralCausalModel scm, MnistDigits digits, int units,
      int particles, long seed, IntConsumer progress) {
    return evaluateTestSplit(scm, digits, units, particles, seed, null, progress);
  }

  /**
   * As above, with the anticausal predictors' second opinion when {@code predictors} is not null:
   * {@code pred_digit_kept_do_t} and {@code pred_digit_kept_do_i}, the share of counterfactuals whose digit
   * their classifier head still reads as the unit's own (beside {@code pred_digit_read_observed}, its share
   * on the observed images), and {@code pred_t_error_do_t} / {@code pred_i_error_do_i}, the predictors'
   * reading of the intervened value against the one asked for (mean absolute error).
   */
  public static Map<String, Double> evaluateTestSplit(StructuralCausalModel scm, MnistDigits digits, int units,
      int particles, long seed, ParentPredictor predictors, IntConsumer progress) {
    return evaluateTestSplit(scm, digits, units, particles, seed, predictors, null, progress);
  }

  /**
   * As above, with the judge of "digit kept" when {@code judge} is not null (a classifier trained apart
   * from every model, {@link DigitClassifier#shipped()}): {@code digit_kept_do_t} and {@code digit_kept_do_i},
   * the share of counterfactuals whose digit it still reads as the unit's own, beside
   * {@code digit_read_observed}, its share on the observed images (the ceiling of digit kept).
   */
  public static Map<String, Double> evaluateTestSplit(StructuralCausalModel scm, MnistDigits digits, int units,
      int particles, long seed, ParentPredictor predictors, DigitClassifier judge, IntConsumer progress) {
    MorphoMnistDataset test = MorphoMnistDataset.render(digits, MorphoMnistDataset.Split.TEST,
        MorphoMnistDataset.DEFAULT_SEED, testSample(digits, units, seed));
    return evaluate(scm, digits, test,
        MorphoMnistDataset.covariates(digits, MorphoMnistDataset.Split.TEST, MorphoMnistDataset.DEFAULT_SEED),
        particles, seed, predictors, judge, progress);
  }

  /** The test units (indices into the test split) that {@link #evaluateTestSplit} measures. */
  public static int[] testSample(MnistDigits digits, int units, long seed) {
    return StratifiedSample.of(MorphoMnistDataset.labels(digits, MorphoMnistDataset.Split.TEST), units, seed);
  }

  /** Says which test units a run measured, for its JSON and its model card. */
  public static String describeSample(int units, int splitSize, long seed) {
    return units >= splitSize
        ? "the whole test split (" + splitSize + " units)"
        : "a class-stratified random sample of " + units + " of the " + splitSize + " test units (seed " + seed
            + ")";
  }

  /**
   * @param test the test units to measure, with images (a stratified sample of the split, or all of it)
   * @param testCovariates every test unit's (t, i), for the exact covariate log-likelihoods
   * @param progress hears the number of units done
   */
  public static Map<String, Double> evaluate(StructuralCausalModel scm, MnistDigits digits,
      MorphoMnistDataset test, CovariateTable testCovariates, int particles, long seed, IntConsumer progress) {
    return evaluate(scm, digits, test, testCovariates, particles, seed, null, progress);
  }

  public static Map<String, Double> evaluate(StructuralCausalModel scm, MnistDigits digits,
      MorphoMnistDataset test, CovariateTable testCovariates, int particles, long seed, ParentPredictor predictors,
      IntConsumer progress) {
    return evaluate(scm, digits, test, testCovariates, particles, seed, predictors, null, progress);
  }

  public static Map<String, Double> evaluate(StructuralCausalModel scm, MnistDigits digits,
      MorphoMnistDataset test, CovariateTable testCovariates, int particles, long seed, ParentPredictor predictors,
      DigitClassifier judge, IntConsumer progress) {
    ImageMechanism image = (ImageMechanism) scm.mechanism("x");
    StructuralCausalModel covariates = scm.scalarPart();
    int n = test.size();
    if (n == 0) {
      throw new IllegalArgumentException("no test units to measure");
    }
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
    Sums all = new Sums();
    Sums[] byClass = new Sums[10];
    for (int c = 0; c < 10; c++) {
      byClass[c] = new Sums();
    }
    // [do(t), do(i)] x [thickness, intensity] errors, and the effectiveness regressions
    double[][] byTarget = new double[2][2];
    int[] byTargetCount = new int[2];
    Regression slopeT = new Regression();
    Regression slopeI = new Regression();
    // the predictors' second opinion per [do(t), do(i)]: digit kept, reading of the intervened value
    double[] predDigitKept = new double[2];
    // their digit head's accuracy on the observed digits
    double[] predDigitReadObserved = new double[1];
    // the judge's reading per [do(t), do(i)], and on the observed digits (the ceiling of digit_kept)
    double[] digitKept = new double[2];
    double[] digitReadObserved = new double[1];
    double[] predError = new double[2];
    int digitIndex = predictors == null ? -1 : predictors.indexOf("digit");
    int[] predIndex = predictors == null ? new int[] {-1, -1} : new int[] {predictors.indexOf("t"),
        predictors.indexOf("i")};
    double[] cfTrue = new double[1];
    SpreadCalibration spread = new SpreadCalibration();

    ImageEvaluation.World world = new ImageEvaluation.World() {
      @Override
      public int side() {
        return MnistDigits.SIDE;
      }

      @Override
      public float[] images(int from, int to) {
        float[] px = new float[(to - from) * MnistDigits.PIXELS];
        for (int u = 0; u < to - from; u++) {
          double[] x = test.image(from + u);
          for (int p = 0; p < x.length; p++) {
            px[u * MnistDigits.PIXELS + p] = (float) x[p];
          }
        }
        return px;
      }

      @Override
      public Map<String, NDArray> parents(NDManager nd, int from, int to) {
        return cov.slice(from, to).toArrays(nd, List.of("t", "i"));
      }

      @Override
      public Map<String, Intervention> reversibility() {
        return Map.of("t", Intervention.shift(1));
      }

      @Override
      public void measure(ImageEvaluation.Chunk chunk) {
        int from = chunk.from();
        int m = chunk.size();
        NDManager nd = chunk.manager();
        Map<String, NDArray> pa = chunk.parents();
        double[] measuredT = new double[m];
        double[] measuredI = new double[m];
        for (int u = 0; u < m; u++) {
          double[] x = unit(chunk.pixels(), u);
          measuredT[u] = Morphology.measureThickness(x);
          measuredI[u] = Morphology.measureIntensity(x);
          all.recon += chunk.recon()[u];
          byClass[test.label(from + u)].recon += chunk.recon()[u];
          byClass[test.label(from + u)].units++;
        }
        all.units += m;
        if (digitIndex >= 0) {
          double[][] read = predictors.predict(chunk.pixels(), m);
          for (int u = 0; u < m; u++) {
            predDigitReadObserved[0] += read[u][digitIndex] == test.label(from + u) ? 1 : 0;
          }
        }
        if (judge != null) {
          int[] read = judge.classify(chunk.pixels(), m);
          for (int u = 0; u < m; u++) {
            digitReadObserved[0] += read[u] == test.label(from + u) ? 1 : 0;
          }
        }
        double[] tObs = pa.get("t").toType(DataType.FLOAT64, false).toDoubleArray();
        double[] iObs = pa.get("i").toType(DataType.FLOAT64, false).toDoubleArray();
        for (Map<String, Intervention> dos : grid) {
          Map<String, NDArray> star = covariates.counterfactual(pa, dos);
          ParticleSpread.MeanAndSpread answer = image.counterfactualWithSpread(chunk.abduction(),
              ImageEvaluation.parentsOf(image, star), nd);
          float[] cfPx = answer.mean().toFloatArray();
          float[] sdPx = answer.sd().toFloatArray();
          double[] tStar = star.get("t").toType(DataType.FLOAT64, false).toDoubleArray();
          double[] iStar = star.get("i").toType(DataType.FLOAT64, false).toDoubleArray();
          int target = dos.containsKey("t") ? 0 : 1;
          double[][] read = predictors == null ? null : predictors.predict(cfPx, m);
          int[] judged = judge == null ? null : judge.classify(cfPx, m);
          for (int u = 0; u < m; u++) {
            if (judged != null && judged[u] == test.label(from + u)) {
              digitKept[target]++;
            }
            if (read != null) {
              if (digitIndex >= 0 && read[u][digitIndex] == test.label(from + u)) {
                predDigitKept[target]++;
              }
              if (predIndex[target] >= 0) {
                predError[target] += Math.abs(read[u][predIndex[target]] - (target == 0 ? tStar[u] : iStar[u]));
              }
            }
            double[] img = unit(cfPx, u);
            double cfT = Morphology.measureThickness(img);
            double cfI = Morphology.measureIntensity(img);
            double errT = Math.abs(cfT - tStar[u]);
            double errI = Math.abs(cfI - iStar[u]);
            Sums cls = byClass[test.label(from + u)];
            for (Sums sums : new Sums[] {all, cls}) {
              sums.cfT += errT;
              sums.cfI += errI;
              sums.cfCount++;
            }
            byTarget[target][0] += errT;
            byTarget[target][1] += errI;
            byTargetCount[target]++;
            if (target == 0) {
              slopeT.add(tStar[u] - tObs[u], cfT - measuredT[u]);
            } else {
              slopeI.add(iStar[u] - iObs[u], cfI - measuredI[u]);
            }
            int unit = from + u;
            double[] truth = MorphoMnistTrueScm.counterfactualImage(digits.imageDoubles(test.digit(unit)),
                test.epsT(unit), test.epsI(unit), dos.get("t"), dos.get("i"));
            double d = 0;
            for (int p = 0; p < img.length; p++) {
              d += Math.abs(img[p] - truth[p]);
            }
            cfTrue[0] += d / img.length;
            spread.add(target == 0 ? "t" : "i", img, unit(sdPx, u), truth, unit(chunk.pixels(), u));
          }
        }
      }
    };
    ImageEvaluation.Totals totals = ImageEvaluation.run(scm, n, CHUNK, particles, seed, world, progress);

    out.put("elbo_x_given_t_i", totals.meanElbo());
    // the joint bound on the same units as the image term
    double logCov = CovariateEvaluation.logLikelihoods(scm, cov).get("log_p_joint");
    out.put("elbo_x_t_i", totals.meanElbo() + logCov);
    out.put("recon_mae", all.recon / all.units);
    // what a typical test digit looks like to the model: the explorer and the CLI warn below/above these
    out.put(Typicality.ELBO_P01, ImageEvaluation.percentile(totals.elbo(), 1));
    out.put("recon_mae_p99", ImageEvaluation.percentile(totals.recon(), 99));
    out.put("cf_thickness_mae", all.cfT / all.cfCount);
    out.put("cf_intensity_mae", all.cfI / all.cfCount);
    out.put("cf_thickness_mae_do_t", byTarget[0][0] / byTargetCount[0]);
    out.put("cf_thickness_mae_do_i", byTarget[1][0] / byTargetCount[1]);
    out.put("cf_intensity_mae_do_t", byTarget[0][1] / byTargetCount[0]);
    out.put("cf_intensity_mae_do_i", byTarget[1][1] / byTargetCount[1]);
    out.put("cf_thickness_slope_do_t", slopeT.slope());
    out.put("cf_intensity_slope_do_i", slopeI.slope());
    out.put("cf_true_mae", cfTrue[0] / all.cfCount);
    // does the spread over the particles say where the counterfactual is wrong (against the TRUE image)?
    out.putAll(spread.measures());
    if (judge != null) {
      out.put("digit_kept_do_t", digitKept[0] / byTargetCount[0]);
      out.put("digit_kept_do_i", digitKept[1] / byTargetCount[1]);
      out.put("digit_read_observed", digitReadObserved[0] / n);
    }
    if (digitIndex >= 0) {
      out.put("pred_digit_kept_do_t", predDigitKept[0] / byTargetCount[0]);
      out.put("pred_digit_kept_do_i", predDigitKept[1] / byTargetCount[1]);
      out.put("pred_digit_read_observed", predDigitReadObserved[0] / n);
    }
    if (predIndex[0] >= 0) {
      out.put("pred_t_error_do_t", predError[0] / byTargetCount[0]);
    }
    if (predIndex[1] >= 0) {
      out.put("pred_i_error_do_i", predError[1] / byTargetCount[1]);
    }
    out.put("composition_l1_1", totals.composition1());
    out.put("composition_l1_10", totals.composition10());
    out.put("reversibility_l1", totals.reversibility());
    for (int c = 0; c < 10; c++) {
      Sums cls = byClass[c];
      if (cls.units > 0) {
        out.put("recon_mae_class_" + c, cls.recon / cls.units);
        out.put("cf_thickness_mae_class_" + c, cls.cfT / cls.cfCount);
        out.put("cf_intensity_mae_class_" + c, cls.cfI / cls.cfCount);
        out.put("test_units_class_" + c, (double) cls.units);
      }
    }
    out.putAll(CovariateEvaluation.interventionalChecks(scm, seed));
    out.put("test_units", (double) n);
    out.put("particles", (double) particles);
    out.put("seed", (double) seed);
    return out;
  }

  /**
   * Counterfactuals of real MNIST test digits, as a user opening their own digit gets them: t and i
   * measured on the image, then do(t) and do(i) on the grid, the counterfactual image measured again.
   * Keys {@code <prefix>cf_thickness_mae_do_t}, {@code <prefix>cf_intensity_mae_do_i}, their slopes,
   * and {@code <prefix>atypical_fraction} (the share of digits {@link Typicality} warns about).
   *
   * @param units real digits of the test split, a seeded class-stratified sample
   * @param typicalIntensity first bring each digit into the model's world ({@link TypicalIntensity})
   */
  public static Map<String, Double> realDigits(SavedModel model, MnistDigits digits, int units, int particles,
      long seed, boolean typicalIntensity, String prefix) {
    return realDigits(model, digits, units, particles, seed, typicalIntensity, null, prefix);
  }

  /**
   * As above, with {@code <prefix>digit_kept_do_t}, {@code <prefix>digit_kept_do_i} and
   * {@code <prefix>digit_read_observed} when {@code judge} is not null (as in {@link #evaluateTestSplit}).
   */
  public static Map<String, Double> realDigits(SavedModel model, MnistDigits digits, int units, int particles,
      long seed, boolean typicalIntensity, DigitClassifier judge, String prefix) {
    StructuralCausalModel scm = model.scm();
    ImageMechanism image = (ImageMechanism) scm.mechanism("x");
    StructuralCausalModel covariates = scm.scalarPart();
    int[] split = digits.split().test();
    int[] labels = new int[split.length];
    for (int u = 0; u < split.length; u++) {
      labels[u] = digits.label(split[u]);
    }
    int[] chosen = StratifiedSample.of(labels, units, seed);
    int n = chosen.length;
    int[] classes = new int[n];
    for (int k = 0; k < n; k++) {
      classes[k] = labels[chosen[k]];
    }
    double[] kept = new double[2];
    float[] px = new float[n * MnistDigits.PIXELS];
    double[] t = new double[n];
    double[] i = new double[n];
    int atypical = 0;
    for (int k = 0; k < n; k++) {
      double[] x = digits.imageDoubles(split[chosen[k]]);
      t[k] = Morphology.measureThickness(x);
      if (typicalIntensity) {
        x = TypicalIntensity.apply(scm, x, t[k]).image();
      }
      i[k] = Morphology.measureIntensity(x);
      for (int p = 0; p < x.length; p++) {
        px[k * MnistDigits.PIXELS + p] = (float) x[p];
      }
      if (!Typicality.assess(model, Map.of("t", t[k], "i", i[k]), null).typical()) {
        atypical++;
      }
    }
    double errT = 0;
    double errI = 0;
    Regression slopeT = new Regression();
    Regression slopeI = new Regression();
    try (NDManager nd = NDManager.newBaseManager()) {
      ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
      NDArray x = nd.create(px, new Shape(n, MnistDigits.SIDE, MnistDigits.SIDE));
      Map<String, NDArray> pa = new LinkedHashMap<>();
      pa.put("t", nd.create(t));
      pa.put("i", nd.create(i));
      try (ImageMechanism.Abduction a = image.abduct(nd, x, ImageEvaluation.parentsOf(image, pa), particles)) {
        for (double target : T_TARGETS) {
          Map<String, NDArray> star = covariates.counterfactual(pa, Map.of("t", Intervention.set(target)));
          float[] cf = image.counterfactual(a, ImageEvaluation.parentsOf(image, star), nd).toFloatArray();
          kept[0] += judge == null ? 0 : judgedRight(judge, cf, classes);
          for (int k = 0; k < n; k++) {
            double got = Morphology.measureThickness(unit(cf, k));
            errT += Math.abs(got - target);
            slopeT.add(target - t[k], got - t[k]);
          }
        }
        for (double target : I_TARGETS) {
          Map<String, NDArray> star = covariates.counterfactual(pa, Map.of("i", Intervention.set(target)));
          float[] cf = image.counterfactual(a, ImageEvaluation.parentsOf(image, star), nd).toFloatArray();
          kept[1] += judge == null ? 0 : judgedRight(judge, cf, classes);
          for (int k = 0; k < n; k++) {
            double got = Morphology.measureIntensity(unit(cf, k));
            errI += Math.abs(got - target);
            slopeI.add(target - i[k], got - i[k]);
          }
        }
      }
    }
    Map<String, Double> out = new LinkedHashMap<>();
    out.put(prefix + "cf_thickness_mae_do_t", errT / (n * T_TARGETS.length));
    out.put(prefix + "cf_intensity_mae_do_i", errI / (n * I_TARGETS.length));
    out.put(prefix + "cf_thickness_slope_do_t", slopeT.slope());
    out.put(prefix + "cf_intensity_slope_do_i", slopeI.slope());
    out.put(prefix + "atypical_fraction", (double) atypical / n);
    if (judge != null) {
      out.put(prefix + "digit_kept_do_t", kept[0] / (n * T_TARGETS.length));
      out.put(prefix + "digit_kept_do_i", kept[1] / (n * I_TARGETS.length));
      out.put(prefix + "digit_read_observed", judgedRight(judge, px, classes) / n);
    }
    out.put(prefix + "units", (double) n);
    return out;
  }

  /** How many of the images the judge reads as their class. */
  private static double judgedRight(DigitClassifier judge, float[] pixels, int[] classes) {
    int[] read = judge.classify(pixels, classes.length);
    int right = 0;
    for (int k = 0; k < classes.length; k++) {
      right += read[k] == classes[k] ? 1 : 0;
    }
    return right;
  }

  private static double[] unit(float[] images, int k) {
    double[] img = new double[MnistDigits.PIXELS];
    for (int p = 0; p < img.length; p++) {
      img[p] = images[k * MnistDigits.PIXELS + p];
    }
    return img;
  }

  /** Running sums of one group of units. */
  private static final class Sums {
    int units;
    int cfCount;
    double recon;
    double cfT;
    double cfI;
  }

}
