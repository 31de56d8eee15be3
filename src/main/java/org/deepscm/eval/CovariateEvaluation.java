package org.deepscm.eval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.StructuralCausalModel;

/**
 * Measures of a covariate SCM on held-out data: the mean test log-likelihood of each mechanism
 * (paper Table 1: log p(t), log p(i | t)) and, for Morpho-MNIST, how far the model's
 * interventional distributions are from the true SCM's.
 */
public final class CovariateEvaluation {
  /** The do(t) targets of the interventional check. */
  public static final double[] DO_T_TARGETS = {1, 2, 3, 4};
  public static final int INTERVENTIONAL_SAMPLES = 20_000;

  private CovariateEvaluation() {}

  /** Name of a log-likelihood measure, e.g. log_p_t or log_p_i_given_t. */
  public static String logLikelihoodName(StructuralCausalModel scm, String variable) {
    List<String> parents = scm.graph().parents(variable);
    return "log_p_" + variable + (parents.isEmpty() ? "" : "_given_" + String.join("_", parents));
  }

  /** Mean test log-likelihood per mechanism and in total (nats per unit). */
  public static Map<String, Double> logLikelihoods(StructuralCausalModel full, CovariateTable test) {
    StructuralCausalModel scm = full.scalarPart();
    try (NDManager m = NDManager.newBaseManager()) {
      scm.check(test.toArrays(m, scm.variableNames()));
    }
    Map<String, Double> out = new LinkedHashMap<>();
    double total = 0;
    for (String v : scm.variableNames()) {
      double sum = 0;
      int chunk = 8192;
      for (int from = 0; from < test.rows(); from += chunk) {
        try (NDManager m = NDManager.newBaseManager()) {
          Map<String, NDArray> batch = test.slice(from, Math.min(test.rows(), from + chunk)).toArrays(m,
              scm.variableNames());
          sum += scm.mechanism(v).logProb(batch.get(v), batch).toType(DataType.FLOAT64, false).sum().getDouble();
        }
      }
      double mean = sum / test.rows();
      out.put(logLikelihoodName(scm, v), mean);
      total += mean;
    }
    out.put("log_p_joint", total);
    out.put("test_size", (double) test.rows());
    return out;
  }

  /** Every Morpho-MNIST covariate measure on the fixed test draws of the true SCM. */
  public static Map<String, Double> morphoMnist(StructuralCausalModel scm, long seed) {
    Map<String, Double> out = new LinkedHashMap<>(logLikelihoods(scm, MorphoMnistTrueScm.testSet()));
    out.putAll(interventionalChecks(scm, seed));
    return out;
  }

  /**
   * How far the model's p(i | do(t)) is from the true SCM's (do_t_mean_abs_error over t = 1..4)
   * and whether p(t | do(i)) = p(t).
   */
  public static Map<String, Double> interventionalChecks(StructuralCausalModel full, long seed) {
    StructuralCausalModel scm = full.scalarPart();
    Map<String, Double> out = new LinkedHashMap<>();
    Engine.getInstance().setRandomSeed((int) seed);
    double err = 0;
    try (NDManager m = NDManager.newBaseManager()) {
      for (double t : DO_T_TARGETS) {
        Map<String, NDArray> s = scm.sample(m, INTERVENTIONAL_SAMPLES, Map.of("t", Intervention.set(t)));
        double predicted = s.get("i").toType(DataType.FLOAT64, false).mean().getDouble();
        double truth = MorphoMnistTrueScm.interventionalIntensityMean(t);
        String key = "do_t_" + (int) t;
        out.put(key + "_i_mean_model", predicted);
        out.put(key + "_i_mean_true", truth);
        err += Math.abs(predicted - truth);
      }
      out.put("do_t_mean_abs_error", err / DO_T_TARGETS.length);
      // p(t | do(i)) must equal p(t): t is not a descendant of i
      Map<String, NDArray> s = scm.sample(m, INTERVENTIONAL_SAMPLES, Map.of("i", Intervention.set(150)));
      double tMean = s.get("t").toType(DataType.FLOAT64, false).mean().getDouble();
      out.put("do_i_t_mean_model", tMean);
      out.put("do_i_t_mean_abs_error", Math.abs(tMean - MorphoMnistTrueScm.thicknessMean()));
    }
    return out;
  }
}
