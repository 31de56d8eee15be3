package org.deepscm.scm;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.Map;

/**
 * A model as stored in a model folder: the SCM, the range of each scalar variable seen in
 * training (for sliders and extrapolation warnings), and what the training recorded.
 *
 * @param trainingRanges per scalar variable, {min, max} over the training split
 * @param training free-form training record (dataset, command, seed, epochs, wall time, measures)
 */
public record SavedModel(
    String name, StructuralCausalModel scm, Map<String, double[]> trainingRanges, JsonObject training, Path folder)
    implements AutoCloseable {

  /** The training range of a variable, or null when none was recorded. */
  public double[] trainingRange(String variable) {
    return trainingRanges.get(variable);
  }

  /** True when {@code value} lies outside the range of {@code variable} seen in training. */
  public boolean isExtrapolation(String variable, double value) {
    double[] r = trainingRanges.get(variable);
    return r != null && (value < r[0] || value > r[1]);
  }

  @Override
  public void close() {
    scm.close();
  }
}
