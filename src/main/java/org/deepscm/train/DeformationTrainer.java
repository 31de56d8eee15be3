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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.deepscm.flow.ParameterSet;
import org.deepscm.flow.Scalars;
import org.deepscm.image.DeformationMechanism;
import org.deepscm.image.ImageData;
import org.deepscm.image.LogitPreprocessing;
import org.deepscm.image.ParentPredictor;
import org.deepscm.image.VaeImageMechanism;
import org.deepscm.image.Warp;

/**
 * Fits a {@link DeformationMechanism} by maximising its ELBO minus priors on the warp (conditional templates,
 * Dalca et al. 2019): the parents' velocity pays its bending energy (second derivatives: a pure scaling or
 * shift is free, so the parents can grow or shrink a structure all the way) or, as an ablation, its first
 * derivatives; the subject's velocity pays its first derivatives and size (the case's own shape stays small
 * and smooth, so the parents carry their effect); the parents' mean velocity over a batch pays its size (the
 * template stays central). Resumable from checkpoints; stops at an epoch end past the time budget.
 */
public final class DeformationTrainer {
  public static final String STATE_FILE = "deformation-checkpoint.json";
  public static final String WEIGHTS_FILE = "deformation-checkpoint.safetensors";
  public static final String BEST_FILE = "deformation-best.safetensors";
  private static final Gson GSON = new Gson();

  /** How the parents' velocity is kept smooth. */
  public enum Smoothness {
    BENDING, GRADIENT;

    public static Smoothness parse(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "bending" -> BENDING;
        case "gradient" -> GRADIENT;
        default -> throw new IllegalArgumentException("warp smoothness must be 'bending' or 'gradient'; got '" + s
            + "'");
      };
    }
  }

  /**
   * @param parentSmoothness weight of the parents' velocity penalty, per pixel, against the image's
   *     log-likelihood per pixel
   * @param subjectSmoothness weight of the subject's velocity penalty (first derivatives plus 0.01 x size)
   */
  public record Options(int epochs, int batch, double learningRate, int particles, double minutes,
      Smoothness smoothness, double parentSmoothness, double subjectSmoothness, double centring, long seed,
      Path checkpoints, boolean resume, ImageTrainer.CounterfactualTerm counterfactual) {
    public Options(int epochs, int batch, double learningRate, int particles, double minutes, Smoothness smoothness,
        double parentSmoothness, double subjectSmoothness, double centring, long seed, Path checkpoints,
        boolean resume) {
      this(epochs, batch, learningRate, particles, minutes, smoothness, parentSmoothness, subjectSmoothness, centring,
          seed, checkpoints, resume, null);
    }

    /**
     * The same options with a counterfactual term (null: none): each step also shuffles one parent of the
     * image within the batch (the term's parents in turn) and adds the weight times the frozen predictors'
     * -log q(pa* | x*) of the counterfactual images, nats per pixel, to the loss (De Sousa Ribeiro et al.
     * 2023). Here it trains from the start: the warp has no other reason to carry a parent that z could carry.
     */
    public Options withCounterfactual(ImageTrainer.CounterfactualTerm term) {
      return new Options(epochs, batch, learningRate, particles, minutes, smoothness, parentSmoothness,
          subjectSmoothness, centring, seed, checkpoints, resume, term);
    }

    public Options {
      if (epochs < 1 || batch < 2 || !(learningRate > 0) || particles < 1 || !(minutes > 0)
          || !(parentSmoothness >= 0) || !(subjectSmoothness >= 0) || !(centring >= 0)) {
        throw new IllegalArgumentException("deformation training needs epochs >= 1, batch >= 2, positive learning "
            + "rate, particles and minutes, and non-negative penalty weights");
      }
    }
  }

  public record Result(int epochs, int bestEpoch, double bestValidationElbo, double seconds, boolean cancelled) {}

  /** Sets the template to the training images' mean (before the first step). */
  public static void initTemplate(DeformationMechanism m, ImageData data) {
    int px = data.pixelsPerImage();
    float[] mean = new float[px];
    float[] all = data.pixels();
    for (int u = 0; u < data.n(); u++) {
      for (int k = 0; k < px; k++) {
        mean[k] += all[u * px + k];
      }
    }
    for (int k = 0; k < px; k++) {
      mean[k] /= data.n();
    }
    m.setTemplate(mean);
  }

  /** Whether the template is still all zeros (fresh weights, not yet set or trained). */
  static boolean templateIsBlank(DeformationMechanism m) {
    NDArray t = m.weights().get(m.variable().name() + ".app.template");
    try (NDArray abs = t.abs(); NDArray sum = abs.sum()) {
      return sum.getFloat() == 0;
    }
  }

  /**
   * Clips a step's gradients to a multiple of their recent norm, a guard against one step throwing the weights
   * far: a resumed brain run (Adam at 3e-4) went from its best fit to an ELBO 8 times worse within one epoch
   * (epoch 36) and did not recover; its cause was not found (the same run from scratch, with this guard, never
   * needed it in 60 epochs). Limited to {@link #LIMIT} times the running mean of the norms before it, a step
   * moves the weights no further than an ordinary one.
   */
  public static final class GradientClip {
    /** How far above the running mean a norm may go before it is scaled down. */
    static final double LIMIT = 5;
    /** Steps measured before any clipping (the first norms fall fast as the template settles). */
    static final int WARM_UP = 50;
    private double mean;
    private long steps;
    private long clipped;

    /** The factor for a gradient of this norm (1: unchanged); updates the running mean with what is kept. */
    double factor(double norm) {
      steps++;
      double f = 1;
      if (steps > WARM_UP && norm > LIMIT * mean) {
        f = LIMIT * mean / norm;
        clipped++;
      }
      double kept = norm * f;
      // quick to forget during the warm-up (the first norms are the largest), slow after it
      double keep = steps <= WARM_UP ? 0.9 : 0.99;
      mean = steps == 1 ? kept : keep * mean + (1 - keep) * kept;
      return f;
    }

    /** Steps whose gradient was scaled down so far. */
    public long clipped() {
      return clipped;
    }
  }

  /** One Adam step on a batch; returns the batch's mean ELBO per image before the step, or NaN (weights untouched). */
  public static double step(DeformationMechanism m, Adam adam, ImageData data, int[] rows, Options o) {
    return step(m, adam, data, rows, o, null);
  }

  /** {@link #step(DeformationMechanism, Adam, ImageData, int[], Options)} with its gradient clipped (null: not). */
  public static double step(DeformationMechanism m, Adam adam, ImageData data, int[] rows, Options o,
      GradientClip clip) {
    return step(m, adam, data, rows, o, clip, 0, null, null);
  }

  /** The counterfactual term's -log q(pa* | x*) per image over the steps that had it, for progress lines. */
  public static final class CounterfactualLoss {
    private double sum;
    private long steps;

    void add(double value) {
      sum += value;
      steps++;
    }

    public double mean() {
      return steps == 0 ? Double.NaN : sum / steps;
    }

    void reset() {
      sum = 0;
      steps = 0;
    }
  }

  /**
   * One step as above; with the options' counterfactual term, the parent shuffled is the term's
   * {@code stepIndex}-th in turn, shuffled by {@code random}, and its loss goes into {@code cf} (may be null).
   */
  public static double step(DeformationMechanism m, Adam adam, ImageData data, int[] rows, Options o,
      GradientClip clip, int stepIndex, java.util.Random random, CounterfactualLoss cf) {
    ParameterSet weights = m.weights();
    float[] px = new float[rows.length * data.pixelsPerImage()];
    data.gather(rows, px);
    float[] ctx = m.contextRows(data, rows);
    ImageTrainer.CounterfactualTerm term = o.counterfactual();
    ImageTrainer.Batch b = term == null ? null : ImageTrainer.counterfactualBatch(m, data, rows, term,
        term.intervened().get(stepIndex % term.intervened().size()), random);
    weights.zeroGradients();
    try (NDManager scope = weights.manager().newSubManager()) {
      double elbo;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        Function<String, NDArray> w = weights.scoped(scope)::get;
        NDArray x = scope.create(px, new Shape(rows.length, m.channels(), m.height(), m.width()));
        NDArray c = scope.create(ctx, new Shape(rows.length, m.context().size()));
        NDArray cStar = b == null ? null : scope.create(b.counterfactualContext(), new Shape(rows.length,
            m.context().size()));
        NDList terms = m.elboTerms(w, x, c, cStar, o.particles());
        NDArray meanElbo = terms.get(0).mean();
        int pixels = m.channels() * m.height() * m.width();
        NDArray loss = meanElbo.neg().add(Scalars.times(penalty(terms.get(1), terms.get(2), o), pixels));
        NDArray nll = null;
        if (b != null) {
          ParentPredictor pred = term.predictor();
          NDArray out = pred.forward(pred.weights()::get, LogitPreprocessing.forward(terms.get(4)));
          NDArray targets = VaeImageMechanism.tileRows(scope.create(b.targets(), new Shape(rows.length,
              pred.targets().size())), o.particles());
          nll = pred.negativeLogLikelihood(out, targets, b.mask()).mean();
          loss = loss.add(Scalars.times(nll, term.weight() * pixels));
        }
        gc.backward(loss);
        elbo = meanElbo.getFloat();
        if (nll != null && cf != null && Double.isFinite(elbo)) {
          cf.add(nll.getFloat());
        }
      }
      if (!Double.isFinite(elbo)) {
        return Double.NaN;
      }
      double squares = 0;
      for (NDArray p : weights.all().values()) {
        try (NDArray g = p.getGradient(); NDArray square = g.square(); NDArray sum = square.sum()) {
          float s2 = sum.getFloat();
          if (!Float.isFinite(s2)) {
            return Double.NaN;
          }
          squares += s2;
        }
      }
      double f = clip == null ? 1 : clip.factor(Math.sqrt(squares));
      if (f < 1) {
        for (NDArray p : weights.all().values()) {
          try (NDArray g = p.getGradient()) {
            g.muli(f);
          }
        }
      }
      adam.step(weights);
      return elbo;
    }
  }

  /** The warp priors per pixel for the parents' and the subject's velocities (P N, 2, H, W). */
  static NDArray penalty(NDArray parents, NDArray subject, Options o) {
    NDArray smooth = o.smoothness() == Smoothness.BENDING ? Warp.bendingEnergy(parents) : Warp.gradientPenalty(parents);
    NDArray p = Scalars.times(smooth, o.parentSmoothness());
    NDArray s = Scalars.times(Warp.gradientPenalty(subject).add(Scalars.times(subject.square().mean(), 0.01)),
        o.subjectSmoothness());
    NDArray centre = Scalars.times(parents.mean(new int[] {0}).square().mean(), o.centring());
    return p.add(s).add(centre);
  }

  /** The mean ELBO per image of a data set (no gradients, batches of 64). */
  public static double validationElbo(DeformationMechanism m, ImageData data, int particles) {
    double sum = 0;
    try (NDManager scope = m.weights().manager().newSubManager()) {
      for (int from = 0; from < data.n(); from += 64) {
        int to = Math.min(data.n(), from + 64);
        int[] rows = new int[to - from];
        for (int k = 0; k < rows.length; k++) {
          rows[k] = from + k;
        }
        float[] px = new float[rows.length * data.pixelsPerImage()];
        data.gather(rows, px);
        try (NDManager batch = scope.newSubManager()) {
          NDArray x = batch.create(px, new Shape(rows.length, m.channels(), m.height(), m.width()));
          NDArray c = batch.create(m.contextRows(data, rows), new Shape(rows.length, m.context().size()));
          sum += m.elboTerms(m.inference(), x, c, particles).get(0).sum().getFloat();
        }
      }
    }
    return sum / data.n();
  }

  /**
   * Trains for at most {@code o.epochs()} epochs or until an epoch ends past {@code o.minutes()}, keeping the
   * weights of the best validation ELBO (loaded into {@code m} at the end). Each epoch ends with a
   * checkpoint; {@code o.resume()} continues from it.
   */
  public Result train(DeformationMechanism m, IntFunction<ImageData> trainForEpoch, ImageData validation, Options o,
      TrainingListener listener) throws IOException {
    Path dir = o.checkpoints();
    int startEpoch = 1;
    double seconds = 0;
    int bestEpoch = 0;
    double bestElbo = Double.NEGATIVE_INFINITY;
    try (NDManager adamManager = m.weights().manager().newSubManager()) {
      Adam adam = new Adam(adamManager, o.learningRate(), 1e-8);
      if (o.resume() && Files.isRegularFile(dir.resolve(STATE_FILE))) {
        JsonObject state = GSON.fromJson(Files.readString(dir.resolve(STATE_FILE)), JsonObject.class);
        try (NDManager tmp = NDManager.newBaseManager(); InputStream in = Files.newInputStream(
            dir.resolve(WEIGHTS_FILE))) {
          NDList all = NDList.decode(tmp, in);
          m.restore(all, dir.resolve(WEIGHTS_FILE).toString());
          adam.restore(all);
        }
        startEpoch = state.get("epoch").getAsInt() + 1;
        seconds = state.get("seconds").getAsDouble();
        bestEpoch = state.get("best_epoch").getAsInt();
        bestElbo = state.get("best_validation_elbo").getAsDouble();
        listener.message(String.format(Locale.ROOT, "resuming after epoch %d (%.0f s so far, best epoch %d)",
            startEpoch - 1, seconds, bestEpoch));
      } else if (templateIsBlank(m)) {
        // a fresh model; a warm-started one keeps its template
        initTemplate(m, trainForEpoch.apply(1));
      }
      int epoch = startEpoch;
      boolean cancelled = false;
      GradientClip clip = new GradientClip();
      CounterfactualLoss cf = new CounterfactualLoss();
      for (; epoch <= o.epochs(); epoch++) {
        long t0 = System.nanoTime();
        ImageData train = trainForEpoch.apply(epoch);
        int[] order = ImageTrainer.shuffled(train.n(), o.seed() * 1_000_003L + epoch);
        java.util.Random shuffling = new java.util.Random(o.seed() * 7_919L + epoch);
        cf.reset();
        int steps = train.n() / o.batch();
        double sum = 0;
        int counted = 0;
        for (int s = 0; s < steps; s++) {
          if (listener.cancelled()) {
            cancelled = true;
            break;
          }
          int[] rows = java.util.Arrays.copyOfRange(order, s * o.batch(), (s + 1) * o.batch());
          double elbo = step(m, adam, train, rows, o, clip, s, shuffling, cf);
          if (Double.isFinite(elbo)) {
            sum += elbo;
            counted++;
          }
          if ((s + 1) % 25 == 0) {
            listener.message(String.format(Locale.ROOT, "epoch %d: step %d/%d, ELBO %.1f, %.1f s%s", epoch, s + 1,
                steps, sum / Math.max(1, counted), (System.nanoTime() - t0) / 1e9,
                clip.clipped() == 0 ? "" : ", " + clip.clipped() + " steps' gradients clipped so far")
                + (o.counterfactual() == null ? "" : String.format(Locale.ROOT, ", counterfactual -log q %.3f",
                    cf.mean())));
          }
        }
        if (cancelled) {
          break;
        }
        double validationElbo = validationElbo(m, validation, 1);
        seconds += (System.nanoTime() - t0) / 1e9;
        boolean best = validationElbo > bestElbo;
        NDList bestList = null;
        try (NDManager tmp = NDManager.newBaseManager()) {
          if (best) {
            bestElbo = validationElbo;
            bestEpoch = epoch;
            bestList = m.snapshot(tmp);
          }
          writeCheckpoint(dir, m, adam, epoch, seconds, bestList, bestEpoch, bestElbo);
        }
        listener.epochEnded(epoch, o.epochs(), -sum / Math.max(1, counted), -validationElbo, best, seconds);
        if (seconds / 60 > o.minutes()) {
          epoch++;
          break;
        }
      }
      if (bestEpoch > 0 && Files.isRegularFile(dir.resolve(BEST_FILE))) {
        try (NDManager tmp = NDManager.newBaseManager(); InputStream in = Files.newInputStream(dir.resolve(BEST_FILE))) {
          m.restore(NDList.decode(tmp, in), dir.resolve(BEST_FILE).toString());
        }
      }
      return new Result(epoch - 1, bestEpoch, bestElbo, seconds, cancelled);
    }
  }

  private static void writeCheckpoint(Path dir, DeformationMechanism m, Adam adam, int epoch, double seconds,
      NDList newBest, int bestEpoch, double bestElbo) throws IOException {
    Files.createDirectories(dir);
    if (newBest != null) {
      write(newBest, dir.resolve(BEST_FILE));
    }
    try (NDManager tmp = NDManager.newBaseManager()) {
      NDList all = m.snapshot(tmp);
      all.addAll(adam.state(tmp));
      write(all, dir.resolve(WEIGHTS_FILE));
    }
    JsonObject state = new JsonObject();
    state.addProperty("epoch", epoch);
    state.addProperty("seconds", seconds);
    state.addProperty("best_epoch", bestEpoch);
    state.addProperty("best_validation_elbo", bestElbo);
    Path part = dir.resolve(STATE_FILE + ".tmp");
    Files.writeString(part, GSON.toJson(state), StandardCharsets.UTF_8);
    Files.move(part, dir.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING);
  }

  private static void write(NDList list, Path file) throws IOException {
    Path part = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(part)) {
      list.encode(out, NDList.Encoding.SAFETENSORS);
    }
    Files.move(part, file, StandardCopyOption.REPLACE_EXISTING);
  }
}
