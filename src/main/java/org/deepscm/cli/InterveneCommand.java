package org.deepscm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.commons.math3.stat.StatUtils;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.Variable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "intervene", mixinStandardHelpOptions = true,
    description = {"Intervention: compare the observational distribution with the one under do().",
        "Example: intervene --do t=3      (do(t := 3))",
        "         intervene --do t+=1     (do(t := f_t(eps) + 1), the paper's shift)"})
final class InterveneCommand implements Callable<Integer> {
  @Mixin
  ModelOption model;

  @Option(names = "--do", required = true, paramLabel = "NAME=VALUE",
      description = "an intervention: name=value, name+=delta or name-=delta; repeat or separate with commas")
  List<String> interventions;

  @Option(names = {"-n", "--count"}, description = "samples per distribution (default: ${DEFAULT-VALUE})")
  int count = 10_000;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  int seed = 1;

  @Option(names = "--samples", description = "print the interventional samples instead of a summary")
  boolean samples;

  @Option(names = "--csv", description = "print CSV instead of a table")
  boolean csv;

  @Spec
  CommandSpec spec;

  /** Units drawn at once: libtorch's temporaries for 2,000,000 units at once took 5 GB. */
  static final int CHUNK = 100_000;

  @Override
  public Integer call() {
    if (count < 2) {
      throw new IllegalArgumentException("--count must be at least 2, got " + count);
    }
    PrintWriter out = spec.commandLine().getOut();
    try (SavedModel m = model.load()) {
      Map<String, Intervention> dos = Values.interventions(interventions, m.scm().graph());
      Values.refuseImpossibleBrain(m, dos);
      Values.warnExtrapolation(m, dos, spec.commandLine().getErr());
      List<Variable> vars = m.scm().graph().variables().stream().filter(v -> v.kind().isScalar()).toList();
      String label = String.join(", ", dos.entrySet().stream().map(e -> e.getValue().describe(e.getKey())).toList());
      if (samples) {
        Values.streamSamples(out, vars, count, CHUNK, seed, csv, "samples", "under " + label, OUTSIDE,
            (nd, n) -> m.scm().sample(nd, n, dos));
        return 0;
      }
      // the summary needs every value: two distributions' columns, and one sorted copy for the percentiles
      Values.requireMemory(String.format(java.util.Locale.ROOT, "intervene -n %,d", count),
          8L * count * (2L * vars.size() + 1), "lower -n");
      double[][] before = new double[vars.size()][count];
      double[][] after = new double[vars.size()][count];
      for (int from = 0, k = 0; from < count; from += CHUNK, k++) {
        int n = Math.min(CHUNK, count - from);
        try (NDManager nd = NDManager.newBaseManager()) {
          // the same seed for both: differences come from do(), not from different noise
          Engine.getInstance().setRandomSeed(seed + k);
          Map<String, NDArray> obs = m.scm().sample(nd, n);
          Engine.getInstance().setRandomSeed(seed + k);
          Map<String, NDArray> under = m.scm().sample(nd, n, dos);
          // never a non-finite number as an answer
          for (int v = 0; v < vars.size(); v++) {
            String name = vars.get(v).name();
            double[] a = Values.column(obs.get(name));
            double[] b = Values.column(under.get(name));
            Values.requireFinite(name, a, "sampling " + count + " units", SampleCommand.DAMAGED);
            Values.requireFinite(name, b, "under " + label, OUTSIDE);
            System.arraycopy(a, 0, before[v], from, n);
            System.arraycopy(b, 0, after[v], from, n);
          }
        }
      }
      if (!csv) {
        out.println("p(v) versus p(v | " + label + "), " + count + " samples each");
      }
      Table t = new Table(List.of("variable", "unit", "mean", "sd", "mean_do", "sd_do", "p05_do", "p95_do"));
      Percentile percentile = new Percentile();
      for (int v = 0; v < vars.size(); v++) {
        double[] a = before[v];
        double[] b = after[v];
        percentile.setData(b);
        t.row(vars.get(v).name(), vars.get(v).unit(), StatUtils.mean(a), Math.sqrt(StatUtils.variance(a)),
            StatUtils.mean(b), Math.sqrt(StatUtils.variance(b)), percentile.evaluate(5), percentile.evaluate(95));
        before[v] = null; // the column's memory is free for the next one's percentiles
        after[v] = null;
      }
      t.print(out, csv);
    }
    return 0;
  }

  private static final String OUTSIDE = "the intervention is too far outside the range seen in training";
}
