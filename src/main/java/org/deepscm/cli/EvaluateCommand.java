package org.deepscm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deepscm.data.CovariateTable;
import org.deepscm.AppPaths;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.eval.CovariateEvaluation;
import org.deepscm.eval.MorphoMnistEvaluation;
import org.deepscm.image.ImageMechanism;
import org.deepscm.eval.Measures;
import org.deepscm.scm.SavedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = {"Measure a model on held-out data: test log-likelihoods (paper Table 1) and, for Morpho-MNIST, "
        + "its interventional distributions against the true SCM.",
        "Example: evaluate --model models/morphomnist-covariates --json measures.json"})
final class EvaluateCommand implements Callable<Integer> {
  @Mixin
  ModelOption model;

  @Option(names = "--json", paramLabel = "FILE", description = "also write the measures as one flat JSON object")
  Path json;

  @Option(names = "--data", paramLabel = "CSV",
      description = "test data with a column per variable (default: the model's own dataset's test split)")
  Path data;

  @Option(names = "--units", paramLabel = "N", description = "image models: measure a seeded, class-stratified "
      + "random sample of N test units (default: the whole test split of 2,000, about 20 minutes on 2 CPU "
      + "cores; each unit costs about 0.6 s)")
  Integer units;

  @Option(names = "--seed", description = "random seed of the unit sample and of the sampled measures "
      + "(default: ${DEFAULT-VALUE})")
  int seed = 1;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    try (SavedModel m = model.load()) {
      Map<String, Double> measures;
      if (data != null) {
        CovariateTable test = CounterfactualCommand.readCsv(data, m.scm().graph());
        measures = CovariateEvaluation.logLikelihoods(m.scm(), test);
      } else {
        var err = spec.commandLine().getErr();
        measures = builtIn(m, model.model, units == null ? Integer.MAX_VALUE : units, seed, err);
      }
      PrintWriter out = spec.commandLine().getOut();
      out.println("model " + m.name() + " (" + model.model + ")");
      Table t = new Table(List.of("measure", "value"));
      measures.forEach((k, v) -> t.row(k, v));
      t.print(out, false);
      if (json != null) {
        Measures.writeJson(measures, about(measures, seed), json);
        spec.commandLine().getErr().println("wrote " + json);
      }
    }
    return 0;
  }

  /**
   * The measures of a model trained on a built-in dataset, on its test split (image models: a seeded,
   * class-stratified sample of {@code units} test digits, all when that is at least the split);
   * progress goes to {@code err}.
   */
  static Map<String, Double> builtIn(SavedModel m, Path folder, int units, int seed, PrintWriter err)
      throws IOException {
    if ("morphomnist".equals(dataset(m))) {
      MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
      int size = MorphoMnistDataset.labels(digits, MorphoMnistDataset.Split.TEST).length;
      err.println("measuring " + MorphoMnistEvaluation.describeSample(Math.min(units, size), size, seed));
      Map<String, Double> measures = MorphoMnistEvaluation.evaluateTestSplit(m.scm(), digits, units,
          ImageMechanism.DEFAULT_PARTICLES, seed, done -> {
            err.printf("\revaluated %d units", done);
            err.flush();
          });
      err.println();
      return measures;
    }
    if ("morphomnist-covariates".equals(dataset(m))) {
      return CovariateEvaluation.morphoMnist(m.scm(), seed);
    }
    throw new IllegalArgumentException("model " + folder + " was not trained on a built-in dataset"
        + " (training.dataset = " + dataset(m) + "): give its test data with --data FILE.csv");
  }

  /** What a reader of the JSON needs to know about the measured units (image models). */
  static Map<String, String> about(Map<String, Double> measures, int seed) {
    if (!measures.containsKey("test_units")) {
      return Map.of();
    }
    int n = measures.get("test_units").intValue();
    int size = measures.get("covariate_test_units").intValue();
    return Map.of("unit_sample", MorphoMnistEvaluation.describeSample(n, size, seed));
  }

  static String dataset(SavedModel m) {
    return m.training().has("dataset") ? m.training().get("dataset").getAsString() : null;
  }
}
