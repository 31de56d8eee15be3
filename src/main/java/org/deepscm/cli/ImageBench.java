package org.deepscm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.flow.ParameterSet;
import org.deepscm.scm.ContextEncoding;
import org.deepscm.scm.Variable;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.VaeImageMechanism;
import org.deepscm.image.ImageData;
import org.deepscm.train.Adam;
import org.deepscm.train.ImageTrainer;

/**
 * Timings of the Morpho-MNIST image mechanism at the paper's sizes (untrained weights; speed does
 * not depend on them): decoder forward for 32 samples, one 32-particle counterfactual of one image,
 * one training step of 256 images x 4 particles. Run with
 * {@code java -cp ... org.deepscm.cli.ImageBench [mnistDir]}.
 */
public final class ImageBench {
  private ImageBench() {}

  public static void main(String[] args) throws Exception {
    Path mnist = Path.of(args.length > 0 ? args[0] : "resources/mnist");
    Engine.getInstance().setRandomSeed(1);
    System.out.println("engine " + Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion()
        + ", device " + Engine.getInstance().defaultDevice() + ", " + Runtime.getRuntime().availableProcessors()
        + " processors");
    List<ContextEncoding> context = List.of(
        new ContextEncoding("t", true, 0.886047, 0.252407), new ContextEncoding("i", false, 160, 55));
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism mech = new VaeImageMechanism(Variable.image("x", 28, 28), context,
          ImageArchitecture.morphoMnist(), new ParameterSet(m)).initParameters(new Random(1));
      System.out.println("parameters: " + mech.weights().count());
      int n = 256;
      float[] px = new float[n * 784];
      if (Files.isDirectory(mnist)) {
        MnistDigits digits = MnistDigits.load(mnist);
        for (int k = 0; k < n; k++) {
          int[] d = digits.imageInts(k);
          for (int p = 0; p < 784; p++) {
            px[k * 784 + p] = d[p];
          }
        }
      } else {
        Random r = new Random(2);
        for (int k = 0; k < px.length; k++) {
          px[k] = r.nextInt(256);
        }
      }
      double[] t = new double[n];
      double[] i = new double[n];
      Random r = new Random(3);
      for (int k = 0; k < n; k++) {
        t[k] = 1 + 4 * r.nextDouble();
        i[k] = 70 + 180 * r.nextDouble();
      }
      ImageData data = new ImageData(px, n, 784, Map.of("t", t, "i", i));

      // decoder forward, 32 samples
      double[] dec = new double[60];
      for (int k = 0; k < dec.length; k++) {
        try (NDManager s = m.newSubManager()) {
          NDArray z = s.randomNormal(new Shape(32, 16));
          Map<String, NDArray> pa = Map.of("t", s.create(Arrays.copyOf(new float[] {2.5f}, 32)).add(1),
              "i", s.ones(new Shape(32)).add(150));
          long t0 = System.nanoTime();
          mech.decoderMean(z, pa).toFloatArray();
          dec[k] = (System.nanoTime() - t0) / 1e6;
        }
      }
      double[] decRuns = Arrays.copyOfRange(dec, 10, dec.length);
      System.out.printf(Locale.ROOT, "decoder forward, 32 samples: median %.1f ms (p95 %.1f ms, %d runs after 10 warm-up)%n",
          percentile(decRuns, 50), percentile(decRuns, 95), decRuns.length);

      // counterfactual of one image, 32 particles
      double[] cf = new double[60];
      for (int k = 0; k < cf.length; k++) {
        try (NDManager s = m.newSubManager()) {
          NDArray x = s.create(Arrays.copyOf(px, 784), new Shape(1, 28, 28));
          Map<String, NDArray> pa = Map.of("t", s.create(new float[] {2.5f}), "i", s.create(new float[] {150f}));
          Map<String, NDArray> star = Map.of("t", s.create(new float[] {4f}), "i", s.create(new float[] {150f}));
          long t0 = System.nanoTime();
          mech.counterfactual(x, pa, star, 32).toFloatArray();
          cf[k] = (System.nanoTime() - t0) / 1e6;
        }
      }
      double[] cfRuns = Arrays.copyOfRange(cf, 10, cf.length);
      System.out.printf(Locale.ROOT, "counterfactual, 1 image x 32 particles: median %.1f ms, p95 %.1f ms (%d runs after 10 warm-up)%n",
          percentile(cfRuns, 50), percentile(cfRuns, 95), cfRuns.length);

      // training steps, 256 images x 4 particles
      int steps = args.length > 1 ? Integer.parseInt(args[1]) : 4;
      Adam adam = new Adam(m, 1e-4, 1e-5);
      int[] rows = new int[n];
      Arrays.setAll(rows, k -> k);
      double[] st = new double[steps];
      for (int k = 0; k < steps; k++) {
        long t0 = System.nanoTime();
        double elbo = ImageTrainer.step(mech, adam, data, rows, 4);
        st[k] = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "training step %d (256 x 4): %.2f s, ELBO %.1f%n", k + 1, st[k], elbo);
      }
      if (steps > 1) {
        System.out.printf(Locale.ROOT, "training step, median after the first: %.2f s%n",
            percentile(Arrays.copyOfRange(st, 1, steps), 50));
      }
    }
  }

  static double percentile(double[] values, double p) {
    double[] v = values.clone();
    Arrays.sort(v);
    int k = (int) Math.ceil(p / 100 * v.length) - 1;
    return v[Math.max(0, Math.min(v.length - 1, k))];
  }
}
