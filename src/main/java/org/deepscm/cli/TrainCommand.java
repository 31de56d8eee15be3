package org.deepscm.cli;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.eval.CovariateEvaluation;
import org.deepscm.eval.Measures;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.train.FlowTrainer;
import org.deepscm.train.ModelCard;
import org.deepscm.train.MorphoMnistCovariateModels;
import org.deepscm.train.ScmBuilder;
import org.deepscm.train.TrainingListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"Fit a model by maximum likelihood (Adam, minibatches, early stopping on a validation split) "
        + "and save it as a model folder with its model card. Resumable with --resume.",
        "Example: train --dataset morphomnist-covariates --graph full --out models/morphomnist-covariates"})
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--dataset", required = true, description = "morphomnist-covariates: (t, i) from the true SCM of "
      + "paper Eq. 7, 60,000 training draws (10% held out for validation) and 10,000 test draws")
  String dataset;

  @Option(names = "--graph", description = "full (t -> i) or independent (default: ${DEFAULT-VALUE})")
  String graph = "full";

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "model folder to write")
  Path out;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed = 42;

  @Option(names = "--epochs", description = "most epochs (default: ${DEFAULT-VALUE})")
  int epochs = 200;

  @Option(names = "--patience", description = "stop after this many epochs without validation improvement "
      + "(default: ${DEFAULT-VALUE})")
  int patience = 20;

  @Option(names = "--lr", description = "Adam learning rate (default: ${DEFAULT-VALUE}, as the paper)")
  double learningRate = 5e-3;

  @Option(names = "--batch", description = "minibatch size (default: ${DEFAULT-VALUE})")
  int batch = 256;

  @Option(names = "--context-hidden", split = ",", paramLabel = "SIZES",
      description = "hidden layer sizes of the context network of conditional mechanisms, e.g. 8,16 "
          + "(default: none, a linear context network as the paper)")
  java.util.List<Integer> contextHidden = new java.util.ArrayList<>();

  @Option(names = "--checkpoint", paramLabel = "DIR", description = "checkpoint folder (default: checkpoints/<out name>)")
  Path checkpoint;

  @Option(names = "--resume", description = "continue from the checkpoint instead of starting afresh")
  boolean resume;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (!dataset.equals("morphomnist-covariates")) {
      throw new IllegalArgumentException("unknown dataset '" + dataset + "'; available: morphomnist-covariates");
    }
    if (epochs < 1 || patience < 1 || batch < 1 || !(learningRate > 0)) {
      throw new IllegalArgumentException("--epochs, --patience, --batch and --lr must be positive");
    }
    PrintWriter log = spec.commandLine().getErr();
    String name = out.toAbsolutePath().normalize().getFileName().toString();
    Path checkpoints = checkpoint != null ? checkpoint : Path.of("checkpoints", name);
    ScmBuilder builder = MorphoMnistCovariateModels.builder(graph);
    for (var v : builder.graph().variables()) {
      if (!builder.graph().parents(v.name()).isEmpty()) {
        builder.hidden(v.name(), contextHidden.toArray(new Integer[0]));
      }
    }
    CovariateTable all = MorphoMnistTrueScm.trainingSet();
    int validationSize = all.rows() / 10;
    CovariateTable train = all.slice(0, all.rows() - validationSize);
    CovariateTable validation = all.slice(all.rows() - validationSize, all.rows());
    StructuralCausalModel scm = builder.build(train, seed);
    log.printf("training %s (%s graph) on %d units, validating on %d; checkpoints in %s%n", name, graph,
        train.rows(), validation.rows(), checkpoints);
    FlowTrainer.Options options = new FlowTrainer.Options(learningRate, batch, epochs, patience, seed, checkpoints,
        resume);
    FlowTrainer.Result r = new FlowTrainer().fit(scm, train, validation, options, new TrainingListener() {
      @Override
      public void epochEnded(int epoch, int max, double tr, double va, boolean best, double s) {
        log.printf(Locale.ROOT, "epoch %4d/%d  train NLL %.4f  validation NLL %.4f%s  %.1f s%n", epoch, max, tr, va,
            best ? "  (best)" : "", s);
        log.flush();
      }

      @Override
      public void message(String text) {
        log.println(text);
        log.flush();
      }
    });
    if (r.cancelled()) {
      log.println("cancelled; resume with --resume");
      return 130;
    }
    log.printf(Locale.ROOT, "best epoch %d (validation NLL %.4f), %s after %d epochs, %.1f s%n", r.bestEpoch(),
        r.bestValidationNll(), r.stoppedEarly() ? "stopped early" : "reached --epochs", r.epochs(), r.seconds());

    Map<String, Double> measures = CovariateEvaluation.morphoMnist(scm, 1);
    JsonObject training = new JsonObject();
    training.addProperty("dataset", dataset);
    training.addProperty("graph", graph);
    training.addProperty("command", "java -jar target/deepscm-explorer.jar train --dataset " + dataset + " --graph "
        + graph + " --out " + out + " --seed " + seed + " --epochs " + epochs + " --patience " + patience
        + " --lr " + learningRate + " --batch " + batch
        + (contextHidden.isEmpty() ? "" : " --context-hidden " + contextHidden.toString().replaceAll("[\\[\\] ]", "")));
    training.addProperty("seed", seed);
    training.addProperty("train_size", train.rows());
    training.addProperty("validation_size", validation.rows());
    training.addProperty("test_size", MorphoMnistTrueScm.TEST_SIZE);
    training.addProperty("optimiser", "Adam, lr " + learningRate + ", batch " + batch);
    training.addProperty("epochs", r.epochs());
    training.addProperty("best_epoch", r.bestEpoch());
    training.addProperty("best_validation_nll", r.bestValidationNll());
    training.addProperty("wall_seconds", Math.round(r.seconds() * 10) / 10.0);
    training.addProperty("machine", Runtime.getRuntime().availableProcessors() + " CPU cores, "
        + ai.djl.engine.Engine.getInstance().defaultDevice());
    training.addProperty("trained_at", Instant.now().toString());
    training.add("measures", Measures.toJson(measures));
    SavedModel saved = new SavedModel(name, scm, builder.trainingRanges(train), training, out);
    ModelFolder.save(saved, out);
    ModelCard.write(saved, description(graph), out);
    PrintWriter stdout = spec.commandLine().getOut();
    stdout.println("saved " + out);
    measures.forEach((k, v) -> stdout.printf(Locale.ROOT, "%s = %.4f%n", k, v));
    scm.close();
    return 0;
  }

  private static String description(String graph) {
    String g = graph.equals("full") ? "t -> i: thickness t causes intensity i"
        : "t and i independent (no edge)";
    return "Covariate model of the Morpho-MNIST case study (Pawlowski, Castro and Glocker 2020, Fig. 2), graph: " + g
        + ". Thickness t: Spline(8 bins, bound 3) -> normalisation of log t -> exp. Intensity i: "
        + (graph.equals("full") ? "conditional affine on normalised log t" : "affine -> spline")
        + " -> sigmoid -> affine onto the training range. Data: draws from the true SCM of paper Eq. 7 "
        + "(t = 0.5 + Gamma(10, rate 5); i = 64 + 191 sigmoid(0.5 eps + 2t - 5)).";
  }
}
