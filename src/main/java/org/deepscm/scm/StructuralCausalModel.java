package org.deepscm.scm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.deepscm.flow.ParameterSet;

/**
 * A structural causal model: a causal graph, one mechanism per variable, and the parameters they
 * share. All three rungs of the ladder:
 *
 * <ul>
 *   <li>association: {@link #sample} and {@link #logProb};
 *   <li>intervention: {@link #sample(NDManager, long, Map)} under do();
 *   <li>counterfactual: {@link #counterfactual}, abduction -> action -> prediction.
 * </ul>
 *
 * Values are maps from variable name to a batch (one row per unit).
 */
public final class StructuralCausalModel implements AutoCloseable {
  private final CausalGraph graph;
  private final Map<String, Mechanism> mechanisms;
  private final ParameterSet params;

  /**
   * @throws InvalidModelException when a variable has no mechanism, or a mechanism's parents differ
   *     from the graph's
   */
  public StructuralCausalModel(CausalGraph graph, Map<String, Mechanism> mechanisms, ParameterSet params) {
    for (Variable v : graph.variables()) {
      Mechanism m = mechanisms.get(v.name());
      if (m == null) {
        throw new InvalidModelException("variable '" + v.name() + "' has no mechanism");
      }
      if (!Set.copyOf(m.parents()).equals(Set.copyOf(graph.parents(v.name())))) {
        throw new InvalidModelException(
            "the mechanism of '" + v.name() + "' uses parents " + m.parents()
                + " but the graph gives " + graph.parents(v.name()));
      }
    }
    for (String name : mechanisms.keySet()) {
      graph.variable(name);
    }
    this.graph = graph;
    this.mechanisms = Map.copyOf(mechanisms);
    this.params = params;
  }

  public CausalGraph graph() {
    return graph;
  }

  public Mechanism mechanism(String name) {
    graph.variable(name);
    return mechanisms.get(name);
  }

  public ParameterSet parameters() {
    return params;
  }

  // ---- association ----

  /** n draws from the observational distribution. */
  public Map<String, NDArray> sample(NDManager manager, long n) {
    return sample(manager, n, Map.of());
  }

  /** log p(x) = sum_k log p(x_k | pa_k) per row; every variable must be given. */
  public NDArray logProb(Map<String, NDArray> values) {
    check(values);
    NDArray total = null;
    for (String name : graph.topologicalOrder()) {
      NDArray term = mechanisms.get(name).logProb(values.get(name), values);
      total = total == null ? term : total.add(term);
    }
    return total;
  }

  /** log p(x_k | pa_k) per row for one variable. */
  public NDArray logProb(String name, Map<String, NDArray> values) {
    check(values);
    return mechanism(name).logProb(values.get(name), values);
  }

  // ---- intervention ----

  /** n draws from the interventional distribution P(x | do(...)). */
  public Map<String, NDArray> sample(NDManager manager, long n, Map<String, Intervention> interventions) {
    checkTargets(interventions);
    Map<String, NDArray> noise = new LinkedHashMap<>();
    for (String name : graph.topologicalOrder()) {
      noise.put(name, mechanisms.get(name).sampleNoise(manager, n));
    }
    return predict(noise, interventions);
  }

  // ---- counterfactual ----

  /**
   * The counterfactual of fully observed units under do(...): abduction -> action -> prediction.
   * For invertible mechanisms the answer is exact; for discrete (Gumbel-max) ones each call draws
   * the noise from its posterior, so repeated calls sample the counterfactual distribution.
   *
   * @throws InvalidValueException when an observed value is missing, NaN, infinite or outside its
   *     variable's support
   */
  public Map<String, NDArray> counterfactual(
      Map<String, NDArray> observed, Map<String, Intervention> interventions) {
    checkTargets(interventions);
    Map<String, NDArray> noise = abduct(observed);
    return predict(noise, interventions);
  }

  /** Abduction: the exogenous noise of every variable given the observed units. */
  public Map<String, NDArray> abduct(Map<String, NDArray> observed) {
    check(observed);
    Map<String, NDArray> noise = new LinkedHashMap<>();
    for (String name : graph.topologicalOrder()) {
      noise.put(name, mechanisms.get(name).abduct(observed.get(name), observed));
    }
    return noise;
  }

  /**
   * Action and prediction: runs the mechanisms in topological order from the given noise, with
   * the intervened assignments replaced. An atomic do() ignores parents and noise; a shift adds
   * to what the variable's own mechanism produces from its (possibly changed) parents.
   */
  public Map<String, NDArray> predict(Map<String, NDArray> noise, Map<String, Intervention> interventions) {
    Map<String, NDArray> values = new LinkedHashMap<>();
    for (String name : graph.topologicalOrder()) {
      NDArray natural = mechanisms.get(name).generate(noise.get(name), values);
      Intervention action = interventions.get(name);
      values.put(name, action == null ? natural : action.apply(natural));
    }
    return values;
  }

  /**
   * The model of a subset of the variables that holds every parent of each of them (e.g. the
   * covariates of an image model), sharing mechanisms and parameters with this one: sampling or
   * querying it skips the other variables' mechanisms. Do not close it separately.
   */
  public StructuralCausalModel marginal(java.util.Collection<String> keep) {
    List<Variable> vars = new java.util.ArrayList<>();
    Map<String, List<String>> parents = new LinkedHashMap<>();
    Map<String, Mechanism> kept = new LinkedHashMap<>();
    for (Variable v : graph.variables()) {
      if (keep.contains(v.name())) {
        for (String p : graph.parents(v.name())) {
          if (!keep.contains(p)) {
            throw new InvalidModelException(
                "cannot keep '" + v.name() + "' without its parent '" + p + "'");
          }
        }
        vars.add(v);
        parents.put(v.name(), graph.parents(v.name()));
        kept.put(v.name(), mechanisms.get(v.name()));
      }
    }
    return new StructuralCausalModel(new CausalGraph(vars, parents), kept, params);
  }

  /** The scalar variables' model (everything but images). */
  public StructuralCausalModel scalarPart() {
    return marginal(graph.variables().stream().filter(v -> v.kind().isScalar()).map(Variable::name).toList());
  }

  /** The graph after surgery for the atomic interventions among {@code interventions}. */
  public CausalGraph mutilatedGraph(Map<String, Intervention> interventions) {
    return graph.mutilate(interventions.entrySet().stream()
        .filter(e -> e.getValue().isAtomic()).map(Map.Entry::getKey).collect(Collectors.toList()));
  }

  private void checkTargets(Map<String, Intervention> interventions) {
    for (Map.Entry<String, Intervention> e : interventions.entrySet()) {
      Variable v = graph.variable(e.getKey());
      if (e.getValue().isAtomic()) {
        v.check(e.getValue().amount());
      } else if (v.kind().isDiscrete()) {
        throw new InvalidValueException("a " + (e.getValue().isScale() ? "scale" : "shift")
            + " intervention makes no sense for discrete variable '" + v.name() + "': use " + v.name() + "=<category>");
      }
    }
  }

  /** Checks that every variable is given, with one row per unit, and every value lies in its support. */
  public void check(Map<String, NDArray> values) {
    long rows = -1;
    for (Variable v : graph.variables()) {
      NDArray a = values.get(v.name());
      if (a == null) {
        throw new InvalidValueException("no value given for variable '" + v.name() + "'");
      }
      long n = a.getShape().get(0);
      if (rows >= 0 && n != rows) {
        throw new InvalidValueException(
            "variable '" + v.name() + "' has " + n + " rows but the others have " + rows);
      }
      rows = n;
      if (!v.kind().isScalar()) {
        continue;
      }
      double[] xs = a.toType(DataType.FLOAT64, false).toDoubleArray();
      for (int r = 0; r < xs.length; r++) {
        try {
          v.check(xs[r]);
        } catch (InvalidValueException e) {
          throw new InvalidValueException(e.getMessage() + (xs.length > 1 ? " (row " + (r + 1) + ")" : ""));
        }
      }
    }
  }

  public List<String> variableNames() {
    return graph.topologicalOrder();
  }

  @Override
  public void close() {
    params.manager().close();
  }
}
