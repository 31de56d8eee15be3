package org.deepscm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
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

  @Override
  public Integer call() {
    if (count < 2) {
      throw new IllegalArgumentException("--count must be at least 2, got " + count);
    }
    PrintWriter out = spec.commandLine().getOut();
    try (SavedModel m = model.load(); NDManager nd = NDManager.newBaseManager()) {
      Map<String, Intervention> dos = Values.interventions(interventions, m.scm().graph());
      Values.warnExtrapolation(m, dos, spec.commandLine().getErr());
      List<Variable> vars = m.scm().graph().variables().stream().filter(v -> v.kind().isScalar()).toList();
      // the same seed for both: differences come from do(), not from different noise
      Engine.getInstance().setRandomSeed(seed);
      Map<String, NDArray> obs = m.scm().sample(nd, count);
      Engine.getInstance().setRandomSeed(seed);
      Map<String, NDArray> under = m.scm().sample(nd, count, dos);
      String label = String.join(", ", dos.entrySet().stream().map(e -> e.getValue().describe(e.getKey())).toList());
      // never a non-finite number as an answer: an intervention far outside the model's range overflows
      for (Variable v : vars) {
        long bad = java.util.Arrays.stream(Values.column(under.get(v.name()))).filter(x -> !Double.isFinite(x)).count();
        if (bad > 0) {
          throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "under %s, %d of %d samples of %s "
              + "overflow the model (infinite or NaN): the intervention is too far outside the range seen in training",
              label, bad, count, v.name()));
        }
      }
      if (samples) {
        Values.samples(vars, under, csv).print(out, csv);
        return 0;
      }
      if (!csv) {
        out.println("p(v) versus p(v | " + label + "), " + count + " samples each");
      }
      Table t = new Table(List.of("variable", "unit", "mean", "sd", "mean_do", "sd_do", "p05_do", "p95_do"));
      for (Variable v : vars) {
        DescriptiveStatistics a = new DescriptiveStatistics(Values.column(obs.get(v.name())));
        DescriptiveStatistics b = new DescriptiveStatistics(Values.column(under.get(v.name())));
        t.row(v.name(), v.unit(), a.getMean(), a.getStandardDeviation(), b.getMean(), b.getStandardDeviation(),
            b.getPercentile(5), b.getPercentile(95));
      }
      t.print(out, csv);
    }
    return 0;
  }
}
