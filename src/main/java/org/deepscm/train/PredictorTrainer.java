package org.deepscm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deepscm.image.ImageData;
import org.deepscm.image.LogitPreprocessing;
import org.deepscm.image.ParentPredictor;

/**
 * Trains {@link ParentPredictor}s on images and their parents: minibatch Adam on -log q(pa | x), pixels
 * dequantised with U(0, 1). Resumable: after every epoch a checkpoint holds the weights, Adam's state and
 * the epoch; the data order of an epoch depends only on (seed, epoch).
 */
public final class PredictorTrainer {
  public static final String STATE_FILE = "predictor-checkpoint.json";
  public static final String WEIGHTS_FILE = "predictor-checkpoint.safetensors";

  /** @param epochs train until this many epochs are done in all (a resumed run counts the earlier ones) */
  public record Options(double learningRate, int batchSize, int epochs, long seed, Path checkpointDir, boolean resume) {
    public Options {
      if (!(learningRate > 0) || batchSize < 1 || epochs < 0) {
        throw new IllegalArgumentException("predictor training needs a positive learning rate, batch >= 1 and "
            + "epochs >= 0");
      }
    }
  }

  /** What a run did: epochs done in all and seconds in all (earlier runs of a resumed one included). */
  public record Result(int epochs, double seconds) {}

  /** Trains {@code p} in place. */
  public Result train(ParentPredictor p, ImageData train, Options o, TrainingListener listener) throws IOException {
    NDManager root = p.weights().manager();
    try (NDManager optimiserManager = root.newSubManager()) {
      Adam adam = new Adam(optimiserManager, o.learningRate(), 1e-8);
      int done = 0;
      double secondsBefore = 0;
      Path ck = o.checkpointDir();
      if (o.resume() && ck != null && Files.isRegularFile(ck.resolve(STATE_FILE))) {
        JsonObject state = com.google.gson.JsonParser.parseString(Files.readString(ck.resolve(STATE_FILE)))
            .getAsJsonObject();
        done = state.get("epoch").getAsInt();
        secondsBefore = state.has("seconds") ? state.get("seconds").getAsDouble() : 0;
        try (NDManager tmp = NDManager.newBaseManager(); InputStream in = Files.newInputStream(ck.resolve(WEIGHTS_FILE))) {
          NDList saved = NDList.decode(tmp, in);
          NDList mine = new NDList();
          for (NDArray a : saved) {
            if (p.weights().contains(a.getName())) {
              mine.add(a);
            }
          }
          p.weights().restore(mine, "predictor checkpoint " + ck);
          adam.restore(saved);
        }
        listener.message("predictors resumed from " + ck + " after epoch " + done);
      }
      float[][] encoded = encodedTargets(p, train);
      long started = System.nanoTime();
      for (int epoch = done + 1; epoch <= o.epochs(); epoch++) {
        Engine.getInstance().setRandomSeed((int) (o.seed() * 31 + epoch));
        int[] order = ImageTrainer.shuffled(train.n(), o.seed() * 1_000_033L + epoch);
        int steps = order.length / o.batchSize();
        double sum = 0;
        for (int s = 0; s < steps; s++) {
          if (listener.cancelled()) {
            listener.message("predictor training cancelled in epoch " + epoch + "; resume repeats it");
            return new Result(epoch - 1, secondsBefore + (System.nanoTime() - started) / 1e9);
          }
          int[] rows = Arrays.copyOfRange(order, s * o.batchSize(), (s + 1) * o.batchSize());
          sum += step(p, adam, train, encoded, rows);
        }
        double seconds = secondsBefore + (System.nanoTime() - started) / 1e9;
        listener.message(String.format(Locale.ROOT, "predictors: epoch %d/%d, -log q(pa | x) %.4f, %.1f s", epoch,
            o.epochs(), sum / Math.max(1, steps), seconds));
        if (ck != null) {
          writeCheckpoint(ck, p, adam, epoch, seconds);
        }
      }
      return new Result(Math.max(done, o.epochs()), secondsBefore + (System.nanoTime() - started) / 1e9);
    }
  }

  private static double step(ParentPredictor p, Adam adam, ImageData data, float[][] encoded, int[] rows) {
    int t = p.targets().size();
    float[] px = new float[rows.length * data.pixelsPerImage()];
    data.gather(rows, px);
    float[] target = new float[rows.length * t];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(encoded[rows[r]], 0, target, r * t, t);
    }
    p.weights().zeroGradients();
    try (NDManager scope = p.weights().manager().newSubManager()) {
      double loss;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray x = scope.create(px, p.imageShape(rows.length));
        x = x.add(scope.randomUniform(0, 1, x.getShape(), DataType.FLOAT32));
        Shape ts = new Shape(rows.length, t);
        NDArray out = p.forward(p.weights().scoped(scope)::get, LogitPreprocessing.forward(x));
        NDArray nll = p.negativeLogLikelihood(out, scope.create(target, ts), null).mean();
        gc.backward(nll);
        loss = nll.getFloat();
      }
      if (Double.isFinite(loss)) {
        adam.step(p.weights());
      }
      return loss;
    }
  }

  /** Every image's targets, encoded: [image][target]. */
  static float[][] encodedTargets(ParentPredictor p, ImageData data) {
    List<ParentPredictor.Target> ts = p.targets();
    float[][] out = new float[data.n()][ts.size()];
    for (int k = 0; k < ts.size(); k++) {
      double[] col = data.parents().get(ts.get(k).parent());
      if (col == null) {
        throw new IllegalArgumentException("the images have no values of '" + ts.get(k).parent()
            + "' for its predictor");
      }
      for (int u = 0; u < data.n(); u++) {
        out[u][k] = (float) ts.get(k).encode(col[u]);
      }
    }
    return out;
  }

  /**
   * How well the predictors do on held-out images: per parent, the mean absolute error in its unit
   * (key {@code <parent>_mae}) or the accuracy of a binary or categorical one ({@code <parent>_accuracy}).
   */
  public static Map<String, Double> heldOutErrors(ParentPredictor p, ImageData data) {
    double[][] pred = p.predict(data.pixels(), data.n());
    Map<String, Double> out = new LinkedHashMap<>();
    for (int k = 0; k < p.targets().size(); k++) {
      ParentPredictor.Target t = p.targets().get(k);
      double[] truth = data.parents().get(t.parent());
      double sum = 0;
      for (int u = 0; u < data.n(); u++) {
        if (t.binary()) {
          sum += (pred[u][k] >= 0.5 ? 1 : 0) == Math.round(truth[u]) ? 1 : 0;
        } else if (t.categorical()) {
          sum += pred[u][k] == Math.round(truth[u]) ? 1 : 0;
        } else {
          sum += Math.abs(pred[u][k] - truth[u]);
        }
      }
      out.put(t.parent() + (t.binary() || t.categorical() ? "_accuracy" : "_mae"), sum / data.n());
    }
    return out;
  }

  private static void writeCheckpoint(Path dir, ParentPredictor p, Adam adam, int epoch, double seconds)
      throws IOException {
    Files.createDirectories(dir);
    try (NDManager tmp = NDManager.newBaseManager()) {
      NDList all = p.weights().snapshot(tmp);
      all.addAll(adam.state(tmp));
      Path part = dir.resolve(WEIGHTS_FILE + ".tmp");
      try (OutputStream out = Files.newOutputStream(part)) {
        all.encode(out, NDList.Encoding.SAFETENSORS);
      }
      Files.move(part, dir.resolve(WEIGHTS_FILE), StandardCopyOption.REPLACE_EXISTING);
    }
    Path part = dir.resolve(STATE_FILE + ".tmp");
    Files.writeString(part, String.format(Locale.ROOT, "{\"epoch\": %d, \"seconds\": %.1f}", epoch, seconds),
        StandardCharsets.UTF_8);
    Files.move(part, dir.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING);
  }
}
