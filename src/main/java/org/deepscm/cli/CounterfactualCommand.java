package org.deepscm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deepscm.data.CovariateTable;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.InvalidValueException;
import org.deepscm.scm.Mechanism;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "counterfactual", mixinStandardHelpOptions = true,
    description = {"Counterfactual: what would these units have been under do()? (abduction -> action -> prediction)",
        "Example: counterfactual --observed t=2.1,i=150 --do t=3.5",
        "         counterfactual --input cases.csv --do t+=1 --output answers.csv"})
final class CounterfactualCommand implements Callable<Integer> {
  @Mixin
  ModelOption model;

  static final class Cases {
    @Option(names = "--observed", paramLabel = "NAME=VALUE,...",
        description = "one fully observed unit, e.g. t=2.1,i=150")
    String observed;

    @Option(names = "--input", paramLabel = "CSV", description = "a CSV file with one unit per row and a column per variable")
    Path input;
  }

  @ArgGroup(multiplicity = "1")
  Cases cases;

  @Option(names = "--do", required = true, paramLabel = "NAME=VALUE",
      description = "an intervention: name=value, name+=delta or name-=delta; repeat or separate with commas")
  List<String> interventions;

  @Option(names = "--particles", description = "posterior draws averaged for non-invertible mechanisms "
      + "(default: ${DEFAULT-VALUE})")
  int particles = 32;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  int seed = 1;

  @Option(names = "--output", paramLabel = "CSV", description = "also write the answers to this CSV file")
  Path output;

  @Option(names = "--csv", description = "print CSV instead of a table")
  boolean csv;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (particles < 1) {
      throw new IllegalArgumentException("--particles must be at least 1, got " + particles);
    }
    try (SavedModel m = model.load(); NDManager nd = NDManager.newBaseManager()) {
      StructuralCausalModel scm = m.scm();
      CausalGraph graph = scm.graph();
      Map<String, Intervention> dos = Values.interventions(interventions, graph);
      Values.warnExtrapolation(m, dos, spec.commandLine().getErr());
      CovariateTable units = cases.input != null ? readCsv(cases.input, graph) : parseObserved(cases.observed, graph);
      List<String> names = scm.variableNames();
      Map<String, NDArray> observed = units.toArrays(nd, names);
      Engine.getInstance().setRandomSeed(seed);
      boolean stochastic = names.stream().map(scm::mechanism).anyMatch(mech -> !mech.isInvertible());
      Map<String, double[]> answer = counterfactual(scm, observed, dos, stochastic ? particles : 1);

      List<String> header = new ArrayList<>();
      for (String n : names) {
        header.add(n);
      }
      for (String n : names) {
        header.add(n + "_cf");
      }
      Table table = new Table(header);
      Map<String, double[]> csvColumns = new LinkedHashMap<>();
      for (int r = 0; r < units.rows(); r++) {
        List<Object> row = new ArrayList<>();
        for (String n : names) {
          row.add(Values.show(graph.variable(n), units.get(n, r), csv));
        }
        for (String n : names) {
          row.add(Values.show(graph.variable(n), answer.get(n)[r], csv));
        }
        table.row(row.toArray());
      }
      PrintWriter out = spec.commandLine().getOut();
      if (!csv) {
        out.println("counterfactuals under " + String.join(", ",
            dos.entrySet().stream().map(e -> e.getValue().describe(e.getKey())).toList())
            + (stochastic ? " (" + particles + " posterior draws: mean, or most frequent category)" : " (exact)"));
      }
      table.print(out, csv);
      if (output != null) {
        for (String n : names) {
          csvColumns.put(n, units.column(n));
        }
        for (String n : names) {
          csvColumns.put(n + "_cf", answer.get(n));
        }
        try (Writer w = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
          new CovariateTable(csvColumns).writeCsv(w);
        }
        spec.commandLine().getErr().println("wrote " + output);
      }
    }
    return 0;
  }

  /** Mean over posterior draws for continuous variables, most frequent category for discrete ones. */
  static Map<String, double[]> counterfactual(StructuralCausalModel scm, Map<String, NDArray> observed,
      Map<String, Intervention> dos, int draws) {
    Map<String, double[]> sum = new LinkedHashMap<>();
    Map<String, int[][]> votes = new LinkedHashMap<>();
    int rows = (int) observed.values().iterator().next().getShape().get(0);
    for (int d = 0; d < draws; d++) {
      Map<String, NDArray> cf = scm.counterfactual(observed, dos);
      for (String n : scm.variableNames()) {
        double[] v = Values.column(cf.get(n));
        Variable var = scm.graph().variable(n);
        if (var.kind().isDiscrete()) {
          int[][] count = votes.computeIfAbsent(n, k -> new int[rows][var.categories().size()]);
          for (int r = 0; r < rows; r++) {
            count[r][(int) Math.round(v[r])]++;
          }
        } else {
          double[] s = sum.computeIfAbsent(n, k -> new double[rows]);
          for (int r = 0; r < rows; r++) {
            s[r] += v[r] / draws;
          }
        }
      }
    }
    Map<String, double[]> out = new LinkedHashMap<>();
    for (String n : scm.variableNames()) {
      if (votes.containsKey(n)) {
        double[] mode = new double[rows];
        for (int r = 0; r < rows; r++) {
          int[] c = votes.get(n)[r];
          int best = 0;
          for (int k = 1; k < c.length; k++) {
            best = c[k] > c[best] ? k : best;
          }
          mode[r] = best;
        }
        out.put(n, mode);
      } else {
        out.put(n, sum.get(n));
      }
    }
    return out;
  }

  static CovariateTable parseObserved(String text, CausalGraph graph) {
    Map<String, double[]> cols = new LinkedHashMap<>();
    for (String part : text.split(",")) {
      String[] kv = part.split("=", 2);
      if (kv.length != 2 || kv[0].isBlank()) {
        throw new InvalidValueException("cannot read '" + part + "' in --observed: write name=value,name=value");
      }
      String name = kv[0].trim();
      Variable v = graph.variable(name);
      cols.put(name, new double[] {v.parse(kv[1])});
    }
    List<String> missing = new ArrayList<>(graph.topologicalOrder());
    missing.removeAll(cols.keySet());
    if (!missing.isEmpty()) {
      throw new InvalidValueException("--observed gives no value for " + String.join(", ", missing)
          + ": a counterfactual needs every variable of the unit observed");
    }
    return new CovariateTable(cols);
  }

  static CovariateTable readCsv(Path file, CausalGraph graph) throws IOException {
    return CovariateTable.readCsv(file, graph.topologicalOrder(),
        column -> graph.contains(column) ? text -> graph.variable(column).parse(text) : null);
  }
}
