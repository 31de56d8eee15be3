package org.deepscm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.eval.Regression;
import org.deepscm.flow.ParameterSet;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.image.ImageData;
import org.deepscm.image.VaeImageMechanism;
import org.deepscm.image.ParentPredictor;
import org.deepscm.scm.ContextEncoding;
import org.deepscm.scm.Variable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Counterfactual fine-tuning on a tiny world whose true counterfactuals are known: a bright disk of
 * radius r (the image's one parent) at a position that is the image's own "anatomy" (in z), on a dark
 * background with pixel noise. The judge is a measurer that does not learn (the disk's area, the sum
 * of the brightness above the background), never the predictor that the fine-tuning trains against.
 */
class CounterfactualFineTuningTest {
  private static final int SIDE = 16;
  private static final int PIXELS = SIDE * SIDE;
  private static final double BACKGROUND = 30;
  private static final double DISK = 190;
  private static final List<ContextEncoding> CONTEXT = List.of(new ContextEncoding("r", false, 4, 1));

  /** One subject of the tiny world: radius r, centre (cx, cy), its own pixel noise. */
  private record Subject(double r, double cx, double cy, long noiseSeed) {
    double[] image(double radius) {
      Random noise = new Random(noiseSeed);
      double[] px = new double[PIXELS];
      for (int i = 0; i < SIDE; i++) {
        for (int j = 0; j < SIDE; j++) {
          double d = Math.hypot(i + 0.5 - cy, j + 0.5 - cx);
          double inside = Math.max(0, Math.min(1, radius - d + 0.5));
          double v = BACKGROUND + DISK * inside + 3 * noise.nextGaussian();
          px[i * SIDE + j] = Math.max(0, Math.min(255, Math.rint(v)));
        }
      }
      return px;
    }
  }

  private static Subject[] world(int n, long seed) {
    Random rng = new Random(seed);
    Subject[] s = new Subject[n];
    for (int k = 0; k < n; k++) {
      s[k] = new Subject(2 + 4 * rng.nextDouble(), 8 + 4 * (rng.nextDouble() - 0.5), 8 + 4 * (rng.nextDouble() - 0.5),
          rng.nextLong());
    }
    return s;
  }

  /** The measurer: the disk's area in pixels, from the brightness above the background. */
  private static double area(float[] px, int from) {
    double a = 0;
    for (int p = 0; p < PIXELS; p++) {
      a += Math.max(0, Math.min(1, (px[from + p] - BACKGROUND) / DISK));
    }
    return a;
  }

  private static double area(double[] px) {
    float[] f = new float[PIXELS];
    for (int p = 0; p < PIXELS; p++) {
      f[p] = (float) px[p];
    }
    return area(f, 0);
  }

  private static ImageData data(Subject[] s) {
    double[][] images = new double[s.length][];
    double[] r = new double[s.length];
    for (int k = 0; k < s.length; k++) {
      images[k] = s[k].image(s[k].r());
      r[k] = s[k].r();
    }
    return ImageData.of(images, Map.of("r", r));
  }

  /**
   * Slope of the measured area change of the model's counterfactual under do(r := r') on the true
   * change, over test subjects with r' drawn at random.
   */
  private static double slope(VaeImageMechanism image, Subject[] test, long seed) {
    Random rng = new Random(seed);
    Regression reg = new Regression();
    Engine.getInstance().setRandomSeed((int) seed);
    try (NDManager m = NDManager.newBaseManager()) {
      float[] px = new float[test.length * PIXELS];
      double[] r = new double[test.length];
      double[] rStar = new double[test.length];
      for (int k = 0; k < test.length; k++) {
        double[] x = test[k].image(test[k].r());
        for (int p = 0; p < PIXELS; p++) {
          px[k * PIXELS + p] = (float) x[p];
        }
        r[k] = test[k].r();
        rStar[k] = 2 + 4 * rng.nextDouble();
      }
      NDArray x = m.create(px, new Shape(test.length, SIDE, SIDE));
      float[] cf = image.counterfactual(x, Map.of("r", m.create(r)), Map.of("r", m.create(rStar)), 8).toFloatArray();
      for (int k = 0; k < test.length; k++) {
        double observed = area(px, k * PIXELS);
        double truth = area(test[k].image(rStar[k]));
        reg.add(truth - observed, area(cf, k * PIXELS) - observed);
      }
    }
    return reg.slope();
  }

  @Test
  void fineTuningAgainstAPredictorRaisesTheMeasuredSlopeAndKeepsDoNothingExact(@TempDir Path dir) throws Exception {
    Subject[] train = world(384, 1);
    Subject[] test = world(96, 2);
    ImageData trainData = data(train);
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(3);
      // z has room for the radius too (8 dimensions for a world of 3 factors), as the brain's z has for the anatomy
      ImageArchitecture arch = new ImageArchitecture(1, SIDE, SIDE, 8, 4, 8, 16, 16, 32, 8, 4);
      VaeImageMechanism image = new VaeImageMechanism(Variable.image("x", SIDE, SIDE), CONTEXT, arch, new ParameterSet(m))
          .initParameters(new Random(3));
      ImageTrainer.Options elbo = new ImageTrainer.Options(2e-3, 1e-5, 32, 2, 10, 3, null, false);
      new ImageTrainer().train(image, trainData, null, elbo, TrainingListener.SILENT);
      double before = slope(image, test, 5);

      ParentPredictor predictor = new ParentPredictor(1, SIDE, SIDE,
          List.of(ParentPredictor.Target.continuous("r", false, 4, 1)), new ParameterSet(m), null)
          .initParameters(new Random(4));
      new PredictorTrainer().train(predictor, trainData,
          new PredictorTrainer.Options(1e-3, 32, 12, 4, dir.resolve("predictor"), false), TrainingListener.SILENT);
      double predictorError = PredictorTrainer.heldOutErrors(predictor, data(test)).get("r_mae");
      assertTrue(predictorError < 0.5, "the predictor reads r from the image: error " + predictorError + " px");

      ImageTrainer.Options fineTune = new ImageTrainer.Options(1e-3, 1e-5, 32, 2, 8, 6, null, false)
          .withCounterfactual(new ImageTrainer.CounterfactualTerm(predictor, 3.0, List.of("r")));
      new ImageTrainer().train(image, trainData, null, fineTune, TrainingListener.SILENT);
      double after = slope(image, test, 5);
      assertTrue(after > before + 0.1 && after > 0.6,
          "fine-tuning moves the counterfactual's disk further: slope " + before + " -> " + after);

      // do(nothing) still gives the observation back exactly
      float[] px = new float[PIXELS];
      double[] x = test[0].image(test[0].r());
      for (int p = 0; p < PIXELS; p++) {
        px[p] = (float) x[p];
      }
      NDArray observed = m.create(px, new Shape(1, SIDE, SIDE));
      NDArray r = m.create(new double[] {test[0].r()});
      float[] same = image.counterfactual(observed, Map.of("r", r), Map.of("r", r), 4).toFloatArray();
      for (int p = 0; p < PIXELS; p++) {
        assertEquals(px[p], same[p], 1e-3, "pixel " + p);
      }
    }
  }

  @Test
  void theMultiplierWeightsTheReconstructionTermOfTheFineTuningLoss(@TempDir Path dir) throws Exception {
    Subject[] train = world(384, 1);
    ImageData trainData = data(train);
    ImageData validation = data(world(128, 7));
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(3);
      ImageArchitecture arch = new ImageArchitecture(1, SIDE, SIDE, 8, 4, 8, 16, 16, 32, 8, 4);
      VaeImageMechanism image = new VaeImageMechanism(Variable.image("x", SIDE, SIDE), CONTEXT, arch, new ParameterSet(m))
          .initParameters(new Random(3));
      new ImageTrainer().train(image, trainData, null, new ImageTrainer.Options(2e-3, 1e-5, 32, 2, 10, 3, null, false),
          TrainingListener.SILENT);
      ParentPredictor predictor = new ParentPredictor(1, SIDE, SIDE,
          List.of(ParentPredictor.Target.continuous("r", false, 4, 1)), new ParameterSet(m), null)
          .initParameters(new Random(4));
      new PredictorTrainer().train(predictor, trainData,
          new PredictorTrainer.Options(1e-3, 32, 8, 4, dir.resolve("predictor"), false), TrainingListener.SILENT);
      ImageTrainer.CounterfactualTerm term = new ImageTrainer.CounterfactualTerm(predictor, 30.0, List.of("r"));
      double start = ImageTrainer.evaluateCounterfactual(image, validation, 2, term, 9)[3];
      NDList startWeights = image.snapshot(m);

      // the hold's validation measure is recon_mae: the 32-particle reconstruction of evaluate, on the same draws
      int[] some = ImageTrainer.sample(validation.n(), 50, 5);
      double measured = ImageTrainer.reconstructionError(image, validation, some, 5);
      float[] px = new float[some.length * PIXELS];
      validation.gather(some, px);
      double[] radius = new double[some.length];
      for (int k = 0; k < some.length; k++) {
        radius[k] = validation.parents().get("r")[some[k]];
      }
      Engine.getInstance().setRandomSeed((int) (5 * 31 + 17));
      NDArray images = m.create(px, new Shape(some.length, 1, SIDE, SIDE));
      NDArray recon = image.reconstruct(images, Map.of("r", m.create(radius)));
      assertEquals(recon.sub(images).abs().mean().getFloat(), measured, 1e-3);

      // the same 40 steps from the same start, once with the fixed weights and once held at a pixel error of 0,
      // which the multiplier can only chase by weighting the reconstruction's error ever more
      double[] after = new double[2];
      ImageTrainer.ReconstructionHold hold = new ImageTrainer.ReconstructionHold(0, Double.NaN);
      for (int run = 0; run < 2; run++) {
        image.restore(startWeights, "the starting weights");
        Engine.getInstance().setRandomSeed(11);
        Random interventions = new Random(12);
        try (NDManager opt = m.newSubManager()) {
          Adam adam = new Adam(opt, 1e-3, 1e-5);
          for (int step = 0; step < 40; step++) {
            int[] rows = new int[32];
            for (int k = 0; k < rows.length; k++) {
              rows[k] = (step * 32 + k) % train.length;
            }
            ImageTrainer.counterfactualStep(image, adam, trainData, rows, 2, term, step, interventions, 1,
                run == 0 ? null : hold);
          }
        }
        after[run] = ImageTrainer.evaluateCounterfactual(image, validation, 2, term, 9)[3];
      }
      assertTrue(hold.lambda > 0.5, "a reconstruction worse than the target raises the multiplier: " + hold.lambda);
      assertTrue(after[1] < after[0] - 0.2, "weighted up, the reconstruction's pixel error ends lower: fixed weights "
          + start + " -> " + after[0] + ", held " + start + " -> " + after[1]);
    }
  }

  @Test
  void theMultiplierRisesWhileTheReconstructionIsWorseAndNeverFallsBelowZero() {
    ImageTrainer.ReconstructionHold hold = new ImageTrainer.ReconstructionHold(5.0, 4.9);
    for (int k = 0; k < 50; k++) {
      hold.observe(6.0);
    }
    double risen = hold.lambda;
    assertTrue(risen > 2, "a worse reconstruction for 50 steps raises lambda: " + risen);
    for (int k = 0; k < 500; k++) {
      hold.observe(4.0);
    }
    assertEquals(0.0, hold.lambda, 1e-12, "a better reconstruction brings lambda back to 0, not below");
    hold.observe(Double.NaN);
    assertEquals(0.0, hold.lambda, 1e-12, "a non-finite batch leaves it alone");
    ImageTrainer.ReconstructionHold back = ImageTrainer.ReconstructionHold.fromJson(hold.toJson());
    assertEquals(hold.lambda, back.lambda);
    assertEquals(hold.gap, back.gap);
    assertTrue(back.holds(4.9 + ImageTrainer.ReconstructionHold.VALIDATION_TOLERANCE / 2));
    assertTrue(!back.holds(5.0), "a validation reconstruction worse than the start does not hold");
  }

  @Test
  void theBatchesTargetFollowsTheValidationReconstruction() {
    ImageTrainer.ReconstructionHold hold = new ImageTrainer.ReconstructionHold(4.0, 5.0);
    hold.correct(5.3);
    assertEquals(3.7, hold.target, 1e-12, "0.3 worse on validation: the batches are held 0.3 tighter");
    hold.correct(4.8);
    assertEquals(3.9, hold.target, 1e-12, "room on validation: the batches get some back");
    hold.correct(Double.NaN);
    assertEquals(3.9, hold.target, 1e-12, "no measure, no move");
    ImageTrainer.ReconstructionHold warming = ImageTrainer.ReconstructionHold.afterWarmup();
    warming.correct(9);
    assertTrue(Double.isNaN(warming.target), "nothing to correct before the warm-up has set a target");
    ImageTrainer.ReconstructionHold back = ImageTrainer.ReconstructionHold.fromJson(hold.toJson());
    assertEquals(5.0, back.validationTarget, 1e-12, "the validation target survives a resume");
  }

  @Test
  void theHoldTakesItsTargetFromTheSecondHalfOfItsWarmUp() {
    ImageTrainer.ReconstructionHold hold = ImageTrainer.ReconstructionHold.afterWarmup();
    int steps = ImageTrainer.ReconstructionHold.WARMUP_STEPS;
    for (int k = 0; k < steps; k++) {
      assertTrue(hold.warmingUp());
      // the error falls while the model adapts to batch norm's running statistics
      hold.observe(k < steps / 2 ? 10 : 4);
      if (k == steps / 2) {
        ImageTrainer.ReconstructionHold resumed = ImageTrainer.ReconstructionHold.fromJson(hold.toJson());
        assertTrue(resumed.warmingUp() && resumed.warmupDone == hold.warmupDone, "a resumed warm-up goes on");
      }
    }
    assertTrue(!hold.warmingUp());
    assertEquals(4.0, hold.target, 1e-12, "the target is the adapted error, not the starting one");
    assertEquals(0.0, hold.lambda, 1e-12, "no weight while warming up");
    for (int k = 0; k < 20; k++) {
      hold.observe(5);
    }
    assertTrue(hold.lambda > 0, "an error above the adapted one raises the weight: " + hold.lambda);
  }
}
