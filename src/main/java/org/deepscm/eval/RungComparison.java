package org.deepscm.eval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.InvalidValueException;
import org.deepscm.scm.StructuralCausalModel;

/**
 * The three rungs of the ladder side by side for one variable v and one other variable b set to a
 * value b* (paper Fig. A.6): conditioning p(v | b = b*) (seeing b*), intervening p(v | do(b = b*))
 * (setting b*), and the counterfactual v of one observed case had b been b*. Where b is not a cause
 * of v the second equals p(v) and the counterfactual leaves v as observed, while conditioning still
 * moves v: the difference a class needs to see.
 *
 * @param marginal samples of p(v)
 * @param conditional samples of p(v | b near b*): the units nearest to b* among the model's samples
 * @param interventional samples of p(v | do(b = b*))
 * @param observed the case's v
 * @param counterfactual the case's v under do(b = b*)
 */
public record RungComparison(String variable, String cause, double causeValue, double[] marginal,
    double[] conditional, double[] interventional, double observed, double counterfactual) {

  /**
   * @param scm a model of scalar variables (the scalar part of an image model)
   * @param observedCase a value for every variable of {@code scm}
   * @param samples model draws for each distribution; conditioning keeps the nearest twentieth of them
   */
  public static RungComparison compute(StructuralCausalModel scm, Map<String, Double> observedCase, String variable,
      String cause, double causeValue, int samples, long seed) {
    if (variable.equals(cause)) {
      throw new IllegalArgumentException("compare two different variables; got " + variable + " twice");
    }
    scm.graph().variable(variable);
    scm.graph().variable(cause).check(causeValue);
    if (samples < 100) {
      throw new IllegalArgumentException("the rung comparison needs at least 100 samples, got " + samples);
    }
    Map<String, Intervention> dos = Map.of(cause, Intervention.set(causeValue));
    try (NDManager nd = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed((int) seed);
      Map<String, NDArray> joint = scm.sample(nd, samples);
      double[] v = doubles(joint.get(variable));
      double[] b = doubles(joint.get(cause));
      // conditioning by nearest neighbours in b: works for any graph, no density of b needed
      int keep = Math.max(50, samples / 20);
      Integer[] order = IntStream.range(0, samples).boxed().toArray(Integer[]::new);
      Arrays.sort(order, Comparator.comparingDouble(k -> Math.abs(b[k] - causeValue)));
      double[] conditional = new double[keep];
      for (int k = 0; k < keep; k++) {
        conditional[k] = v[order[k]];
      }
      double[] interventional = doubles(scm.sample(nd, samples, dos).get(variable));

      Map<String, NDArray> unit = new LinkedHashMap<>();
      for (String name : scm.variableNames()) {
        Double x = observedCase.get(name);
        if (x == null) {
          throw new InvalidValueException("the case gives no value for " + name);
        }
        unit.put(name, nd.create(new float[] {x.floatValue()}));
      }
      double cf = doubles(scm.counterfactual(unit, dos).get(variable))[0];
      return new RungComparison(variable, cause, causeValue, v, conditional, interventional,
          observedCase.get(variable), cf);
    }
  }

  /** Gaussian kernel density estimate of {@code samples} at {@code grid} (Silverman's bandwidth). */
  public static double[] density(double[] samples, double[] grid) {
    int n = samples.length;
    double mean = Arrays.stream(samples).average().orElse(0);
    double sd = Math.sqrt(Arrays.stream(samples).map(x -> (x - mean) * (x - mean)).sum() / Math.max(1, n - 1));
    double[] sorted = samples.clone();
    Arrays.sort(sorted);
    double iqr = sorted[(int) (0.75 * (n - 1))] - sorted[(int) (0.25 * (n - 1))];
    double spread = Math.min(sd, iqr / 1.34);
    if (!(spread > 0)) {
      spread = sd > 0 ? sd : 1e-3 * Math.max(1, Math.abs(mean));
    }
    double h = 0.9 * spread * Math.pow(n, -0.2);
    double[] out = new double[grid.length];
    double norm = 1 / (n * h * Math.sqrt(2 * Math.PI));
    for (int g = 0; g < grid.length; g++) {
      double s = 0;
      for (double x : samples) {
        double u = (grid[g] - x) / h;
        s += Math.exp(-0.5 * u * u);
      }
      out[g] = s * norm;
    }
    return out;
  }

  private static double[] doubles(NDArray a) {
    return a.toType(DataType.FLOAT64, false).toDoubleArray();
  }
}
