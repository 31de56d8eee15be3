package org.deepscm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deepscm.data.CovariateTable;
import org.deepscm.AppPaths;
import org.deepscm.DeviceInfo;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTemplate;
import org.deepscm.eval.BrainEvaluation;
import org.deepscm.eval.CovariateEvaluation;
import org.deepscm.eval.MorphoMnistEvaluation;
import org.deepscm.image.DigitClassifier;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.ParentPredictor;
import org.deepscm.eval.Measures;
import org.deepscm.train.ModelCard;
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
      + "random sample of N test units (default: the whole test split: Morpho-MNIST's 2,000 measured 16 "
      + "to 35 minutes on 2 CPU cores shared with other work, 0.5 to 1 s a unit, the full model peaking at 12 GB; "
      + "the brain population's 2,100 test subjects, stratified by sex and age decade)")
  Integer units;

  @Option(names = "--record", description = "write the measures into the model folder (model.json and the "
      + "model card's measures section), with the sample, seed, command and wall time")
  boolean record;

  @Option(names = "--real-digits", paramLabel = "N", description = "image models: also measure do(t) and do(i) "
      + "on N real MNIST test digits (class-stratified) as a user's own digits, t and i measured on the image; "
      + "as given (real_*) and brought to the model's typical intensity first (real_typical_*); 0 skips it "
      + "(default: ${DEFAULT-VALUE})")
  int realDigits = 60;

  @Option(names = "--seed", description = "random seed of the unit sample and of the sampled measures "
      + "(default: ${DEFAULT-VALUE})")
  int seed = 1;

  @Option(names = "--predictors", paramLabel = "DIR", description = "image models: the anticausal predictors "
      + "for the second opinion (pred_* measures) from this model folder (default: the model's own, when it has "
      + "them)")
  Path predictors;

  @Option(names = "--digit-judge", paramLabel = "FILE", description = "Morpho-MNIST image models: the digit "
      + "classifier that judges digit_kept_do_t / digit_kept_do_i and digit_read_observed (default: the shipped "
      + "resources/mnist/digit-classifier.safetensors, trained apart from every model on the training digits; "
      + "see resources/mnist/README.md; retrain with train --dataset digit-classifier --out FILE)")
  Path digitJudge;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    long started = System.nanoTime();
    if (json != null) {
      OutputNames.refuseImageName(json, "--json", "the measures as JSON (e.g. measures.json)", null);
      if (java.nio.file.Files.isDirectory(json)) {
        throw new IllegalArgumentException("--json " + json + " is a folder; give a file name, e.g. measures.json "
            + "(nothing was computed)");
      }
    }
    if (units != null && units < 1) {
      throw new IllegalArgumentException("--units takes a positive number of test units, got " + units
          + " (leave it out to measure the whole test split)");
    }
    try (SavedModel m = model.load()) {
      Map<String, Double> measures;
      if (data != null) {
        CovariateTable test = CounterfactualCommand.readCsv(data, m.scm().graph());
        measures = CovariateEvaluation.logLikelihoods(m.scm(), test);
      } else {
        var err = spec.commandLine().getErr();
        if (digitJudge != null && !"morphomnist".equals(dataset(m))) {
          throw new IllegalArgumentException("--digit-judge is for Morpho-MNIST image models; " + model.model
              + " was trained on " + dataset(m));
        }
        measures = builtIn(m, model.model, units == null ? Integer.MAX_VALUE : units, seed, realDigits,
            predictors != null ? predictors : AppPaths.resolve(model.model), predictors != null,
            digitJudge != null ? digitJudge : DigitClassifier.SHIPPED, err);
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
      if (record) {
        Path folder = AppPaths.resolve(model.model);
        String how = String.format(java.util.Locale.ROOT, "Measured on %s with `evaluate --model %s --seed %d%s` "
            + "in %.0f s (%s).", about(measures, seed).getOrDefault("unit_sample", "the test split"), model.model, seed,
            (units == null ? "" : " --units " + units) + (realDigits == 60 ? "" : " --real-digits " + realDigits)
                + (digitJudge == null ? "" : " --digit-judge " + digitJudge),
            (System.nanoTime() - started) / 1e9, DeviceInfo.describe());
        ModelCard.recordMeasures(folder, measures, how);
        spec.commandLine().getErr().println("recorded the measures in " + folder);
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
    return builtIn(m, folder, units, seed, 0, folder, false, null, err);
  }

  /**
   * @param predictorFolder where the brain's anticausal predictors are looked for (the second opinion)
   * @param predictorsRequired whether their absence is an error (the user named the folder)
   * @param digitJudge Morpho-MNIST: the weights of the digit classifier that judges digit kept (null: none;
   *     missing or damaged: an error naming the file, before anything is measured)
   */
  static Map<String, Double> builtIn(SavedModel m, Path folder, int units, int seed, int realDigits,
      Path predictorFolder, boolean predictorsRequired, Path digitJudge, PrintWriter err) throws IOException {
    if ("morphomnist".equals(dataset(m))) {
      MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
      int size = MorphoMnistDataset.labels(digits, MorphoMnistDataset.Split.TEST).length;
      Map<String, Double> measures;
      try (ai.djl.ndarray.NDManager pm = ai.djl.ndarray.NDManager.newBaseManager();
          DigitClassifier judge = digitJudge == null ? null : DigitClassifier.load(AppPaths.resolve(digitJudge))) {
        if (judge != null) {
          err.println("digit kept judged by the classifier in " + AppPaths.resolve(digitJudge));
        }
        err.println("measuring " + MorphoMnistEvaluation.describeSample(Math.min(units, size), size, seed));
        ParentPredictor p = predictors(predictorFolder, predictorsRequired, pm, err);
        measures = MorphoMnistEvaluation.evaluateTestSplit(m.scm(), digits, units,
            ImageMechanism.DEFAULT_PARTICLES, seed, p, judge, done -> {
              err.printf("\revaluated %d units", done);
              err.flush();
            });
        err.println();
        if (realDigits > 0) {
          err.println("counterfactuals of " + realDigits + " real MNIST test digits (as given, then at the model's "
              + "typical intensity)…");
          measures.putAll(MorphoMnistEvaluation.realDigits(m, digits, realDigits, ImageMechanism.DEFAULT_PARTICLES,
              seed, false, judge, "real_"));
          measures.putAll(MorphoMnistEvaluation.realDigits(m, digits, realDigits, ImageMechanism.DEFAULT_PARTICLES,
              seed, true, judge, "real_typical_"));
        }
      }
      return measures;
    }
    if ("morphomnist-covariates".equals(dataset(m))) {
      return CovariateEvaluation.morphoMnist(m.scm(), seed);
    }
    if ("brain".equals(dataset(m))) {
      BrainSliceRenderer renderer = new BrainSliceRenderer(BrainTemplate.shipped());
      BrainDataset test = BrainDataset.load(renderer, BrainDataset.Split.TEST, BrainDataset.DEFAULT_SEED,
          BrainDataset.DEFAULT_SIZE, AppPaths.cache(), (done, n) -> {
            err.printf("\rgenerating test subjects: %d / %d", done, n);
            err.flush();
          }, () -> Thread.currentThread().isInterrupted());
      err.println("measuring " + BrainEvaluation.describeSample(Math.min(units, test.size()), test.size(), seed));
      try (ai.djl.ndarray.NDManager pm = ai.djl.ndarray.NDManager.newBaseManager()) {
        ParentPredictor p = null;
        if (ParentPredictor.existsIn(predictorFolder)) {
          p = ParentPredictor.load(predictorFolder, pm);
          err.println("second opinion: the anticausal predictors in " + predictorFolder);
 } else if (predictorsRequired) {
          throw new IllegalArgumentException("--predictors " + predictorFolder + ": no " + ParentPredictor.JSON_FILE
              + " there (a model trained with --cf-finetune has them)");
        }
        Map<String, Double> measures = BrainEvaluation.evaluate(m.scm(), renderer, test, units,
            ImageMechanism.DEFAULT_PARTICLES, seed, p, done -> {
              err.printf("\revaluated %d subjects", done);
              err.flush();
            });
        err.println();
        return measures;
      }
    }
    throw new IllegalArgumentException("model " + folder + " was not trained on a built-in dataset"
        + " (training.dataset = " + dataset(m) + "): give its test data with --data FILE.csv");
  }

  /** The anticausal predictors for the second opinion, or null when the folder has none and none was asked for. */
  private static ParentPredictor predictors(Path folder, boolean required, ai.djl.ndarray.NDManager manager,
      PrintWriter err) {
    if (ParentPredictor.existsIn(folder)) {
      err.println("second opinion: the anticausal predictors in " + folder);
      return ParentPredictor.load(folder, manager);
    }
    if (required) {
      throw new IllegalArgumentException("--predictors " + folder + ": no " + ParentPredictor.JSON_FILE
          + " there (a model trained with --cf-finetune has them)");
    }
    return null;
  }

  /** What a reader of the JSON needs to know about the measured units (image models). */
  static Map<String, String> about(Map<String, Double> measures, int seed) {
    if (!measures.containsKey("test_units")) {
      return Map.of();
    }
    int n = measures.get("test_units").intValue();
    int size = measures.get("covariate_test_units").intValue();
    if (measures.containsKey("cf_true_mae_do_age")) {
      return Map.of("unit_sample", BrainEvaluation.describeSample(n, size, seed));
    }
    return Map.of("unit_sample", MorphoMnistEvaluation.describeSample(n, size, seed));
  }

  static String dataset(SavedModel m) {
    return m.training().has("dataset") ? m.training().get("dataset").getAsString() : null;
  }
}
