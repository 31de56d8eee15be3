package org.deepscm.eval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntConsumer;
import org.deepscm.image.ImageMechanism;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.StructuralCausalModel;

/**
 * What the evaluation of every image model shares, whatever its world: the test units in chunks,
 * each chunk's ELBO, one abduction that answers the reconstruction, the world's own counterfactual
 * measures ({@link World}), composition (the null intervention once and ten times) and reversibility
 * (an intervention and back). The brain and the Morpho-MNIST measures both run on this loop, so how a
 * counterfactual is formed and judged is written once.
 */
final class ImageEvaluation {
  private ImageEvaluation() {}

  /** What one world adds to the shared loop. */
  interface World {
    /** Side of the square images, in pixels. */
    int side();

    /** The observed images of units {@code from .. to - 1} of the measured sample, 0..255, row-major. */
    float[] images(int from, int to);

    /** Their parents: every variable of the model's covariate part, one value per unit. */
    Map<String, NDArray> parents(NDManager nd, int from, int to);

    /** The world's measures of one chunk, from its abduction (called after the reconstruction). */
    void measure(Chunk chunk);

    /** The intervention whose round trip (there and back to the observed parents) measures reversibility. */
    Map<String, Intervention> reversibility();
  }

  /**
   * One chunk as the world's measures see it: units {@code from .. from + size - 1} of the sample,
   * their pixels, parents (all variables and the image's own), the abduction and each unit's
   * reconstruction error.
   */
  record Chunk(int from, int size, NDManager manager, float[] pixels, NDArray images, Map<String, NDArray> parents,
      Map<String, NDArray> imageParents, ImageMechanism.Abduction abduction, double[] recon) {}

  /** The shared measures of a run, per unit where the worlds need them so. */
  record Totals(double[] elbo, double[] recon, double composition1, double composition10, double reversibility) {
    int units() {
      return elbo.length;
    }

    double meanElbo() {
      return mean(elbo);
    }

    double meanRecon() {
      return mean(recon);
    }

    /** A plain running sum, unit by unit, as the measures have always been added. */
    private static double mean(double[] values) {
      double sum = 0;
      for (double v : values) {
        sum += v;
      }
      return sum / values.length;
    }
  }

  /**
   * Runs the loop over {@code n} units in chunks of {@code chunkSize}; each chunk's particles are
   * seeded by {@code seed} and the chunk's first unit, so a run repeats exactly.
   */
  static Totals run(StructuralCausalModel scm, int n, int chunkSize, int particles, long seed, World world,
      IntConsumer progress) {
    ImageMechanism image = (ImageMechanism) scm.mechanism("x");
    StructuralCausalModel covariates = scm.scalarPart();
    int side = world.side();
    double[] unitElbo = new double[n];
    double[] unitRecon = new double[n];
    double comp1 = 0;
    double comp10 = 0;
    double reverse = 0;
    for (int from = 0; from < n; from += chunkSize) {
      int to = Math.min(n, from + chunkSize);
      int m = to - from;
      try (NDManager nd = NDManager.newBaseManager()) {
        Engine.getInstance().setRandomSeed((int) (seed + from));
        float[] px = world.images(from, to);
        NDArray x = nd.create(px, new Shape(m, side, side));
        Map<String, NDArray> pa = world.parents(nd, from, to);
        Map<String, NDArray> imagePa = parentsOf(image, pa);
        double[] chunkElbo = image.elbo(x, imagePa, ImageMechanism.ELBO_PARTICLES).toType(DataType.FLOAT64, false)
            .toDoubleArray();
        System.arraycopy(chunkElbo, 0, unitElbo, from, m);
        // one abduction answers the reconstruction, every counterfactual of the world and the first
        // step of composition and of reversibility
        try (ImageMechanism.Abduction a = image.abduct(nd, x, imagePa, particles)) {
          double[] recon = perUnitMeanAbs(image.reconstruct(a, nd), x);
          System.arraycopy(recon, 0, unitRecon, from, m);
          world.measure(new Chunk(from, m, nd, px, x, pa, imagePa, a, recon));

          NDArray again = image.counterfactual(a, imagePa, nd);
          comp1 += meanAbs(again, x) * m;
          for (int k = 2; k <= 10; k++) {
            again = image.counterfactual(again, imagePa, imagePa, particles);
          }
          comp10 += meanAbs(again, x) * m;

          Map<String, NDArray> star = covariates.counterfactual(pa, world.reversibility());
          NDArray there = image.counterfactual(a, parentsOf(image, star), nd);
          NDArray back = image.counterfactual(there, parentsOf(image, star), imagePa, particles);
          reverse += meanAbs(back, x) * m;
        }
      }
      if (progress != null) {
        progress.accept(to);
      }
    }
    return new Totals(unitElbo, unitRecon, comp1 / n, comp10 / n, reverse / n);
  }

  /** The q-th percentile (linear interpolation between order statistics). */
  static double percentile(double[] values, double q) {
    double[] v = values.clone();
    Arrays.sort(v);
    double pos = q / 100 * (v.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(v.length - 1, lo + 1);
    return v[lo] + (pos - lo) * (v[hi] - v[lo]);
  }

  /** Mean absolute difference of each unit (first axis) over its pixels. */
  static double[] perUnitMeanAbs(NDArray a, NDArray b) {
    long units = a.getShape().get(0);
    return a.sub(b).abs().reshape(units, -1).toType(DataType.FLOAT64, false).mean(new int[] {1})
        .toDoubleArray();
  }

  /** The image's parents among the given values (none for the independent model). */
  static Map<String, NDArray> parentsOf(ImageMechanism image, Map<String, NDArray> values) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (String p : image.parents()) {
      out.put(p, values.get(p));
    }
    return out;
  }

  static double meanAbs(NDArray a, NDArray b) {
    return a.sub(b).abs().toType(DataType.FLOAT64, false).mean().getDouble();
  }
}
