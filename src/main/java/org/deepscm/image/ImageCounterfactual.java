package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.InvalidValueException;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;
import org.deepscm.scm.VariableKind;

/**
 * The counterfactual of fully observed units of an SCM with one image variable, as the paper
 * computes it: abduction, action and prediction on the scalar variables (exact for flows), then the
 * image by Eq. 6 from the observed and counterfactual parents, averaged over particles in pixel
 * space, with each pixel's spread over the particles beside the mean.
 */
public final class ImageCounterfactual {
  private ImageCounterfactual() {}

  /**
   * Counterfactual scalar values by name, the counterfactual images (shaped like the observed ones: the mean over
   * the particles) and each pixel's spread over the particles ({@link ParticleSpread}, same shape); for a mechanism
   * that moves tissue ({@link DeformationMechanism}) from an abduction, also where it moved (N, H, W: the log of the
   * local area change), else null.
   */
  public record Result(Map<String, NDArray> scalars, NDArray image, NDArray spread, NDArray motion) {
    /** An answer of a mechanism that moves no tissue. */
    public Result(Map<String, NDArray> scalars, NDArray image, NDArray spread) {
      this(scalars, image, spread, null);
    }
  }

  /** The model's image variable. */
  public static String imageVariable(StructuralCausalModel scm) {
    for (Variable v : scm.graph().variables()) {
      if (v.kind() == VariableKind.IMAGE) {
        return v.name();
      }
    }
    throw new InvalidModelException("the model has no image variable");
  }

  /**
   * @param scalars observed values of every scalar variable (one row per unit)
   * @param image observed images, (N, H, W) or (N, C, H, W), pixels 0..255
   */
  public static Result compute(StructuralCausalModel scm, Map<String, NDArray> scalars, NDArray image,
      Map<String, Intervention> interventions, int particles) {
    String x = imageVariable(scm);
    if (interventions.containsKey(x)) {
      throw new InvalidModelException("cannot intervene on the image '" + x + "' itself: intervene on its causes");
    }
    Map<String, NDArray> star = scm.scalarPart().counterfactual(scalars, interventions);
    ImageMechanism mechanism = (ImageMechanism) scm.mechanism(x);
    Map<String, NDArray> pa = new LinkedHashMap<>();
    Map<String, NDArray> paStar = new LinkedHashMap<>();
    for (String p : mechanism.parents()) {
      pa.put(p, scalars.get(p));
      // no intervention: the counterfactual world is the observed one, its image's parents exactly the observed
      // (the scalars' abduction and prediction give them back only to rounding)
      paStar.put(p, interventions.isEmpty() ? scalars.get(p) : star.get(p));
    }
    ParticleSpread.MeanAndSpread cf = mechanism.counterfactualWithSpread(image, pa, paStar, particles);
    return new Result(star, cf.mean(), cf.sd());
  }

  /**
   * Counterfactuals of many units as plain arrays: scalars by name (one value per unit), images (row-major pixels,
   * the mean over the particles) and each image's per-pixel spread over the particles (grey levels).
   */
  public record Answers(Map<String, double[]> scalars, double[][] images, double[][] spreads) {}

  /**
   * {@link #compute} for many units, at most {@code batch} at a time: each batch decodes particles x
   * batch images, so the batch size bounds the memory. Units are independent; batching changes only
   * which random draws each unit gets.
   *
   * @param scalars observed values of every scalar variable, one per unit
   * @param images observed images, one row-major array of channels x height x width pixels (0..255) per unit
   */
  public static Answers computeInBatches(StructuralCausalModel scm, Map<String, double[]> scalars,
      double[][] images, Map<String, Intervention> interventions, int particles, int batch) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batch);
    }
    List<Integer> shape = scm.graph().variable(imageVariable(scm)).shape();
    int pixels = shape.get(0) * shape.get(1) * shape.get(2);
    List<String> names = scm.scalarPart().variableNames();
    int n = images.length;
    Map<String, double[]> scalarsOut = new LinkedHashMap<>();
    for (String v : names) {
      if (scalars.get(v) == null || scalars.get(v).length != n) {
        throw new InvalidValueException("give one value of " + v + " per image (" + n + ")");
      }
      scalarsOut.put(v, new double[n]);
    }
    double[][] imagesOut = new double[n][];
    double[][] spreadsOut = new double[n][];
    for (int from = 0; from < n; from += batch) {
      int to = Math.min(n, from + batch);
      try (NDManager nd = NDManager.newBaseManager()) {
        Map<String, NDArray> values = new LinkedHashMap<>();
        for (String v : names) {
          float[] f = new float[to - from];
          for (int u = from; u < to; u++) {
            f[u - from] = (float) scalars.get(v)[u];
          }
          values.put(v, nd.create(f));
        }
        float[] px = new float[(to - from) * pixels];
        for (int u = from; u < to; u++) {
          if (images[u].length != pixels) {
            throw new InvalidValueException("image " + u + " has " + images[u].length + " pixels, expected " + pixels);
          }
          for (int k = 0; k < pixels; k++) {
            px[(u - from) * pixels + k] = (float) images[u][k];
          }
        }
        NDArray image = nd.create(px, new Shape(to - from, shape.get(0), shape.get(1), shape.get(2)));
        Result r = compute(scm, values, image, interventions, particles);
        for (String v : names) {
          double[] column = r.scalars().get(v).toType(DataType.FLOAT64, false).toDoubleArray();
          System.arraycopy(column, 0, scalarsOut.get(v), from, to - from);
        }
        float[] cf = r.image().toFloatArray();
        float[] sd = r.spread().toFloatArray();
        for (int u = from; u < to; u++) {
          double[] one = new double[pixels];
          double[] spread = new double[pixels];
          for (int k = 0; k < pixels; k++) {
            one[k] = cf[(u - from) * pixels + k];
            spread[k] = sd[(u - from) * pixels + k];
          }
          imagesOut[u] = one;
          spreadsOut[u] = spread;
        }
      }
    }
    return new Answers(scalarsOut, imagesOut, spreadsOut);
  }

  /** The abduction of the observed images given their observed parents (see {@link ImageMechanism#abduct}). */
  public static ImageMechanism.Abduction abduct(StructuralCausalModel scm, Map<String, NDArray> scalars,
      NDArray image, int particles, NDManager owner) {
    ImageMechanism mechanism = (ImageMechanism) scm.mechanism(imageVariable(scm));
    Map<String, NDArray> pa = new LinkedHashMap<>();
    for (String p : mechanism.parents()) {
      pa.put(p, scalars.get(p));
    }
    return mechanism.abduct(owner, image, pa, particles);
  }

  /** As {@link #compute}, from an abduction of the same units made by {@link #abduct}. */
  public static Result compute(StructuralCausalModel scm, Map<String, NDArray> scalars,
      ImageMechanism.Abduction abduction, Map<String, Intervention> interventions, NDManager target) {
    String x = imageVariable(scm);
    if (interventions.containsKey(x)) {
      throw new InvalidModelException("cannot intervene on the image '" + x + "' itself: intervene on its causes");
    }
    Map<String, NDArray> star = scm.scalarPart().counterfactual(scalars, interventions);
    ImageMechanism mechanism = (ImageMechanism) scm.mechanism(x);
    Map<String, NDArray> paStar = new LinkedHashMap<>();
    for (String p : mechanism.parents()) {
      paStar.put(p, interventions.isEmpty() ? scalars.get(p) : star.get(p));
    }
    if (mechanism instanceof DeformationMechanism deformation) {
      DeformationMechanism.Moved moved = deformation.counterfactualWithMotion(abduction, paStar, target);
      return new Result(star, moved.images().mean(), moved.images().sd(), moved.motion());
    }
    ParticleSpread.MeanAndSpread cf = mechanism.counterfactualWithSpread(abduction, paStar, target);
    return new Result(star, cf.mean(), cf.sd());
  }

  /**
   * Where tissue moves in one unit's counterfactual (row-major H x W): the log of the local area change from
   * the observed image to the counterfactual ({@link DeformationMechanism#tissueMotion}), averaged over
   * {@code particles} posterior draws; > 0 where tissue grows.
   *
   * @throws InvalidModelException when the model's image mechanism does not move tissue
   */
  public static double[] tissueMotion(StructuralCausalModel scm, Map<String, double[]> scalars, double[] image,
      Map<String, Intervention> interventions, int particles) {
    String x = imageVariable(scm);
    if (!(scm.mechanism(x) instanceof DeformationMechanism mechanism)) {
      throw new InvalidModelException("only a model whose image mechanism moves tissue (kind "
          + DeformationMechanism.KIND + ") has a tissue-motion map; this one's is "
          + ((ImageMechanism) scm.mechanism(x)).kind());
    }
    try (NDManager nd = NDManager.newBaseManager()) {
      Map<String, NDArray> values = new LinkedHashMap<>();
      for (String v : scm.scalarPart().variableNames()) {
        values.put(v, nd.create(new float[] {(float) scalars.get(v)[0]}));
      }
      float[] px = new float[image.length];
      for (int k = 0; k < px.length; k++) {
        px[k] = (float) image[k];
      }
      NDArray img = nd.create(px, new Shape(1, mechanism.channels(), mechanism.height(), mechanism.width()));
      Map<String, NDArray> star = scm.scalarPart().counterfactual(values, interventions);
      Map<String, NDArray> pa = new LinkedHashMap<>();
      Map<String, NDArray> paStar = new LinkedHashMap<>();
      for (String p : mechanism.parents()) {
        pa.put(p, values.get(p));
        paStar.put(p, star.get(p));
      }
      try (ImageMechanism.Abduction a = mechanism.abduct(nd, img, pa, particles)) {
        float[] motion = mechanism.tissueMotion(a, paStar, nd).toFloatArray();
        double[] out = new double[motion.length];
        for (int k = 0; k < out.length; k++) {
          out[k] = motion[k];
        }
        return out;
      }
    }
  }
}
