package org.deepscm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.deepscm.data.StratifiedSample;
import org.deepscm.data.morphomnist.IdxReader;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MnistImport;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.eval.MorphoMnistEvaluation;
import org.deepscm.flow.ParameterSet;
import org.deepscm.image.DigitClassifier;
import org.deepscm.scm.Intervention;

/**
 * Trains the judge of "digit kept" ({@link DigitClassifier}) on the training digits of the project's split
 * only: every digit as given, and {@code variants} renderings of it by the project's own SetThickness at a
 * thickness drawn uniformly from 0.9..6 px, each given an intensity drawn uniformly from 64..255 by
 * SetIntensity afresh every time it is seen (the true SCM is known, so this augmentation is free and covers
 * every counterfactual the evaluation asks for: do(t) 1.5..5.5, do(i) 80..240); half of the digits as given
 * get a random intensity too, half of the images an elastic distortion, and every image a small random
 * affine map (rotation up to 12 degrees, scale 0.9..1.1, shift up to {@code maxShift} pixels). Adam, cosine
 * learning rate down to a twentieth, minibatches of seeded order; the epoch with the best accuracy on the
 * validation digits (as given and rendered) is kept. The test digits are never seen in training.
 */
public final class DigitClassifierTrainer {
  public static final double T_MIN = 0.9;
  public static final double T_MAX = 6;
  public static final double I_MIN = 64;
  public static final double I_MAX = 255;
  /** The renderings' format in the cache (bump when rendering changes). */
  static final int FORMAT = 1;

  private DigitClassifierTrainer() {}

  /** How to train. */
  public record Options(int members, int variants, int epochs, int batchSize, double learningRate, int maxShift,
      long seed) {
    public Options {
      if (members < 1 || variants < 0 || epochs < 1 || batchSize < 1 || !(learningRate > 0) || maxShift < 0
          || maxShift > 4) {
        throw new IllegalArgumentException("digit classifier: members >= 1, --variants >= 0, --epochs >= 1, "
            + "--batch >= 1, a positive --lr, and shifts of 0..4 px");
      }
    }

    public static Options defaults(long seed) {
      return new Options(3, 3, 6, 128, 1e-3, 2, seed);
    }
  }

  /** Progress and log lines of a run. */
  public interface Log {
    void line(String text);
  }

  /**
   * Training images: each digit as given (its pixels unchanged) followed by its renderings.
   *
   * @param pixels n x 784 unsigned bytes
   * @param rendered whether image k is a rendering (it gets a fresh random intensity whenever it is seen)
   */
  public record Images(byte[] pixels, int[] labels, boolean[] rendered) {
    public int n() {
      return labels.length;
    }

    double[] image(int k) {
      double[] x = new double[MnistDigits.PIXELS];
      for (int p = 0; p < x.length; p++) {
        x[p] = pixels[k * MnistDigits.PIXELS + p] & 0xff;
      }
      return x;
    }
  }

  /**
   * The digits {@code units} as given and {@code variants} thickness renderings of each (t uniform in
   * 0.9..6, seeded), rendered in parallel; cached in {@code cacheDir} (null: not cached) by (units, variants,
   * seed). A digit that erosion would wipe out at its drawn thickness is rendered at the next 0.5 px up.
   */
  public static Images images(MnistDigits digits, int[] units, int variants, long seed, Path cacheDir, Log log,
      BooleanSupplier cancelled) throws IOException {
    int n = units.length;
    int per = 1 + variants;
    int[] labels = new int[n * per];
    boolean[] rendered = new boolean[n * per];
    double[] thickness = new double[n * variants];
    Random rng = new Random(seed);
    for (int u = 0; u < n; u++) {
      for (int v = 0; v < per; v++) {
        labels[u * per + v] = digits.label(units[u]);
        rendered[u * per + v] = v > 0;
      }
      for (int v = 0; v < variants; v++) {
        thickness[u * variants + v] = T_MIN + (T_MAX - T_MIN) * rng.nextDouble();
      }
    }
    Path file = cacheDir == null ? null : cacheDir.resolve(String.format(Locale.ROOT,
        "digit-classifier-v%d-%d-units-%08x-x%d-seed%d-images-idx3-ubyte.gz", FORMAT, n,
        java.util.Arrays.hashCode(units), variants, seed));
    if (file != null && Files.isRegularFile(file)) {
      try {
        IdxReader.Images im = IdxReader.readImages(file);
        if (im.count() == n * per) {
          log.line("digit classifier: " + (n * variants) + " renderings from the cache " + file);
          return new Images(im.data(), labels, rendered);
        }
      } catch (IOException | RuntimeException e) {
        // a damaged cache is rendered again
      }
    }
    byte[] pixels = new byte[n * per * MnistDigits.PIXELS];
    java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
    long started = System.nanoTime();
    IntStream.range(0, n).parallel().forEach(u -> {
      if (cancelled.getAsBoolean()) {
        return;
      }
      double[] digit = digits.imageDoubles(units[u]);
      put(pixels, u * per, digit);
      for (int v = 0; v < variants; v++) {
        put(pixels, u * per + 1 + v, thicker(digit, thickness[u * variants + v]));
      }
      int d = done.incrementAndGet();
      if (d % 500 == 0 || d == n) {
        log.line(String.format(Locale.ROOT, "digit classifier: rendered %d / %d digits x %d thicknesses, %.0f s", d,
            n, variants, (System.nanoTime() - started) / 1e9));
      }
    });
    if (cancelled.getAsBoolean()) {
      throw new IOException("rendering cancelled");
    }
    if (file != null) {
      Files.createDirectories(cacheDir);
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      MnistImport.writeIdx(tmp, IdxReader.MAGIC_IDX3_UBYTE, new int[] {n * per, MnistDigits.SIDE, MnistDigits.SIDE},
          pixels);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    return new Images(pixels, labels, rendered);
  }

  /** SetThickness, stepping up 0.5 px at a time where erosion would remove the whole digit. */
  static double[] thicker(double[] digit, double t) {
    for (double target = t; ; target += 0.5) {
      try {
        return Morphology.setThickness(digit, target);
      } catch (IllegalArgumentException e) {
        if (target > T_MAX + 4) {
          return digit;
        }
      }
    }
  }

  private static void put(byte[] pixels, int k, double[] x) {
    for (int p = 0; p < x.length; p++) {
      pixels[k * MnistDigits.PIXELS + p] = (byte) Math.round(Math.max(0, Math.min(255, x[p])));
    }
  }

  /** What a run did. */
  public record Result(int bestEpoch, double bestValidationAccuracy, double seconds) {}

  /**
   * Trains {@code c} in place on {@code train}; after each epoch measures the accuracy on {@code validation}
   * (pixels 0..255 of the images of {@code validationImages}, e.g. {@link #fixedViews}) and keeps the best
   * epoch's weights.
   */
  public static Result train(DigitClassifier c, Images train, Images validationImages, float[] validation,
      Options o, Log log, BooleanSupplier cancelled) {
    int[] validationClasses = validationImages.labels();
    long started = System.nanoTime();
    NDManager root = c.weights().manager();
    // every image once, and each digit as given once more: the real digits weigh as much as the renderings
    int[] pool = IntStream.concat(IntStream.range(0, train.n()),
        IntStream.range(0, train.n()).filter(k -> !train.rendered()[k])).toArray();
    int steps = pool.length / o.batchSize();
    long total = (long) steps * o.epochs();
    int bestEpoch = 0;
    double best = -1;
    NDList bestWeights = null;
    try (NDManager optimiser = root.newSubManager(); NDManager keep = root.newSubManager()) {
      Adam adam = new Adam(optimiser, o.learningRate(), 1e-8);
      for (int epoch = 1; epoch <= o.epochs(); epoch++) {
        Engine.getInstance().setRandomSeed((int) (o.seed() * 31 + epoch));
        Random rng = new Random(o.seed() * 1_000_033L + epoch);
        // each member its own order: different batches, more different members
        int[][] order = new int[c.members()][];
        for (int j = 0; j < c.members(); j++) {
          order[j] = ImageTrainer.shuffled(pool.length, o.seed() * 7_919L + epoch + 1_000_003L * j);
        }
        double sum = 0;
        for (int s = 0; s < steps; s++) {
          if (cancelled.getAsBoolean()) {
            throw new IllegalStateException("digit classifier training cancelled in epoch " + epoch);
          }
          // cosine from lr down to lr / 20 over the whole run
          double progress = (double) ((long) (epoch - 1) * steps + s) / total;
          adam.learningRate(o.learningRate() * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * progress))));
          float[][] px = new float[c.members()][o.batchSize() * MnistDigits.PIXELS];
          float[][] cls = new float[c.members()][o.batchSize()];
          for (int j = 0; j < c.members(); j++) {
            for (int r = 0; r < o.batchSize(); r++) {
              int k = pool[order[j][s * o.batchSize() + r]];
              augment(train, k, rng, o.maxShift(), px[j], r);
              cls[j][r] = train.labels()[k];
            }
          }
          sum += step(c, adam, px, cls);
        }
        int[] read = c.classify(validation, validationClasses.length);
        int[] right = new int[2];
        int[] count = new int[2];
        for (int k = 0; k < read.length; k++) {
          int g = validationImages.rendered()[k] ? 1 : 0;
          count[g]++;
          right[g] += read[k] == validationClasses[k] ? 1 : 0;
        }
        double accuracy = (double) (right[0] + right[1]) / read.length;
        boolean better = accuracy > best;
        if (better) {
          best = accuracy;
          bestEpoch = epoch;
          if (bestWeights != null) {
            bestWeights.close();
          }
          bestWeights = c.snapshot(keep);
        }
        log.line(String.format(Locale.ROOT, "digit classifier: epoch %d/%d, cross-entropy %.4f, validation accuracy "
            + "%.4f (as given %.4f, rendered %.4f)%s, %.0f s", epoch, o.epochs(), sum / Math.max(1, steps), accuracy,
            (double) right[0] / Math.max(1, count[0]), (double) right[1] / Math.max(1, count[1]),
            better ? " (best)" : "", (System.nanoTime() - started) / 1e9));
      }
      c.restore(bestWeights, "the best epoch's weights");
    }
    return new Result(bestEpoch, best, (System.nanoTime() - started) / 1e9);
  }

  /** Largest rotation of the augmentation, degrees either way. */
  static final double MAX_ROTATION_DEGREES = 12;
  /** Largest change of scale of the augmentation, either way (0.1: 0.9..1.1). */
  static final double MAX_SCALE_CHANGE = 0.1;

  /**
   * Image k of the training set, augmented, into row r of {@code px}: a new intensity (renderings always,
   * digits as given half of the time), half of the time an elastic distortion ({@link #elastic}), then a
   * random small affine map about the centre (rotation up to 12 degrees, scale 0.9..1.1, shift up to
   * {@code maxShift} px each way), sampled bilinearly.
   */
  static void augment(Images train, int k, Random rng, int maxShift, float[] px, int r) {
    double[] x = train.image(k);
    boolean recolour = train.rendered()[k] || rng.nextBoolean();
    double target = I_MIN + (I_MAX - I_MIN) * rng.nextDouble();
    if (recolour) {
      try {
        x = Morphology.setIntensity(x, target);
      } catch (IllegalArgumentException e) {
        // no foreground to scale: keep the image as it is
      }
    }
    if (rng.nextBoolean()) {
      x = elastic(x, rng, ELASTIC_ALPHA, ELASTIC_SIGMA);
    }
    double angle = Math.toRadians(MAX_ROTATION_DEGREES * (2 * rng.nextDouble() - 1));
    double scale = 1 + MAX_SCALE_CHANGE * (2 * rng.nextDouble() - 1);
    double dx = maxShift * (2 * rng.nextDouble() - 1);
    double dy = maxShift * (2 * rng.nextDouble() - 1);
    affine(x, angle, scale, dx, dy, px, r * MnistDigits.PIXELS);
  }

  /** Elastic distortion (Simard et al. 2003): displacement fields of this size (px) ... */
  static final double ELASTIC_ALPHA = 17;
  /** ... smoothed by a Gaussian of this width (px). */
  static final double ELASTIC_SIGMA = 4;

  /**
   * The image sampled bilinearly at (col + dx, row + dy), dx and dy each uniform noise in -1..1 smoothed by a
   * Gaussian of width {@code sigma} and scaled by {@code alpha}: the elastic distortion of Simard, Steinkraus
   * and Platt (2003), a small random bending of the strokes.
   */
  static double[] elastic(double[] x, Random rng, double alpha, double sigma) {
    int side = MnistDigits.SIDE;
    double[][] field = new double[2][];
    for (int f = 0; f < 2; f++) {
      double[] noise = new double[MnistDigits.PIXELS];
      for (int p = 0; p < noise.length; p++) {
        noise[p] = 2 * rng.nextDouble() - 1;
      }
      field[f] = blur(noise, sigma);
      for (int p = 0; p < noise.length; p++) {
        field[f][p] *= alpha;
      }
    }
    double[] out = new double[MnistDigits.PIXELS];
    for (int y = 0; y < side; y++) {
      for (int xx = 0; xx < side; xx++) {
        int p = y * side + xx;
        out[p] = bilinear(x, xx + field[0][p], y + field[1][p]);
      }
    }
    return out;
  }

  /** Separable Gaussian blur (kernel of sum 1) of a 28 x 28 image, zero outside. */
  private static double[] blur(double[] x, double sigma) {
    int side = MnistDigits.SIDE;
    int radius = (int) Math.ceil(3 * sigma);
    double[] kernel = new double[2 * radius + 1];
    double total = 0;
    for (int k = -radius; k <= radius; k++) {
      kernel[k + radius] = Math.exp(-0.5 * k * k / (sigma * sigma));
      total += kernel[k + radius];
    }
    for (int k = 0; k < kernel.length; k++) {
      kernel[k] /= total;
    }
    double[] rows = new double[x.length];
    double[] out = new double[x.length];
    for (int y = 0; y < side; y++) {
      for (int xx = 0; xx < side; xx++) {
        double sum = 0;
        for (int k = -radius; k <= radius; k++) {
          int c = xx + k;
          sum += c < 0 || c >= side ? 0 : kernel[k + radius] * x[y * side + c];
        }
        rows[y * side + xx] = sum;
      }
    }
    for (int y = 0; y < side; y++) {
      for (int xx = 0; xx < side; xx++) {
        double sum = 0;
        for (int k = -radius; k <= radius; k++) {
          int r = y + k;
          sum += r < 0 || r >= side ? 0 : kernel[k + radius] * rows[r * side + xx];
        }
        out[y * side + xx] = sum;
      }
    }
    return out;
  }

  private static double bilinear(double[] x, double sx, double sy) {
    int x0 = (int) Math.floor(sx);
    int y0 = (int) Math.floor(sy);
    double fx = sx - x0;
    double fy = sy - y0;
    return (1 - fx) * (1 - fy) * pixel(x, x0, y0) + fx * (1 - fy) * pixel(x, x0 + 1, y0)
        + (1 - fx) * fy * pixel(x, x0, y0 + 1) + fx * fy * pixel(x, x0 + 1, y0 + 1);
  }

  /**
   * {@code out[at + p]}: the image turned by {@code angle}, scaled by {@code scale} about its centre and
   * shifted by (dx, dy) px, sampled bilinearly (outside the image: 0).
   */
  static void affine(double[] x, double angle, double scale, double dx, double dy, float[] out, int at) {
    int side = MnistDigits.SIDE;
    double c = (side - 1) / 2.0;
    double cos = Math.cos(angle) / scale;
    double sin = Math.sin(angle) / scale;
    for (int y = 0; y < side; y++) {
      for (int xx = 0; xx < side; xx++) {
        // where output pixel (xx, y) comes from: the inverse map
        double u = xx - c - dx;
        double v = y - c - dy;
        double sx = cos * u + sin * v + c;
        double sy = -sin * u + cos * v + c;
        out[at + y * side + xx] = (float) bilinear(x, sx, sy);
      }
    }
  }

  private static double pixel(double[] x, int col, int row) {
    int side = MnistDigits.SIDE;
    return col < 0 || row < 0 || col >= side || row >= side ? 0 : x[row * side + col];
  }

  /** One step of every member on its own batch; the members' mean cross-entropy. */
  private static double step(DigitClassifier c, Adam adam, float[][] px, float[][] cls) {
    for (NDArray w : c.weights().all().values()) {
      w.getGradient().set(new NDIndex(":"), 0);
    }
    try (NDManager scope = c.weights().manager().newSubManager()) {
      double loss;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        ParameterSet.Scoped w = c.weights().scoped(scope);
        NDArray ce = null;
        for (int j = 0; j < c.members(); j++) {
          NDArray x = scope.create(px[j], new Shape(cls[j].length, 1, MnistDigits.SIDE, MnistDigits.SIDE));
          NDArray term = DigitClassifier.crossEntropy(c.forward(j, w::get, x, true), scope.create(cls[j]));
          ce = ce == null ? term : ce.add(term);
        }
        ce = ce.div(c.members());
        gc.backward(ce);
        loss = ce.getFloat();
      }
      if (Double.isFinite(loss)) {
        adam.step(c.weights());
      }
      return loss;
    }
  }

  /**
   * One fixed view of every image (for validation): digits as given unchanged, each rendering at an
   * intensity drawn uniformly from 64..255 with {@code seed}; no shift.
   */
  public static float[] fixedViews(Images images, long seed) {
    Random rng = new Random(seed);
    float[] px = new float[images.n() * MnistDigits.PIXELS];
    for (int k = 0; k < images.n(); k++) {
      double[] x = images.image(k);
      double target = I_MIN + (I_MAX - I_MIN) * rng.nextDouble();
      if (images.rendered()[k]) {
        try {
          x = Morphology.setIntensity(x, target);
        } catch (IllegalArgumentException e) {
          // no foreground to scale
        }
      }
      for (int p = 0; p < x.length; p++) {
        px[k * MnistDigits.PIXELS + p] = (float) x[p];
      }
    }
    return px;
  }

  // ------------------------------------------------------------------ measuring

  /** Pixels (0..255) of the given digits as given. */
  public static float[] asGiven(MnistDigits digits, int[] indices) {
    float[] px = new float[indices.length * MnistDigits.PIXELS];
    for (int k = 0; k < indices.length; k++) {
      byte[] b = digits.imageBytes(indices[k]);
      for (int p = 0; p < b.length; p++) {
        px[k * MnistDigits.PIXELS + p] = b[p] & 0xff;
      }
    }
    return px;
  }

  public static int[] labelsOf(MnistDigits digits, int[] indices) {
    int[] out = new int[indices.length];
    for (int k = 0; k < indices.length; k++) {
      out[k] = digits.label(indices[k]);
    }
    return out;
  }

  /** Pixels (0..255) of every unit of a Morpho-MNIST dataset. */
  public static float[] pixels(MorphoMnistDataset set) {
    float[] px = new float[set.size() * MnistDigits.PIXELS];
    for (int u = 0; u < set.size(); u++) {
      double[] x = set.image(u);
      for (int p = 0; p < x.length; p++) {
        px[u * MnistDigits.PIXELS + p] = (float) x[p];
      }
    }
    return px;
  }

  public static int[] labels(MorphoMnistDataset set) {
    int[] out = new int[set.size()];
    for (int u = 0; u < set.size(); u++) {
      out[u] = set.label(u);
    }
    return out;
  }

  /**
   * The classifier's accuracy on the TRUE counterfactuals of a seeded class-stratified sample of
   * {@code units} test units under the evaluation's grid (do(t) at {@link MorphoMnistEvaluation#T_TARGETS},
   * do(i) at {@link MorphoMnistEvaluation#I_TARGETS}, each unit's own noise): what a perfect model's
   * counterfactuals look like. Keys {@code true_cf_accuracy_do_t}, {@code true_cf_accuracy_do_i},
   * {@code true_cf_units}.
   */
  public static Map<String, Double> trueCounterfactualAccuracy(DigitClassifier c, MnistDigits digits, int units,
      long seed) {
    int[] chosen = StratifiedSample.of(MorphoMnistDataset.labels(digits, MorphoMnistDataset.Split.TEST), units, seed);
    MorphoMnistDataset test = MorphoMnistDataset.render(digits, MorphoMnistDataset.Split.TEST,
        MorphoMnistDataset.DEFAULT_SEED, chosen);
    int n = test.size();
    double[][] grids = {MorphoMnistEvaluation.T_TARGETS, MorphoMnistEvaluation.I_TARGETS};
    Map<String, Double> out = new LinkedHashMap<>();
    for (int g = 0; g < 2; g++) {
      double[] grid = grids[g];
      boolean doT = g == 0;
      float[] px = new float[n * grid.length * MnistDigits.PIXELS];
      int[] cls = new int[n * grid.length];
      IntStream.range(0, n).parallel().forEach(u -> {
        double[] digit = digits.imageDoubles(test.digit(u));
        for (int k = 0; k < grid.length; k++) {
          Intervention set = Intervention.set(grid[k]);
          double[] x = MorphoMnistTrueScm.counterfactualImage(digit, test.epsT(u), test.epsI(u), doT ? set : null,
              doT ? null : set);
          int row = u * grid.length + k;
          for (int p = 0; p < x.length; p++) {
            px[row * MnistDigits.PIXELS + p] = (float) Math.round(Math.max(0, Math.min(255, x[p])));
          }
          cls[row] = test.label(u);
        }
      });
      out.put(doT ? "true_cf_accuracy_do_t" : "true_cf_accuracy_do_i", c.accuracy(px, cls));
    }
    out.put("true_cf_units", (double) n);
    return out;
  }
}
