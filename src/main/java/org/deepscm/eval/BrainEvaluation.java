package org.deepscm.eval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.StratifiedSample;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainMeasurer;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTrueScm;
import org.deepscm.image.DeformationMechanism;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.ParentPredictor;
import org.deepscm.image.ParticleSpread;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.StructuralCausalModel;

/**
 * The measures of a brain model on test subjects of the synthetic population, where the TRUE
 * counterfactual image of every subject under every do() exists:
 *
 * <ul>
 *   <li>{@code elbo} (a lower bound on log p(x | b, v), nats per image), {@code elbo_joint} (with the
 *       covariates), {@code log_p_sex}, {@code log_p_age}, {@code log_p_brain}, {@code log_p_ventricle}
 *       (exact; volumes in ml), {@code recon_mae} (0..255, 32 particles);
 *   <li>for each single-variable do() (age, sex, brain_volume, ventricle_volume; each subject gets its
 *       own target drawn from the true SCM: an age in 44..73, the other sex, or a volume drawn for the
 *       subject's own parents): {@code cf_true_mae_do_<v>}, the pixel error of the model's counterfactual
 *       against the TRUE counterfactual image, next to {@code identity_mae_do_<v>}, the error of
 *       answering with the original image unchanged;
 *   <li>effectiveness by the world's measurer (no learning): {@code cf_ventricle_rel_error} and
 *       {@code cf_brain_rel_error}, area on the model's counterfactual against area on the true one, over
 *       all four do(); {@code cf_ventricle_slope_do_ventricle_volume}, the slope of the measured change of
 *       ventricle area on the true change (1: the image moves all the way);
 *   <li>how well the counterfactual's spread over its particles foretells its error against the TRUE image, per
 *       do() ({@link SpreadCalibration}: {@code cf_sd_error_spearman_do_<v>}, {@code cf_true_coverage_2sd_do_<v>},
 *       {@code cf_sd_error_unit_corr_do_<v>});
 *   <li>{@code do_age_ventricle_rel_error}: E[v | do(age = a)] of the model against the true SCM's, for
 *       a = 50, 60, 70;
 *   <li>{@code sample_ventricle_slope_do_ventricle_volume}: the ventricle area of the model's samples of
 *       p(x | do(v)) against the true world's, over four volumes ({@link #interventionalImages});
 *   <li>{@code composition_l1_1}, {@code composition_l1_10}, {@code reversibility_l1} (do(age := age +
 *       10), then back).
 * </ul>
 */
public final class BrainEvaluation {
  public static final String[] INTERVENED = {"age", "sex", "brain_volume", "ventricle_volume"};
  public static final double[] DO_AGES = {50, 60, 70};
  private static final int CHUNK = 25;
  private static final int SIDE = BrainSliceRenderer.SIDE;
  private static final int PIXELS = BrainSliceRenderer.PIXELS;

  private BrainEvaluation() {}

  /** A seeded sample of the test split stratified by sex and age decade (all of it when units >= its size). */
  public static int[] testSample(BrainDataset test, int units, long seed) {
    int[] strata = new int[test.size()];
    for (int u = 0; u < test.size(); u++) {
      BrainTrueScm.Covariates c = test.covariates(u);
      strata[u] = c.stratum();
    }
    return StratifiedSample.of(strata, units, seed);
  }

  public static String describeSample(int units, int splitSize, long seed) {
    return units >= splitSize
        ? "the whole test split (" + splitSize + " subjects)"
        : "a random sample of " + units + " of the " + splitSize + " test subjects, stratified by sex and age "
            + "decade (seed " + seed + ")";
  }

  public static Map<String, Double> evaluate(StructuralCausalModel scm, BrainSliceRenderer renderer, BrainDataset test,
      int units, int particles, long seed, IntConsumer progress) {
    return evaluate(scm, renderer, test, units, particles, seed, null, progress);
  }

  /**
   * As above, with the anticausal predictors' second opinion when {@code predictors} is not null:
   * {@code pred_<v>_error_do_<v>}, the predictors' reading of v on the model's counterfactual under do(v)
   * against the value asked for (mean absolute error in v's unit; for sex, the share read wrong), beside
   * {@code pred_<v>_error_true_do_<v>}, the same on the TRUE counterfactual images (the predictors' own
   * error: the floor a counterfactual can reach by their reading). Never the judge: the measurer is.
   */
  public static Map<String, Double> evaluate(StructuralCausalModel scm, BrainSliceRenderer renderer, BrainDataset test,
      int units, int particles, long seed, ParentPredictor predictors, IntConsumer progress) {
    ImageMechanism image = (ImageMechanism) scm.mechanism("x");
    StructuralCausalModel covariates = scm.scalarPart();
    int[] chosen = testSample(test, units, seed);
    int n = chosen.length;
    if (n == 0) {
      throw new IllegalArgumentException("no test subjects to measure");
    }
    Map<String, Double> out = new LinkedHashMap<>();
    CovariateTable all = table(test, null);
    Map<String, Double> ll = CovariateEvaluation.logLikelihoods(scm, all);
    String[] shortNames = {"sex", "age", "brain", "ventricle"};
    for (int k = 0; k < BrainTrueScm.VARIABLES.length; k++) {
      out.put("log_p_" + shortNames[k], ll.get(CovariateEvaluation.logLikelihoodName(covariates,
          BrainTrueScm.VARIABLES[k])));
    }
    out.put("covariate_test_units", (double) all.rows());

    double[] cfTrue = new double[INTERVENED.length];
    double[] identity = new double[INTERVENED.length];
    double[] ventricleErrDo = new double[INTERVENED.length];
    double[] brainErrDo = new double[INTERVENED.length];
    int[] areaCountDo = new int[INTERVENED.length];
    // over all four do(), summed in the order of the units: ventricle error, brain error, count
    double[] overall = new double[3];
    double[] predModel = new double[INTERVENED.length];
    double[] predTrue = new double[INTERVENED.length];
    Regression ventricleSlope = new Regression();
    // a deformation mechanism's warp health: folded share and phi^-1 o phi error (mean, max), summed over chunks
    double[] warp = {0, 0, 0, 0};
    Regression brainSlope = new Regression();
    SpreadCalibration spread = new SpreadCalibration();

    ImageEvaluation.World world = new ImageEvaluation.World() {
      @Override
      public int side() {
        return SIDE;
      }

      @Override
      public float[] images(int from, int to) {
        float[] px = new float[(to - from) * PIXELS];
        for (int u = 0; u < to - from; u++) {
          double[] x = test.image(chosen[from + u]);
          for (int p = 0; p < PIXELS; p++) {
            px[u * PIXELS + p] = (float) x[p];
          }
        }
        return px;
      }

      @Override
      public Map<String, NDArray> parents(NDManager nd, int from, int to) {
        return table(test, Arrays.copyOfRange(chosen, from, to)).toArrays(nd, List.of(BrainTrueScm.VARIABLES));
      }

      @Override
      public Map<String, Intervention> reversibility() {
        return Map.of("age", Intervention.shift(10));
      }

      @Override
      public void measure(ImageEvaluation.Chunk chunk) {
        int m = chunk.size();
        int[] units = Arrays.copyOfRange(chosen, chunk.from(), chunk.from() + m);
        float[] px = chunk.pixels();
        Map<String, NDArray> pa = chunk.parents();
        double[] observedVentricle = new double[m];
        double[] observedBrain = new double[m];
        for (int u = 0; u < m; u++) {
          BrainMeasurer.Areas observed = BrainMeasurer.measure(test.image(units[u]));
          observedVentricle[u] = observed.ventricleMm2();
          observedBrain[u] = observed.brainMm2();
        }
        if (image instanceof DeformationMechanism deformation) {
          double[] h = deformation.warpHealth(chunk.abduction());
          warp[0] += h[0] * m;
          warp[1] += h[1] * m;
          warp[2] = Math.max(warp[2], h[2]);
          warp[3] += m;
        }
        for (int v = 0; v < INTERVENED.length; v++) {
          String name = INTERVENED[v];
          // each subject its own target: the model's counterfactual parents subject by subject (scalar
          // work), then every image of the chunk from the one abduction
          Map<String, double[]> starParents = new LinkedHashMap<>();
          for (String p : image.parents()) {
            starParents.put(p, new double[m]);
          }
          List<Map<String, Intervention>> actions = new java.util.ArrayList<>();
          for (int u = 0; u < m; u++) {
            Map<String, Intervention> dos = Map.of(name, Intervention.set(target(name, test.subject(units[u]), seed)));
            actions.add(dos);
            Map<String, NDArray> one = new LinkedHashMap<>();
            for (var e : pa.entrySet()) {
              one.put(e.getKey(), e.getValue().get(u).reshape(1));
            }
            Map<String, NDArray> star = covariates.counterfactual(one, dos);
            for (String p : image.parents()) {
              starParents.get(p)[u] = star.get(p).toType(DataType.FLOAT64, false).getDouble(0);
            }
          }
          Map<String, NDArray> imageStar = new LinkedHashMap<>();
          for (var e : starParents.entrySet()) {
            imageStar.put(e.getKey(), chunk.manager().create(e.getValue())
                .toType(pa.get(e.getKey()).getDataType(), false));
          }
          ParticleSpread.MeanAndSpread answer = image.counterfactualWithSpread(chunk.abduction(), imageStar,
              chunk.manager());
          float[] cf = answer.mean().toFloatArray();
          float[] sd = answer.sd().toFloatArray();
          float[] trueImages = new float[m * PIXELS];
          double[] asked = new double[m];
          for (int u = 0; u < m; u++) {
            BrainDataset.Subject s = test.subject(units[u]);
            BrainTrueScm.Covariates truth = BrainTrueScm.counterfactual(s.noise(), actions.get(u));
            float[] trueImage = renderer.render(truth.brainMl(), truth.ventricleMl(), s.anatomy(), false).image();
            System.arraycopy(trueImage, 0, trueImages, u * PIXELS, PIXELS);
            asked[u] = truth.get(name);
            double dModel = 0;
            double dIdentity = 0;
            double[] model = new double[PIXELS];
            double[] trueD = new double[PIXELS];
            for (int p = 0; p < PIXELS; p++) {
              model[p] = cf[u * PIXELS + p];
              trueD[p] = trueImage[p];
              dModel += Math.abs(model[p] - trueD[p]);
              dIdentity += Math.abs(px[u * PIXELS + p] - trueD[p]);
            }
            cfTrue[v] += dModel / PIXELS;
            identity[v] += dIdentity / PIXELS;
            int first = u * PIXELS;
            spread.add(name, model, unitPixels(sd, first), trueD, unitPixels(px, first));
            BrainMeasurer.Areas am = BrainMeasurer.measure(model);
            BrainMeasurer.Areas at = BrainMeasurer.measure(trueD);
            if (at.ventricleMm2() > 0 && at.brainMm2() > 0) {
              double ve = Math.abs(am.ventricleMm2() - at.ventricleMm2()) / at.ventricleMm2();
              double be = Math.abs(am.brainMm2() - at.brainMm2()) / at.brainMm2();
              overall[0] += ve;
              overall[1] += be;
              overall[2]++;
              ventricleErrDo[v] += ve;
              brainErrDo[v] += be;
              areaCountDo[v]++;
            }
            if (name.equals("ventricle_volume")) {
              ventricleSlope.add(at.ventricleMm2() - observedVentricle[u], am.ventricleMm2() - observedVentricle[u]);
            }
            if (name.equals("brain_volume")) {
              brainSlope.add(at.brainMm2() - observedBrain[u], am.brainMm2() - observedBrain[u]);
            }
          }
          if (predictors != null && predictors.indexOf(name) >= 0) {
            int k = predictors.indexOf(name);
            boolean binary = predictors.targets().get(k).binary();
            double[][] onModel = predictors.predict(cf, m);
            double[][] onTrue = predictors.predict(trueImages, m);
            for (int u = 0; u < m; u++) {
              predModel[v] += binary ? ((onModel[u][k] >= 0.5 ? 1 : 0) != Math.round(asked[u]) ? 1 : 0)
                  : Math.abs(onModel[u][k] - asked[u]);
              predTrue[v] += binary ? ((onTrue[u][k] >= 0.5 ? 1 : 0) != Math.round(asked[u]) ? 1 : 0)
                  : Math.abs(onTrue[u][k] - asked[u]);
            }
          }
        }
      }
    };
    ImageEvaluation.Totals totals = ImageEvaluation.run(scm, n, CHUNK, particles, seed, world, progress);

    out.put("elbo", totals.meanElbo());
    out.put("elbo_joint", totals.meanElbo()
        + CovariateEvaluation.logLikelihoods(scm, table(test, chosen)).get("log_p_joint"));
    out.put("recon_mae", totals.meanRecon());
    out.put(Typicality.ELBO_P01, ImageEvaluation.percentile(totals.elbo(), 1));
    out.put("recon_mae_p99", ImageEvaluation.percentile(totals.recon(), 99));
    for (int v = 0; v < INTERVENED.length; v++) {
      out.put("cf_true_mae_do_" + INTERVENED[v], cfTrue[v] / n);
      out.put("identity_mae_do_" + INTERVENED[v], identity[v] / n);
    }
    out.put("cf_ventricle_rel_error", overall[0] / overall[2]);
    out.put("cf_brain_rel_error", overall[1] / overall[2]);
    out.put("cf_ventricle_slope_do_ventricle_volume", ventricleSlope.slope());
    // per do(): an error averaged over interventions that barely touch an area hides the one that matters
    for (int v = 0; v < INTERVENED.length; v++) {
      out.put("cf_ventricle_rel_error_do_" + INTERVENED[v], ventricleErrDo[v] / areaCountDo[v]);
      out.put("cf_brain_rel_error_do_" + INTERVENED[v], brainErrDo[v] / areaCountDo[v]);
    }
    out.put("cf_brain_slope_do_brain_volume", brainSlope.slope());
    // does the spread over the particles say where the counterfactual is wrong (against the TRUE image)?
    out.putAll(spread.measures());
    if (predictors != null) {
      for (int v = 0; v < INTERVENED.length; v++) {
        if (predictors.indexOf(INTERVENED[v]) >= 0) {
          out.put("pred_" + INTERVENED[v] + "_error_do_" + INTERVENED[v], predModel[v] / n);
          out.put("pred_" + INTERVENED[v] + "_error_true_do_" + INTERVENED[v], predTrue[v] / n);
        }
      }
    }
    out.putAll(interventionalVentricle(scm, seed));
    out.putAll(interventionalImages(scm, renderer, test, chosen, seed));
    if (warp[3] > 0) {
      out.put("warp_folded_share", warp[0] / warp[3]);
      out.put("warp_inverse_error_px", warp[1] / warp[3]);
      out.put("warp_inverse_error_px_max", warp[2]);
    }
    out.put("composition_l1_1", totals.composition1());
    out.put("composition_l1_10", totals.composition10());
    out.put("reversibility_l1", totals.reversibility());
    out.put("test_units", (double) n);
    out.put("particles", (double) particles);
    out.put("seed", (double) seed);
    return out;
  }

  /** One subject's pixels of a chunk's row-major images, from {@code at}. */
  private static double[] unitPixels(float[] images, int at) {
    double[] out = new double[PIXELS];
    for (int p = 0; p < PIXELS; p++) {
      out[p] = images[at + p];
    }
    return out;
  }

  /** A subject's do() target for one variable, drawn from the true SCM, the same on every run. */
  static double target(String variable, BrainDataset.Subject s, long seed) {
    SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + s.index() * 31L + variable.hashCode());
    BrainTrueScm.Covariates c = s.covariates();
    return switch (variable) {
      case "age" -> BrainTrueScm.AGE_MIN + BrainTrueScm.AGE_SPAN * rng.nextDouble();
      case "sex" -> 1 - c.sex();
      case "brain_volume" -> BrainTrueScm.brainMl(c.sex(), c.age(), gaussian(rng));
      case "ventricle_volume" -> BrainTrueScm.ventricleMl(c.age(), c.brainMl(), gaussian(rng));
      default -> throw new IllegalArgumentException("no do() target for " + variable);
    };
  }

  /** The ventricle volumes (ml) of the sample-level check, inside the training range. */
  public static final double[] SAMPLE_VENTRICLE_ML = {10, 25, 50, 100};
  private static final int SAMPLE_CHUNK = 50;

  /**
   * Rung two on the image: for each volume v of {@link #SAMPLE_VENTRICLE_ML}, the mean ventricle area (by the
   * world's measurer) of as many samples of the model's p(x | do(ventricle_volume := v)) as there are chosen
   * subjects, against the mean area of those subjects' TRUE images under the same do() (a sample of the
   * world's p(x | do(v))). {@code sample_ventricle_slope_do_ventricle_volume} is the slope of the model's
   * means on the true ones over the volumes: 1 when sampled anatomy follows the intervention as the world's does.
   */
  static Map<String, Double> interventionalImages(StructuralCausalModel scm, BrainSliceRenderer renderer,
      BrainDataset test, int[] chosen, long seed) {
    Map<String, Double> out = new LinkedHashMap<>();
    Regression slope = new Regression();
    Engine.getInstance().setRandomSeed((int) (seed + 17));
    int n = chosen.length;
    for (double ml : SAMPLE_VENTRICLE_ML) {
      Map<String, Intervention> dos = Map.of("ventricle_volume", Intervention.set(ml));
      double trueSum = 0;
      for (int unit : chosen) {
        BrainDataset.Subject s = test.subject(unit);
        BrainTrueScm.Covariates c = BrainTrueScm.counterfactual(s.noise(), dos);
        trueSum += BrainMeasurer.measure(unitPixels(renderer.render(c.brainMl(), c.ventricleMl(), s.anatomy(), false)
            .image(), 0)).ventricleMm2();
      }
      double modelSum = 0;
      try (NDManager m = NDManager.newBaseManager()) {
        for (int from = 0; from < n; from += SAMPLE_CHUNK) {
          int k = Math.min(SAMPLE_CHUNK, n - from);
          try (NDManager chunk = m.newSubManager()) {
            float[] images = scm.sample(chunk, k, dos).get("x").toFloatArray();
            for (int u = 0; u < k; u++) {
              modelSum += BrainMeasurer.measure(unitPixels(images, u * PIXELS)).ventricleMm2();
            }
          }
        }
      }
      String level = String.valueOf((int) ml);
      out.put("sample_ventricle_mm2_do_v_" + level + "_model", modelSum / n);
      out.put("sample_ventricle_mm2_do_v_" + level + "_true", trueSum / n);
      slope.add(trueSum / n, modelSum / n);
    }
    out.put("sample_ventricle_slope_do_ventricle_volume", slope.slope());
    return out;
  }

  /** E[v | do(age = a)]: the model's (20,000 samples) against the true SCM's, relative error. */
  public static Map<String, Double> interventionalVentricle(StructuralCausalModel full, long seed) {
    StructuralCausalModel scm = full.scalarPart();
    Map<String, Double> out = new LinkedHashMap<>();
    Engine.getInstance().setRandomSeed((int) seed);
    double err = 0;
    try (NDManager m = NDManager.newBaseManager()) {
      for (double a : DO_AGES) {
        Map<String, NDArray> s = scm.sample(m, CovariateEvaluation.INTERVENTIONAL_SAMPLES,
            Map.of("age", Intervention.set(a)));
        double model = s.get("ventricle_volume").toType(DataType.FLOAT64, false).mean().getDouble();
        double truth = BrainTrueScm.interventionalVentricleMean(a);
        out.put("do_age_" + (int) a + "_ventricle_mean_model", model);
        out.put("do_age_" + (int) a + "_ventricle_mean_true", truth);
        err += Math.abs(model - truth) / truth;
      }
    }
    out.put("do_age_ventricle_rel_error", err / DO_AGES.length);
    return out;
  }

  private static CovariateTable table(BrainDataset d, int[] units) {
    int n = units == null ? d.size() : units.length;
    Map<String, double[]> cols = new LinkedHashMap<>();
    for (String v : BrainTrueScm.VARIABLES) {
      double[] col = new double[n];
      for (int k = 0; k < n; k++) {
        col[k] = d.covariates(units == null ? k : units[k]).get(v);
      }
      cols.put(v, col);
    }
    return new CovariateTable(cols);
  }

  private static double gaussian(SplittableRandom rng) {
    double u1 = 1 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
