package org.deepscm.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.Variable;

/** Shared helpers of the query commands: reading do() options, showing values, warnings. */
final class Values {
  private Values() {}

  static Map<String, Intervention> interventions(List<String> texts, CausalGraph graph) {
    Map<String, Intervention> out = new LinkedHashMap<>();
    for (String text : texts) {
      for (String part : text.split(",")) {
        if (part.isBlank()) {
          continue;
        }
        String target = Intervention.target(part);
        if (out.put(target, Intervention.parse(part, graph)) != null) {
          throw new IllegalArgumentException("variable '" + target + "' is intervened on twice");
        }
      }
    }
    return out;
  }

  static double[] column(NDArray a) {
    return a.toType(DataType.FLOAT64, false).toDoubleArray();
  }

  /** A value as a person reads it: the category name for discrete variables. */
  static Object show(Variable v, double value, boolean csv) {
    if (v.kind().isDiscrete() && !csv) {
      int code = (int) Math.round(value);
      return code >= 0 && code < v.categories().size() ? v.categories().get(code) : value;
    }
    return value;
  }

  /** One row per unit, one column per variable, categories by name unless CSV. */
  static Table samples(List<Variable> all, Map<String, NDArray> values, boolean csv) {
    // images are not printed as numbers: the explorer and `counterfactual --image-out` show them
    List<Variable> vars = all.stream().filter(v -> v.kind().isScalar()).toList();
    Table table = new Table(vars.stream().map(Variable::name).toList());
    List<double[]> cols = vars.stream().map(v -> column(values.get(v.name()))).toList();
    int rows = cols.isEmpty() ? 0 : cols.get(0).length;
    for (int r = 0; r < rows; r++) {
      Object[] row = new Object[vars.size()];
      for (int c = 0; c < row.length; c++) {
        row[c] = show(vars.get(c), cols.get(c)[r], csv);
      }
      table.row(row);
    }
    return table;
  }

  /** Warns on stderr about intervention targets outside the training range (allowed, but extrapolation). */
  static void warnExtrapolation(SavedModel model, Map<String, Intervention> interventions, PrintWriter err) {
    interventions.forEach((name, action) -> {
      double[] range = model.trainingRange(name);
      if (action.isAtomic() && model.isExtrapolation(name, action.amount())) {
        err.printf("warning: %s is outside the range of %s seen in training [%s, %s]: the answer is an"
            + " extrapolation%n", action.describe(name), name, Table.number(range[0]), Table.number(range[1]));
      }
    });
    err.flush();
  }
}
