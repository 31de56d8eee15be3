package org.deepscm.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.special.Erf;
import org.deepscm.image.ImageMechanism;
import org.deepscm.scm.FlowMechanism;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.StructuralCausalModel;

/**
 * Says when a case is unlike what the model learnt from, and why its counterfactual may then not
 * be trusted: a counterfactual of such a case extrapolates (a real MNIST digit, bright at every
 * thickness, lies far in the tail of the Morpho-MNIST model's p(i | t), and do(i) barely moves it).
 *
 * <ul>
 *   <li>a covariate outside the range seen in training;
 *   <li>a covariate whose abducted noise is more than {@link #NOISE_SD} standard deviations from the
 *       centre of its mechanism (rarer than about 1 in 370 under the model);
 *   <li>an image whose ELBO is below the 1st percentile of the test split's (when the model folder
 *       records that percentile, as {@code evaluate --record} does);
 *   <li>an image unlike any the model saw at a glance: inverted (a bright border; every training image,
 *       digit or brain slice, lies on black) or nearly empty (fewer lit pixels than any training image).
 * </ul>
 */
public final class Typicality {
  /** Noise further than this from 0 (in standard deviations of N(0, 1)) is called atypical. */
  public static final double NOISE_SD = 3;
  /** The model folder's measure that holds the test split's 1st percentile of per-image ELBO. */
  public static final String ELBO_P01 = "elbo_p01";
  /** Its name in model folders measured before it had a world-neutral one (Morpho-MNIST's parents in it). */
  static final String ELBO_P01_BEFORE = "elbo_x_given_t_i_p01";
  /** A pixel brighter than this (0..255) is lit. */
  static final double LIT = 64;
  /**
   * A border (the outermost ring of pixels) brighter than this on average looks inverted. Measured
   * (TypicalityTest): the brightest border of the 10,000 MNIST test digits and 40 brain slices averages 8.1.
   */
  static final double BRIGHT_BORDER = 96;
  /**
   * An image with fewer lit pixels than this share looks empty. Measured (TypicalityTest): the emptiest of
   * the 10,000 MNIST test digits lights 3.6 % of its pixels.
   */
  static final double NEARLY_EMPTY = 0.005;

  private Typicality() {}

  /** The assessment of one case: empty warnings when it is typical. */
  public record Assessment(List<String> warnings, Map<String, Double> noise) {
    public boolean typical() {
      return warnings.isEmpty();
    }

    /** One paragraph for a person: what is unusual and what it means for the answer. */
    public String explain() {
      if (warnings.isEmpty()) {
        return "This case is typical of the model's training data.";
      }
      return "This case is unlike the model's training data: " + String.join("; ", warnings)
          + ". Its counterfactual extrapolates beyond what the model learnt and may not show the requested "
          + "change (the abduction finds noise the model rarely produced, and the image decoder was never "
          + "taught how such a case changes).";
    }
  }

  /**
   * Checks the scalar values of a case (and its image, when the model has one and {@code image} is not
   * null; pixels 0..255 in the image variable's shape).
   */
  public static Assessment assess(SavedModel model, Map<String, Double> observed, double[] image) {
    List<String> warnings = new ArrayList<>();
    Map<String, Double> noise = new LinkedHashMap<>();
    StructuralCausalModel scalars = model.scm().scalarPart();
    for (String v : scalars.graph().topologicalOrder()) {
      Double x = observed.get(v);
      double[] r = model.trainingRange(v);
      if (x != null && r != null && model.isExtrapolation(v, x)) {
        warnings.add(String.format(Locale.ROOT, "%s = %.4g is outside the training range %.4g .. %.4g", v, x, r[0],
            r[1]));
      }
    }
    try (NDManager nd = NDManager.newBaseManager()) {
      Map<String, NDArray> values = new LinkedHashMap<>();
      boolean complete = true;
      for (String v : scalars.graph().topologicalOrder()) {
        Double x = observed.get(v);
        if (x == null || !Double.isFinite(x)) {
          complete = false;
          break;
        }
        values.put(v, nd.create(new double[] {x}));
      }
      if (complete) {
        Map<String, NDArray> eps = scalars.abduct(values);
        for (String v : scalars.graph().topologicalOrder()) {
          if (!(scalars.mechanism(v) instanceof FlowMechanism)) {
            continue; // only a flow's noise is standard normal
          }
          double e = eps.get(v).toType(DataType.FLOAT64, false).toDoubleArray()[0];
          noise.put(v, e);
          if (Math.abs(e) > NOISE_SD) {
            List<String> parents = scalars.graph().parents(v);
            String given = parents.isEmpty() ? "" : " | " + parents.stream()
                .map(p -> String.format(Locale.ROOT, "%s = %.3g", p, observed.get(p))).reduce((a, b) -> a + ", " + b)
                .orElse("");
            warnings.add(String.format(Locale.ROOT, "%s = %.4g lies %.1f standard deviations into the tail of the "
                + "model's p(%s%s) (a case this far out is rarer than 1 in %s)", v, observed.get(v), Math.abs(e), v,
                given, rarity(e)));
          }
        }
      }
      if (image != null && model.scm().graph().variables().stream().anyMatch(x -> !x.kind().isScalar())) {
        // what is wrong with the image itself comes first: it explains the odd measurements after it
        warnings.addAll(0, imageContent(image));
        imageWarning(model, values, image, nd, complete).ifPresent(warnings::add);
      }
    }
    return new Assessment(List.copyOf(warnings), noise);
  }

  /**
   * What is wrong with an image at a glance, whatever the model: an inverted one (bright border) or a
   * nearly empty one. Square images only are checked for the border (all our models' are).
   */
  public static List<String> imageContent(double[] image) {
    List<String> out = new ArrayList<>();
    int side = (int) Math.round(Math.sqrt(image.length));
    if (side * side == image.length && side >= 3) {
      double border = 0;
      for (int k = 0; k < side - 1; k++) {
        border += image[k] + image[(side - 1) * side + k + 1] + image[(k + 1) * side] + image[k * side + side - 1];
      }
      border /= 4.0 * (side - 1);
      if (border > BRIGHT_BORDER) {
        out.add(String.format(Locale.ROOT, "the image's border is bright (mean %.0f of 255): it looks inverted, "
            + "and the model only saw bright shapes on a black background", border));
      }
    }
    int lit = 0;
    for (double v : image) {
      lit += v > LIT ? 1 : 0;
    }
    if (lit < NEARLY_EMPTY * image.length) {
      out.add(String.format(Locale.ROOT, "the image is nearly empty (%d of %d pixels brighter than %.0f; every "
          + "training image lights far more)", lit, image.length, LIT));
    }
    return out;
  }

  private static java.util.Optional<String> imageWarning(SavedModel model, Map<String, NDArray> values,
      double[] image, NDManager nd, boolean complete) {
    Double p01 = recorded(model, ELBO_P01);
    if (p01 == null) {
      p01 = recorded(model, ELBO_P01_BEFORE);
    }
    if (p01 == null || !complete) {
      return java.util.Optional.empty();
    }
    String name = model.scm().graph().variables().stream().filter(x -> !x.kind().isScalar()).findFirst()
        .orElseThrow().name();
    ImageMechanism mech = (ImageMechanism) model.scm().mechanism(name);
    float[] px = new float[image.length];
    for (int p = 0; p < px.length; p++) {
      px[p] = (float) image[p];
    }
    var a = mech;
    NDArray x = nd.create(px, new Shape(1, a.height(), a.width()));
    Map<String, NDArray> pa = new LinkedHashMap<>();
    for (String p : mech.parents()) {
      pa.put(p, values.get(p));
    }
    // more particles than training's 4: one image, and the verdict should not flicker
    double elbo = mech.elbo(x, pa, 16).toType(DataType.FLOAT64, false).getDouble();
    if (elbo < p01) {
      return java.util.Optional.of(String.format(Locale.ROOT, "the image is less likely under the model than 99%% "
          + "of the test split's (ELBO %.0f nats, below the test split's 1st percentile %.0f)", elbo, p01));
    }
    return java.util.Optional.empty();
  }

  /** A measure recorded in the model folder (training.measures), or null. */
  static Double recorded(SavedModel model, String measure) {
    var tr = model.training();
    if (tr == null || !tr.has("measures") || !tr.getAsJsonObject("measures").has(measure)) {
      return null;
    }
    return tr.getAsJsonObject("measures").get(measure).getAsDouble();
  }

  /** "1 in N" for a two-sided standard normal tail beyond |e|, rounded for reading. */
  static String rarity(double e) {
    double p = Erf.erfc(Math.abs(e) / Math.sqrt(2));
    if (p <= 0) {
      return "10^15";
    }
    double n = 1 / p;
    return n >= 1e6 ? String.format(Locale.ROOT, "%.0e", n).replace("e+0", "e").replace("e+", "e")
        : String.format(Locale.ROOT, "%,d", Math.round(n));
  }
}
