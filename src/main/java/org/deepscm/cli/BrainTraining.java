package org.deepscm.cli;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deepscm.AppPaths;
import org.deepscm.data.brain.BrainCases;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTemplate;
import org.deepscm.data.brain.BrainTrueScm;
import org.deepscm.train.BrainModels;
import org.deepscm.DeviceInfo;
import org.deepscm.data.CovariateTable;
import org.deepscm.image.DeformationArchitecture;
import org.deepscm.image.DeformationMechanism;
import org.deepscm.image.ImageData;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.VaeImageMechanism;
import org.deepscm.train.ImageTrainer;
import org.deepscm.image.ParentPredictor;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.train.DeformationTrainer;
import org.deepscm.train.FlowTrainer;
import org.deepscm.train.ModelCard;
import org.deepscm.train.ScmBuilder;

/**
 * The brain path of {@code train} (BrainModels): the covariate flows, then the image mechanism, on the
 * synthetic population or on a user's own CSV (every row checked by BrainCases before anything is
 * trained or written); with --cf-finetune the anticausal predictors and counterfactual fine-tuning.
 */
final class BrainTraining {
  private final TrainCommand o;

  BrainTraining(TrainCommand options) {
    this.o = options;
  }

  /** Seed of the split of a user's own subjects into training and validation rows. */
  static final long OWN_DATA_SPLIT_SEED = 20261129L;

  /** Subjects, covariates and images of one part of the brain data. */
  private record BrainPart(CovariateTable covariates, double[][] images) {}

  /**
   * The brain model (BrainModels) on the synthetic population or on the user's own CSV: every row of a
   * CSV is checked (BrainCases) before anything is trained or written.
   */
  int train() throws IOException {
    if (o.epochs < 1 || o.patience < 1 || o.batch < 1 || !(o.learningRate > 0) || o.imageEpochs < 0 || !(o.minutes > 0)
        || o.imageBatch < 1 || !(o.imageLearningRate > 0)) {
      throw new IllegalArgumentException("--epochs, --patience, --batch, --lr, --image-batch, --image-lr and "
          + "--minutes must be positive");
    }
    if (!o.graph.equals("full")) {
      throw new IllegalArgumentException("the brain model has one graph (sex -> b <- age -> v <- b; b, v -> x); "
          + "--graph " + o.graph + " is for Morpho-MNIST");
    }
    if (o.variants != 1) {
      throw new IllegalArgumentException("--variants is for Morpho-MNIST; brains have --fresh-subjects");
    }
    o.log = o.spec.commandLine().getErr();
    String name = o.out.toAbsolutePath().normalize().getFileName().toString();
    Path checkpoints = o.checkpoint != null ? o.checkpoint : Path.of("checkpoints", name);
    BrainPart train;
    BrainPart validation;
    String source;
    if (o.data != null) {
      BrainCases.Cases cases = BrainCases.read(o.data, o.sliceMm);
      if (cases.naming() != null) {
        o.log.println("note: " + cases.naming());
      }
      cases.warnings().forEach(w -> o.log.println("warning: " + w));
      if (cases.size() < 20) {
        throw new IllegalArgumentException(o.data + " holds " + cases.size() + " subjects; training needs at least 20 "
            + "(3 of them validate)");
      }
      int[] order = new int[cases.size()];
      for (int k = 0; k < order.length; k++) {
        order[k] = k;
      }
      java.util.Random rng = new java.util.Random(OWN_DATA_SPLIT_SEED);
      for (int k = order.length - 1; k > 0; k--) {
        int j = rng.nextInt(k + 1);
        int t = order[k];
        order[k] = order[j];
        order[j] = t;
      }
      int nValidation = Math.max(3, (int) Math.round(0.15 * cases.size()));
      validation = brainPart(cases, java.util.Arrays.copyOfRange(order, 0, nValidation));
      train = brainPart(cases, java.util.Arrays.copyOfRange(order, nValidation, order.length));
      source = o.data.toString() + (o.sliceMm != null ? " (NIfTI slices at z = " + o.sliceMm + " mm)" : "");
    } else {
      if (o.sliceMm != null) {
        throw new IllegalArgumentException("--slice-mm picks the slice of NIfTI volumes named in --data; give --data");
      }
      BrainSliceRenderer renderer = new BrainSliceRenderer(BrainTemplate.shipped());
      train = brainPart(brainSplit(renderer, BrainDataset.Split.TRAIN));
      validation = brainPart(brainSplit(renderer, BrainDataset.Split.VALIDATION));
      source = "synthetic brain population, " + o.subjects + " subjects, seed " + BrainDataset.DEFAULT_SEED;
    }
    ScmBuilder builder = BrainModels.builder(true);
    boolean deformation = switch (o.imageKind) {
      case "vae" -> false;
      case "deformation" -> true;
      default -> throw new IllegalArgumentException("--image-kind must be vae or deformation; got '" + o.imageKind
          + "'");
    };
    if (deformation) {
      if (o.parentsEveryScale || o.freshSubjects || o.cfHoldReconstruction || o.klWeight != 1) {
        throw new IllegalArgumentException("--parents-every-scale, --fresh-subjects, --cf-hold-reconstruction and "
            + "--kl-weight are for the paper's VAE image mechanism, not --image-kind deformation");
      }
      builder.deformation(DeformationArchitecture.brain(BrainSliceRenderer.SIDE, BrainSliceRenderer.SIDE)
          .withGrids(o.warpGrid(32), o.appearanceGrid(16)).withParentModes(o.parentModes(0))
          .withComposedWarps(o.composeWarps).withGainFromZ(!o.gainFromParents));
    }
    if (o.parentsEveryScale) {
      builder.imageArchitecture(BrainModels.imageArchitecture().withParentFilm());
    }
    // the deformation's counterfactual term may train from the first step; the VAE's fine-tunes a trained model
    o.checkFineTuningOptions(!deformation);
    if (o.imageInit != null) {
      // the warm start's networks learnt with its own parent encodings: keep them
      try (SavedModel from = ModelFolder.load(o.imageInit)) {
        if (!(from.scm().mechanism("x") instanceof ImageMechanism warm)
            || (warm instanceof DeformationMechanism) != deformation) {
          throw new IllegalArgumentException("--image-init " + o.imageInit + ": the model has no image mechanism 'x' of "
              + "the kind asked for (--image-kind " + o.imageKind + ")");
        }
        List<String> parents = warm.context().stream().map(org.deepscm.scm.ContextEncoding::parent).toList();
        if (!parents.equals(List.of("brain_volume", "ventricle_volume"))) {
          throw new IllegalArgumentException("--image-init " + o.imageInit + ": its image mechanism differs from this "
              + "one (its image's parents are " + parents + "; a brain model's are [brain_volume, ventricle_volume])");
        }
        builder.imageContext(warm.context());
      }
    }
    StructuralCausalModel scm = builder.build(train.covariates(), o.seed);
    o.log.printf("training %s (brain graph) on %d subjects, validating on %d; checkpoints in %s%n", name,
        train.images().length, validation.images().length, checkpoints);
    FlowTrainer.Options options = new FlowTrainer.Options(o.learningRate, o.batch, o.epochs, o.patience, o.seed,
        checkpoints.resolve("flows"), o.resume);
    FlowTrainer.Result r = new FlowTrainer().fit(scm.scalarPart(), train.covariates(), validation.covariates(),
        options, o.progress("flows"));
    if (r.cancelled()) {
      o.log.println("cancelled; resume with --resume");
      return 130;
    }
    o.log.printf(Locale.ROOT, "flows: best epoch %d (validation NLL %.4f), %d epochs, %.1f s%n", r.bestEpoch(),
        r.bestValidationNll(), r.epochs(), r.seconds());
    JsonObject training = new JsonObject();
    // evaluate measures a model of the synthetic world against the true SCM; a user's own data has none
    training.addProperty("dataset", o.data == null ? "brain" : "brain-own-data");
    training.addProperty("data", source);
    training.addProperty("graph", "sex -> brain_volume <- age -> ventricle_volume <- brain_volume; "
        + "brain_volume, ventricle_volume -> x");
    training.addProperty("command", brainCommand());
    training.addProperty("seed", o.seed);
    training.addProperty("train_size", train.images().length);
    training.addProperty("validation_size", validation.images().length);
    training.addProperty("flow_optimiser", "Adam, lr " + o.learningRate + ", batch " + o.batch);
    training.addProperty("flow_epochs", r.epochs());
    training.addProperty("flow_best_epoch", r.bestEpoch());
    training.addProperty("flow_best_validation_nll", r.bestValidationNll());
    double seconds = r.seconds();
    if (deformation) {
      DeformationMechanism image = (DeformationMechanism) scm.mechanism("x");
      DeformationTrainer.Options d = new DeformationTrainer.Options(o.imageEpochs, o.imageBatch, o.imageLearningRate,
          o.imageParticles, o.minutes, DeformationTrainer.Smoothness.parse(o.warpSmoothness), o.warpWeight,
          o.subjectWarpWeight, 1.0, o.seed, checkpoints.resolve("deformation"), o.resume);
      ImageData trainData = imageData(image, train);
      boolean resuming = o.resume && java.nio.file.Files.isRegularFile(
          checkpoints.resolve("deformation").resolve(DeformationTrainer.STATE_FILE));
      if (o.imageInit != null && !resuming) {
        warmStart(image, o.imageInit);
        training.addProperty("image_init", o.imageInit.toString());
      }
      ParentPredictor predictors = null;
      if (o.cfFinetune) {
        long p0 = System.nanoTime();
        predictors = brainPredictors(image, trainData, train, validation, checkpoints.resolve("predictors"), training);
        seconds += (System.nanoTime() - p0) / 1e9;
        d = d.withCounterfactual(o.fineTuningTerm(predictors, List.of("brain_volume", "ventricle_volume"), List.of()));
        training.addProperty("cf_finetune", o.describeFineTuning("one volume shuffled within each batch, brain and "
            + "ventricle volume in turn").replace("; batch norm on its running statistics", ""));
      }
      DeformationTrainer.Result ir = new DeformationTrainer().train(image, epoch -> trainData,
          imageData(image, validation), d, o.progress("image"));
      if (ir.cancelled()) {
        o.log.println("cancelled; resume with --resume");
        return 130;
      }
      training.addProperty("image_kind", DeformationMechanism.KIND);
      training.addProperty("image_optimiser", "Adam, lr " + o.imageLearningRate + ", batch " + o.imageBatch + ", "
          + o.imageParticles + " particle(s)");
      training.addProperty("warp_prior", "parents' velocity: " + o.warpSmoothness + " x " + o.warpWeight
          + "; subject's velocity: gradients + 0.01 size x " + o.subjectWarpWeight + "; centring x 1");
      training.addProperty("image_epochs", ir.epochs());
      training.addProperty("image_best_epoch", ir.bestEpoch());
      training.addProperty("image_best_validation_elbo", ir.bestValidationElbo());
      seconds += ir.seconds();
      training.addProperty("wall_seconds", Math.round(seconds * 10) / 10.0);
      training.addProperty("machine", DeviceInfo.describe());
      training.addProperty("trained_at", Instant.now().toString());
      SavedModel saved = new SavedModel(name, scm, builder.trainingRanges(train.covariates()), training, o.out);
      ModelFolder.save(saved, o.out);
      if (predictors != null) {
        if (o.predictorsFrom == null) {
          predictors.save(o.out);
        }
        predictors.close();
      }
      ModelCard.write(saved, deformationDescription(source, o), o.out);
      o.spec.commandLine().getOut().println("saved " + o.out);
      scm.close();
      return 0;
    }
    VaeImageMechanism image = (VaeImageMechanism) scm.mechanism("x");
    boolean resuming = o.resume && java.nio.file.Files.isRegularFile(
        checkpoints.resolve("image").resolve(ImageTrainer.STATE_FILE));
    if (o.imageInit != null && !resuming) {
      o.warmStart(image, o.imageInit);
      training.addProperty("image_init", o.imageInit.toString());
    }
    ImageData first = imageData(image, train);
    java.util.function.IntFunction<ImageData> epochData = epoch -> first;
    if (o.freshSubjects) {
      if (o.data != null) {
        throw new IllegalArgumentException("--fresh-subjects draws from the synthetic world; your own data has no "
            + "true SCM to draw from");
      }
      BrainSliceRenderer renderer = new BrainSliceRenderer(BrainTemplate.shipped());
      int n = train.images().length;
      epochData = epoch -> {
        if (epoch == 1) {
          return first;
        }
        try {
          return imageData(image, brainPart(BrainDataset.fresh(renderer, BrainDataset.DEFAULT_SEED, o.subjects,
              epoch - 2, n, null, () -> Thread.currentThread().isInterrupted())));
        } catch (IOException e) {
          throw new IllegalStateException("cannot make fresh subjects for epoch " + epoch + ": " + e.getMessage(), e);
        }
      };
      training.addProperty("fresh_subjects", "every epoch after the first: " + n + " new subjects of the synthetic "
          + "world");
    }
    ParentPredictor predictors = null;
    ImageTrainer.CounterfactualTerm term = null;
    if (o.cfFinetune) {
      long p0 = System.nanoTime();
      predictors = brainPredictors(image, first, train, validation, checkpoints.resolve("predictors"), training);
      seconds += (System.nanoTime() - p0) / 1e9;
      term = o.fineTuningTerm(predictors, List.of("brain_volume", "ventricle_volume"), List.of());
      training.addProperty("cf_finetune", o.describeFineTuning("one volume shuffled within each batch, brain and "
          + "ventricle volume in turn"));
    }
    ImageTrainer.Result ir = o.trainImage(image, epochData, imageData(image, validation), checkpoints.resolve("image"), term);
    o.recordImageTraining(training, ir);
    seconds += ir.seconds();
    training.addProperty("wall_seconds", Math.round(seconds * 10) / 10.0);
    training.addProperty("machine", DeviceInfo.describe());
    training.addProperty("trained_at", Instant.now().toString());
    SavedModel saved = new SavedModel(name, scm, builder.trainingRanges(train.covariates()), training, o.out);
    ModelFolder.save(saved, o.out);
    if (predictors != null) {
      predictors.save(o.out);
      predictors.close();
    }
    ModelCard.write(saved, brainDescription(source), o.out);
    o.spec.commandLine().getOut().println("saved " + o.out);
    scm.close();
    return 0;
  }

  /**
   * The anticausal predictors of the brain model's covariates: from --predictors, or trained on the
   * training images (resumable) and measured on the held-out images (the test split of the synthetic
   * world, the validation rows of a user's own data).
   */
  private ParentPredictor brainPredictors(ImageMechanism image, ImageData trainImages, BrainPart train,
      BrainPart validation, Path checkpoints, JsonObject training) throws IOException {
    if (o.predictorsFrom != null) {
      return o.loadPredictors(training);
    }
    List<ParentPredictor.Target> targets = new ArrayList<>();
    targets.add(ParentPredictor.Target.binary("sex"));
    org.deepscm.scm.ContextEncoding age = ScmBuilder.encoding(BrainModels.age(), train.covariates().column("age"));
    targets.add(ParentPredictor.Target.continuous("age", age.log(), age.shift(), age.scale()));
    targets.addAll(TrainCommand.imageParentTargets(image));
    BrainPart heldOut = validation;
    String heldOutName = "the validation rows";
    if (o.data == null) {
      heldOut = brainPart(brainSplit(new BrainSliceRenderer(BrainTemplate.shipped()), BrainDataset.Split.TEST));
      heldOutName = "the whole test split";
    }
    return o.fitPredictors(targets, BrainSliceRenderer.SIDE, trainImages.withParents(allColumns(train)),
        ImageData.of(heldOut.images(), allColumns(heldOut)), heldOutName, checkpoints, training);
  }

  /** Copies the weights of the deformation mechanism saved in {@code folder} (same architecture and parents). */
  private void warmStart(DeformationMechanism image, Path folder) {
    try (SavedModel from = ModelFolder.load(folder)) {
      DeformationMechanism source = (DeformationMechanism) from.scm().mechanism("x");
      if (!source.architecture().equals(image.architecture())) {
        throw new IllegalArgumentException("--image-init " + folder + ": its deformation networks differ from these ("
            + source.architecture().toJson() + "; this model: " + image.architecture().toJson() + ")");
      }
      try (ai.djl.ndarray.NDManager tmp = ai.djl.ndarray.NDManager.newBaseManager()) {
        image.restore(source.snapshot(tmp), "--image-init " + folder);
      }
      o.log.println("image mechanism starts from " + folder);
    }
  }

  private static Map<String, double[]> allColumns(BrainPart part) {
    Map<String, double[]> cols = new java.util.LinkedHashMap<>();
    for (String v : BrainTrueScm.VARIABLES) {
      cols.put(v, part.covariates().column(v));
    }
    return cols;
  }

  private BrainDataset brainSplit(BrainSliceRenderer renderer, BrainDataset.Split split) throws IOException {
    return BrainDataset.load(renderer, split, BrainDataset.DEFAULT_SEED, o.subjects, AppPaths.cache(), (done, n) -> {
      if (done % 1000 == 0 || done == n) {
        o.log.printf("generating %s subjects: %d / %d%n", split.label(), done, n);
        o.log.flush();
      }
    }, () -> Thread.currentThread().isInterrupted());
  }

  private static BrainPart brainPart(BrainDataset d) {
    BrainTrueScm.Covariates[] c = new BrainTrueScm.Covariates[d.size()];
    double[][] images = new double[d.size()][];
    for (int u = 0; u < d.size(); u++) {
      c[u] = d.covariates(u);
      images[u] = d.image(u);
    }
    return new BrainPart(brainTable(c), images);
  }

  private static BrainPart brainPart(BrainCases.Cases cases, int[] rows) {
    BrainTrueScm.Covariates[] c = new BrainTrueScm.Covariates[rows.length];
    double[][] images = new double[rows.length][];
    for (int k = 0; k < rows.length; k++) {
      c[k] = cases.covariates()[rows[k]];
      images[k] = cases.images()[rows[k]];
    }
    return new BrainPart(brainTable(c), images);
  }

  private static CovariateTable brainTable(BrainTrueScm.Covariates[] c) {
    Map<String, double[]> cols = new java.util.LinkedHashMap<>();
    for (String v : BrainTrueScm.VARIABLES) {
      double[] col = new double[c.length];
      for (int k = 0; k < c.length; k++) {
        col[k] = c[k].get(v);
      }
      cols.put(v, col);
    }
    return new CovariateTable(cols);
  }

  private static ImageData imageData(ImageMechanism image, BrainPart part) {
    Map<String, double[]> parents = new java.util.LinkedHashMap<>();
    for (String p : image.parents()) {
      parents.put(p, part.covariates().column(p));
    }
    return ImageData.of(part.images(), parents);
  }

  private static String deformationDescription(String source, TrainCommand o) {
    return "Brain model with a deformation image mechanism, graph sex -> brain_volume <- age -> ventricle_volume <- "
        + "brain_volume, and brain_volume, ventricle_volume -> x. The covariates as in the paper's brain model "
        + "(Gumbel-max sex; spline flow of log age; conditional affine flows of log volumes). Image x (64 x 64 axial "
        + "slice): x = ((A(z) + u) o phi) * g with phi = exp(v_parents + v_subject) integrated by scaling and "
        + "squaring (7 steps), a learned template plus a z-driven appearance, a smooth gain; encoder q(z | x, pa); "
        + "trained on the ELBO (Gaussian pixels, learned sigma) with a " + o.warpSmoothness + " prior on the parents' "
        + "velocity. Counterfactuals resample the observed image once through phi^-1 o phi*. Data: " + source
        + ". The synthetic world's own image mechanism is itself a deformation of one template, so this world "
        + "favours the mechanism: on real scans, whose anatomy differs between subjects in ways no single smooth "
        + "warp of a template captures, expect less.";
  }

  private String brainCommand() {
    StringBuilder c = new StringBuilder("java -jar target/deepscm-explorer.jar train --dataset brain --out " + o.out
        + " --seed " + o.seed + " --epochs " + o.epochs + " --patience " + o.patience + " --lr " + o.learningRate
        + " --batch " + o.batch + " --image-epochs " + o.imageEpochs + " --image-lr " + o.imageLearningRate
        + " --image-batch " + o.imageBatch);
    if (o.data != null) {
      c.append(" --data ").append(o.data);
      if (o.sliceMm != null) {
        c.append(" --slice-mm ").append(o.sliceMm);
      }
    } else if (o.subjects != BrainDataset.DEFAULT_SIZE) {
      c.append(" --subjects ").append(o.subjects);
    }
    if (o.freshSubjects) {
      c.append(" --fresh-subjects");
    }
    if (o.imageInit != null) {
      c.append(" --image-init ").append(o.imageInit);
    }
    if (!o.imageKind.equals("vae")) {
      c.append(" --image-kind ").append(o.imageKind)
          .append(" --warp-smoothness ").append(o.warpSmoothness).append(" --warp-weight ").append(o.warpWeight)
          .append(" --subject-warp-weight ").append(o.subjectWarpWeight)
          .append(" --warp-grid ").append(o.warpGrid(32)).append(" --appearance-grid ")
          .append(o.appearanceGrid(16)).append(" --parent-modes ").append(o.parentModes(0))
          .append(o.composeWarps ? " --compose-warps" : "").append(o.gainFromParents ? " --gain-from-parents" : "");
    }
    c.append(o.fineTuningFlags());
    if (Double.isFinite(o.minutes)) {
      c.append(" --minutes ").append(o.minutes);
    }
    return c.toString();
  }

  private static String brainDescription(String source) {
    return "Brain model (Pawlowski, Castro and Glocker 2020, Appendix B), graph sex -> brain_volume <- age -> "
        + "ventricle_volume <- brain_volume, and brain_volume, ventricle_volume -> x. sex: Gumbel-max with a learned "
        + "logit; age: Spline(8 bins, bound 3) -> normalisation of log age -> exp; brain and ventricle volume (ml): "
        + "conditional affine with a context network (2 -> 8 -> 16, LeakyReLU 0.1) -> normalisation of log volume "
        + "-> exp. Image x (64 x 64 axial slice): encoder/decoder with two stride-2 scales (BrainModels), decoder "
        + "sees z and the two volumes, fixed log-variance -5 in logit space. Data: " + source + ".";
  }
}
