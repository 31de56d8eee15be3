package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.deepscm.flow.ParameterSet;
import org.deepscm.scm.InvalidModelException;

/**
 * Anticausal predictors q(pa_k | x): one small convolutional network that reads an image (in the
 * mechanism's logit space) and gives every parent at once: a normalised value for a continuous
 * parent, a logit for a binary one. Trained on the training split only; they are tools for
 * counterfactual fine-tuning and a second opinion on a counterfactual, never its judge (the judge is a
 * measurer that does not learn).
 *
 * <pre>
 *   Conv(c -> 32, k4 s2 p1), LeakyReLU(0.1) -> Conv(32 -> 64, k4 s2 p1), LeakyReLU
 *   -> Conv(64 -> 64, k4 s2 p1), LeakyReLU -> Linear(-> 128), LeakyReLU -> Linear(-> one output per parent)
 * </pre>
 *
 * No batch norm: an output depends on its own image only, in training and in use alike. Stored in a
 * model folder beside the model as {@value #JSON_FILE} and {@value #WEIGHTS_FILE}.
 */
public final class ParentPredictor implements AutoCloseable {
  public static final String JSON_FILE = "predictors.json";
  public static final String WEIGHTS_FILE = "predictors.safetensors";
  private static final String PREFIX = "pred.";
  private static final int[] CONV = {32, 64, 64};
  private static final int HIDDEN = 128;
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

  /**
   * One predicted variable. A continuous one is predicted as ((log) value - shift) / scale; a binary one
   * (0 / 1) as a logit; a categorical one (0 .. classes - 1, e.g. the digit of a Morpho-MNIST image)
   * as one logit per class.
   */
  public record Target(String parent, boolean binary, boolean log, double shift, double scale, int classes) {
    public Target {
      if (!binary && classes == 0 && !(scale > 0)) {
        throw new InvalidModelException("predictor of '" + parent + "': the scale must be positive");
      }
      if (classes == 1 || classes < 0) {
        throw new InvalidModelException("predictor of '" + parent + "': a categorical variable needs 2 or more classes");
      }
    }

    public static Target binary(String parent) {
      return new Target(parent, true, false, 0, 1, 0);
    }

    public static Target continuous(String parent, boolean log, double shift, double scale) {
      return new Target(parent, false, log, shift, scale, 0);
    }

    public static Target categorical(String name, int classes) {
      return new Target(name, false, false, 0, 1, classes);
    }

    public boolean categorical() {
      return classes > 0;
    }

    /** Outputs of the network for this target. */
    public int width() {
      return categorical() ? classes : 1;
    }

    /** The network's target for a value: its normalisation, or the value itself (0 / 1, a class) otherwise. */
    public double encode(double value) {
      return binary || categorical() ? value : ((log ? Math.log(value) : value) - shift) / scale;
    }

    /** A value from the network's output: the value in its unit, or the probability of 1 when binary. */
    public double decode(double output) {
      if (binary) {
        return 1 / (1 + Math.exp(-output));
      }
      double v = output * scale + shift;
      return log ? Math.exp(v) : v;
    }
  }

  private final int channels;
  private final int height;
  private final int width;
  private final List<Target> targets;
  private final ParameterSet weights;
  private final JsonObject training;

  public ParentPredictor(int channels, int height, int width, List<Target> targets, ParameterSet weights,
      JsonObject training) {
    if (targets.isEmpty()) {
      throw new InvalidModelException("a predictor needs at least one parent to predict");
    }
    if (height < 8 || width < 8) {
      throw new InvalidModelException("predictors need images of at least 8 x 8 pixels, got " + height + "x" + width);
    }
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.targets = List.copyOf(targets);
    this.weights = weights;
    this.training = training == null ? new JsonObject() : training;
  }

  public List<Target> targets() {
    return targets;
  }

  public int indexOf(String parent) {
    for (int k = 0; k < targets.size(); k++) {
      if (targets.get(k).parent().equals(parent)) {
        return k;
      }
    }
    return -1;
  }

  public ParameterSet weights() {
    return weights;
  }

  /** How the predictors were trained and how well they do on held-out images (free-form, for the model card). */
  public JsonObject training() {
    return training;
  }

  /** The shape of n images as the networks read them. */
  public Shape imageShape(int n) {
    return new Shape(n, channels, height, width);
  }

  public int pixelsPerImage() {
    return channels * height * width;
  }

  private static int down(int size) {
    // k4 s2 p1
    return (size + 2 - 4) / 2 + 1;
  }

  private int flat() {
    int h = height;
    int w = width;
    for (int k = 0; k < CONV.length; k++) {
      h = down(h);
      w = down(w);
    }
    return CONV[CONV.length - 1] * h * w;
  }

  /** Fresh weights: He-normal for layers followed by a rectifier, zero biases. */
  public ParentPredictor initParameters(Random random) {
    int in = channels;
    for (int k = 0; k < CONV.length; k++) {
      weights.create(PREFIX + "conv" + (k + 1) + ".weight", new Shape(CONV[k], in, 4, 4),
          Math.sqrt(2.0 / (in * 16)), random);
      weights.create(PREFIX + "conv" + (k + 1) + ".bias", new Shape(CONV[k]), 0, random);
      in = CONV[k];
    }
    weights.create(PREFIX + "fc.weight", new Shape(HIDDEN, flat()), Math.sqrt(2.0 / flat()), random);
    weights.create(PREFIX + "fc.bias", new Shape(HIDDEN), 0, random);
    weights.create(PREFIX + "out.weight", new Shape(outputs(), HIDDEN), Math.sqrt(1.0 / HIDDEN), random);
    weights.create(PREFIX + "out.bias", new Shape(outputs()), 0, random);
    return this;
  }

  /** Width of the network's output: one per continuous or binary target, one per class of a categorical one. */
  public int outputs() {
    return targets.stream().mapToInt(Target::width).sum();
  }

  /** Outputs (N, {@link #outputs()}) of logit-space images y (N, C, H, W); weights read through {@code w}. */
  public NDArray forward(Function<String, NDArray> w, NDArray y) {
    NDArray h = y;
    for (int k = 0; k < CONV.length; k++) {
      String name = PREFIX + "conv" + (k + 1);
      h = Activation.leakyRelu(ImageNetworks.strided(h, w.apply(name + ".weight"), w.apply(name + ".bias"), 2, 1),
          ImageNetworks.LEAKY_SLOPE);
    }
    h = h.reshape(h.getShape().get(0), -1);
    h = Activation.leakyRelu(Linear.linear(h, w.apply(PREFIX + "fc.weight"), w.apply(PREFIX + "fc.bias"))
        .singletonOrThrow(), ImageNetworks.LEAKY_SLOPE);
    return Linear.linear(h, w.apply(PREFIX + "out.weight"), w.apply(PREFIX + "out.bias")).singletonOrThrow();
  }

  /**
   * -log q(targets | x) per image, up to constants: half the squared error of each continuous
   * variable (unit variance in its normalisation), the cross-entropy of each binary one and of each
   * categorical one.
   *
   * @param outputs (N, outputs()) from {@link #forward}
   * @param encoded (N, T) targets, each encoded by its {@link Target#encode} (a categorical one as its class)
   * @param mask (T) weights of the targets (1 to count one, 0 to leave it out), or null for all
   */
  public NDArray negativeLogLikelihood(NDArray outputs, NDArray encoded, float[] mask) {
    NDManager m = outputs.getManager();
    long n = outputs.getShape().get(0);
    NDArray total = m.zeros(new Shape(n), outputs.getDataType());
    int at = 0;
    for (int k = 0; k < targets.size(); k++) {
      Target t = targets.get(k);
      float weight = mask == null ? 1 : mask[k];
      NDArray o = outputs.get(":, " + at + ":" + (at + t.width()));
      NDArray y = encoded.get(":, " + k + ":" + (k + 1));
      at += t.width();
      if (weight == 0) {
        continue;
      }
      NDArray term;
      if (t.categorical()) {
        // -log softmax(o)[class], written as logsumexp(o) - o[class]
        NDArray oneHot = y.squeeze(1).toType(DataType.INT32, false).oneHot(t.classes()).toType(o.getDataType(), false);
        NDArray max = o.max(new int[] {1}, true);
        NDArray logSumExp = o.sub(max).exp().sum(new int[] {1}, true).log().add(max);
        term = logSumExp.sub(o.mul(oneHot).sum(new int[] {1}, true));
      } else if (t.binary()) {
        // softplus(o) - y o, written stably as max(o, 0) - y o + log(1 + e^-|o|)
        term = o.maximum(0f).sub(o.mul(y)).add(o.abs().neg().exp().add(1f).log());
      } else {
        term = o.sub(y).square().mul(0.5f);
      }
      total = total.add(term.squeeze(1).mul(weight));
    }
    return total;
  }

  /**
   * Predictions in each variable's unit (the probability of 1 for a binary one, the likeliest class for
   * a categorical one), [image][target], for pixels 0..255.
   */
  public double[][] predict(float[] pixels, int n) {
    if (pixels.length != n * pixelsPerImage()) {
      throw new IllegalArgumentException("predictor: " + pixels.length + " pixels for " + n + " images of "
          + pixelsPerImage());
    }
    double[][] out = new double[n][targets.size()];
    int chunk = 256;
    try (NDManager scope = NDManager.newBaseManager()) {
      for (int from = 0; from < n; from += chunk) {
        int to = Math.min(n, from + chunk);
        try (NDManager batch = scope.newSubManager()) {
          float[] part = java.util.Arrays.copyOfRange(pixels, from * pixelsPerImage(), to * pixelsPerImage());
          NDArray x = batch.create(part, imageShape(to - from));
          float[] o = forward(weights::get, LogitPreprocessing.forward(x)).toType(DataType.FLOAT32, false)
              .toFloatArray();
          int width = outputs();
          for (int u = from; u < to; u++) {
            int at = (u - from) * width;
            for (int k = 0; k < targets.size(); k++) {
              Target t = targets.get(k);
              if (t.categorical()) {
                int best = 0;
                for (int c = 1; c < t.classes(); c++) {
                  if (o[at + c] > o[at + best]) {
                    best = c;
                  }
                }
                out[u][k] = best;
              } else {
                out[u][k] = t.decode(o[at]);
              }
              at += t.width();
            }
          }
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ files

  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("format", "deepscm-predictors");
    o.addProperty("version", 1);
    o.addProperty("channels", channels);
    o.addProperty("height", height);
    o.addProperty("width", width);
    JsonArray ts = new JsonArray();
    for (Target t : targets) {
      JsonObject j = new JsonObject();
      j.addProperty("parent", t.parent());
      j.addProperty("kind", t.binary() ? "binary" : t.categorical() ? "categorical" : "continuous");
      if (t.categorical()) {
        j.addProperty("classes", t.classes());
      } else if (!t.binary()) {
        j.addProperty("log", t.log());
        j.addProperty("shift", t.shift());
        j.addProperty("scale", t.scale());
      }
      ts.add(j);
    }
    o.add("targets", ts);
    o.add("training", training);
    return o;
  }

  /** Writes {@value #JSON_FILE} and {@value #WEIGHTS_FILE} into {@code folder} (float32). */
  public void save(Path folder) throws IOException {
    Files.createDirectories(folder);
    Files.writeString(folder.resolve(JSON_FILE), GSON.toJson(toJson()), StandardCharsets.UTF_8);
    try (NDManager tmp = NDManager.newBaseManager(); OutputStream out = Files.newOutputStream(
        folder.resolve(WEIGHTS_FILE))) {
      weights.snapshot(tmp).encode(out, NDList.Encoding.SAFETENSORS);
    }
  }

  public static boolean existsIn(Path folder) {
    return Files.isRegularFile(folder.resolve(JSON_FILE));
  }

  /**
   * The predictors stored in a model folder, their weights in {@code manager}.
   *
   * @throws InvalidModelException naming what is missing or damaged
   */
  public static ParentPredictor load(Path folder, NDManager manager) {
    Path json = folder.resolve(JSON_FILE);
    JsonObject o;
    try {
      o = GSON.fromJson(Files.readString(json), JsonObject.class);
    } catch (IOException | RuntimeException e) {
      throw new InvalidModelException(json + " cannot be read as the predictors' description: " + e.getMessage());
    }
    try {
      List<Target> targets = new ArrayList<>();
      for (JsonElement e : o.getAsJsonArray("targets")) {
        JsonObject t = e.getAsJsonObject();
        String parent = t.get("parent").getAsString();
        String kind = t.get("kind").getAsString();
        targets.add(switch (kind) {
          case "binary" -> Target.binary(parent);
          case "categorical" -> Target.categorical(parent, t.get("classes").getAsInt());
          case "continuous" -> Target.continuous(parent, t.get("log").getAsBoolean(), t.get("shift").getAsDouble(),
              t.get("scale").getAsDouble());
          default -> throw new InvalidModelException("predictor of '" + parent + "': unknown kind '" + kind + "'");
        });
      }
      ParentPredictor p = new ParentPredictor(o.get("channels").getAsInt(), o.get("height").getAsInt(),
          o.get("width").getAsInt(), targets, new ParameterSet(manager),
          o.has("training") ? o.getAsJsonObject("training") : null);
      p.initParameters(new Random(0));
      try (NDManager tmp = NDManager.newBaseManager(); InputStream in = Files.newInputStream(
          folder.resolve(WEIGHTS_FILE))) {
        NDList saved = NDList.decode(tmp, in);
        NDList f32 = new NDList();
        for (NDArray a : saved) {
          NDArray c = a.toType(DataType.FLOAT32, true);
          c.setName(a.getName());
          f32.add(c);
        }
        p.weights.restore(f32, folder.resolve(WEIGHTS_FILE).toString());
      }
      return p;
    } catch (InvalidModelException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new InvalidModelException("the predictors in " + folder + " cannot be read (" + e.getMessage()
          + "); train them again with train --cf-finetune or remove " + JSON_FILE);
    }
  }

  @Override
  public void close() {
    weights.manager().close();
  }
}
