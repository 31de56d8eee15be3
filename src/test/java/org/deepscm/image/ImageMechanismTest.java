package org.deepscm.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.flow.ParameterSet;
import org.deepscm.scm.ContextEncoding;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.InvalidValueException;
import org.deepscm.scm.Variable;
import org.deepscm.scm.VariableKind;
import org.deepscm.train.Adam;
import org.deepscm.train.ImageTrainer;
import org.deepscm.train.TrainingListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageMechanismTest {
  static final List<ContextEncoding> CONTEXT = List.of(
      new ContextEncoding("t", true, 0.886047, 0.252407), new ContextEncoding("i", false, 160, 55));

  static MnistDigits digits;
  NDManager manager;

  @TempDir
  Path dir;

  @BeforeAll
  static void loadDigits() throws Exception {
    digits = MnistDigits.load(Path.of("resources/mnist"));
  }

  static VaeImageMechanism tiny(NDManager m, long seed) {
    return new VaeImageMechanism(Variable.image("x", 28, 28), CONTEXT, ImageArchitecture.tiny(28, 28),
        new ParameterSet(m)).initParameters(new Random(seed));
  }

  /** n real digits as (n, 28, 28) pixels 0..255. */
  static NDArray realDigits(NDManager m, int from, int n) {
    float[] px = new float[n * 784];
    for (int k = 0; k < n; k++) {
      int[] d = digits.imageInts(from + k);
      for (int p = 0; p < 784; p++) {
        px[k * 784 + p] = d[p];
      }
    }
    return m.create(px, new Shape(n, 28, 28));
  }

  static Map<String, NDArray> parents(NDManager m, float[] t, float[] i) {
    Map<String, NDArray> pa = new LinkedHashMap<>();
    pa.put("t", m.create(t));
    pa.put("i", m.create(i));
    return pa;
  }

  static float maxAbsDiff(NDArray a, NDArray b) {
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    assertEquals(x.length, y.length);
    float d = 0;
    for (int k = 0; k < x.length; k++) {
      d = Math.max(d, Math.abs(x[k] - y[k]));
    }
    return d;
  }

  @Test
  void decodingManyRowsInBlocksGivesWhatDecodingThemAtOnceGives() {
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = tiny(m, 4);
      int n = 2 * VaeImageMechanism.DECODE_ROWS + 37; // three blocks, the last one short
      java.util.Random r = new java.util.Random(4);
      float[] z = new float[n * mech.architecture().zDim()];
      float[] t = new float[n];
      float[] i = new float[n];
      for (int k = 0; k < n; k++) {
        t[k] = 1 + 4 * r.nextFloat();
        i[k] = 80 + 170 * r.nextFloat();
      }
      for (int k = 0; k < z.length; k++) {
        z[k] = (float) r.nextGaussian();
      }
      NDArray all = mech.decoderMean(m.create(z, new Shape(n, mech.architecture().zDim())), parents(m, t, i));
      int zDim = mech.architecture().zDim();
      for (int from = 0; from < n; from += 100) {
        int to = Math.min(n, from + 100); // under one block: decoded at once
        NDArray part = mech.decoderMean(m.create(java.util.Arrays.copyOfRange(z, from * zDim, to * zDim),
            new Shape(to - from, zDim)), parents(m, java.util.Arrays.copyOfRange(t, from, to),
            java.util.Arrays.copyOfRange(i, from, to)));
        assertTrue(maxAbsDiff(all.get(from + ":" + to), part) < 1e-5, "rows " + from + ".." + to);
      }
    }
  }

  @Test
  void nullInterventionGivesTheObservationBackExactly() {
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = tiny(m, 1);
      NDArray x = realDigits(m, 0, 3);
      Map<String, NDArray> pa = parents(m, new float[] {1.5f, 2.5f, 4f}, new float[] {100, 180, 240});
      NDArray cf = mech.counterfactual(x, pa, pa);
      assertEquals(x.getShape(), cf.getShape());
      assertTrue(maxAbsDiff(x, cf) < 1e-3, "do(nothing) must return x; max |diff| = " + maxAbsDiff(x, cf));
      // (N, 1, 28, 28) works too and keeps its shape
      NDArray x4 = x.reshape(3, 1, 28, 28);
      NDArray cf4 = mech.counterfactual(x4, pa, pa, 4);
      assertEquals(new Shape(3, 1, 28, 28), cf4.getShape());
      assertTrue(maxAbsDiff(x4, cf4) < 1e-3);
    }
  }

  @Test
  void counterfactualUnderChangedParentsDiffersFromTheOriginal() {
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = tiny(m, 2);
      NDArray x = realDigits(m, 5, 2);
      Map<String, NDArray> pa = parents(m, new float[] {2f, 3f}, new float[] {150, 200});
      Map<String, NDArray> star = parents(m, new float[] {5f, 1.2f}, new float[] {250, 80});
      NDArray cf = mech.counterfactual(x, pa, star);
      float meanAbs = x.sub(cf).abs().mean().getFloat();
      assertTrue(meanAbs > 0.05, "a counterfactual under new parents must change the image; mean |diff| " + meanAbs);
      float[] v = cf.toFloatArray();
      for (float p : v) {
        assertTrue(p >= 0 && p <= 255 && Float.isFinite(p), "counterfactual pixel " + p);
      }
    }
  }

  @Test
  void generateOfAbductedNoiseWithTheSameParentsIsTheObservation() {
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = tiny(m, 3);
      NDArray x = realDigits(m, 10, 4);
      Map<String, NDArray> pa = parents(m, new float[] {1f, 2f, 3f, 6f}, new float[] {70, 120, 200, 254});
      NDArray noise = mech.abduct(x, pa);
      assertEquals(new Shape(4, 4 + 784), noise.getShape());
      NDArray back = mech.generate(noise, pa);
      assertEquals(new Shape(4, 28, 28), back.getShape());
      assertTrue(maxAbsDiff(x, back) < 1e-3, "generate(abduct(x)) must be x; max |diff| " + maxAbsDiff(x, back));
      // the same noise under other parents is the single-particle counterfactual
      Map<String, NDArray> star = parents(m, new float[] {4f, 4f, 4f, 4f}, new float[] {100, 100, 100, 100});
      assertTrue(maxAbsDiff(x, mech.generate(noise, star)) > 1);
      // prior samples are valid images
      NDArray sample = mech.generate(mech.sampleNoise(m, 4), pa);
      for (float p : sample.toFloatArray()) {
        assertTrue(p >= 0 && p <= 255);
      }
      // reconstruction is the decoded mean, not x itself
      NDArray rec = mech.reconstruct(x, pa, 8);
      assertEquals(x.getShape(), rec.getShape());
      assertTrue(maxAbsDiff(x, rec) > 1);
    }
  }

  @Test
  void elboIsFiniteAndRisesOverThirtyTrainingStepsOnRealDigits() {
    Engine.getInstance().setRandomSeed(5);
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = tiny(m, 4);
      int n = 64;
      double[][] images = new double[n][];
      for (int k = 0; k < n; k++) {
        images[k] = digits.imageDoubles(k);
      }
      var cov = org.deepscm.data.morphomnist.MorphoMnistTrueScm.draw(n, 9);
      ImageData data = ImageData.of(images, Map.of("t", cov.column("t"), "i", cov.column("i")));
      double before = ImageTrainer.evaluate(mech, data, 4);
      assertTrue(Double.isFinite(before), "ELBO before training: " + before);
      Adam adam = new Adam(m, 1e-3, 1e-5);
      int[] rows = new int[n];
      for (int k = 0; k < n; k++) {
        rows[k] = k;
      }
      List<Double> steps = new ArrayList<>();
      for (int s = 0; s < 30; s++) {
        double elbo = ImageTrainer.step(mech, adam, data, rows, 4);
        assertTrue(Double.isFinite(elbo), "step " + s + " ELBO " + elbo);
        steps.add(elbo);
      }
      double after = ImageTrainer.evaluate(mech, data, 4);
      double firstSteps = (steps.get(0) + steps.get(1) + steps.get(2)) / 3;
      double lastSteps = (steps.get(27) + steps.get(28) + steps.get(29)) / 3;
      assertTrue(lastSteps > firstSteps + 100, "training ELBO must rise: " + firstSteps + " -> " + lastSteps);
      assertTrue(Double.isFinite(after) && after > before, "evaluated ELBO must rise: " + before + " -> " + after);
      NDArray lp = mech.logProb(realDigits(m, 0, 2), parents(m, new float[] {2, 3}, new float[] {150, 160}));
      assertEquals(new Shape(2), lp.getShape());
      assertTrue(Float.isFinite(lp.sum().getFloat()));
    }
  }

  @Test
  void saveAndLoadByNameGiveIdenticalOutputs() throws Exception {
    try (NDManager m = NDManager.newBaseManager(); NDManager m2 = NDManager.newBaseManager()) {
      VaeImageMechanism mech = tiny(m, 6);
      // move the running statistics away from (0, 1) so that the test sees them travel
      double[][] images = new double[8][];
      for (int k = 0; k < 8; k++) {
        images[k] = digits.imageDoubles(100 + k);
      }
      ImageData data = ImageData.of(images, Map.of("t", new double[] {1, 2, 3, 4, 1, 2, 3, 4},
          "i", new double[] {90, 120, 150, 180, 210, 240, 100, 200}));
      ImageTrainer.step(mech, new Adam(m, 1e-3, 1e-5), data, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, 2);
      // through a model folder, as the app saves and opens models
      org.deepscm.scm.StructuralCausalModel scm = withCovariates(mech, m);
      org.deepscm.scm.ModelFolder.save(new org.deepscm.scm.SavedModel("tiny", scm, Map.of(),
          new com.google.gson.JsonObject(), null), dir);
      org.deepscm.scm.SavedModel reopened = org.deepscm.scm.ModelFolder.load(dir);
      VaeImageMechanism loaded = (VaeImageMechanism) reopened.scm().mechanism("x");
      NDList a = mech.snapshot(m);
      NDList b = loaded.snapshot(m2);
      assertEquals(a.size(), b.size());
      for (int k = 0; k < a.size(); k++) {
        assertEquals(a.get(k).getName(), b.get(k).getName());
        assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), a.get(k).getName());
      }
      NDArray x = realDigits(m, 20, 3);
      Map<String, NDArray> pa = parents(m, new float[] {2, 3, 4}, new float[] {100, 150, 200});
      Map<String, NDArray> star = parents(m, new float[] {4, 1, 2}, new float[] {200, 100, 150});
      NDArray z = m.randomNormal(new Shape(3, 4));
      assertArrayEquals(mech.decoderMean(z, pa).toFloatArray(), loaded.decoderMean(z, pa).toFloatArray());
      Engine.getInstance().setRandomSeed(42);
      NDArray cf1 = mech.counterfactual(x, pa, star, 8);
      Engine.getInstance().setRandomSeed(42);
      NDArray cf2 = loaded.counterfactual(x, pa, star, 8);
      assertArrayEquals(cf1.toFloatArray(), cf2.toFloatArray());
      assertEquals(mech.toJson(), loaded.toJson());
      reopened.close();
    }
  }

  /** An SCM t -> i, (t, i) -> x around an image mechanism, with fresh covariate flows. */
  private static org.deepscm.scm.StructuralCausalModel withCovariates(VaeImageMechanism image, NDManager m) {
    org.deepscm.data.CovariateTable table = org.deepscm.data.morphomnist.MorphoMnistTrueScm.draw(200, 1);
    org.deepscm.scm.StructuralCausalModel cov = org.deepscm.train.MorphoMnistModels.builder("full").build(table, 1);
    Map<String, org.deepscm.scm.Mechanism> mechanisms = new java.util.LinkedHashMap<>();
    for (String v : cov.variableNames()) {
      mechanisms.put(v, cov.mechanism(v));
    }
    mechanisms.put("x", image);
    java.util.List<org.deepscm.scm.Variable> vars = new java.util.ArrayList<>(cov.graph().variables());
    vars.add(image.variable());
    Map<String, java.util.List<String>> parents = new java.util.LinkedHashMap<>();
    for (String v : cov.variableNames()) {
      parents.put(v, cov.graph().parents(v));
    }
    parents.put("x", image.parents());
    return new org.deepscm.scm.StructuralCausalModel(new org.deepscm.scm.CausalGraph(vars, parents), mechanisms,
        cov.parameters());
  }

  @Test
  void badInputIsRefusedWithAMessageThatNamesTheProblem() {
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = tiny(m, 7);
      Map<String, NDArray> pa = parents(m, new float[] {2}, new float[] {150});
      InvalidValueException e = assertThrows(InvalidValueException.class,
          () -> mech.abduct(m.zeros(new Shape(1, 32, 32)), pa));
      assertTrue(e.getMessage().contains("shape") && e.getMessage().contains("28"), e.getMessage());

      float[] px = new float[784];
      px[3 * 28 + 5] = Float.NaN;
      e = assertThrows(InvalidValueException.class,
          () -> mech.counterfactual(m.create(px, new Shape(1, 28, 28)), pa, pa));
      assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("row 3, column 5"), e.getMessage());

      px[3 * 28 + 5] = 300;
      e = assertThrows(InvalidValueException.class, () -> mech.logProb(m.create(px, new Shape(1, 28, 28)), pa));
      assertTrue(e.getMessage().contains("300") && e.getMessage().contains("outside 0..255"), e.getMessage());

      px[3 * 28 + 5] = -1;
      e = assertThrows(InvalidValueException.class, () -> mech.reconstruct(m.create(px, new Shape(1, 28, 28)), pa));
      assertTrue(e.getMessage().contains("outside 0..255"), e.getMessage());

      NDArray ok = m.zeros(new Shape(1, 28, 28));
      e = assertThrows(InvalidValueException.class, () -> mech.abduct(ok, Map.of("t", m.create(new float[] {2}))));
      assertTrue(e.getMessage().contains("'i'"), e.getMessage());
      e = assertThrows(InvalidValueException.class,
          () -> mech.abduct(ok, parents(m, new float[] {-1}, new float[] {150})));
      assertTrue(e.getMessage().contains("'t'") && e.getMessage().contains("positive"), e.getMessage());
      e = assertThrows(InvalidValueException.class, () -> mech.generate(m.zeros(new Shape(1, 10)), pa));
      assertTrue(e.getMessage().contains("noise"), e.getMessage());
    }
  }

  @Test
  void anImageVariableCarriesItsShape() {
    Variable x = Variable.image("x", 28, 28);
    assertEquals(VariableKind.IMAGE, x.kind());
    assertEquals(List.of(1, 28, 28), x.shape());
    assertTrue(Variable.positive("t", "px").shape().isEmpty());
    assertThrows(InvalidModelException.class,
        () -> new Variable("x", VariableKind.IMAGE, "", 0, 255, List.of()));
    try (NDManager m = NDManager.newBaseManager()) {
      assertThrows(InvalidModelException.class, () -> new VaeImageMechanism(Variable.image("x", 32, 32), CONTEXT,
          ImageArchitecture.tiny(28, 28), new ParameterSet(m)));
      assertFalse(tiny(m, 1).isInvertible());
    }
  }

  /** n real digits with parents spread over the grid (t 1..5, i rising). */
  private static ImageData trainingDigits(int n) {
    double[][] images = new double[n][];
    double[] t = new double[n];
    double[] i = new double[n];
    for (int k = 0; k < n; k++) {
      images[k] = digits.imageDoubles(200 + k);
      t[k] = 1 + (k % 5);
      i[k] = 80 + 2 * k;
    }
    return ImageData.of(images, Map.of("t", t, "i", i));
  }

  @Test
  void resumingTrainingFromACheckpointContinuesTheSameRun() throws Exception {
    ImageData data = trainingDigits(64);
    ImageTrainer.Options straight = new ImageTrainer.Options(1e-3, 1e-5, 32, 2, 2, 7, null, false);
    float[] expected;
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = tiny(m, 8);
      new ImageTrainer().train(mech, data, null, straight, TrainingListener.SILENT);
      expected = flat(mech.snapshot(m));
    }
    Path ck = dir.resolve("ck");
    try (NDManager m = NDManager.newBaseManager()) {
      new ImageTrainer().train(tiny(m, 8), data, null, straight.withEpochs(1).withCheckpoints(ck, false),
          TrainingListener.SILENT);
    }
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = tiny(m, 8);
      ImageTrainer.Result r = new ImageTrainer().train(mech, data, data, straight.withCheckpoints(ck, true),
          TrainingListener.SILENT);
      assertEquals(2, r.epochs());
      assertEquals(2, r.history().size());
      assertArrayEquals(expected, flat(mech.snapshot(m)), 1e-5f,
          "1 + 1 resumed epochs must equal 2 straight ones (weights, running statistics)");
    }
  }

  @Test
  void eachEpochCanTrainOnItsOwnData() throws Exception {
    double[][] a = new double[32][];
    double[][] b = new double[32][];
    double[] t = new double[32];
    double[] i = new double[32];
    for (int k = 0; k < 32; k++) {
      a[k] = digits.imageDoubles(300 + k);
      b[k] = digits.imageDoubles(400 + k);
      t[k] = 2;
      i[k] = 150;
    }
    ImageData first = ImageData.of(a, Map.of("t", t, "i", i));
    ImageData other = ImageData.of(b, Map.of("t", t, "i", i));
    java.util.List<Integer> asked = new java.util.ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      new ImageTrainer().train(tiny(m, 8), epoch -> {
        asked.add(epoch);
        return epoch == 1 ? first : other;
      }, null, new ImageTrainer.Options(1e-3, 1e-5, 16, 2, 3, 7, null, false), TrainingListener.SILENT);
    }
    assertEquals(java.util.List.of(1, 2, 3), asked, "the data of each epoch, asked once");
  }

  @Test
  void aNonFiniteValidationElboStopsTrainingAndKeepsTheBestEpoch() throws Exception {
    ImageData data = trainingDigits(64);
    // parents far beyond float range make the network's output, and so the validation ELBO, non-finite
    double[][] images = new double[8][];
    double[] t = new double[8];
    double[] huge = new double[8];
    for (int k = 0; k < 8; k++) {
      images[k] = digits.imageDoubles(200 + k);
      t[k] = 2;
      huge[k] = 1e300;
    }
    ImageData validation = ImageData.of(images, Map.of("t", t, "i", huge));
    java.util.List<String> said = new java.util.ArrayList<>();
    TrainingListener listener = new TrainingListener() {
      @Override
      public void epochEnded(int epoch, int max, double tr, double va, boolean best, double s) {}

      @Override
      public void message(String text) {
        said.add(text);
      }
    };
    try (NDManager m = NDManager.newBaseManager()) {
      ImageTrainer.Result r = new ImageTrainer().train(tiny(m, 8), data, validation,
          new ImageTrainer.Options(1e-3, 1e-5, 32, 2, 5, 7, null, false), listener);
      assertEquals(1, r.epochs(), "stopped after the first epoch, not the fifth");
      assertTrue(said.stream().anyMatch(x -> x.contains("training stops here and keeps the best epoch")), said.toString());
    }
  }

  @Test
  void convolutionGradientsMatchADoublePrecisionReference() {
    // the decoder's 3x3 convolutions train through libtorch's float32 kernels (oneDNN on CPU); check
    // them against its float64 path, repeatedly (a wrong or uninitialised read shows as a mismatch)
    try (NDManager m = NDManager.newBaseManager()) {
      // 4 output channels: the case libtorch's float32 kernel gets wrong unless ImageNetworks widens it
      NDArray x = m.randomNormal(new Shape(16, 8, 14, 14));
      NDArray w = m.randomNormal(0, 0.1f, new Shape(4, 8, 3, 3), ai.djl.ndarray.types.DataType.FLOAT32);
      NDArray r = m.randomNormal(new Shape(16, 4, 14, 14));
      float[][] reference = convGradients(x, w, r, ai.djl.ndarray.types.DataType.FLOAT64);
      for (int repeat = 0; repeat < 10; repeat++) {
        float[][] g = convGradients(x, w, r, ai.djl.ndarray.types.DataType.FLOAT32);
        assertArrayEquals(reference[0], g[0], 1e-3f, "input gradient, repeat " + repeat);
        assertArrayEquals(reference[1], g[1], 1e-2f, "weight gradient, repeat " + repeat);
      }
      NDArray up = ImageNetworks.upsample(m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 2, 2)));
      assertArrayEquals(new float[] {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, up.toFloatArray());
    }
  }

  @Test
  void upsamplingRepeatsEachPixelTwiceEachWayAndSumsItsGradientBack() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.randomNormal(new Shape(3, 5, 7, 4));
      x.setRequiresGradient(true);
      NDArray r = m.randomNormal(new Shape(3, 5, 14, 8));
      try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
        NDArray up = ImageNetworks.upsample(x);
        // the reference: each pixel repeated by a broadcast over two new axes
        NDArray expected = x.reshape(3, 5, 7, 1, 4, 1).broadcast(3, 5, 7, 2, 4, 2).reshape(3, 5, 14, 8);
        assertArrayEquals(expected.toFloatArray(), up.toFloatArray(), 0f);
        gc.backward(up.mul(r).sum());
      }
      // d/dx of sum(up(x) * r) is r summed over each pixel's 2 x 2 copies
      NDArray blocks = r.reshape(3, 5, 7, 2, 4, 2).sum(new int[] {3, 5});
      assertArrayEquals(blocks.toFloatArray(), x.getGradient().toFloatArray(), 1e-5f);
    }
  }

  /**
   * One x2 upsampling and the 3x3 convolution after it (the decoder's conv1 at inference), computed by four
   * phase kernels on the maps themselves and interleaved, for several output channels, odd sizes (Morpho-MNIST's 7 x 7)
   * and non-square ones; the reference is the upsampling and the convolution as written, in float64.
   */
  @Test
  void phaseKernelsGiveTheConvolutionOfTheUpsampledMaps() {
    try (NDManager m = NDManager.newBaseManager()) {
      for (int[] c : new int[][] {{1, 5, 7, 7}, {3, 4, 6, 9}, {4, 2, 1, 3}}) {
        int out = c[0];
        NDArray x = m.randomNormal(new Shape(2, c[1], c[2], c[3]));
        NDArray w = m.randomNormal(new Shape(out, c[1], 3, 3));
        NDArray b = m.randomNormal(new Shape(out));
        NDArray expected = ImageNetworks.strided(ImageNetworks.upsample(x.toType(DataType.FLOAT64, true)),
            w.toType(DataType.FLOAT64, true), b.toType(DataType.FLOAT64, true), 1, 1);
        NDArray[] phases = ImageNetworks.phaseWeights(w, b, m);
        NDArray actual = interleavedPhases(ImageNetworks.strided(x, phases[0], phases[1], 1, 1));
        assertEquals(expected.getShape(), actual.getShape(), "shape, case " + Arrays.toString(c));
        assertArrayEquals(expected.toType(DataType.FLOAT32, false).toFloatArray(), actual.toFloatArray(), 1e-4f,
            "values, case " + Arrays.toString(c));
      }
    }
  }

  /** (N, C * [row parity, column parity], H, W) -> (N, C, 2H, 2W): the phases interleaved into one map. */
  private static NDArray interleavedPhases(NDArray phases) {
    Shape s = phases.getShape();
    long out = s.get(1) / 4;
    return phases.reshape(s.get(0), out, 2, 2, s.get(2), s.get(3)).transpose(0, 1, 4, 2, 5, 3)
        .reshape(s.get(0), out, 2 * s.get(2), 2 * s.get(3));
  }

  /**
   * The decoder's end at inference without any upsampled map: conv1 by phases, ReLU on the phases, conv2
   * by kernels on those phases, against upsample, conv1, ReLU, upsample, conv2 as written, in float64;
   * odd and non-square sizes, one and three output channels.
   */
  @Test
  void polyphaseKernelsGiveBothUpsampledConvolutions() {
    try (NDManager m = NDManager.newBaseManager()) {
      for (int[] c : new int[][] {{1, 6, 4, 7, 7}, {3, 5, 8, 4, 6}}) {
        int out = c[0];
        NDArray h = m.randomNormal(new Shape(2, c[1], c[3], c[4]));
        NDArray w1 = m.randomNormal(new Shape(c[2], c[1], 3, 3));
        NDArray b1 = m.randomNormal(new Shape(c[2]));
        NDArray w2 = m.randomNormal(new Shape(out, c[2], 3, 3));
        NDArray b2 = m.randomNormal(new Shape(out));
        NDArray mid = ImageNetworks.strided(ImageNetworks.upsample(h.toType(DataType.FLOAT64, true)),
            w1.toType(DataType.FLOAT64, true), b1.toType(DataType.FLOAT64, true), 1, 1);
        NDArray expected = ImageNetworks.strided(ImageNetworks.upsample(ai.djl.nn.Activation.relu(mid)),
            w2.toType(DataType.FLOAT64, true), b2.toType(DataType.FLOAT64, true), 1, 1);
        NDArray[] first = ImageNetworks.phaseWeights(w1, b1, m);
        NDArray phases = ai.djl.nn.Activation.relu(ImageNetworks.strided(h, first[0], first[1], 1, 1));
        NDArray[] second = ImageNetworks.polyphaseWeights(w2, b2, m);
        NDArray actual = ImageNetworks.polyphaseConv(phases, second[0], second[1]);
        assertEquals(expected.getShape(), actual.getShape(), "shape, case " + Arrays.toString(c));
        assertArrayEquals(expected.toType(DataType.FLOAT32, false).toFloatArray(), actual.toFloatArray(), 2e-3f,
            "values, case " + Arrays.toString(c));
      }
    }
  }

  private static float[][] convGradients(NDArray x0, NDArray w0, NDArray r0, ai.djl.ndarray.types.DataType type) {
    try (NDManager s = x0.getManager().newSubManager()) {
      NDArray x = s.zeros(x0.getShape(), type).add(x0);
      NDArray w = s.zeros(w0.getShape(), type).add(w0);
      NDArray r = s.zeros(r0.getShape(), type).add(r0);
      x.setRequiresGradient(true);
      w.setRequiresGradient(true);
      try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
        NDArray bias = s.zeros(new Shape(w0.getShape().get(0)), type);
        NDArray y = type == ai.djl.ndarray.types.DataType.FLOAT64
            ? ai.djl.nn.convolutional.Conv2d.conv2d(x, w, bias, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1)
                .singletonOrThrow()
            : ImageNetworks.sameSize(x, w, bias, 1);
        gc.backward(y.mul(r).sum());
      }
      return new float[][] {x.getGradient().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray(),
          w.getGradient().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray()};
    }
  }

  private static float[] flat(NDList list) {
    int total = 0;
    for (NDArray a : list) {
      total += (int) a.size();
    }
    float[] out = new float[total];
    int at = 0;
    for (NDArray a : list) {
      float[] v = a.toFloatArray();
      System.arraycopy(v, 0, out, at, v.length);
      at += v.length;
    }
    return out;
  }

  @Test
  void theKlWeightScalesOnlyTheKlTerm() {
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism image = tiny(m, 5);
      NDArray x = realDigits(m, 0, 6).reshape(6, 1, 28, 28);
      NDArray c = m.create(new float[] {0.1f, -0.3f, 1.2f, 0.4f, -0.8f, 0.0f, 0.5f, 0.5f, -1.1f, 0.9f, 0.3f, -0.2f},
          new Shape(6, 2));
      double[] e = new double[3];
      for (int k = 0; k < 3; k++) {
        // the same draws each time: only beta differs
        ai.djl.engine.Engine.getInstance().setRandomSeed(11);
        e[k] = image.elboTerms(image.networks().inference(), x, c, 2, false, false, k + 1).mean().getFloat();
      }
      ai.djl.engine.Engine.getInstance().setRandomSeed(11);
      double plain = image.elboTerms(image.networks().inference(), x, c, 2, false, false).mean().getFloat();
      assertEquals(plain, e[0], 1e-3, "beta 1 is the ELBO");
      double kl = e[0] - e[1];
      assertTrue(kl > 0, "the KL term is positive: " + kl);
      assertEquals(2 * kl, e[0] - e[2], 0.01 * kl + 0.01, "beta 3 takes the KL twice more than beta 2");
    }
  }

  /** The FLOP count that bench prints, against a count by hand for a tiny network. */
  @Test
  void countsTheMultiplyAddsOfEncoderAndDecoderLayerByLayer() {
    try (NDManager nd = NDManager.newBaseManager()) {
      // 8 x 8, one parent; z 2; encoder convs 2, 4; hidden 8, head 4; decoder hidden 6, convs 3, 5
      ImageArchitecture arch = new ImageArchitecture(1, 8, 8, 2, 2, 4, 8, 4, 6, 3, 5);
      VaeImageMechanism plain = tinyWithOneParent(nd, arch);
      // encoder: conv1 2*1*16 taps on 4x4, conv2 4*2*16 on 2x2, fc 8*16, head 4*(8+1), mean and log-variance 2*2*4
      long encoder = 2 * 16 * 16 + 4 * 2 * 16 * 4 + 8 * 16 + 4 * 9 + 2 * 2 * 4;
      // decoder: fc1 6*(2+1), fc2 (3*2*2)*6, conv1 5*3*9 on 4x4, conv2 1*5*9 on 8x8, out 1*1 on 8x8
      long decoder = 6 * 3 + 12 * 6 + 5 * 3 * 9 * 16 + 5 * 9 * 64 + 64;
      assertEquals(2 * (encoder + 2 * 3 * decoder), plain.counterfactualFlops(3, false));
      assertEquals(2 * 3 * decoder, plain.counterfactualFlops(3, true), "the explorer's cached path decodes pa* only");
      VaeImageMechanism film = tinyWithOneParent(nd, arch.withParentFilm());
      // FiLM: gamma and beta for 3 and 5 channels from one parent
      assertEquals(2 * 3 * (decoder + 2 * (3 + 5)), film.counterfactualFlops(3, true));
    }
  }

  /** Batch norm folded into the layer before it answers as the unfolded network does, and follows training. */
  @Test
  void foldedBatchNormGivesTheSameEncoderAndDecoderAndIsFoldedAgainAfterTraining() {
    try (NDManager nd = NDManager.newBaseManager()) {
      VaeImageMechanism m = tinyWithOneParent(nd, new ImageArchitecture(1, 8, 8, 2, 4, 8, 8, 4, 6, 16, 16)
          .withParentFilm());
      ImageNetworks nets = m.networks();
      Random r = new Random(2);
      // running statistics far from (0, 1), gammas and betas far from (1, 0): folding has work to do
      for (Map.Entry<String, NDArray> e : nets.buffers().entrySet()) {
        float[] v = new float[(int) e.getValue().size()];
        for (int k = 0; k < v.length; k++) {
          v[k] = e.getKey().endsWith("var") ? 0.2f + 3 * r.nextFloat() : (float) r.nextGaussian();
        }
        e.getValue().set(v);
      }
      for (String name : m.weights().all().keySet()) {
        if (name.endsWith(".gamma") || name.endsWith(".beta")) {
          float[] v = new float[(int) m.weights().get(name).size()];
          for (int k = 0; k < v.length; k++) {
            v[k] = (float) (name.endsWith("gamma") ? 0.5 + r.nextDouble() : r.nextGaussian());
          }
          m.weights().get(name).set(v);
        }
      }
      m.weights().changed();
      NDArray y = nd.randomNormal(new Shape(5, 1, 8, 8));
      NDArray c = nd.randomNormal(new Shape(5, 1));
      NDArray z = nd.randomNormal(new Shape(5, 2));
      assertClose(nets.encode(nets.inference(), y, c, false).get(0), nets.encode(nets.foldedInference(), y, c, false)
          .get(0), "encoder mean");
      assertClose(nets.decode(nets.inference(), z, c, false), nets.decode(nets.foldedInference(), z, c, false),
          "decoder");
      // a training step moves weights and statistics: the folded weights follow
      NDArray before = nets.decode(nets.foldedInference(), z, c, false);
      ImageData data = ImageData.of(new double[][] {pixels(r), pixels(r), pixels(r), pixels(r)},
          Map.of("r", new double[] {1, 2, 3, 4}));
      try (NDManager opt = nd.newSubManager()) {
        ImageTrainer.step(m, new Adam(opt, 1e-2, 1e-5), data, new int[] {0, 1, 2, 3}, 1);
      }
      NDArray after = nets.decode(nets.foldedInference(), z, c, false);
      assertClose(nets.decode(nets.inference(), z, c, false), after, "decoder after a training step");
      assertTrue(before.sub(after).abs().max().getFloat() > 1e-3, "the step changed the answer");
    }
  }

  /**
   * A counterfactual computed in one go (the decoder run once for the particles under pa and pa*) is the
   * one the explorer computes from a kept abduction, draw for draw.
   */
  @Test
  void oneGoCounterfactualEqualsTheOneFromAKeptAbduction() {
    try (NDManager nd = NDManager.newBaseManager()) {
      VaeImageMechanism m = tinyWithOneParent(nd, ImageArchitecture.tiny(8, 8));
      Random r = new Random(3);
      float[] px = new float[3 * 64];
      for (int k = 0; k < px.length; k++) {
        px[k] = 255 * r.nextFloat();
      }
      NDArray x = nd.create(px, new Shape(3, 8, 8));
      Map<String, NDArray> pa = Map.of("r", nd.create(new float[] {0.2f, 0.5f, 0.9f}));
      Map<String, NDArray> paStar = Map.of("r", nd.create(new float[] {0.8f, 0.5f, 0.1f}));
      Engine.getInstance().setRandomSeed(11);
      NDArray oneGo = m.counterfactual(x, pa, paStar, 6);
      Engine.getInstance().setRandomSeed(11);
      NDArray kept;
      try (VaeImageMechanism.Abduction a = m.abduct(nd, x, pa, 6)) {
        kept = m.counterfactual(a, paStar, nd);
      }
      assertArrayEquals(kept.toFloatArray(), oneGo.toFloatArray(), 1e-3f);
      assertTrue(oneGo.sub(x).abs().max().getFloat() > 1, "the intervention changed the images");
    }
  }

  /** An 8 x 8 image mechanism with one parent r, fresh weights (seed 1). */
  private static VaeImageMechanism tinyWithOneParent(NDManager nd, ImageArchitecture arch) {
    return new VaeImageMechanism(Variable.image("x", 8, 8), List.of(new ContextEncoding("r", false, 0, 1)), arch,
        new ParameterSet(nd)).initParameters(new Random(1));
  }

  private static double[] pixels(Random r) {
    double[] px = new double[64];
    for (int k = 0; k < px.length; k++) {
      px[k] = r.nextInt(256);
    }
    return px;
  }

  private static void assertClose(NDArray expected, NDArray actual, String what) {
    float diff = expected.sub(actual).abs().max().getFloat();
    float scale = expected.abs().max().getFloat();
    assertTrue(diff <= 1e-4 * Math.max(1, scale), what + ": folded and unfolded differ by " + diff);
  }

  /**
   * The explorer reuses one abduction for every step of a slider drag: a step's feature maps must not
   * stay with it (they did, and a long drag grew the memory and slowed every step).
   */
  @Test
  void counterfactualsFromOneAbductionLeaveNothingBehindWithIt() {
    try (NDManager nd = NDManager.newBaseManager()) {
      VaeImageMechanism m = tinyWithOneParent(nd, new ImageArchitecture(1, 8, 8, 2, 2, 4, 8, 4, 6, 3, 5)
          .withParentFilm());
      float[] px = new float[64];
      for (int k = 0; k < px.length; k++) {
        px[k] = (k * 37) % 256;
      }
      NDArray x = nd.create(px, new Shape(1, 8, 8));
      try (VaeImageMechanism.VaeAbduction a = (VaeImageMechanism.VaeAbduction) m.abduct(nd, x, Map.of("r", nd.create(new float[] {1f})), 8)) {
        int held = a.heldArrays();
        for (int step = 0; step < 5; step++) {
          try (NDManager answer = nd.newSubManager()) {
            m.counterfactual(a, Map.of("r", answer.create(new float[] {1.5f + step})), answer);
            m.counterfactual(a, Map.of("r", answer.create(new float[] {1f})), answer); // do(nothing)
          }
        }
        assertEquals(held, a.heldArrays(), "arrays kept with the abduction after 10 counterfactuals");
      }
    }
  }
}
