package org.deepscm.data.morphomnist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.StructuralCausalModel;

/**
 * Brings a digit into a Morpho-MNIST model's world before a counterfactual: a real MNIST digit is
 * bright (i near 250) at every thickness, far in the tail of the model's p(i | t), and a model abducts
 * such a case badly. This keeps the digit's shape and thickness and sets its intensity (Morpho-MNIST's
 * SetIntensity, as the data were made) to the model's median intensity for its thickness, so that the
 * counterfactual starts from a case like the training data. The user sees both images and chooses.
 */
public final class TypicalIntensity {
  private TypicalIntensity() {}

  /** The image with its new intensity, and that intensity. */
  public record Result(double[] image, double intensity) {}

  /** The model's median intensity given thickness t: its mechanism of i at noise 0 (flows are monotone). */
  public static double median(StructuralCausalModel scm, double t) {
    StructuralCausalModel scalars = scm.scalarPart();
    try (NDManager nd = NDManager.newBaseManager()) {
      Map<String, NDArray> noise = new LinkedHashMap<>();
      for (String v : scalars.graph().topologicalOrder()) {
        noise.put(v, nd.zeros(new ai.djl.ndarray.types.Shape(1)));
      }
      Map<String, NDArray> values = scalars.predict(noise, Map.of("t", Intervention.set(t)));
      return values.get("i").toType(DataType.FLOAT64, false).toDoubleArray()[0];
    }
  }

  /** The digit (784 pixels, 0..255) at the model's median intensity for thickness {@code t}. */
  public static Result apply(StructuralCausalModel scm, double[] image, double t) {
    double i = median(scm, t);
    return new Result(Morphology.setIntensity(image, i), i);
  }
}
