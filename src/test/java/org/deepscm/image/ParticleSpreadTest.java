package org.deepscm.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.flow.ParameterSet;
import org.deepscm.scm.ContextEncoding;
import org.deepscm.scm.Variable;
import org.junit.jupiter.api.Test;

/**
 * The counterfactual's spread over its particles: the one-pass arithmetic against the textbook two-pass one, the
 * null intervention (no spread at all), and a tiny world whose image mechanism is linear-Gaussian in z, where the
 * spread of the counterfactual is known in closed form.
 */
class ParticleSpreadTest {

  @Test
  void onePassGivesTheTwoPassMeanAndStandardDeviation() {
    Random random = new Random(3);
    int particles = 7;
    int units = 3;
    int pixels = 50;
    float[] images = new float[particles * units * pixels];
    for (int k = 0; k < images.length; k++) {
      // grey levels, some far from 0 (cancellation in a naive sum of squares)
      images[k] = (float) (200 + 40 * random.nextGaussian());
    }
    ParticleSpread.PerPixel got = ParticleSpread.of(images, particles, units, pixels);
    for (int u = 0; u < units; u++) {
      for (int p = 0; p < pixels; p++) {
        double mean = 0;
        for (int s = 0; s < particles; s++) {
          mean += images[(s * units + u) * pixels + p];
        }
        mean /= particles;
        double sq = 0;
        for (int s = 0; s < particles; s++) {
          double d = images[(s * units + u) * pixels + p] - mean;
          sq += d * d;
        }
        double sd = Math.sqrt(sq / particles);
        assertEquals(mean, got.mean()[u * pixels + p], 1e-4, "mean of unit " + u + ", pixel " + p);
        assertEquals(sd, got.sd()[u * pixels + p], 1e-4, "sd of unit " + u + ", pixel " + p);
      }
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ParticleSpread.of(new float[10], 3, 1, 4));
    assertTrue(e.getMessage().contains("need 12 values, got 10"), e.getMessage());
  }

  @Test
  void identicalParticlesHaveNoSpreadAndTheirImageAsMean() {
    float[] one = {0, 17.25f, 254.99f, 128.1f};
    float[] images = new float[5 * one.length];
    for (int s = 0; s < 5; s++) {
      System.arraycopy(one, 0, images, s * one.length, one.length);
    }
    ParticleSpread.PerPixel got = ParticleSpread.of(images, 5, 1, one.length);
    assertArrayEquals(one, got.mean());
    assertArrayEquals(new float[one.length], got.sd());
  }

  @Test
  void theSummaryCountsPixelsChangedBeyondTwiceTheirSpreadInsideTheRegion() {
    double[] original = {0, 50, 50, 50, 50, 50, 5, 5};
    double[] cf = {0, 60, 51, 50, 20, 50.3, 25, 6};
    double[] change = new double[8];
    for (int k = 0; k < 8; k++) {
      change[k] = cf[k] - original[k];
    }
    double[] sd = {9, 1, 1, 0, 20, 0, 1, 9};
    boolean[] region = ParticleSpread.region(original, cf, ParticleSpread.REGION_THRESHOLD);
    // pixel 6 is dark in the original but bright in the counterfactual: it counts
    assertArrayEquals(new boolean[] {false, true, true, true, true, true, true, false}, region);
    ParticleSpread.Summary s = ParticleSpread.summarise(change, sd, region, 2);
    // pixel 1 moved 10 > 2 x 1; pixel 2 moved 1 < 2 x 1; pixel 3 did not move; pixel 4 moved 30 < 2 x 20;
    // pixel 5 moved 0.3 with no spread, which no 8-bit image shows; pixel 6 moved 20 > 2 x 1
    assertEquals(6, s.regionPixels());
    assertEquals(2 / 6.0, s.shareBeyond(), 1e-12);
    assertEquals((1 + 1 + 0 + 20 + 0 + 1) / 6.0, s.meanSpread(), 1e-12);
    assertArrayEquals(new boolean[] {false, true, false, false, false, false, true, false},
        ParticleSpread.beyond(change, sd, region, 2));
  }

  private static final List<ContextEncoding> ONE_PARENT = List.of(new ContextEncoding("p", false, 0, 1));

  @Test
  void theNullInterventionHasExactlyNoSpread() {
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = new VaeImageMechanism(Variable.image("x", 16, 16), ONE_PARENT, ImageArchitecture.tiny(16, 16),
          new ParameterSet(m)).initParameters(new Random(4));
      NDArray x = m.randomUniform(0, 255, new Shape(2, 16, 16));
      Map<String, NDArray> pa = Map.of("p", m.create(new float[] {0.3f, -1.2f}));
      try (ImageMechanism.Abduction a = mech.abduct(m, x, pa, 32)) {
        ParticleSpread.MeanAndSpread same = mech.counterfactualWithSpread(a, pa, m);
        assertArrayEquals(new float[2 * 256], same.sd().toFloatArray(), "no spread: every particle is the observed image");
        assertArrayEquals(x.toFloatArray(), same.mean().toFloatArray(), 1e-3f);
        // an intervention that moves the image spreads it
        Map<String, NDArray> other = Map.of("p", m.create(new float[] {1.3f, 0.8f}));
        ParticleSpread.MeanAndSpread moved = mech.counterfactualWithSpread(a, other, m);
        assertTrue(moved.sd().max().getFloat() > 0, "a real intervention has some spread");
        // the mean beside the spread is the counterfactual the rest of the app shows, from the same particles
        assertArrayEquals(mech.counterfactual(a, other, m).toFloatArray(), moved.mean().toFloatArray(), 1e-3f);
        assertEquals(new Shape(2, 16, 16), moved.sd().getShape());
      }
    }
  }

  // ------------------------------------------------------------------ a linear-Gaussian world

  /** The posterior of z_1: q(z | x, pa) = N(M, S^2) whatever the image (the encoder's last layers are biases only). */
  private static final float M = 0.5f;
  private static final float S = 0.8f;
  /** The decoder's mean in logit space: mu(z, p) = K (z_1 + 10)(1 + ALPHA p) + OUT_BIAS, the same at every pixel. */
  private static final float ALPHA = 0.1f;
  private static final float OUT_BIAS = -1.5f;
  /** Batch norm in evaluation mode with running mean 0, variance 1: a factor 1 / sqrt(1 + eps) per layer, three layers. */
  private static final double K = Math.pow(1 / Math.sqrt(1 + ImageNetworks.BN_EPS), 3);

  /**
   * The tiny architecture with FiLM, its weights set by hand so that every rectifier works in its linear part:
   * fc1 passes z_1 (+ 10) alone, fc2 copies it to every cell of channel 0, conv1 and conv2 copy channel 0 (centre
   * taps), the second FiLM layer scales it by 1 + ALPHA p, the 1 x 1 output adds OUT_BIAS. So
   * x*_s = pixels(y + K (z_s + 10) ALPHA (p* - p)), z_s ~ N(M, S^2): the counterfactual of every pixel is a known
   * function of one Gaussian.
   */
  private static VaeImageMechanism linearGaussian(NDManager m) {
    ImageArchitecture arch = ImageArchitecture.tiny(16, 16).withParentFilm();
    VaeImageMechanism mech = new VaeImageMechanism(Variable.image("x", 16, 16), ONE_PARENT, arch, new ParameterSet(m))
        .initParameters(new Random(9));
    ParameterSet w = mech.weights();
    for (String name : List.copyOf(w.all().keySet())) {
      if (name.endsWith(".weight") || name.endsWith(".bias")) {
        w.put(name, m.zeros(w.get(name).getShape()));
      }
    }
    float[] mean = new float[arch.zDim()];
    mean[0] = M;
    float[] logVar = new float[arch.zDim()];
    logVar[0] = (float) (2 * Math.log(S));
    w.put("x.enc.mean.bias", m.create(mean));
    w.put("x.enc.logvar.bias", m.create(logVar));
    // fc1: hidden unit 0 = z_1 + 10 (z and then the parent are its inputs)
    float[][] fc1 = new float[arch.decHidden()][arch.zDim() + 1];
    fc1[0][0] = 1;
    float[] fc1Bias = new float[arch.decHidden()];
    fc1Bias[0] = 10;
    w.put("x.dec.fc1.weight", m.create(fc1));
    w.put("x.dec.fc1.bias", m.create(fc1Bias));
    // fc2: every cell of channel 0 of the first small maps = hidden unit 0
    int cells = (arch.height() / 4) * (arch.width() / 4);
    float[][] fc2 = new float[arch.decConv1() * cells][arch.decHidden()];
    for (int c = 0; c < cells; c++) {
      fc2[c][0] = 1;
    }
    w.put("x.dec.fc2.weight", m.create(fc2));
    // conv1 and conv2: output channel 0 = input channel 0 (the centre tap), no border effects
    NDArray conv1 = m.zeros(new Shape(arch.decConv2(), arch.decConv1(), 3, 3));
    conv1.set(new ai.djl.ndarray.index.NDIndex(0, 0, 1, 1), 1f);
    w.put("x.dec.conv1.weight", conv1);
    NDArray conv2 = m.zeros(new Shape(1, arch.decConv2(), 3, 3));
    conv2.set(new ai.djl.ndarray.index.NDIndex(0, 0, 1, 1), 1f);
    w.put("x.dec.conv2.weight", conv2);
    w.put("x.dec.out.weight", m.ones(new Shape(1, 1, 1, 1)));
    w.put("x.dec.out.bias", m.create(new float[] {OUT_BIAS}));
    // the second FiLM layer: gamma of channel 0 = ALPHA p (its weights: 2 x channels rows of gamma, then beta)
    float[][] film2 = new float[2 * arch.decConv2()][1];
    film2[0][0] = ALPHA;
    w.put("x.dec.film2.weight", m.create(film2));
    return mech;
  }

  /** Pixels of a logit: the mechanism's inverse preprocessing, clipped to 0..255. */
  private static double pixels(double logit) {
    double sigmoid = 1 / (1 + Math.exp(-logit));
    return Math.max(0, Math.min(255, (sigmoid - LogitPreprocessing.ALPHA) * LogitPreprocessing.RANGE
        / (1 - LogitPreprocessing.ALPHA)));
  }

  private static double logit(double x) {
    double p = LogitPreprocessing.ALPHA + (1 - LogitPreprocessing.ALPHA) * x / LogitPreprocessing.RANGE;
    return Math.log(p / (1 - p));
  }

  /** Mean and standard deviation of pixels(y + K (z + 10) ALPHA delta), z ~ N(M, S^2), by quadrature. */
  private static double[] closedForm(double x, double delta) {
    double y = logit(x);
    int steps = 20_000;
    double lo = M - 12 * S;
    double h = 24.0 * S / steps;
    double w0 = 0;
    double w1 = 0;
    double w2 = 0;
    for (int k = 0; k <= steps; k++) {
      double z = lo + k * h;
      double weight = Math.exp(-0.5 * Math.pow((z - M) / S, 2)) * (k == 0 || k == steps ? 0.5 : 1);
      double v = pixels(y + K * (z + 10) * ALPHA * delta);
      w0 += weight;
      w1 += weight * v;
      w2 += weight * v * v;
    }
    double mean = w1 / w0;
    return new double[] {mean, Math.sqrt(Math.max(0, w2 / w0 - mean * mean))};
  }

  @Test
  void aLinearGaussianWorldSpreadsItsCounterfactualAsTheClosedFormSays() {
    try (NDManager m = NDManager.newBaseManager()) {
      ImageMechanism mech = linearGaussian(m);
      int particles = 2048;
      double[] observed = {100, 200};
      float[] px = new float[2 * 256];
      for (int u = 0; u < 2; u++) {
        Arrays.fill(px, u * 256, (u + 1) * 256, (float) observed[u]);
      }
      NDArray x = m.create(px, new Shape(2, 16, 16));
      Map<String, NDArray> pa = Map.of("p", m.create(new float[] {1, 2}));
      // unit 0: p 1 -> 2; unit 1: p 2 -> 0.5 (the other way)
      Map<String, NDArray> paStar = Map.of("p", m.create(new float[] {2, 0.5f}));
      double[] delta = {1, -1.5};
      Engine.getInstance().setRandomSeed(11);
      ParticleSpread.MeanAndSpread direct = mech.counterfactualWithSpread(x, pa, paStar, particles);
      ParticleSpread.MeanAndSpread fromAbduction;
      try (ImageMechanism.Abduction a = mech.abduct(m, x, pa, particles)) {
        fromAbduction = mech.counterfactualWithSpread(a, paStar, m);
      }
      for (ParticleSpread.MeanAndSpread got : List.of(direct, fromAbduction)) {
        float[] mean = got.mean().toFloatArray();
        float[] sd = got.sd().toFloatArray();
        for (int u = 0; u < 2; u++) {
          double[] truth = closedForm(observed[u], delta[u]);
          assertTrue(truth[1] > 2, "the world spreads its counterfactual by a few grey levels: " + truth[1]);
          // every pixel of a unit shares its particles' z: one sample of `particles` draws; 5 standard errors
          double seSd = truth[1] / Math.sqrt(2.0 * particles);
          double seMean = truth[1] / Math.sqrt(particles);
          for (int p = 0; p < 256; p++) {
            assertEquals(truth[1], sd[u * 256 + p], 5 * seSd, "unit " + u + " pixel " + p + ": spread");
            assertEquals(truth[0], mean[u * 256 + p], 5 * seMean + 0.05, "unit " + u + " pixel " + p + ": mean");
          }
        }
      }
    }
  }
}
