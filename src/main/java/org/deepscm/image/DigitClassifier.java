package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import org.deepscm.flow.ParameterSet;
import org.deepscm.scm.InvalidModelException;

/**
 * The judge of "digit kept": a small ensemble of convolutional classifiers of 28 x 28 digit images (0..255,
 * ink bright) into the classes 0..9, trained apart from every model it judges (on the Morpho-MNIST
 * renderings of the training digits at random thickness and intensity, and the training digits as given;
 * see {@code resources/mnist/README.md} for its data, command and accuracy). Unlike the anticausal
 * predictors, which counterfactual fine-tuning optimises against, nothing is ever trained to please it.
 *
 * <p>Each of its {@link #members()} networks (3 when shipped), names prefixed {@code digit.m<k>.}:
 *
 * <pre>
 *   x / 255 -> Conv(1 -> 32, k3 p1), BN, ReLU, MaxPool 2 -> Conv(32 -> 64, k3 p1), BN, ReLU, MaxPool 2
 *   -> Conv(64 -> 64, k3 p1), BN, ReLU, MaxPool 2 -> Linear(576 -> 128), ReLU, dropout (training only)
 *   -> Linear(128 -> 10): one logit per class
 * </pre>
 *
 * 131,210 parameters and 320 running statistics a member (5.7 M multiply-adds an image); a reading is the
 * class of highest mean probability over the members. Batch norm reads its running statistics outside
 * training, so a reading depends on its own image only. Stored as one safetensors file (float16 when
 * shipped; read as float32); the number of members is read from the names in the file.
 */
public final class DigitClassifier implements AutoCloseable {
  /** The shipped judge, relative to the application's folder ({@link org.deepscm.AppPaths#resolve}). */
  public static final Path SHIPPED = Path.of("resources", "mnist", "digit-classifier.safetensors");
  public static final int SIDE = 28;
  public static final int PIXELS = SIDE * SIDE;
  public static final int CLASSES = 10;
  private static final int[] CONV = {32, 64, 64};
  private static final int HIDDEN = 128;
  /** Dropout rate on the hidden layer, in training only. */
  public static final float DROPOUT = 0.3f;
  private static final String PREFIX = "digit.m";

  /** Batch norm: running = momentum * running + (1 - momentum) * batch (DJL's convention; PyTorch's 0.1). */
  private static final float BN_MOMENTUM = 0.9f;
  private static final float BN_EPS = 1e-5f;

  private final ParameterSet weights;
  private final int members;
  /** Batch norm's running statistics: not trained, saved with the weights. */
  private final RunningStatistics buffers;

  /** A classifier of {@code members} networks over {@code weights} (empty: call {@link #initParameters}). */
  public DigitClassifier(ParameterSet weights, int members) {
    if (members < 1) {
      throw new IllegalArgumentException("a digit classifier needs at least one member network, got " + members);
    }
    this.weights = weights;
    this.members = members;
    this.buffers = new RunningStatistics(weights.manager());
  }

  public ParameterSet weights() {
    return weights;
  }

  public int members() {
    return members;
  }

  /** The name of a parameter of member {@code k}, e.g. {@code name(0, "out.weight")}. */
  public static String name(int member, String parameter) {
    return PREFIX + member + "." + parameter;
  }

  /** Fresh weights (He-normal for layers followed by a rectifier, zero biases), member after member. */
  public DigitClassifier initParameters(Random random) {
    NDManager m = weights.manager();
    for (int j = 0; j < members; j++) {
      int in = 1;
      for (int k = 0; k < CONV.length; k++) {
        weights.create(name(j, "conv" + (k + 1) + ".weight"), new Shape(CONV[k], in, 3, 3),
            Math.sqrt(2.0 / (in * 9)), random);
        weights.create(name(j, "conv" + (k + 1) + ".bias"), new Shape(CONV[k]), 0, random);
        String bn = "bn" + (k + 1);
        weights.put(name(j, bn + ".gamma"), m.ones(new Shape(CONV[k])));
        weights.put(name(j, bn + ".beta"), m.zeros(new Shape(CONV[k])));
        buffers.put(name(j, bn + ".running_mean"), m.zeros(new Shape(CONV[k])));
        buffers.put(name(j, bn + ".running_var"), m.ones(new Shape(CONV[k])));
        in = CONV[k];
      }
      weights.create(name(j, "fc.weight"), new Shape(HIDDEN, flat()), Math.sqrt(2.0 / flat()), random);
      weights.create(name(j, "fc.bias"), new Shape(HIDDEN), 0, random);
      weights.create(name(j, "out.weight"), new Shape(CLASSES, HIDDEN), Math.sqrt(1.0 / HIDDEN), random);
      weights.create(name(j, "out.bias"), new Shape(CLASSES), 0, random);
    }
    return this;
  }

  private static int flat() {
    int side = SIDE;
    for (int k = 0; k < CONV.length; k++) {
      side /= 2; // max pooling 2, floor: 28 -> 14 -> 7 -> 3
    }
    return CONV[CONV.length - 1] * side * side;
  }

  /**
   * Logits (N, 10) of member {@code j} for images (N, 1, 28, 28) with pixels 0..255; weights read through
   * {@code w}.
   *
   * @param training dropout on and batch norm on the batch's statistics (moving the running ones), or a
   *     reading
   */
  public NDArray forward(int j, Function<String, NDArray> w, NDArray pixels, boolean training) {
    NDArray h = pixels.div(255f);
    for (int k = 0; k < CONV.length; k++) {
      String conv = name(j, "conv" + (k + 1));
      h = Conv2d.conv2d(h, w.apply(conv + ".weight"), w.apply(conv + ".bias"), new Shape(1, 1), new Shape(1, 1),
          new Shape(1, 1), 1).singletonOrThrow();
      // axis -1: libtorch's own convention (channels on axis 1)
      String bn = name(j, "bn" + (k + 1));
      h = BatchNorm.batchNorm(h, buffers.get(bn + ".running_mean"), buffers.get(bn + ".running_var"),
          w.apply(bn + ".gamma"), w.apply(bn + ".beta"), -1, BN_MOMENTUM, BN_EPS, training).singletonOrThrow();
      h = Pool.maxPool2d(Activation.relu(h), new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
    }
    h = h.reshape(h.getShape().get(0), -1);
    h = Activation.relu(Linear.linear(h, w.apply(name(j, "fc.weight")), w.apply(name(j, "fc.bias")))
        .singletonOrThrow());
    if (training) {
      h = Dropout.dropout(h, DROPOUT, true).singletonOrThrow();
    }
    return Linear.linear(h, w.apply(name(j, "out.weight")), w.apply(name(j, "out.bias"))).singletonOrThrow();
  }

  /** The members' mean class probabilities (N, 10) of images (N, 1, 28, 28), pixels 0..255 (a reading). */
  public NDArray probabilities(NDArray pixels) {
    NDArray sum = null;
    for (int j = 0; j < members; j++) {
      NDArray logits = forward(j, weights::get, pixels, false);
      NDArray p = logits.sub(logits.max(new int[] {1}, true)).exp();
      p = p.div(p.sum(new int[] {1}, true));
      sum = sum == null ? p : sum.add(p);
    }
    return sum.div(members);
  }

  /** Mean cross-entropy of logits (N, 10) against classes (N) given as floats 0..9. */
  public static NDArray crossEntropy(NDArray logits, NDArray classes) {
    NDArray oneHot = classes.toType(DataType.INT32, false).oneHot(CLASSES).toType(logits.getDataType(), false);
    NDArray max = logits.max(new int[] {1}, true);
    NDArray logSumExp = logits.sub(max).exp().sum(new int[] {1}, true).log().add(max);
    return logSumExp.sub(logits.mul(oneHot).sum(new int[] {1}, true)).mean();
  }

  /** The likeliest class of each of {@code n} images of 784 pixels 0..255 (row-major, ink bright). */
  public int[] classify(float[] pixels, int n) {
    if (pixels.length != n * PIXELS) {
      throw new IllegalArgumentException("digit classifier: " + pixels.length + " pixels for " + n
          + " images of 28 x 28");
    }
    int[] out = new int[n];
    int chunk = 500;
    ParameterSet.stopRecordingGradients();
    try (NDManager scope = NDManager.newBaseManager()) {
      for (int from = 0; from < n; from += chunk) {
        int to = Math.min(n, from + chunk);
        try (NDManager batch = scope.newSubManager()) {
          NDArray x = batch.create(Arrays.copyOfRange(pixels, from * PIXELS, to * PIXELS),
              new Shape(to - from, 1, SIDE, SIDE));
          float[] logits = probabilities(x).toType(DataType.FLOAT32, false).toFloatArray();
          for (int u = 0; u < to - from; u++) {
            int best = 0;
            for (int c = 1; c < CLASSES; c++) {
              if (logits[u * CLASSES + c] > logits[u * CLASSES + best]) {
                best = c;
              }
            }
            out[from + u] = best;
          }
        }
      }
    }
    return out;
  }

  /** The share of images read as their class. */
  public double accuracy(float[] pixels, int[] classes) {
    int[] read = classify(pixels, classes.length);
    int right = 0;
    for (int u = 0; u < classes.length; u++) {
      right += read[u] == classes[u] ? 1 : 0;
    }
    return (double) right / classes.length;
  }

  // ------------------------------------------------------------------ files

  /** Named copies of every weight and running statistic, in {@code target}'s manager. */
  public NDList snapshot(NDManager target) {
    NDList list = weights.snapshot(target);
    buffers.copyInto(list, target);
    return list;
  }

  /**
   * Copies weights and running statistics from {@code list} by name.
   *
   * @throws IllegalArgumentException naming {@code source} and a missing, misshapen or non-finite array
   */
  public void restore(NDList list, String source) {
    weights.restore(list, source);
    buffers.restore(list, source, "the classifier", true);
  }

  /** Writes the weights to {@code file} as safetensors, float16 when {@code half} (else float32); atomic. */
  public void save(Path file, boolean half) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (NDManager m = NDManager.newBaseManager(); OutputStream out = Files.newOutputStream(tmp)) {
      NDList list = snapshot(m);
      if (half) {
        NDList h = new NDList();
        for (NDArray a : list) {
          NDArray c = a.toType(DataType.FLOAT16, true);
          c.setName(a.getName());
          h.add(c);
        }
        list = h;
      }
      list.encode(out, NDList.Encoding.SAFETENSORS);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
  }

  /** The shipped judge ({@link #SHIPPED}, found beside the application wherever it starts). */
  public static DigitClassifier shipped() {
    return load(org.deepscm.AppPaths.resolve(SHIPPED));
  }

  /**
   * The classifier whose weights are in {@code file}, in a manager of its own (closed by {@link #close}).
   *
   * @throws InvalidModelException naming the file when it is missing, unreadable, or holds other weights
   */
  public static DigitClassifier load(Path file) {
    String retrain = "; retrain it with `train --dataset digit-classifier --out " + file + "`";
    if (!Files.isRegularFile(file)) {
      throw new InvalidModelException("the digit classifier's weights " + file + " are missing" + retrain);
    }
    NDManager manager = NDManager.newBaseManager();
    try {
      try (NDManager tmp = NDManager.newBaseManager(); InputStream in = Files.newInputStream(file)) {
        NDList saved = NDList.decode(tmp, in);
        int members = 0;
        while (saved.contains(name(members, "out.weight"))) {
          members++;
        }
        if (members == 0) {
          throw new IllegalArgumentException("no digit classifier's weights in it (no '" + name(0, "out.weight")
              + "')");
        }
        DigitClassifier c = new DigitClassifier(new ParameterSet(manager), members).initParameters(null);
        NDList f32 = new NDList();
        for (NDArray a : saved) {
          NDArray x = a.toType(DataType.FLOAT32, true);
          x.setName(a.getName());
          f32.add(x);
        }
        c.restore(f32, file.toString());
        return c;
      }
    } catch (NoSuchFileException e) {
      manager.close();
      throw new InvalidModelException("the digit classifier's weights " + file + " are missing" + retrain);
    } catch (IOException | RuntimeException e) {
      manager.close();
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new InvalidModelException("the digit classifier's weights " + file + " cannot be read (" + why + ")"
          + retrain);
    }
  }

  @Override
  public void close() {
    weights.manager().close();
  }
}
