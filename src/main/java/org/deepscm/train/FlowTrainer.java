package org.deepscm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deepscm.data.CovariateTable;
import org.deepscm.flow.ParameterSet;
import org.deepscm.scm.StructuralCausalModel;

/**
 * Maximum-likelihood training of the scalar mechanisms of an SCM: minibatch Adam on the negative
 * log-likelihood, early stopping on a validation split, the best epoch's parameters kept.
 * Resumable: after every epoch a checkpoint (parameters, Adam moments, best parameters, history)
 * is written; {@link Options#resume} continues from it with the same data order.
 */
public final class FlowTrainer {

  /**
   * @param learningRate Adam step size (the paper: 5e-3 for covariate flows)
   * @param patience epochs without a validation improvement before stopping
   * @param checkpointDir where checkpoints go; null for none
   */
  public record Options(double learningRate, int batchSize, int maxEpochs, int patience, long seed,
      Path checkpointDir, boolean resume) {
    public static Options paper(long seed) {
      return new Options(5e-3, 256, 200, 20, seed, null, false);
    }

    public Options withCheckpoints(Path dir, boolean resume) {
      return new Options(learningRate, batchSize, maxEpochs, patience, seed, dir, resume);
    }

    public Options withMaxEpochs(int epochs) {
      return new Options(learningRate, batchSize, epochs, patience, seed, checkpointDir, resume);
    }
  }

  /** What a run did; {@code history} rows are {epoch, train NLL, validation NLL}. */
  public record Result(int epochs, int bestEpoch, double bestValidationNll, double seconds, boolean stoppedEarly,
      boolean cancelled, List<double[]> history) {}

  private static final Gson GSON = new Gson();
  private static final String STATE_FILE = "checkpoint.json";
  private static final String WEIGHTS_FILE = "checkpoint.safetensors";
  private static final String BEST_FILE = "best.safetensors";

  /** Trains {@code scm} in place; on return it holds the parameters of the best validation epoch. */
  public Result fit(StructuralCausalModel scm, CovariateTable train, CovariateTable validation, Options o,
      TrainingListener listener) throws IOException {
    Engine.getInstance().setRandomSeed((int) o.seed());
    List<String> names = scm.variableNames();
    ParameterSet params = scm.parameters();
    NDManager root = params.manager();
    try (NDManager optimiserManager = root.newSubManager(); NDManager bestManager = NDManager.newBaseManager()) {
      Adam adam = new Adam(optimiserManager, o.learningRate(), 1e-5);
      int startEpoch = 1;
      double best = Double.POSITIVE_INFINITY;
      int bestEpoch = 0;
      int badEpochs = 0;
      double secondsBefore = 0;
      List<double[]> history = new ArrayList<>();
      NDList bestParams = params.snapshot(bestManager);

      if (o.resume() && o.checkpointDir() != null && Files.isRegularFile(o.checkpointDir().resolve(STATE_FILE))) {
        JsonObject state = GSON.fromJson(Files.readString(o.checkpointDir().resolve(STATE_FILE)), JsonObject.class);
        startEpoch = state.get("epoch").getAsInt() + 1;
        best = state.get("best_validation_nll").getAsDouble();
        bestEpoch = state.get("best_epoch").getAsInt();
        badEpochs = state.get("bad_epochs").getAsInt();
        secondsBefore = state.get("seconds").getAsDouble();
        state.getAsJsonArray("history").forEach(h -> history.add(GSON.fromJson(h, double[].class)));
        try (NDManager tmp = NDManager.newBaseManager()) {
          NDList saved = read(tmp, o.checkpointDir().resolve(WEIGHTS_FILE));
          params.restore(saved, "checkpoint " + o.checkpointDir());
          adam.restore(saved);
          bestParams = read(bestManager, o.checkpointDir().resolve(BEST_FILE));
        }
        listener.message("resumed from " + o.checkpointDir() + " after epoch " + (startEpoch - 1)
            + " (best validation NLL " + String.format("%.4f", best) + " at epoch " + bestEpoch + ")");
      }

      long started = System.nanoTime();
      boolean stoppedEarly = badEpochs >= o.patience();
      boolean cancelled = false;
      int epoch = startEpoch - 1;
      while (!stoppedEarly && epoch < o.maxEpochs()) {
        epoch++;
        // the data order of an epoch depends only on (seed, epoch): a resumed run sees the same batches
        int[] order = train.shuffledRows(o.seed() * 1_000_003L + epoch);
        double sum = 0;
        int seen = 0;
        for (int from = 0; from < order.length; from += o.batchSize()) {
          if (listener.cancelled()) {
            cancelled = true;
            break;
          }
          int to = Math.min(order.length, from + o.batchSize());
          int[] rows = java.util.Arrays.copyOfRange(order, from, to);
          try (NDManager step = root.newSubManager()) {
            Map<String, NDArray> batch = train.select(rows).toArrays(step, names);
            NDArray loss = backward(scm, batch);
            double l = loss.getFloat();
            if (gradientsFinite(params)) {
              adam.step(params);
            } else {
              l = Double.NaN;
            }
            if (!Double.isFinite(l)) {
              StringBuilder which = new StringBuilder();
              for (String name : names) {
                NDArray term = scm.mechanism(name).logProb(batch.get(name), batch);
                if (!Float.isFinite(term.sum().getFloat())) {
                  which.append(which.length() == 0 ? "" : ", ").append(name);
                }
              }
              throw new IllegalStateException("training diverged: the loss became " + l + " at epoch " + epoch
                  + ", batch " + (from / o.batchSize() + 1) + " (log-likelihood of " + which
                  + "); try a lower learning rate (e.g. --lr 1e-3)");
            }
            sum += l * rows.length;
            seen += rows.length;
          }
        }
        if (cancelled) {
          epoch--;
          break;
        }
        double trainNll = sum / seen;
        double valNll = evaluate(scm, validation);
        boolean improved = valNll < best - 1e-5;
        if (improved) {
          best = valNll;
          bestEpoch = epoch;
          badEpochs = 0;
          bestParams.close();
          bestParams = params.snapshot(bestManager);
        } else {
          badEpochs++;
        }
        history.add(new double[] {epoch, trainNll, valNll});
        double seconds = secondsBefore + (System.nanoTime() - started) / 1e9;
        listener.epochEnded(epoch, o.maxEpochs(), trainNll, valNll, improved, seconds);
        if (o.checkpointDir() != null) {
          writeCheckpoint(o.checkpointDir(), params, adam, bestParams, epoch, best, bestEpoch, badEpochs, seconds,
              history);
        }
        stoppedEarly = badEpochs >= o.patience();
      }
      params.restore(bestParams, "best epoch");
      double seconds = secondsBefore + (System.nanoTime() - started) / 1e9;
      return new Result(epoch, bestEpoch, best, seconds, stoppedEarly, cancelled, history);
    }
  }

  /** Clears the gradients (a fill, not a multiply by zero, which would keep a NaN), then runs forward and backward. */
  private static NDArray backward(StructuralCausalModel scm, Map<String, NDArray> batch) {
    scm.parameters().zeroGradients();
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray loss = negativeLogLikelihood(scm, batch).mean();
      gc.backward(loss);
      return loss;
    }
  }

  private static boolean gradientsFinite(ParameterSet params) {
    for (NDArray p : params.all().values()) {
      float[] values;
      try (NDArray g = p.getGradient()) {
        values = g.toFloatArray();
      }
      for (float g : values) {
        if (!Float.isFinite(g)) {
          return false;
        }
      }
    }
    return true;
  }

  /** -sum_k log p(x_k | pa_k) per row, without re-validating data checked before training. */
  static NDArray negativeLogLikelihood(StructuralCausalModel scm, Map<String, NDArray> batch) {
    NDArray total = null;
    for (String name : scm.variableNames()) {
      NDArray term = scm.mechanism(name).logProb(batch.get(name), batch);
      total = total == null ? term : total.add(term);
    }
    return total.neg();
  }

  /** Mean negative log-likelihood over a table, without gradients. */
  public static double evaluate(StructuralCausalModel scm, CovariateTable table) {
    double sum = 0;
    int chunk = 8192;
    for (int from = 0; from < table.rows(); from += chunk) {
      int to = Math.min(table.rows(), from + chunk);
      try (NDManager m = NDManager.newBaseManager()) {
        Map<String, NDArray> batch = table.slice(from, to).toArrays(m, scm.variableNames());
        sum += negativeLogLikelihood(scm, batch).toType(ai.djl.ndarray.types.DataType.FLOAT64, false).sum().getDouble();
      }
    }
    return sum / table.rows();
  }

  private static NDList read(NDManager m, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return NDList.decode(m, in);
    }
  }

  private static void writeCheckpoint(Path dir, ParameterSet params, Adam adam, NDList bestParams, int epoch,
      double best, int bestEpoch, int badEpochs, double seconds, List<double[]> history) throws IOException {
    Files.createDirectories(dir);
    try (NDManager tmp = NDManager.newBaseManager()) {
      NDList all = params.snapshot(tmp);
      all.addAll(adam.state(tmp));
      writeAtomically(dir.resolve(WEIGHTS_FILE), all);
      writeAtomically(dir.resolve(BEST_FILE), bestParams);
    }
    JsonObject state = new JsonObject();
    state.addProperty("epoch", epoch);
    state.addProperty("best_validation_nll", best);
    state.addProperty("best_epoch", bestEpoch);
    state.addProperty("bad_epochs", badEpochs);
    state.addProperty("seconds", seconds);
    state.add("history", GSON.toJsonTree(history));
    Path tmpFile = dir.resolve(STATE_FILE + ".tmp");
    Files.writeString(tmpFile, GSON.toJson(state), StandardCharsets.UTF_8);
    Files.move(tmpFile, dir.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING);
  }

  private static void writeAtomically(Path file, NDList list) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      list.encode(out, NDList.Encoding.SAFETENSORS);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
  }
}
