package org.deepscm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;
import org.deepscm.flow.ParameterSet;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.image.ImageData;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.VaeImageMechanism;
import org.deepscm.image.ImageNetworks;
import org.deepscm.image.ParentPredictor;

/**
 * Trains an {@link ImageMechanism} by maximising the ELBO (paper Eq. 3): minibatch Adam, K
 * particles, pixels dequantised with U(0, 1), batch norm in training mode.
 *
 * <p>Resumable: after every epoch a checkpoint holds the weights, the batch-norm running statistics,
 * Adam's moments and step count, and the history; {@link Options#resume} continues from it. The data
 * order and the random draws of an epoch depend only on (seed, epoch), so 3 + 3 resumed epochs give
 * the same weights as 6 straight ones.
 *
 * <p>With validation data the run keeps the epoch with the best validation ELBO (its weights are
 * checkpointed beside the last epoch's) and ends with those weights in the mechanism: the ELBO of a
 * small data set overfits, and the last epoch is often not the best.
 */
public final class ImageTrainer {

  /**
   * @param learningRate Adam step size (paper: 1e-4 for the image networks)
   * @param adamEpsilon Adam's epsilon (paper: 1e-5)
   * @param batchSize images per step (paper: 256)
   * @param particles ELBO particles per image (paper: 4)
   * @param epochs train until this many epochs are done in all (a resumed run counts the earlier ones)
   * @param checkpointDir where checkpoints go; null for none
   * @param resume continue from the checkpoint in {@code checkpointDir} when there is one
   */
  public record Options(double learningRate, double adamEpsilon, int batchSize, int particles, int epochs, long seed,
      Path checkpointDir, boolean resume, CounterfactualTerm counterfactual, double klWeight) {
    public Options(double learningRate, double adamEpsilon, int batchSize, int particles, int epochs, long seed,
        Path checkpointDir, boolean resume) {
      this(learningRate, adamEpsilon, batchSize, particles, epochs, seed, checkpointDir, resume, null, 1);
    }

    public Options {
      if (!(learningRate > 0) || !(adamEpsilon > 0) || batchSize < 2 || particles < 1 || epochs < 0) {
        throw new IllegalArgumentException("image training options need a positive learning rate and epsilon, "
            + "batch size >= 2 (batch norm), particles >= 1 and epochs >= 0");
      }
      if (!(klWeight > 0) || !Double.isFinite(klWeight)) {
        throw new IllegalArgumentException("the KL weight (beta) must be a positive number, got " + klWeight);
      }
    }

    /**
     * Trains on logp(x | z, pa) - beta KL(q(z | x, pa) || p(z)) (a beta-VAE); 1 is the ELBO. With the decoder's
     * fixed variance, beta > 1 is the same as a larger decoder variance: z is made to carry less, the parents
     * more. Validation and the best epoch stay on the ELBO itself.
     */
    public Options withKlWeight(double beta) {
      return new Options(learningRate, adamEpsilon, batchSize, particles, epochs, seed, checkpointDir, resume,
          counterfactual, beta);
    }

    /** The paper's settings for the given number of epochs. */
    public static Options paper(int epochs, long seed) {
      return new Options(1e-4, 1e-5, 256, 4, epochs, seed, null, false);
    }

    public Options withCheckpoints(Path dir, boolean resume) {
      return new Options(learningRate, adamEpsilon, batchSize, particles, epochs, seed, dir, resume, counterfactual,
          klWeight);
    }

    public Options withEpochs(int e) {
      return new Options(learningRate, adamEpsilon, batchSize, particles, e, seed, checkpointDir, resume,
          counterfactual, klWeight);
    }

    public Options withBatch(int b) {
      return new Options(learningRate, adamEpsilon, b, particles, epochs, seed, checkpointDir, resume, counterfactual,
          klWeight);
    }

    public Options withLearningRate(double lr) {
      return new Options(lr, adamEpsilon, batchSize, particles, epochs, seed, checkpointDir, resume, counterfactual,
          klWeight);
    }

    public Options withParticles(int k) {
      return new Options(learningRate, adamEpsilon, batchSize, k, epochs, seed, checkpointDir, resume, counterfactual,
          klWeight);
    }

    /** Counterfactual fine-tuning with this term (null: the plain ELBO). */
    public Options withCounterfactual(CounterfactualTerm term) {
      return new Options(learningRate, adamEpsilon, batchSize, particles, epochs, seed, checkpointDir, resume, term,
          klWeight);
    }
  }

  /**
   * Counterfactual fine-tuning (De Sousa Ribeiro et al., ICML 2023): each batch intervenes on one of
   * {@code intervened} (its values shuffled within the batch, the parents taken in turn), forms the
   * counterfactual as inference does (abduct z and the pixel noise, predict under pa*), and adds
   * {@code weight} x pixels x -log q(pa* | x*) of the frozen predictors to -ELBO: in nats per pixel,
   * the predictors' loss counts {@code weight} times as much as the ELBO's. Batch norm keeps its running
   * statistics throughout, as in inference, so the counterfactual trained is the one answered.
   *
   * <p>The predictors' targets are the image's parents pa* and, for each name in {@code preserved}, the
   * unit's own value (what no intervention on the parents changes, e.g. a Morpho-MNIST digit's class).
   *
   * <p>With {@code holdReconstruction} the reconstruction's pixel error is held where the starting model had it
   * ({@link ReconstructionHold}) instead of trading it freely against the predictors' loss.
   */
  public record CounterfactualTerm(ParentPredictor predictor, double weight, List<String> intervened,
      List<String> preserved, boolean holdReconstruction) {
    public CounterfactualTerm(ParentPredictor predictor, double weight, List<String> intervened) {
      this(predictor, weight, intervened, List.of());
    }

    public CounterfactualTerm(ParentPredictor predictor, double weight, List<String> intervened,
        List<String> preserved) {
      this(predictor, weight, intervened, preserved, false);
    }

    /** The same term with the reconstruction held by a Lagrange multiplier. */
    public CounterfactualTerm holdingReconstruction() {
      return new CounterfactualTerm(predictor, weight, intervened, preserved, true);
    }

    public CounterfactualTerm {
      if (!(weight >= 0) || intervened.isEmpty()) {
        throw new IllegalArgumentException("counterfactual fine-tuning needs a weight >= 0 and a parent to intervene on");
      }
      for (String p : intervened) {
        if (predictor.indexOf(p) < 0) {
          throw new IllegalArgumentException("counterfactual fine-tuning on '" + p + "' needs a predictor of it; "
              + "the predictors give " + predictor.targets().stream().map(ParentPredictor.Target::parent).toList());
        }
      }
      for (String p : preserved) {
        if (predictor.indexOf(p) < 0) {
          throw new IllegalArgumentException("counterfactual fine-tuning keeps '" + p + "' but no predictor gives it");
        }
      }
      intervened = List.copyOf(intervened);
      preserved = List.copyOf(preserved);
    }
  }

  /**
   * A Lagrange multiplier that holds the reconstruction's pixel error during counterfactual fine-tuning
   * where the starting model had it (a constraint, handled as GECO does: Rezende and Viola 2018, "Taming
   * VAEs"). The loss gains lambda x pixels x the reconstruction's mean absolute error (0..255); lambda
   * starts at 0, rises while the moving average of the batches' error is above the target and falls
   * back (not below 0) when it is under it. The ELBO is no guard here: its reconstruction term is in
   * logit space, where the dark background weighs most, and it can improve while the strokes' pixels
   * are reconstructed worse.
   *
   * <p>The target is what the starting model reconstructs once it has adapted to batch norm on its
   * running statistics (as fine-tuning and inference compute it; the model was trained on batch
   * statistics): the first {@link #WARMUP_STEPS} steps train on the ELBO alone, and the mean error of
   * their last half is the target. Measured before them, the target was loose: those steps alone
   * improve the reconstruction, which the predictors' loss could then spend.
   *
   * <p>The batches' error is one particle's; what {@code evaluate} reports ({@code recon_mae}) is the error
   * of the mean over 32 particles, which can grow while the one-particle error falls (a wider posterior
   * blurs the mean). So after each epoch the 32-particle error is measured on a seeded sample of the
   * validation images and the batches' target moves by its distance from the starting model's (an outer
   * loop); an epoch whose 32-particle error is above the starting model's is not kept as the best.
   */
  public static final class ReconstructionHold {
    /** Steps on the ELBO alone before the hold starts. */
    static final int WARMUP_STEPS = 100;
    /** Step of lambda per grey level of the averaged excess, per step. */
    static final double RATE = 0.1;
    /** Weight of the newest batch in the moving average of the excess. */
    static final double SMOOTHING = 0.05;
    /** Tolerance of the best-epoch check on the validation error, grey levels. */
    static final double VALIDATION_TOLERANCE = 0.02;

    /** The mean absolute pixel error on training batches to hold, as a fine-tuning step computes it (NaN: warming up). */
    double target;
    /**
     * The starting model's reconstruction error as {@code recon_mae} measures it (the mean over 32 particles), on
     * the validation sample, or NaN without validation data or before it is known.
     */
    double validationTarget;
    /** Validation images measured ({@link #VALIDATION_SAMPLE} at most, a seeded sample). */
    static final int VALIDATION_SAMPLE = 1000;
    double lambda;
    double gap;
    /** Warm-up steps done, and the sum of the errors of the second half of them. */
    int warmupDone;
    double warmupSum;

    ReconstructionHold(double target, double validationTarget) {
      this.target = target;
      this.validationTarget = validationTarget;
      this.warmupDone = Double.isNaN(target) ? 0 : WARMUP_STEPS;
    }

    /** A hold that first warms up ({@link #WARMUP_STEPS} steps on the ELBO alone) and then takes its target. */
    static ReconstructionHold afterWarmup() {
      return new ReconstructionHold(Double.NaN, Double.NaN);
    }

    boolean warmingUp() {
      return warmupDone < WARMUP_STEPS;
    }

    void observe(double pixelError) {
      if (!Double.isFinite(pixelError)) {
        return;
      }
      if (warmingUp()) {
        warmupDone++;
        if (warmupDone > WARMUP_STEPS / 2) {
          warmupSum += pixelError;
        }
        if (!warmingUp()) {
          target = warmupSum / (WARMUP_STEPS - WARMUP_STEPS / 2);
        }
        return;
      }
      gap = (1 - SMOOTHING) * gap + SMOOTHING * (pixelError - target);
      lambda = Math.max(0, lambda + RATE * gap);
    }

    /** Whether a validation reconstruction error (32 particles) is no worse than the starting model's. */
    boolean holds(double validationReconstructionError) {
      return Double.isNaN(validationTarget)
          || validationReconstructionError <= validationTarget + VALIDATION_TOLERANCE;
    }

    /**
     * After an epoch: the batches' target moves by the validation error's distance from the starting model's,
     * down when the 32-particle reconstruction got worse, up when it has room.
     */
    void correct(double validationReconstructionError) {
      if (!warmingUp() && Double.isFinite(validationTarget) && Double.isFinite(validationReconstructionError)) {
        target += validationTarget - validationReconstructionError;
      }
    }

    JsonObject toJson() {
      JsonObject o = new JsonObject();
      o.addProperty("target", target);
      o.addProperty("validation_recon_mae", validationTarget);
      o.addProperty("lambda", lambda);
      o.addProperty("gap", gap);
      o.addProperty("warmup_done", warmupDone);
      o.addProperty("warmup_sum", warmupSum);
      return o;
    }

    static ReconstructionHold fromJson(JsonObject o) {
      // a checkpoint from before the 32-particle measure: its validation target is measured again
      ReconstructionHold h = new ReconstructionHold(number(o, "target"), number(o, "validation_recon_mae"));
      h.lambda = o.get("lambda").getAsDouble();
      h.gap = o.get("gap").getAsDouble();
      if (o.has("warmup_done")) {
        h.warmupDone = o.get("warmup_done").getAsInt();
        h.warmupSum = o.get("warmup_sum").getAsDouble();
      }
      return h;
    }

    private static double number(JsonObject o, String key) {
      return !o.has(key) || o.get(key).isJsonNull() ? Double.NaN : o.get(key).getAsDouble();
    }
  }

  /**
   * What a run did; {@code history} rows are {epoch, mean train ELBO per image, mean validation ELBO
   * per image (NaN without validation data), seconds so far}.
   */
  public record Result(int epochs, double seconds, boolean cancelled, List<double[]> history, int bestEpoch,
      double bestValidationElbo, List<double[]> runs) {

    /** The runs as text, e.g. "epochs 1-48: lr 0.001, batch 64; epochs 49-70: lr 0.0003, batch 64". */
    public String schedule() {
      StringBuilder b = new StringBuilder();
      for (double[] r : runs) {
        if (r[1] <= r[0]) {
          continue;
        }
        b.append(b.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "epochs %d-%d: lr %s, batch %d",
            (int) r[0] + 1, (int) r[1], Double.isNaN(r[2]) ? "?" : String.valueOf(r[2]), (int) r[3]));
        if (r.length > 4) {
          b.append(String.format(Locale.ROOT, ", %d images an epoch", (int) r[4]));
        }
      }
      return b.toString();
    }
  }

  public static final String STATE_FILE = "image-checkpoint.json";
  public static final String WEIGHTS_FILE = "image-checkpoint.safetensors";
  /** The weights and running statistics of the best validation epoch so far. */
  public static final String BEST_FILE = "image-best.safetensors";
  private static final Gson GSON = new com.google.gson.GsonBuilder().serializeSpecialFloatingPointValues().create();
  /** A progress message every this many steps. */
  private static final int REPORT_EVERY = 20;

  /**
   * Trains {@code m} in place for {@code o.epochs()} epochs in all. The listener hears the negative
   * ELBO per image as "NLL" (an upper bound on it) and can cancel between steps; a cancelled epoch is
   * not checkpointed, so a resume repeats it.
   *
   * @param validation evaluated (4 particles, no dequantisation) after each epoch; may be null
   */
  public Result train(VaeImageMechanism m, ImageData train, ImageData validation, Options o, TrainingListener listener)
      throws IOException {
    return train(m, epoch -> train, validation, o, listener);
  }

  /**
   * As {@link #train(ImageMechanism, ImageData, ImageData, Options, TrainingListener)}, with each epoch's
   * training data from {@code trainForEpoch} (epochs count from 1): fresh draws of a synthetic world
   * every epoch. It must give the same data for the same epoch, so that a resumed run repeats it.
   */
  public Result train(VaeImageMechanism m, java.util.function.IntFunction<ImageData> trainForEpoch,
      ImageData validation, Options o, TrainingListener listener) throws IOException {
    ParameterSet weights = m.weights();
    NDManager root = weights.manager();
    try (NDManager optimiserManager = root.newSubManager()) {
      Adam adam = new Adam(optimiserManager, o.learningRate(), o.adamEpsilon());
      int done = 0;
      double secondsBefore = 0;
      List<double[]> history = new ArrayList<>();
      Path ck = o.checkpointDir();
      int bestEpoch = 0;
      double bestElbo = Double.NaN;
      NDList best = null; // kept in memory too, so a run without a checkpoint folder can restore it
      // {first epoch before the run, last epoch, learning rate, batch size, images an epoch} of each run
      List<double[]> runs = new ArrayList<>();
      ReconstructionHold hold = null;
      boolean holdAnnounced = false;
      if (o.resume() && ck != null && Files.isRegularFile(ck.resolve(STATE_FILE))) {
        JsonObject state = GSON.fromJson(Files.readString(ck.resolve(STATE_FILE)), JsonObject.class);
        done = state.get("epoch").getAsInt();
        if (state.has("reconstruction_hold")) {
          hold = ReconstructionHold.fromJson(state.getAsJsonObject("reconstruction_hold"));
        }
        secondsBefore = state.get("seconds").getAsDouble();
        state.getAsJsonArray("history").forEach(h -> history.add(GSON.fromJson(h, double[].class)));
        if (state.has("runs")) {
          state.getAsJsonArray("runs").forEach(r -> runs.add(GSON.fromJson(r, double[].class)));
        } else {
          runs.add(new double[] {0, done, Double.NaN, Double.NaN});
        }
        try (NDManager tmp = NDManager.newBaseManager(); InputStream in = Files.newInputStream(ck.resolve(WEIGHTS_FILE))) {
          NDList saved = NDList.decode(tmp, in);
          m.restore(saved, "checkpoint " + ck);
          adam.restore(saved);
        }
        listener.message("resumed from " + ck + " after epoch " + done);
        if (validation != null) {
          if (state.has("best_epoch") && Files.isRegularFile(ck.resolve(BEST_FILE))) {
            bestEpoch = state.get("best_epoch").getAsInt();
            bestElbo = state.get("best_validation_elbo").getAsDouble();
            try (InputStream in = Files.newInputStream(ck.resolve(BEST_FILE))) {
              best = NDList.decode(optimiserManager, in);
            }
          } else if (!history.isEmpty()) {
            // a checkpoint from before best-epoch tracking: its last epoch is the best known
            bestEpoch = done;
            bestElbo = history.get(history.size() - 1)[2];
            best = m.snapshot(optimiserManager);
          }
        }
      }
      long started = System.nanoTime();
      boolean cancelled = false;
      int epoch = done;
      ImageData train = trainForEpoch.apply(done + 1);
      // the validation images a reconstruction hold measures: the same seeded sample every epoch
      int[] holdRows = validation == null ? null
          : sample(validation.n(), ReconstructionHold.VALIDATION_SAMPLE, o.seed());
      double[] run = {done, done, o.learningRate(), o.batchSize(), train.n()};
      runs.add(run);
      if (hold == null && o.counterfactual() != null && o.counterfactual().holdReconstruction()) {
        hold = ReconstructionHold.afterWarmup();
        listener.message("the first " + ReconstructionHold.WARMUP_STEPS + " steps train on the ELBO alone (batch "
            + "norm on its running statistics); their reconstruction is then held");
      }
      while (epoch < o.epochs()) {
        int current = epoch + 1;
        if (current > done + 1) {
          train = trainForEpoch.apply(current);
        }
        // data order and random draws depend only on (seed, epoch): a resumed run repeats them
        Engine.getInstance().setRandomSeed((int) (o.seed() * 7919 + current));
        int[] order = shuffled(train.n(), o.seed() * 1_000_003L + current);
        Random interventions = new Random(o.seed() * 1_000_037L + current);
        int steps = order.length / o.batchSize();
        if (steps == 0) {
          throw new IllegalArgumentException(
              "image training needs at least one full batch: " + train.n() + " images, batch " + o.batchSize());
        }
        double sum = 0;
        int seen = 0;
        int skipped = 0;
        // the last incomplete batch is dropped (batch norm needs full, equal batches)
        for (int s = 0; s < steps; s++) {
          if (listener.cancelled()) {
            cancelled = true;
            break;
          }
          int[] rows = Arrays.copyOfRange(order, s * o.batchSize(), (s + 1) * o.batchSize());
          double elbo = o.counterfactual() == null ? step(m, adam, train, rows, o.particles(), o.klWeight())
              : counterfactualStep(m, adam, train, rows, o.particles(), o.counterfactual(), s, interventions,
                  o.klWeight(), hold);
          if (hold != null && !hold.warmingUp() && Double.isNaN(hold.validationTarget) && validation != null) {
            // the warm-up has just ended: the validation images' error to hold too
            hold.validationTarget = reconstructionError(m, validation, holdRows, o.seed());
          }
          if (hold != null && !hold.warmingUp() && !holdAnnounced) {
            holdAnnounced = true;
            listener.message(String.format(Locale.ROOT, "holding the reconstruction's pixel error at %.3f on "
                + "training batches%s", hold.target, Double.isNaN(hold.validationTarget) || holdRows == null ? ""
                : String.format(Locale.ROOT, "; on %d validation images the 32-particle reconstruction's error "
                    + "(as recon_mae) is %.3f", holdRows.length, hold.validationTarget)));
          }
          if (!Double.isFinite(elbo)) {
            // the step left the weights alone; a run of such steps means divergence
            skipped++;
            listener.message("epoch " + current + ", step " + (s + 1) + ": non-finite ELBO or gradient, step skipped");
            if (skipped > Math.max(3, steps / 10)) {
              throw new IllegalStateException("image training diverged: " + skipped + " steps of epoch " + current
                  + " had a non-finite ELBO or gradient; try a lower learning rate");
            }
            continue;
          }
          sum += elbo * rows.length;
          seen += rows.length;
          if ((s + 1) % REPORT_EVERY == 0 && s + 1 < steps) {
            listener.message(String.format(Locale.ROOT, "epoch %d: step %d/%d, ELBO %.2f, %.1f s%s", current, s + 1,
                steps, sum / seen, secondsBefore + (System.nanoTime() - started) / 1e9, hold == null ? ""
                : String.format(Locale.ROOT, ", reconstruction weight %.3f (pixel error %+.3f from the held value)",
                    hold.lambda, hold.gap)));
          }
        }
        if (cancelled) {
          break;
        }
        epoch = current;
        run[1] = epoch;
        double trainElbo = sum / seen;
        double valElbo;
        boolean eligible = true;
        if (validation == null) {
          valElbo = Double.NaN;
        } else if (o.counterfactual() == null) {
          valElbo = evaluate(m, validation, ImageMechanism.ELBO_PARTICLES);
        } else {
          double[] parts = evaluateCounterfactual(m, validation, o.particles(), o.counterfactual(), o.seed());
          valElbo = parts[0];
          listener.message(String.format(Locale.ROOT, "epoch %d: validation ELBO %.2f, predictors' -log q(pa* | x*) "
              + "%.4f, objective %.2f, reconstruction's pixel error %.3f", current, parts[1], parts[2], parts[0],
              parts[3]));
          if (hold != null && !hold.warmingUp()) {
            if (Double.isNaN(hold.validationTarget)) {
              hold.validationTarget = reconstructionError(m, validation, holdRows, o.seed());
            }
            double recon = reconstructionError(m, validation, holdRows, o.seed());
            hold.correct(recon);
            listener.message(String.format(Locale.ROOT, "epoch %d: 32-particle reconstruction error %.3f on %d "
                + "validation images (held at %.3f); training batches now held at %.3f", current, recon,
                holdRows.length, hold.validationTarget, hold.target));
            if (!hold.holds(recon)) {
              // not a candidate for the best epoch: it bought its objective with reconstruction
              listener.message(String.format(Locale.ROOT, "epoch %d: the reconstruction is worse than the starting "
                  + "model's (%.3f > %.3f); not kept as the best epoch", current, recon, hold.validationTarget));
              eligible = false;
            }
          }
        }
        double seconds = secondsBefore + (System.nanoTime() - started) / 1e9;
        history.add(new double[] {epoch, trainElbo, valElbo, seconds});
        boolean improved = validation != null && eligible && Double.isFinite(valElbo) && !(valElbo <= bestElbo);
        if (improved) {
          if (best != null) {
            best.close();
          }
          best = m.snapshot(optimiserManager);
          bestEpoch = epoch;
          bestElbo = valElbo;
        }
        listener.epochEnded(epoch, o.epochs(), -trainElbo, -valElbo, improved, seconds);
        if (ck != null) {
          writeCheckpoint(ck, m, adam, epoch, seconds, history, runs, improved ? best : null, bestEpoch, bestElbo, hold);
        }
        if (validation != null && !Double.isFinite(valElbo)) {
          // non-finite weights or batch-norm statistics do not recover: stop, keep the best epoch
          listener.message(String.format(Locale.ROOT, "epoch %d: the validation ELBO is %s; training stops here and "
              + "keeps the best epoch; a lower --image-lr may help", epoch, valElbo));
          break;
        }
      }
      if (hold != null && best == null && validation != null && epoch > done) {
        listener.message("no epoch held the reconstruction at the starting model's; the last epoch is kept");
      }
      if (best != null && bestEpoch != epoch) {
        m.restore(best, "the best epoch's weights (" + bestEpoch + ")");
        listener.message(String.format(Locale.ROOT, "kept epoch %d, the best validation ELBO (%.2f)", bestEpoch,
            bestElbo));
      }
      return new Result(epoch, secondsBefore + (System.nanoTime() - started) / 1e9, cancelled, history,
          best == null ? epoch : bestEpoch, bestElbo, runs);
    }
  }

  /**
   * One Adam step on the given rows: returns the mean ELBO per image of the batch (before the step),
   * or NaN when the loss or a gradient is not finite (then the weights are left alone; the batch-norm
   * running statistics have already moved).
   */
  public static double step(VaeImageMechanism m, Adam adam, ImageData data, int[] rows, int particles) {
    return step(m, adam, data, rows, particles, 1);
  }

  /** As above on the beta-weighted bound ({@link Options#withKlWeight}); returns it, not the ELBO, for beta != 1. */
  public static double step(VaeImageMechanism m, Adam adam, ImageData data, int[] rows, int particles, double klWeight) {
    ImageArchitecture a = m.architecture();
    ParameterSet weights = m.weights();
    float[] px = new float[rows.length * data.pixelsPerImage()];
    data.gather(rows, px);
    float[] ctx = m.contextRows(data, rows);
    return descend(weights, adam, scope -> {
      NDArray x = scope.create(px, new Shape(rows.length, a.channels(), a.height(), a.width()));
      NDArray c = m.contextArray(scope, ctx, rows.length);
      return m.elboTerms(m.networks().training(scope), x, c, particles, true, true, klWeight).mean().neg();
    });
  }

  /**
   * Zeroes the gradients, computes the loss in a fresh scope under a gradient collector, and takes one
   * Adam step when the loss and every gradient are finite; returns -loss (before the step) or NaN, in
   * which case the weights are left alone.
   */
  private static double descend(ParameterSet weights, Adam adam, Function<NDManager, NDArray> lossIn) {
    weights.zeroGradients();
    try (NDManager scope = weights.manager().newSubManager()) {
      double value;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray loss = lossIn.apply(scope);
        gc.backward(loss);
        value = -loss.getFloat();
      }
      if (!Double.isFinite(value)) {
        return Double.NaN;
      }
      for (NDArray p : weights.all().values()) {
        NDArray g;
        try (NDArray raw = p.getGradient()) {
          g = scope.zeros(p.getShape()).add(raw);
        }
        if (!Float.isFinite(g.sum().getFloat())) {
          return Double.NaN;
        }
      }
      adam.step(weights);
      return value;
    }
  }

  /**
   * One counterfactual fine-tuning step ({@link CounterfactualTerm}); returns the batch's objective per
   * image, ELBO - weight x pixels x -log q(pa* | x*), before the step, or NaN when it or a gradient is
   * not finite (then the weights are left alone).
   *
   * @param stepIndex picks the intervened parent in turn
   */
  public static double counterfactualStep(VaeImageMechanism m, Adam adam, ImageData data, int[] rows, int particles,
      CounterfactualTerm term, int stepIndex, Random random) {
    return counterfactualStep(m, adam, data, rows, particles, term, stepIndex, random, 1, null);
  }

  /**
   * As above with the ELBO's KL term weighted by {@code klWeight} (beta) and, when {@code hold} is not
   * null, the reconstruction term weighted by its multiplier, which this step's batch then updates; the
   * objective returned is the one without the multiplier.
   */
  public static double counterfactualStep(VaeImageMechanism m, Adam adam, ImageData data, int[] rows, int particles,
      CounterfactualTerm term, int stepIndex, Random random, double klWeight, ReconstructionHold hold) {
    ParameterSet weights = m.weights();
    float[] px = new float[rows.length * data.pixelsPerImage()];
    data.gather(rows, px);
    Batch b = counterfactualBatch(m, data, rows, term, term.intervened().get(stepIndex % term.intervened().size()),
        random);
    double lambda = hold == null ? 0 : hold.lambda;
    // warming up: the ELBO alone
    double predictorWeight = hold != null && hold.warmingUp() ? 0 : term.weight();
    double[] reconstruction = {Double.NaN};
    double value = descend(weights, adam, scope -> {
      NDArray[] parts = counterfactualLoss(m, m.networks().training(scope), scope, px, rows.length, b, particles,
          term, true, klWeight, lambda, predictorWeight);
      reconstruction[0] = parts[3].getFloat();
      return parts[0];
    });
    if (hold == null || !Double.isFinite(value)) {
      return value;
    }
    hold.observe(reconstruction[0]);
    // the objective as without the multiplier, so that epochs stay comparable whatever lambda was
    return value + lambda * reconstruction[0] * m.architecture().pixels();
  }

  /** The encoded parents of a batch and of its counterfactual, and the predictors' targets (pa*) with their mask. */
  record Batch(float[] context, float[] counterfactualContext, float[] targets, float[] mask) {}

  /** A batch's parents and, with {@code intervened} shuffled within it, its counterfactual parents and targets. */
  static Batch counterfactualBatch(org.deepscm.image.ImageMechanism m, ImageData data, int[] rows,
      CounterfactualTerm term,
      String intervened, Random random) {
    int[] shuffled = rows.clone();
    for (int i = shuffled.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = shuffled[i];
      shuffled[i] = shuffled[j];
      shuffled[j] = t;
    }
    float[] ctx = m.contextRows(data, rows);
    float[] ctxShuffled = m.contextRows(data, shuffled);
    float[] ctxStar = ctx.clone();
    int p = m.context().size();
    for (int j = 0; j < p; j++) {
      if (m.context().get(j).parent().equals(intervened)) {
        for (int r = 0; r < rows.length; r++) {
          ctxStar[r * p + j] = ctxShuffled[r * p + j];
        }
      }
    }
    ParentPredictor pred = term.predictor();
    int t = pred.targets().size();
    float[] targets = new float[rows.length * t];
    float[] mask = new float[t];
    for (int k = 0; k < t; k++) {
      ParentPredictor.Target target = pred.targets().get(k);
      // the image's own parents are pa*; others (age, sex) reach the image only through them and are left
      // out, but for those the term preserves (their own values)
      boolean counted = m.parents().contains(target.parent()) || term.preserved().contains(target.parent());
      mask[k] = counted ? 1 : 0;
      double[] col = data.parents().get(target.parent());
      if (col == null) {
        if (counted) {
          throw new IllegalArgumentException("counterfactual fine-tuning counts '" + target.parent()
              + "', but the training images have no values of it");
        }
        continue;
      }
      for (int r = 0; r < rows.length; r++) {
        int row = target.parent().equals(intervened) ? shuffled[r] : rows[r];
        targets[r * t + k] = (float) target.encode(col[row]);
      }
    }
    return new Batch(ctx, ctxStar, targets, mask);
  }

  /**
   * {-objective (mean over the batch), ELBO (mean), -log q(pa* | x*) (mean), the reconstruction's mean
   * absolute pixel error}, all scalars in {@code scope}; the loss adds {@code reconstructionWeight} x pixels x
   * that error (0: none) and counts the predictors' term {@code predictorWeight} times (the term's weight;
   * 0 while a hold warms up).
   */
  private static NDArray[] counterfactualLoss(VaeImageMechanism m, Function<String, NDArray> w, NDManager scope,
      float[] px, int n, Batch b, int particles, CounterfactualTerm term, boolean dequantise, double klWeight,
      double reconstructionWeight, double predictorWeight) {
    ImageArchitecture a = m.architecture();
    NDArray x = scope.create(px, new Shape(n, a.channels(), a.height(), a.width()));
    NDArray c = m.contextArray(scope, b.context(), n);
    NDArray cStar = m.contextArray(scope, b.counterfactualContext(), n);
    NDList terms = m.counterfactualTrainingTerms(w, x, c, cStar, particles, dequantise, klWeight);
    ParentPredictor pred = term.predictor();
    NDArray out = pred.forward(pred.weights()::get, terms.get(1));
    NDArray targets = VaeImageMechanism.tileRows(scope.create(b.targets(), new Shape(n, pred.targets().size())),
        particles);
    NDArray nll = pred.negativeLogLikelihood(out, targets, b.mask()).mean();
    NDArray elbo = terms.get(0).mean();
    NDArray pixelError = terms.get(2).mean();
    NDArray loss = elbo.neg().add(nll.mul((float) (predictorWeight * a.pixels())));
    if (reconstructionWeight != 0) {
      loss = loss.add(pixelError.mul((float) (reconstructionWeight * a.pixels())));
    }
    return new NDArray[] {loss, elbo, nll, pixelError};
  }

  /**
   * The fine-tuning objective on a data set, {objective, ELBO, -log q(pa* | x*)} per image and the
   * reconstruction's mean absolute pixel error, each parent
   * of the term intervened on in turn (chunk by chunk) with a fixed seed: comparable between epochs.
   */
  public static double[] evaluateCounterfactual(VaeImageMechanism m, ImageData data, int particles,
      CounterfactualTerm term, long seed) {
    double[] sum = new double[4];
    int chunk = 128;
    Random random = new Random(seed * 7 + 1);
    int seen = 0;
    try (NDManager scope = NDManager.newBaseManager()) {
      int k = 0;
      // a shuffle needs two units: a last chunk of one is left out (and not counted)
      for (int from = 0; from + 2 <= data.n(); from += chunk, k++) {
        int to = Math.min(data.n(), from + chunk);
        int[] rows = new int[to - from];
        for (int r = 0; r < rows.length; r++) {
          rows[r] = from + r;
        }
        float[] px = new float[rows.length * data.pixelsPerImage()];
        data.gather(rows, px);
        Batch b = counterfactualBatch(m, data, rows, term, term.intervened().get(k % term.intervened().size()),
            random);
        try (NDManager batch = scope.newSubManager()) {
          // validation on the ELBO itself (beta 1), whatever beta training uses
          NDArray[] r = counterfactualLoss(m, m.networks().inference(), batch, px, rows.length, b, particles, term,
              false, 1, 0, term.weight());
          sum[0] += -r[0].getFloat() * rows.length;
          sum[1] += r[1].getFloat() * rows.length;
          sum[2] += r[2].getFloat() * rows.length;
          sum[3] += r[3].getFloat() * rows.length;
          seen += rows.length;
        }
      }
    }
    for (int j = 0; j < 4; j++) {
      sum[j] /= Math.max(1, seen);
    }
    return sum;
  }

  /**
   * The reconstruction's mean absolute pixel error (0..255) as {@code evaluate} reports it ({@code recon_mae}:
   * the mean over 32 particles, evaluation mode) on some images of a data set; the particles' draws are seeded,
   * so that epochs compare on the same draws.
   */
  public static double reconstructionError(VaeImageMechanism m, ImageData data, int[] rows, long seed) {
    ImageArchitecture a = m.architecture();
    Engine.getInstance().setRandomSeed((int) (seed * 31 + 17));
    double sum = 0;
    long count = 0;
    int chunk = 100;
    try (NDManager scope = NDManager.newBaseManager()) {
      for (int from = 0; from < rows.length; from += chunk) {
        int[] part = Arrays.copyOfRange(rows, from, Math.min(rows.length, from + chunk));
        float[] px = new float[part.length * data.pixelsPerImage()];
        data.gather(part, px);
        try (NDManager batch = scope.newSubManager()) {
          NDArray x = batch.create(px, new Shape(part.length, a.channels(), a.height(), a.width()));
          NDArray r = m.reconstruct(batch, x, data, part, ImageMechanism.DEFAULT_PARTICLES);
          sum += r.sub(x).abs().sum().toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
          count += px.length;
        }
      }
    }
    return sum / count;
  }

  /** At most {@code k} of the rows 0..n-1, a seeded random choice in increasing order (not the first k). */
  static int[] sample(int n, int k, long seed) {
    int[] all = shuffled(n, seed * 1_000_081L + 5);
    int[] out = Arrays.copyOf(all, Math.min(n, k));
    Arrays.sort(out);
    return out;
  }

  /** Mean ELBO per image over a data set (evaluation mode, no dequantisation), in chunks of 256. */
  public static double evaluate(VaeImageMechanism m, ImageData data, int particles) {
    ImageArchitecture a = m.architecture();
    double sum = 0;
    int chunk = 256;
    try (NDManager scope = NDManager.newBaseManager()) {
      for (int from = 0; from < data.n(); from += chunk) {
        int to = Math.min(data.n(), from + chunk);
        int[] rows = new int[to - from];
        for (int k = 0; k < rows.length; k++) {
          rows[k] = from + k;
        }
        float[] px = new float[rows.length * data.pixelsPerImage()];
        data.gather(rows, px);
        try (NDManager batch = scope.newSubManager()) {
          NDArray x = batch.create(px, new Shape(rows.length, a.channels(), a.height(), a.width()));
          NDArray elbo = m.elboTerms(m.networks().inference(), x,
              m.contextArray(batch, m.contextRows(data, rows), rows.length), particles, false, false);
          sum += elbo.sum().getFloat();
        }
      }
    }
    return sum / data.n();
  }

  /** Prints each epoch (ELBO per image, seconds) and every progress message to {@code out}. */
  public static TrainingListener printing(PrintStream out) {
    return new TrainingListener() {
      @Override
      public void epochEnded(int epoch, int maxEpochs, double trainNll, double validationNll, boolean best,
          double seconds) {
        out.printf(Locale.ROOT, "epoch %d/%d  train ELBO %.2f%s  %.1f s%n", epoch, maxEpochs, -trainNll,
            Double.isNaN(validationNll) ? "" : String.format(Locale.ROOT, "  validation ELBO %.2f", -validationNll),
            seconds);
      }

      @Override
      public void message(String text) {
        out.println(text);
      }
    };
  }

  static int[] shuffled(int n, long seed) {
    int[] idx = new int[n];
    Arrays.setAll(idx, k -> k);
    Random r = new Random(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx;
  }

  private static void writeCheckpoint(Path dir, VaeImageMechanism m, Adam adam, int epoch, double seconds,
      List<double[]> history, List<double[]> runs, NDList newBest, int bestEpoch, double bestElbo,
      ReconstructionHold hold) throws IOException {
    Files.createDirectories(dir);
    if (newBest != null) {
      Path part = dir.resolve(BEST_FILE + ".tmp");
      try (OutputStream out = Files.newOutputStream(part)) {
        newBest.encode(out, NDList.Encoding.SAFETENSORS);
      }
      Files.move(part, dir.resolve(BEST_FILE), StandardCopyOption.REPLACE_EXISTING);
    }
    try (NDManager tmp = NDManager.newBaseManager()) {
      NDList all = m.snapshot(tmp);
      all.addAll(adam.state(tmp));
      Path file = dir.resolve(WEIGHTS_FILE);
      Path part = dir.resolve(WEIGHTS_FILE + ".tmp");
      try (OutputStream out = Files.newOutputStream(part)) {
        all.encode(out, NDList.Encoding.SAFETENSORS);
      }
      Files.move(part, file, StandardCopyOption.REPLACE_EXISTING);
    }
    JsonObject state = new JsonObject();
    state.addProperty("epoch", epoch);
    state.addProperty("seconds", seconds);
    state.add("history", GSON.toJsonTree(history));
    state.add("runs", GSON.toJsonTree(runs));
    if (bestEpoch > 0) {
      state.addProperty("best_epoch", bestEpoch);
      state.addProperty("best_validation_elbo", bestElbo);
    }
    if (hold != null) {
      state.add("reconstruction_hold", hold.toJson());
    }
    Path part = dir.resolve(STATE_FILE + ".tmp");
    Files.writeString(part, GSON.toJson(state), StandardCharsets.UTF_8);
    Files.move(part, dir.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING);
  }
}
