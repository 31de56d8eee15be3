package org.deepscm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepscm.data.brain.BrainCases;
import org.deepscm.data.brain.BrainTrueScm;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.InvalidValueException;
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
  static Object show(Variable v, double value) {
    // a category reads as its name on screen and in CSV alike (the readers take names back)
    if (v.kind().isDiscrete()) {
      int code = (int) Math.round(value);
      return code >= 0 && code < v.categories().size() ? v.categories().get(code) : value;
    }
    return value;
  }

  /**
   * Refuses an answer holding a non-finite number: names the variable and how many of the draws
   * overflowed, and why that happens ({@code cause}: an intervention far outside the training range,
   * or a model whose weights overflow).
   */
  static void requireFinite(List<Variable> vars, Map<String, NDArray> values, String what, String cause) {
    for (Variable v : vars) {
      NDArray a = values.get(v.name());
      if (a == null || !v.kind().isScalar()) {
        continue;
      }
      requireFinite(v.name(), column(a), what, cause);
    }
  }

  /** {@link #requireFinite(List, Map, String, String)} for one variable's values. */
  static void requireFinite(String variable, double[] x, String what, String cause) {
    long bad = java.util.Arrays.stream(x).filter(d -> !Double.isFinite(d)).count();
    if (bad > 0) {
      throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%s: %d of %d values of %s "
          + "overflow the model (infinite or NaN): %s", what, bad, x.length, variable, cause));
    }
  }

  /** Draws n units into arrays of the given manager. */
  interface Draw {
    Map<String, NDArray> draw(NDManager nd, int n);
  }

  /**
   * Draws {@code count} units and prints them a chunk at a time (chunk k with seed + k: the same stream
   * on every run), so memory stays bounded whatever count is; more than one chunk needs CSV. Every value
   * must be finite ({@code what}, {@code cause}: as {@link #requireFinite}). Stops drawing when the
   * reader goes away (e.g. `| head`).
   */
  static void streamSamples(PrintWriter out, List<Variable> vars, int count, int chunk, int seed, boolean csv,
      String noun, String what, String cause, Draw draw) {
    if (count > chunk && !csv) {
      throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "-n %,d %s do not fit a table on "
          + "screen; add --csv to stream them (e.g. > samples.csv), %,d %s at a time", count, noun, chunk, noun));
    }
    for (int from = 0, k = 0; from < count; from += chunk, k++) {
      int n = Math.min(chunk, count - from);
      try (NDManager nd = NDManager.newBaseManager()) {
        Engine.getInstance().setRandomSeed(seed + k);
        Map<String, NDArray> s = draw.draw(nd, n);
        requireFinite(vars, s, count > chunk ? what + " (units " + (from + 1) + ".." + (from + n) + ")" : what,
            cause);
        samples(vars, s).print(out, csv, k == 0);
      }
      if (readerGone(out)) {
        return;
      }
    }
  }

  /**
   * Whether whoever reads the output went away (e.g. `| head`): picocli's writer wraps System.out,
   * a PrintStream that swallows the broken pipe, so both are asked.
   */
  static boolean readerGone(PrintWriter out) {
    return out.checkError() || System.out.checkError();
  }

  /**
   * Refuses work that needs more memory than this JVM may use, before it starts (instead of an
   * OutOfMemoryError half way, or the kernel killing the process): says how much it needs, how much
   * there is, and what to do.
   */
  static void requireMemory(String request, long bytes, String advice) {
    Runtime rt = Runtime.getRuntime();
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (bytes > 0.8 * free) {
      throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%s needs about %s of memory; this "
          + "Java may use %s more (of %s): %s, or give Java more with -Xmx", request, size(bytes), size(free),
          size(rt.maxMemory()), advice));
    }
  }

  /** Bytes as a person reads them: 290 GB, 4.0 GB, 350 MB. */
  static String size(long bytes) {
    double gb = bytes / 1e9;
    return gb >= 10 ? String.format(java.util.Locale.ROOT, "%.0f GB", gb)
        : gb >= 1 ? String.format(java.util.Locale.ROOT, "%.1f GB", gb)
        : String.format(java.util.Locale.ROOT, "%.0f MB", bytes / 1e6);
  }

  /** One row per unit, one column per variable, categories by name. */
  static Table samples(List<Variable> all, Map<String, NDArray> values) {
    // images are not printed as numbers: the explorer and `counterfactual --image-out` show them
    List<Variable> vars = all.stream().filter(v -> v.kind().isScalar()).toList();
    Table table = new Table(vars.stream().map(Variable::name).toList());
    List<double[]> cols = vars.stream().map(v -> column(values.get(v.name()))).toList();
    int rows = cols.isEmpty() ? 0 : cols.get(0).length;
    for (int r = 0; r < rows; r++) {
      Object[] row = new Object[vars.size()];
      for (int c = 0; c < row.length; c++) {
        row[c] = show(vars.get(c), cols.get(c)[r]);
      }
      table.row(row);
    }
    return table;
  }

  /** Warns on stderr about intervention targets outside the training range (allowed, but extrapolation). */
  /**
   * On a brain model, refuses a do() that sets a value no subject can have (an age outside a human life, a
   * volume that is not positive or looks like mm3) before anything is computed or warned about; a shift or
   * scale is checked on its answer (see CounterfactualCommand's check of the counterfactual brain).
   */
  static void refuseImpossibleBrain(SavedModel model, Map<String, Intervention> interventions) {
    if (!model.scm().graph().variables().stream().map(Variable::name).toList()
        .containsAll(List.of(BrainTrueScm.VARIABLES))) {
      return;
    }
    interventions.forEach((name, action) -> {
      if (!action.isAtomic()) {
        return;
      }
      String problem = switch (name) {
        case "age" -> BrainCases.ageProblem(action.amount());
        case "brain_volume", "ventricle_volume" -> BrainCases.volumeProblem(name,
            action.amount());
        default -> null;
      };
      if (problem != null) {
        throw new InvalidValueException(action.describe(name) + " asks for a brain no subject can "
            + "have, so nothing was computed: " + problem);
      }
    });
  }

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
