package org.deepscm.cli;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deepscm.AppPaths;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.DeviceInfo;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.eval.CovariateEvaluation;
import org.deepscm.eval.Measures;
import org.deepscm.eval.MorphoMnistEvaluation;
import org.deepscm.image.DeformationArchitecture;
import org.deepscm.image.DeformationMechanism;
import org.deepscm.image.DigitClassifier;
import org.deepscm.image.ImageData;
import org.deepscm.image.ParentPredictor;
import org.deepscm.train.PredictorTrainer;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.VaeImageMechanism;
import org.deepscm.train.ImageTrainer;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.train.DeformationTrainer;
import org.deepscm.train.FlowTrainer;
import org.deepscm.train.ModelCard;
import org.deepscm.train.MorphoMnistModels;
import org.deepscm.train.ScmBuilder;
import org.deepscm.train.TrainingListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"Fit a model (flows by maximum likelihood with early stopping on a validation split; the image "
        + "mechanism by its ELBO) and save it as a model folder with its model card. Resumable with --resume.",
        "Example: train --dataset morphomnist-covariates --graph full --out models/morphomnist-covariates",
        "         train --dataset morphomnist --graph full --image-epochs 30 --out models/morphomnist-full",
        "         train --dataset brain --image-batch 64 --image-lr 1e-3 --out models/brain-synthetic",
        "         train --dataset brain --data my-subjects.csv --slice-mm 18 --out models/brain-mine",
        "         train --dataset digit-classifier --out resources/mnist/digit-classifier.safetensors"})
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--dataset", required = true, description = "morphomnist-covariates: (t, i) from the true SCM of "
      + "paper Eq. 7, 60,000 training draws (10%% held out for validation) and 10,000 test draws; morphomnist: "
      + "the real digits with t, i and images from Eq. 7 (7,000 / 1,000 / 2,000); brain: the synthetic brain "
      + "population (resources/brain/README.md; 9,800 training and 2,100 validation subjects), or your own "
      + "subjects with --data; digit-classifier: the judge of \"digit kept\" in evaluate (3 small CNNs on the "
      + "training digits and their renderings at random thickness and intensity; --out FILE.safetensors, and only "
      + "--seed, --epochs (default 6), --batch (128), --lr (1e-3) and --variants (3) apply)")
  String dataset;

  @Option(names = "--data", paramLabel = "CSV", description = "brain: your own subjects instead of the synthetic "
      + "population: a CSV with columns id, age, sex, brain_volume, ventricle_volume (ml), image (a 64 x 64 PNG "
      + "slice or a NIfTI volume, relative to the CSV's folder); every row is checked before training starts; "
      + "a seeded 15 %% of the rows validate")
  Path data;

  @Option(names = "--slice-mm", paramLabel = "Z", description = "brain: the axial slice (world z, mm) taken from "
      + "NIfTI volumes named in --data")
  Double sliceMm;

  @Option(names = "--subjects", description = "brain: size of the synthetic population whose splits train and "
      + "validate (default: ${DEFAULT-VALUE})")
  int subjects = BrainDataset.DEFAULT_SIZE;

  @Option(names = "--fresh-subjects", description = "brain: the image trains on new subjects of the synthetic "
      + "world every epoch after the first (as many as the training split, drawn from the true SCM; none is in the "
      + "validation or test split): augmentation a known SCM makes free")
  boolean freshSubjects;

  @Option(names = "--graph", description = "full (t -> i, and t, i -> x), conditional (t, i -> x) or independent "
      + "(default: ${DEFAULT-VALUE})")
  String graph = "full";

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "model folder to write (the digit "
      + "classifier: one .safetensors file)")
  Path out;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed = 42;

  @Option(names = "--epochs", description = "most epochs of the flows (default: ${DEFAULT-VALUE})")
  int epochs = 200;

  @Option(names = "--patience", description = "stop the flows after this many epochs without validation "
      + "improvement (default: ${DEFAULT-VALUE})")
  int patience = 20;

  @Option(names = "--lr", description = "Adam learning rate of the flows (default: ${DEFAULT-VALUE}, as the paper)")
  double learningRate = 5e-3;

  @Option(names = "--batch", description = "minibatch size (default: ${DEFAULT-VALUE})")
  int batch = 256;

  @Option(names = "--context-hidden", split = ",", paramLabel = "SIZES",
      description = "hidden layer sizes of the context network of conditional flows, e.g. 8,16 "
          + "(default: none, a linear context network as the paper)")
  List<Integer> contextHidden = new ArrayList<>();

  @Option(names = "--image-epochs", description = "epochs of the image mechanism (default: ${DEFAULT-VALUE})")
  int imageEpochs = 20;

  @Option(names = "--image-batch", description = "minibatch size of the image mechanism (default: ${DEFAULT-VALUE})")
  int imageBatch = 256;

  @Option(names = "--image-particles", description = "ELBO particles per image in training (default: "
      + "${DEFAULT-VALUE}, as the paper; 1 makes a step of the brain model several times faster)")
  int imageParticles = VaeImageMechanism.ELBO_PARTICLES;

  @Option(names = "--image-lr", description = "Adam learning rate of the image networks (default: ${DEFAULT-VALUE})")
  double imageLearningRate = 1e-4;

  @Option(names = "--minutes", description = "stop image training at the first epoch end past this many minutes "
      + "(default: no limit); --resume continues later")
  double minutes = Double.POSITIVE_INFINITY;

  @Option(names = "--variants", description = "morphomnist: renderings of each training digit, each with its own "
      + "(t, i) drawn from the true SCM, cached like the dataset: augmentation that a known SCM allows against "
      + "overfitting 7,000 digits (default: ${DEFAULT-VALUE}, the dataset itself)")
  int variants = 1;

  @Option(names = "--eval-units", description = "test units for the image measures, a seeded class-stratified sample "
      + "(default: ${DEFAULT-VALUE}; `evaluate` measures the whole split)")
  int evalUnits = 500;

  @Option(names = "--image-kind", paramLabel = "KIND", description = "the image mechanism, vae (the paper's "
      + "amortised VAE) or deformation (an appearance warped by a diffeomorphism the parents drive, times a smooth "
      + "intensity field; default: ${DEFAULT-VALUE})")
  String imageKind = "vae";

  @Option(names = "--warp-smoothness", paramLabel = "KIND", description = "deformation: how the parents' velocity "
      + "is kept smooth, bending (second derivatives: scaling is free) or gradient (default: ${DEFAULT-VALUE})")
  String warpSmoothness = "bending";

  @Option(names = "--warp-weight", description = "deformation: weight of the parents' velocity smoothness per pixel "
      + "(default: ${DEFAULT-VALUE})")
  double warpWeight = 1.0;

  @Option(names = "--subject-warp-weight", description = "deformation: weight of the subject's own velocity "
      + "(its gradients and size) per pixel (default: ${DEFAULT-VALUE})")
  double subjectWarpWeight = 1.0;

  @Option(names = "--warp-grid", description = "deformation: points a side of the parents' velocity grid, 2 to the "
      + "image's side (default: 32 for brains, 14 for digits)")
  Integer warpGrid;

  @Option(names = "--appearance-grid", description = "deformation: points a side of the subject's own appearance "
      + "change in the template's frame, 2 to 64 (default: ${DEFAULT-VALUE}; a finer one lets the subject's code "
      + "redraw what the warp should move; default: 16 for brains, 28 for digits)")
  Integer appearanceGrid;

  @Option(names = "--parent-modes", description = "deformation: fields of the parents' effect that the subject's "
      + "code places (where this case's ventricles lie, where this digit's strokes run) and the parents size, 0 to 16 "
      + "(default: 0 for brains, one field of the parents for every subject; 8 for digits)")
  Integer parentModes;

  @Option(names = "--compose-warps", description = "deformation: the subject's warp first, then the parents' "
      + "(phi = exp(v_parents) o exp(v_subject)), so the parents act in the template's frame where every case's "
      + "anatomy has been brought; default: one velocity, the two summed")
  boolean composeWarps;

  @Option(names = "--gain-from-parents", description = "deformation: the intensity field is a function of the "
      + "parents alone, not of the case's z too (digits: the brightness is then the intensity's to set)")
  boolean gainFromParents;

  int warpGrid(int otherwise) {
    return warpGrid == null ? otherwise : warpGrid;
  }

  int appearanceGrid(int otherwise) {
    return appearanceGrid == null ? otherwise : appearanceGrid;
  }

  int parentModes(int otherwise) {
    return parentModes == null ? otherwise : parentModes;
  }

  @Option(names = "--checkpoint", paramLabel = "DIR", description = "checkpoint folder (default: checkpoints/<out name>)")
  Path checkpoint;

  @Option(names = "--resume", description = "continue from the checkpoint instead of starting afresh")
  boolean resume;

  @Option(names = "--image-init", paramLabel = "DIR", description = "start the image mechanism from the one in this "
      + "model folder (same architecture and parents, whose encodings it keeps) instead of from random weights; "
      + "give it again with --resume")
  Path imageInit;

  @Option(names = "--parents-every-scale", description = "image models: the decoder sees the parents at every scale "
      + "(each feature map modulated by them), not only at its first layer; from an --image-init model without "
      + "them, the new layers start at zero, so training starts from the same function")
  boolean parentsEveryScale;

  @Option(names = "--cf-finetune", description = "image models: counterfactual fine-tuning. Trains anticausal "
      + "predictors on the training images (brain: sex, age and both volumes; Morpho-MNIST: t, i and the digit's "
      + "class), or takes them from --predictors, then trains the image mechanism on -ELBO plus --cf-weight times "
      + "the predictors' error on counterfactuals in which one parent of the image is shuffled within the batch "
      + "(Morpho-MNIST: the digit's class kept). Start it from a trained model with --image-init. The predictors "
      + "are saved in the model folder")
  boolean cfFinetune;

  @Option(names = "--cf-weight", description = "with --cf-finetune: weight of the predictors' -log q(pa* | x*) "
      + "against the ELBO, both in nats per pixel (default: ${DEFAULT-VALUE})")
  double cfWeight = 1.0;

  @Option(names = "--cf-hold-reconstruction", description = "with --cf-finetune: hold the reconstruction's pixel "
      + "error where the starting model had it (a Lagrange multiplier on that error that rises while it is worse) "
      + "instead of trading it freely against the predictors' loss; an epoch whose validation reconstruction is "
      + "worse than the starting model's is not kept as the best")
  boolean cfHoldReconstruction;

  @Option(names = "--predictors", paramLabel = "DIR", description = "with --cf-finetune: take the anticausal "
      + "predictors from this model folder instead of training them")
  Path predictorsFrom;

  @Option(names = "--kl-weight", description = "image models: weight beta of the KL term in training (a beta-VAE; "
      + "default: ${DEFAULT-VALUE}, the ELBO). With the decoder's fixed variance, beta > 1 is the same as a larger "
      + "variance: the latent code carries less of the image, the parents more. The best epoch is still chosen by "
      + "the ELBO")
  double klWeight = 1.0;

  @Option(names = "--predictor-epochs", description = "with --cf-finetune: epochs of the predictors "
      + "(default: ${DEFAULT-VALUE})")
  int predictorEpochs = 10;

  @Spec
  CommandSpec spec;

  PrintWriter log;

  @Override
  public Integer call() throws IOException {
    if (dataset.equals("digit-classifier")) {
      return new DigitClassifierTraining(this).train();
    }
    if (dataset.equals("brain")) {
      return new BrainTraining(this).train();
    }
    if (data != null || sliceMm != null) {
      throw new IllegalArgumentException("--data and --slice-mm are for --dataset brain");
    }
    if (!dataset.equals("morphomnist-covariates") && !dataset.equals("morphomnist")) {
      throw new IllegalArgumentException(
          "unknown dataset '" + dataset + "'; available: morphomnist-covariates, morphomnist, brain, digit-classifier");
    }
    if (epochs < 1 || patience < 1 || batch < 1 || !(learningRate > 0) || imageEpochs < 0 || !(minutes > 0)) {
      throw new IllegalArgumentException("--epochs, --patience, --batch, --lr and --minutes must be positive");
    }
    log = spec.commandLine().getErr();
    boolean images = dataset.equals("morphomnist");
    boolean deformation = switch (imageKind) {
      case "vae" -> false;
      case "deformation" -> true;
      default -> throw new IllegalArgumentException("--image-kind must be vae or deformation; got '" + imageKind + "'");
    };
    if (deformation && (!images || !graph.equals("full"))) {
      throw new IllegalArgumentException("--image-kind deformation needs --dataset morphomnist (or brain) and --graph "
          + "full: its warp and gain are driven by the image's parents");
    }
    if (deformation && (parentsEveryScale || imageInit != null || klWeight != 1 || cfHoldReconstruction)) {
      throw new IllegalArgumentException("--parents-every-scale, --image-init, --kl-weight and "
          + "--cf-hold-reconstruction are for the paper's VAE image mechanism, not --image-kind deformation");
    }
    if (!deformation && (warpGrid != null || appearanceGrid != null || parentModes != null || composeWarps
        || gainFromParents)) {
      throw new IllegalArgumentException("--warp-grid, --appearance-grid, --parent-modes, --compose-warps and "
          + "--gain-from-parents are for --image-kind deformation");
    }
    if (deformation) {
      checkFineTuningOptions(false);
    } else {
      checkFineTuningOptions();
    }
    if (cfFinetune && (!images || graph.equals("independent"))) {
      throw new IllegalArgumentException("--cf-finetune trains the image's response to its parents: it needs "
          + "--dataset morphomnist (or brain) and a graph whose image has parents (full or conditional)");
    }
    if (parentsEveryScale && !images) {
      throw new IllegalArgumentException("--parents-every-scale is for image models (--dataset morphomnist or brain)");
    }
    String name = out.toAbsolutePath().normalize().getFileName().toString();
    Path checkpoints = checkpoint != null ? checkpoint : Path.of("checkpoints", name);
    ScmBuilder builder = MorphoMnistModels.builder(graph, images);
    if (images && parentsEveryScale) {
      builder.imageArchitecture(org.deepscm.image.ImageArchitecture.morphoMnist().withParentFilm());
    }
    if (deformation) {
      DeformationArchitecture a = DeformationArchitecture.morphoMnist();
      builder.deformation(a.withGrids(warpGrid(a.parentGrid()), appearanceGrid(a.appearanceGrid()))
          .withParentModes(parentModes(a.parentModes())).withComposedWarps(composeWarps)
          .withGainFromZ(!gainFromParents));
    }
    for (var v : builder.graph().variables()) {
      if (v.kind().isScalar() && !builder.graph().parents(v.name()).isEmpty()) {
        builder.hidden(v.name(), contextHidden.toArray(new Integer[0]));
      }
    }

    CovariateTable train;
    CovariateTable validation;
    MnistDigits digits = null;
    List<MorphoMnistDataset> trainSets = new ArrayList<>();
    MorphoMnistDataset validationSet = null;
    if (variants < 1) {
      throw new IllegalArgumentException("--variants must be at least 1, got " + variants);
    }
    if (images) {
      digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
      for (int k = 0; k < variants; k++) {
        trainSets.add(dataset(digits, MorphoMnistDataset.Split.TRAIN, MorphoMnistDataset.DEFAULT_SEED + VARIANT_SEED_STEP * k));
      }
      validationSet = dataset(digits, MorphoMnistDataset.Split.VALIDATION, MorphoMnistDataset.DEFAULT_SEED);
      train = concat(trainSets.stream().map(MorphoMnistDataset::covariates).toList());
      validation = validationSet.covariates();
    } else {
      CovariateTable all = MorphoMnistTrueScm.trainingSet();
      int validationSize = all.rows() / 10;
      train = all.slice(0, all.rows() - validationSize);
      validation = all.slice(all.rows() - validationSize, all.rows());
    }
    if (images && imageInit != null) {
      // the warm start's networks learnt with its own parent encodings: keep them
      try (SavedModel from = ModelFolder.load(imageInit)) {
        if (from.scm().mechanism("x") instanceof VaeImageMechanism source) {
          builder.imageContext(source.context());
        }
      }
    }
    if (deformation) {
      // both parents by their logs: the gain, linear in them, is then a power of the intensity, as SetIntensity's
      // scaling of a digit's brightness is
      builder.imageContext(List.of(ScmBuilder.logEncoding("t", train.column("t")),
          ScmBuilder.logEncoding("i", train.column("i"))));
    }
    StructuralCausalModel scm = builder.build(train, seed);
    log.printf("training %s (%s graph) on %d units, validating on %d; checkpoints in %s%n", name, graph,
        train.rows(), validation.rows(), checkpoints);

    FlowTrainer.Options options = new FlowTrainer.Options(learningRate, batch, epochs, patience, seed,
        checkpoints.resolve("flows"), resume);
    FlowTrainer.Result r = new FlowTrainer().fit(scm.scalarPart(), train, validation, options, progress("flows"));
    if (r.cancelled()) {
      log.println("cancelled; resume with --resume");
      return 130;
    }
    log.printf(Locale.ROOT, "flows: best epoch %d (validation NLL %.4f), %s after %d epochs, %.1f s%n",
        r.bestEpoch(), r.bestValidationNll(), r.stoppedEarly() ? "stopped early" : "reached --epochs", r.epochs(),
        r.seconds());

    JsonObject training = new JsonObject();
    training.addProperty("dataset", dataset);
    training.addProperty("graph", graph);
    training.addProperty("command", command());
    training.addProperty("seed", seed);
    training.addProperty("train_size", train.rows());
    training.addProperty("validation_size", validation.rows());
    training.addProperty("flow_optimiser", "Adam, lr " + learningRate + ", batch " + batch);
    training.addProperty("flow_epochs", r.epochs());
    training.addProperty("flow_best_epoch", r.bestEpoch());
    training.addProperty("flow_best_validation_nll", r.bestValidationNll());
    double seconds = r.seconds();

    Map<String, Double> measures;
    if (deformation) {
      Trained t = trainDeformation(scm, builder, train, training, name, seconds, trainSets, validationSet, digits,
          checkpoints);
      if (t == null) {
        return 130;
      }
      measures = t.measures();
      seconds = t.seconds();
    } else if (images) {
      VaeImageMechanism image = (VaeImageMechanism) scm.mechanism("x");
      boolean resuming = resume && java.nio.file.Files.isRegularFile(
          checkpoints.resolve("image").resolve(ImageTrainer.STATE_FILE));
      if (imageInit != null && !resuming) {
        warmStart(image, imageInit);
        training.addProperty("image_init", imageInit.toString());
      }
      // the digit's class travels with the images: the fine-tuning keeps it
      ImageData trainData = withLabels(imageData(image, trainSets), trainSets);
      ParentPredictor predictors = null;
      ImageTrainer.CounterfactualTerm term = null;
      if (cfFinetune) {
        long p0 = System.nanoTime();
        predictors = morphoMnistPredictors(image, trainData, digits, checkpoints.resolve("predictors"), training);
        seconds += (System.nanoTime() - p0) / 1e9;
        term = fineTuningTerm(predictors, image.parents(), List.of("digit"));
        training.addProperty("cf_finetune", describeFineTuning("one parent of the image shuffled within each batch, "
            + String.join(" and ", image.parents()) + " in turn, the digit's class kept"));
      }
      ImageTrainer.Result ir = trainImage(image, epoch -> trainData,
          withLabels(imageData(image, List.of(validationSet)), List.of(validationSet)), checkpoints.resolve("image"),
          term);
      recordImageTraining(training, ir);
      seconds += ir.seconds();
      // save before the (long) evaluation, so the weights are never lost
      save(scm, builder, train, training, name, seconds, null);
      if (predictors != null) {
        predictors.save(out);
      }
      log.printf("evaluating on %d test units…%n", evalUnits);
      DigitClassifier judge = null;
      try {
        judge = DigitClassifier.shipped();
      } catch (org.deepscm.scm.InvalidModelException e) {
        log.println("warning: no digit_kept measures: " + e.getMessage());
      }
      try {
        measures = MorphoMnistEvaluation.evaluateTestSplit(scm, digits, evalUnits,
            VaeImageMechanism.DEFAULT_PARTICLES, 1, predictors, judge, done -> {
              log.printf("\revaluated %d units", done);
              log.flush();
            });
      } finally {
        if (judge != null) {
          judge.close();
        }
      }
      log.println();
      if (predictors != null) {
        predictors.close();
      }
    } else {
      measures = CovariateEvaluation.morphoMnist(scm, 1);
    }
    save(scm, builder, train, training, name, seconds, measures);
    PrintWriter stdout = spec.commandLine().getOut();
    stdout.println("saved " + out);
    measures.forEach((k, v) -> stdout.printf(Locale.ROOT, "%s = %.4f%n", k, v));
    scm.close();
    return 0;
  }

  /**
   * Trains a Morpho-MNIST deformation image mechanism (with --cf-finetune its counterfactual term from the
   * first step), saves the model and measures it; null when cancelled.
   */
  private record Trained(Map<String, Double> measures, double seconds) {}

  private Trained trainDeformation(StructuralCausalModel scm, ScmBuilder builder, CovariateTable train,
      JsonObject training, String name, double flowSeconds, List<MorphoMnistDataset> trainSets,
      MorphoMnistDataset validationSet, MnistDigits digits, Path checkpoints) throws IOException {
    double seconds = flowSeconds;
    DeformationMechanism image = (DeformationMechanism) scm.mechanism("x");
    ImageData trainData = withLabels(imageData(image, trainSets), trainSets);
    ParentPredictor predictors = null;
    DeformationTrainer.Options d = new DeformationTrainer.Options(imageEpochs, imageBatch, imageLearningRate,
        imageParticles, minutes, DeformationTrainer.Smoothness.parse(warpSmoothness), warpWeight, subjectWarpWeight,
        1.0, seed, checkpoints.resolve("deformation"), resume);
    if (cfFinetune) {
      long p0 = System.nanoTime();
      predictors = morphoMnistPredictors(image, trainData, digits, checkpoints.resolve("predictors"), training);
      seconds += (System.nanoTime() - p0) / 1e9;
      d = d.withCounterfactual(fineTuningTerm(predictors, image.parents(), List.of("digit")));
      training.addProperty("cf_finetune", describeFineTuning("from the first step, one parent of the image "
          + "shuffled within each batch, " + String.join(" and ", image.parents()) + " in turn, the digit's class "
          + "kept").replace("; batch norm on its running statistics", ""));
    }
    DeformationTrainer.Result ir = new DeformationTrainer().train(image, epoch -> trainData,
        imageData(image, List.of(validationSet)), d, progress("image"));
    if (ir.cancelled()) {
      log.println("cancelled; resume with --resume");
      return null;
    }
    training.addProperty("image_kind", DeformationMechanism.KIND);
    training.addProperty("image_optimiser", "Adam, lr " + imageLearningRate + ", batch " + imageBatch + ", "
        + imageParticles + " particle(s)");
    training.addProperty("warp_prior", "parents' velocity: " + warpSmoothness + " x " + warpWeight
        + "; subject's velocity: gradients + 0.01 size x " + subjectWarpWeight + "; centring x 1");
    training.addProperty("image_epochs", ir.epochs());
    training.addProperty("image_best_epoch", ir.bestEpoch());
    training.addProperty("image_best_validation_elbo", ir.bestValidationElbo());
    seconds += ir.seconds();
    save(scm, builder, train, training, name, seconds, null);
    if (predictors != null && predictorsFrom == null) {
      predictors.save(out);
    }
    log.printf("evaluating on %d test units…%n", evalUnits);
    Map<String, Double> measures = MorphoMnistEvaluation.evaluateTestSplit(scm, digits, evalUnits,
        ImageMechanism.DEFAULT_PARTICLES, 1, predictors, done -> {
          log.printf("\revaluated %d units", done);
          log.flush();
        });
    log.println();
    if (predictors != null) {
      predictors.close();
    }
    return new Trained(measures, seconds);
  }

  /** The fine-tuning term of these options: the weight, and the reconstruction held when asked. */
  ImageTrainer.CounterfactualTerm fineTuningTerm(ParentPredictor predictors, List<String> intervened,
      List<String> preserved) {
    ImageTrainer.CounterfactualTerm term = new ImageTrainer.CounterfactualTerm(predictors, cfWeight, intervened,
        preserved);
    return cfHoldReconstruction ? term.holdingReconstruction() : term;
  }

  /** The model card's description of the fine-tuning: weight, hold, and how the counterfactuals are drawn. */
  String describeFineTuning(String interventions) {
    return "weight " + cfWeight + " (nats per pixel)" + (cfHoldReconstruction ? ", the reconstruction's pixel error "
        + "held at the starting model's by a Lagrange multiplier" : "") + ", " + interventions
        + "; batch norm on its running statistics";
  }

  void checkFineTuningOptions() {
    checkFineTuningOptions(true);
  }

  /** @param fromTrainedModel whether fine-tuning needs a trained model to start from (the VAE's does) */
  void checkFineTuningOptions(boolean fromTrainedModel) {
    if (fromTrainedModel && cfFinetune && imageInit == null && !resume) {
      throw new IllegalArgumentException("--cf-finetune fine-tunes a trained model: give it with --image-init DIR");
    }
    if ((predictorsFrom != null || cfWeight != 1.0 || predictorEpochs != 10 || cfHoldReconstruction) && !cfFinetune) {
      throw new IllegalArgumentException(
          "--predictors, --cf-weight, --cf-hold-reconstruction and --predictor-epochs go with --cf-finetune");
    }
    if (!(cfWeight >= 0) || predictorEpochs < 1) {
      throw new IllegalArgumentException("--cf-weight must be 0 or more and --predictor-epochs at least 1");
    }
    if (!(klWeight > 0) || !Double.isFinite(klWeight)) {
      throw new IllegalArgumentException("--kl-weight must be a positive number (1 is the ELBO), got " + klWeight);
    }
  }

  /**
   * The anticausal predictors of a Morpho-MNIST image: its parents (as the model encodes them) and the
   * digit's class; from --predictors, or trained on the training images (resumable) and measured on the
   * whole test split.
   */
  private ParentPredictor morphoMnistPredictors(ImageMechanism image, ImageData trainImages, MnistDigits digits,
      Path checkpoints, JsonObject training) throws IOException {
    if (predictorsFrom != null) {
      return loadPredictors(training);
    }
    List<ParentPredictor.Target> targets = imageParentTargets(image);
    targets.add(ParentPredictor.Target.categorical("digit", 10));
    MorphoMnistDataset test = dataset(digits, MorphoMnistDataset.Split.TEST, MorphoMnistDataset.DEFAULT_SEED);
    return fitPredictors(targets, 28, trainImages,
        withLabels(imageData(image, List.of(test)), List.of(test)), "the whole test split", checkpoints, training);
  }

  /** The image's parents as the model encodes them: the fine-tuning targets are its own context values. */
  static List<ParentPredictor.Target> imageParentTargets(ImageMechanism image) {
    List<ParentPredictor.Target> targets = new ArrayList<>();
    for (org.deepscm.scm.ContextEncoding e : image.context()) {
      targets.add(ParentPredictor.Target.continuous(e.parent(), e.log(), e.shift(), e.scale()));
    }
    return targets;
  }

  /** The predictors of --predictors, recorded in the training record. */
  ParentPredictor loadPredictors(JsonObject training) {
    training.addProperty("predictors", "from " + predictorsFrom);
    log.println("predictors from " + predictorsFrom);
    return ParentPredictor.load(predictorsFrom, ai.djl.ndarray.NDManager.newBaseManager());
  }

  /**
   * Predictors of {@code targets} on square images of {@code side} pixels, trained on {@code train}
   * (resumable from {@code checkpoints}) and measured on {@code heldOut}; how, and how well, goes into
   * their own record and the model's training record.
   */
  ParentPredictor fitPredictors(List<ParentPredictor.Target> targets, int side, ImageData train, ImageData heldOut,
      String heldOutName, Path checkpoints, JsonObject training) throws IOException {
    JsonObject info = new JsonObject();
    ParentPredictor p = new ParentPredictor(1, side, side, targets,
        new org.deepscm.flow.ParameterSet(ai.djl.ndarray.NDManager.newBaseManager()), info)
        .initParameters(new java.util.Random(seed + 17));
    PredictorTrainer.Result fit = new PredictorTrainer().train(p, train,
        new PredictorTrainer.Options(1e-3, 64, predictorEpochs, seed, checkpoints, resume), progress("predictors"));
    Map<String, Double> errors = PredictorTrainer.heldOutErrors(p, heldOut);
    StringBuilder b = new StringBuilder();
    errors.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(' ')
        .append(String.format(Locale.ROOT, "%.4g", v)));
    info.addProperty("trained_on", train.n() + " training images, Adam lr 0.001, batch 64, " + predictorEpochs
        + " epochs, seed " + seed);
    info.addProperty("held_out", heldOutName + " (" + heldOut.n() + " images)");
    errors.forEach(info::addProperty);
    info.addProperty("wall_seconds", Math.round(fit.seconds() * 10) / 10.0);
    training.addProperty("predictors", "trained here on the training images; on " + heldOutName + ": " + b);
    log.println("predictors on " + heldOutName + ": " + b);
    return p;
  }

  /** Images of some renderings with the digit's class ("digit") beside their parents. */
  private static ImageData withLabels(ImageData images, List<MorphoMnistDataset> sets) {
    Map<String, double[]> cols = new java.util.LinkedHashMap<>(images.parents());
    double[] digit = new double[images.n()];
    int at = 0;
    for (MorphoMnistDataset set : sets) {
      for (int u = 0; u < set.size(); u++) {
        digit[at++] = set.label(u);
      }
    }
    cols.put("digit", digit);
    return images.withParents(cols);
  }

  /** Seeds of the extra renderings: DEFAULT_SEED + k * this (far from the validation and test seeds). */
  static final long VARIANT_SEED_STEP = 1000;

  private static CovariateTable concat(List<CovariateTable> tables) {
    Map<String, double[]> cols = new java.util.LinkedHashMap<>();
    for (String name : tables.get(0).names()) {
      cols.put(name, tables.stream().flatMapToDouble(t -> java.util.Arrays.stream(t.column(name))).toArray());
    }
    return new CovariateTable(cols);
  }

  private MorphoMnistDataset dataset(MnistDigits digits, MorphoMnistDataset.Split split, long seed)
      throws IOException {
    return MorphoMnistDataset.load(digits, split, seed, AppPaths.cache(),
        (done, total) -> {
          if (done % 1000 == 0 || done == total) {
            log.printf("rendering %s digits: %d / %d%n", split.name().toLowerCase(Locale.ROOT), done, total);
            log.flush();
          }
        }, () -> Thread.currentThread().isInterrupted());
  }

  ImageTrainer.Result trainImage(VaeImageMechanism image, List<MorphoMnistDataset> trainSets,
      MorphoMnistDataset validationSet, Path checkpoints) throws IOException {
    return trainImage(image, imageData(image, trainSets), imageData(image, List.of(validationSet)), checkpoints);
  }

  ImageTrainer.Result trainImage(VaeImageMechanism image, ImageData trainData, ImageData validationData,
      Path checkpoints) throws IOException {
    return trainImage(image, epoch -> trainData, validationData, checkpoints);
  }

  ImageTrainer.Result trainImage(VaeImageMechanism image, java.util.function.IntFunction<ImageData> trainData,
      ImageData validationData, Path checkpoints) throws IOException {
    return trainImage(image, trainData, validationData, checkpoints, null);
  }

  ImageTrainer.Result trainImage(VaeImageMechanism image, java.util.function.IntFunction<ImageData> trainData,
      ImageData validationData, Path checkpoints, ImageTrainer.CounterfactualTerm term) throws IOException {
    long started = System.nanoTime();
    double budgetSeconds = minutes * 60;
    boolean[] stop = {false};
    TrainingListener listener = new TrainingListener() {
      @Override
      public void epochEnded(int epoch, int max, double trainNll, double validationNll, boolean best, double s) {
        log.printf(Locale.ROOT, "image epoch %3d/%d  train -ELBO %.2f  validation -ELBO %.2f  %.0f s%n", epoch, max,
            trainNll, validationNll, s);
        log.flush();
        stop[0] = (System.nanoTime() - started) / 1e9 >= budgetSeconds;
      }

      @Override
      public void message(String text) {
        log.println(text);
        log.flush();
      }

      @Override
      public boolean cancelled() {
        return stop[0] || Thread.currentThread().isInterrupted();
      }
    };
    ImageTrainer.Options o = ImageTrainer.Options.paper(imageEpochs, seed).withBatch(imageBatch)
        .withLearningRate(imageLearningRate).withParticles(imageParticles).withCheckpoints(checkpoints, resume)
        .withCounterfactual(term).withKlWeight(klWeight);
    ImageTrainer.Result r = new ImageTrainer().train(image, trainData, validationData, o, listener);
    if (r.cancelled()) {
      log.printf(Locale.ROOT, "image training stopped after epoch %d (--minutes %.0f); --resume continues%n",
          r.epochs(), minutes);
    }
    return r;
  }

  /** Copies the weights of the image mechanism saved in {@code folder} into {@code image}. */
  void warmStart(VaeImageMechanism image, Path folder) {
    try (SavedModel from = ModelFolder.load(folder)) {
      if (!(from.scm().mechanism("x") instanceof VaeImageMechanism source)) {
        throw new IllegalArgumentException("--image-init " + folder + ": the model has no image mechanism 'x'");
      }
      boolean widened = image.architecture().parentFilm() && !source.architecture().parentFilm()
          && source.architecture().equals(image.architecture().withoutParentFilm());
      if ((!widened && !source.architecture().equals(image.architecture()))
          || !source.context().equals(image.context())) {
        throw new IllegalArgumentException("--image-init " + folder + ": its image mechanism differs from this one "
            + "(architecture " + source.architecture() + ", parents " + source.context() + "; this model: "
            + image.architecture() + ", parents " + image.context() + ")");
      }
      try (ai.djl.ndarray.NDManager tmp = ai.djl.ndarray.NDManager.newBaseManager()) {
        ai.djl.ndarray.NDList weights = source.snapshot(tmp);
        if (widened) {
          // the parents at every scale start at zero: the same function as the source's
          for (String name : image.networks().filmWeightNames()) {
            ai.djl.ndarray.NDArray zero = image.weights().get(name).duplicate();
            zero.attach(tmp);
            zero.setName(name);
            weights.add(zero);
          }
        }
        image.restore(weights, "--image-init " + folder);
      }
      log.println("image mechanism starts from " + folder + (widened ? " (parents at every scale added at zero)" : ""));
    }
  }

  private static ImageData imageData(ImageMechanism image, List<MorphoMnistDataset> sets) {
    List<double[]> px = new ArrayList<>();
    for (MorphoMnistDataset d : sets) {
      for (int u = 0; u < d.size(); u++) {
        px.add(d.image(u));
      }
    }
    CovariateTable cov = concat(sets.stream().map(MorphoMnistDataset::covariates).toList());
    Map<String, double[]> parents = new java.util.LinkedHashMap<>();
    for (String p : image.parents()) {
      parents.put(p, cov.column(p));
    }
    return ImageData.of(px.toArray(new double[0][]), parents);
  }

  private void save(StructuralCausalModel scm, ScmBuilder builder, CovariateTable train, JsonObject training,
      String name, double seconds, Map<String, Double> measures) throws IOException {
    training.addProperty("wall_seconds", Math.round(seconds * 10) / 10.0);
    training.addProperty("machine", DeviceInfo.describe());
    training.addProperty("trained_at", Instant.now().toString());
    if (measures != null) {
      training.add("measures", Measures.toJson(measures));
    }
    SavedModel saved = new SavedModel(name, scm, builder.trainingRanges(train), training, out);
    ModelFolder.save(saved, out);
    ModelCard.write(saved, description(), out);
  }

  TrainingListener progress(String what) {
    return new TrainingListener() {
      @Override
      public void epochEnded(int epoch, int max, double tr, double va, boolean best, double s) {
        log.printf(Locale.ROOT, "%s epoch %4d/%d  train NLL %.4f  validation NLL %.4f%s  %.1f s%n", what, epoch, max,
            tr, va, best ? "  (best)" : "", s);
        log.flush();
      }

      @Override
      public void message(String text) {
        log.println(text);
        log.flush();
      }
    };
  }

  private String command() {
    StringBuilder c = new StringBuilder("java -jar target/deepscm-explorer.jar train --dataset " + dataset
        + " --graph " + graph + " --out " + out + " --seed " + seed + " --epochs " + epochs + " --patience "
        + patience + " --lr " + learningRate + " --batch " + batch);
    if (!contextHidden.isEmpty()) {
      c.append(" --context-hidden ").append(String.join(",", contextHidden.stream().map(String::valueOf).toList()));
    }
    if (dataset.equals("morphomnist")) {
      if (!imageKind.equals("vae")) {
        c.append(" --image-kind ").append(imageKind).append(" --warp-smoothness ").append(warpSmoothness)
            .append(" --warp-weight ").append(warpWeight).append(" --subject-warp-weight ").append(subjectWarpWeight);
        DeformationArchitecture a = DeformationArchitecture.morphoMnist();
        c.append(" --warp-grid ").append(warpGrid(a.parentGrid())).append(" --appearance-grid ")
            .append(appearanceGrid(a.appearanceGrid())).append(" --parent-modes ").append(parentModes(a.parentModes()))
            .append(composeWarps ? " --compose-warps" : "").append(gainFromParents ? " --gain-from-parents" : "");
      }
      c.append(" --image-epochs ").append(imageEpochs).append(" --image-lr ").append(imageLearningRate)
          .append(" --image-batch ").append(imageBatch);
      if (Double.isFinite(minutes)) {
        c.append(" --minutes ").append(minutes);
      }
      if (imageInit != null) {
        c.append(" --image-init ").append(imageInit);
      }
      if (variants > 1) {
        c.append(" --variants ").append(variants);
      }
      c.append(fineTuningFlags());
    }
    return c.toString();
  }

  /** The particles, parents-at-every-scale and fine-tuning flags of a command line, as given. */
  String fineTuningFlags() {
    StringBuilder c = new StringBuilder();
    if (imageParticles != VaeImageMechanism.ELBO_PARTICLES) {
      c.append(" --image-particles ").append(imageParticles);
    }
    if (parentsEveryScale) {
      c.append(" --parents-every-scale");
    }
    if (klWeight != 1) {
      c.append(" --kl-weight ").append(klWeight);
    }
    if (cfFinetune) {
      c.append(" --cf-finetune --cf-weight ").append(cfWeight);
      if (cfHoldReconstruction) {
        c.append(" --cf-hold-reconstruction");
      }
      c.append(predictorsFrom != null ? " --predictors " + predictorsFrom : " --predictor-epochs " + predictorEpochs);
    }
    return c.toString();
  }

  private String description() {
    String g = switch (graph) {
      case "full" -> "t -> i" + (dataset.equals("morphomnist") ? ", t -> x <- i" : "") + ": thickness t causes intensity i";
      case "conditional" -> "t -> x <- i, t and i independent";
      default -> "t, i" + (dataset.equals("morphomnist") ? " and x" : "") + " independent";
    };
    return "Morpho-MNIST model (Pawlowski, Castro and Glocker 2020, Fig. 2), graph: " + g
        + ". Thickness t: Spline(8 bins, bound 3) -> normalisation of log t -> exp. Intensity i: "
        + (graph.equals("full") ? "conditional affine on normalised log t" : "affine -> spline")
        + " -> sigmoid -> affine onto the training range."
        + (dataset.equals("morphomnist") && imageKind.equals("deformation") ? " Image x: a deformation mechanism, "
            + "x = ((A(z, t, i) + u) o phi) g with phi = exp(v(t, i, z)) (8 fields placed by z, sized by t and i) and "
            + "g = exp(linear in " + (gainFromParents ? "" : "z, ") + "log t, log i): a power of the intensity; A is a "
            + "small decoder of z and the parents "
            + "(thickening adds ink, which no warp can). A counterfactual resamples the observed digit once." : "")
        + (dataset.equals("morphomnist") && imageKind.equals("vae") ? " Image x: encoder/decoder (paper Appendix A.2, nearest upsampling + "
            + "convolution instead of transposed convolution), fixed log-variance -5 in logit space, "
            + "logit(0.05 + 0.95 x / 256) preprocessing." : "")
        + " Data: the true SCM of paper Eq. 7 (t = 0.5 + Gamma(10, rate 5); i = 64 + 191 sigmoid(0.5 eps + 2t - 5)"
        + (dataset.equals("morphomnist") ? "; x = SetIntensity(SetThickness(digit, t), i) on the real MNIST digits "
            + "of resources/mnist" : "") + ").";
  }

  /** What image training did, for the model card. */
  void recordImageTraining(JsonObject training, ImageTrainer.Result ir) {
    training.addProperty("image_optimiser", "Adam, lr " + imageLearningRate + ", eps 1e-5, batch " + imageBatch
        + ", " + imageParticles + " particle" + (imageParticles == 1 ? "" : "s"));
    if (klWeight != 1) {
      training.addProperty("image_kl_weight", klWeight);
    }
    training.addProperty("image_epochs", ir.epochs());
    training.addProperty("image_schedule", ir.schedule());
    training.addProperty("image_best_epoch", ir.bestEpoch());
    if (!ir.history().isEmpty()) {
      double[] last = ir.history().get(ir.history().size() - 1);
      // with --cf-finetune the trainer tracks its objective, ELBO - weight x pixels x -log q(pa* | x*)
      String what = cfFinetune ? "objective" : "elbo";
      training.addProperty("image_train_" + what, last[1]);
      training.addProperty("image_validation_" + what, last[2]);
      training.addProperty("image_best_validation_" + what, ir.bestValidationElbo());
    }
  }

}
