package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;
import org.deepscm.scm.VariableKind;

/**
 * The counterfactual of fully observed units of an SCM with one image variable, as the paper
 * computes it: abduction, action and prediction on the scalar variables (exact for flows), then the
 * image by Eq. 6 from the observed and counterfactual parents, averaged over particles in pixel
 * space.
 */
public final class ImageCounterfactual {
  private ImageCounterfactual() {}

  /** Counterfactual scalar values by name, and the counterfactual images (shaped like the observed ones). */
  public record Result(Map<String, NDArray> scalars, NDArray image) {}

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
      paStar.put(p, star.get(p));
    }
    return new Result(star, mechanism.counterfactual(image, pa, paStar, particles));
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
      paStar.put(p, star.get(p));
    }
    return new Result(star, mechanism.counterfactual(abduction, paStar, target));
  }
}
