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

  @Option(names = "--units", description = "image models: test units to measure, each about 0.3 s "
      + "(default: ${DEFAULT-VALUE}; the test split has 2,000)")
  int units = 500;

  @Option(names = "--seed", description = "random seed for sampled measures (default: ${DEFAULT-VALUE})")
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
        measures = builtIn(m, model.model, units, seed, err);
      }
      PrintWriter out = spec.commandLine().getOut();
      out.println("model " + m.name() + " (" + model.model + ")");
      Table t = new Table(List.of("measure", "value"));
      measures.forEach((k, v) -> t.row(k, v));
      t.print(out, false);
      if (json != null) {
        Measures.writeJson(measures, json);
        spec.commandLine().getErr().println("wrote " + json);
      }
    }
    return 0;
  }

  /**
   * The measures of a model trained on a built-in dataset, on its test split (image models: the
   * first {@code units} test digits); progress goes to {@code err}.
   */
  static Map<String, Double> builtIn(SavedModel m, Path folder, int units, int seed, PrintWriter err)
      throws IOException {
    if ("morphomnist".equals(dataset(m))) {
      MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
      MorphoMnistDataset test = MorphoMnistDataset.preview(digits, MorphoMnistDataset.Split.TEST,
          MorphoMnistDataset.DEFAULT_SEED, units);
      Map<String, Double> measures = MorphoMnistEvaluation.evaluate(m.scm(), digits, test,
          MorphoMnistDataset.covariates(digits, MorphoMnistDataset.Split.TEST, MorphoMnistDataset.DEFAULT_SEED),
          units, ImageMechanism.DEFAULT_PARTICLES, seed, done -> {
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

  static String dataset(SavedModel m) {
    return m.training().has("dataset") ? m.training().get("dataset").getAsString() : null;
  }
}
