package org.deepscm.data.morphomnist;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The Morpho-MNIST covariates a digit's own pixels determine (Castro et al. 2019): stroke thickness
 * {@code t} and intensity {@code i}. A user's image comes with them measured unless they are given.
 */
public final class MeasuredCovariates {
  private MeasuredCovariates() {}

  /**
   * Puts into {@code values} each of t and i that the model has ({@code variables}) but
   * {@code values} lacks, measured on {@code image} (28x28 grey levels, row-major).
   *
   * @return the names it measured, t before i
   * @throws IllegalArgumentException when one must be measured and the image cannot be (e.g. no
   *     foreground), naming the problem
   */
  public static List<String> measureMissing(Map<String, Double> values, Collection<String> variables,
      double[] image) {
    List<String> measured = new ArrayList<>();
    if (variables.contains("t") && !values.containsKey("t")) {
      values.put("t", Morphology.measureThickness(image));
      measured.add("t");
    }
    if (variables.contains("i") && !values.containsKey("i")) {
      values.put("i", Morphology.measureIntensity(image));
      measured.add("i");
    }
    return measured;
  }
}
