package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.core.Linear;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.deepscm.flow.ParameterSet;
import org.deepscm.flow.Scalars;

/**
 * The encoder and decoder of an {@link ImageMechanism} (see {@link ImageArchitecture}), as plain
 * functions of named weights: trainable arrays in a {@link ParameterSet}, batch-norm running
 * statistics in a separate, non-trainable store. Every name starts with the mechanism's prefix
 * (the image variable's name and a dot), e.g. {@code x.dec.fc1.weight}, {@code x.dec.bn1.running_mean}.
 *
 * <p>Batch norm uses libtorch's native kernel: in training mode it normalises with the batch
 * statistics and updates the running statistics in place (momentum 0.1, unbiased variance, as
 * PyTorch); in evaluation mode it uses the running statistics, so outputs do not depend on what
 * else is in the batch.
 *
 * <p>Every computation starts from a data array, so results live in the data's (short-lived)
 * manager, never in the weights' manager.
 */
public final class ImageNetworks {
  static final float LEAKY_SLOPE = 0.1f;
  static final float BN_EPS = 1e-5f;
  /** DJL's momentum: running = momentum * running + (1 - momentum) * batch (PyTorch's 0.1). */
  static final float BN_MOMENTUM = 0.9f;

  private final ImageArchitecture arch;
  private final int parents;
  private final String prefix;
  private final ParameterSet weights;
  private final RunningStatistics buffers;

  /**
   * @param parents number of (normalised) parent values fed to both networks
   * @param prefix start of every weight name, e.g. "x."
   */
  public ImageNetworks(ImageArchitecture arch, int parents, String prefix, ParameterSet weights) {
    this.arch = arch;
    this.parents = parents;
    this.prefix = prefix;
    this.weights = weights;
    this.buffers = new RunningStatistics(weights.manager());
  }

  public ImageArchitecture architecture() {
    return arch;
  }

  public ParameterSet weights() {
    return weights;
  }

  /** The batch-norm running statistics by name (live arrays; do not close). */
  public Map<String, NDArray> buffers() {
    return buffers.view();
  }

  /**
   * Multiply-adds of one image through the encoder (x, pa -> mean and log-variance of z) or the
   * decoder (z, pa -> mu), counted layer by layer from the architecture: convolutions and linear
   * layers (batch norm, activations and upsampling are a few per value and left out). Twice this is
   * the FLOP count.
   */
  public long multiplyAdds(boolean encoder) {
    long c = arch.channels();
    long hw = (long) arch.height() * arch.width();
    long hw2 = hw / 4;
    long hw4 = (long) h4() * w4();
    if (encoder) {
      return arch.encConv1() * c * 16 * hw2 // enc.conv1: 4 x 4, stride 2
          + (long) arch.encConv2() * arch.encConv1() * 16 * hw4 // enc.conv2: 4 x 4, stride 2
          + (long) arch.encHidden() * arch.encConv2() * hw4 // enc.fc
          + (long) arch.headHidden() * (arch.encHidden() + parents) // enc.head
          + 2L * arch.zDim() * arch.headHidden(); // enc.mean, enc.logvar
    }
    long film = hasFilm() ? 2L * (arch.decConv1() + arch.decConv2()) * parents : 0;
    return (long) arch.decHidden() * (arch.zDim() + parents) // dec.fc1
        + (long) arch.decConv1() * hw4 * arch.decHidden() // dec.fc2
        + (long) arch.decConv2() * arch.decConv1() * 9 * hw2 // dec.conv1: 3 x 3 at half size
        + c * arch.decConv2() * 9 * hw // dec.conv2: 3 x 3 at full size
        + c * c * hw // dec.out: 1 x 1
        + film;
  }

  private int h4() {
    return arch.height() / 4;
  }

  private int w4() {
    return arch.width() / 4;
  }

  // ------------------------------------------------------------------ parameters

  /** Fresh weights (He-normal for layers followed by a rectifier, zero biases, BN scale 1) and running statistics (0, 1). */
  public void initParameters(Random random) {
    int c = arch.channels();
    int flat = arch.encConv2() * h4() * w4();
    conv("enc.conv1", arch.encConv1(), c, 4, random, 2);
    conv("enc.conv2", arch.encConv2(), arch.encConv1(), 4, random, 2);
    batchNorm("enc.bn2", arch.encConv2());
    linear("enc.fc", arch.encHidden(), flat, random, 2);
    batchNorm("enc.bn3", arch.encHidden());
    linear("enc.head", arch.headHidden(), arch.encHidden() + parents, random, 2);
    linear("enc.mean", arch.zDim(), arch.headHidden(), random, 1);
    // a small log-variance head: q starts near N(mean, 1) and cannot blow up early
    linear("enc.logvar", arch.zDim(), arch.headHidden(), random, 0.01);
    linear("dec.fc1", arch.decHidden(), arch.zDim() + parents, random, 2);
    batchNorm("dec.bn1", arch.decHidden());
    linear("dec.fc2", arch.decConv1() * h4() * w4(), arch.decHidden(), random, 2);
    batchNorm("dec.bn2", arch.decConv1() * h4() * w4());
    conv("dec.conv1", arch.decConv2(), arch.decConv1(), 3, random, 2);
    batchNorm("dec.bn3", arch.decConv2());
    conv("dec.conv2", c, arch.decConv2(), 3, random, 1);
    conv("dec.out", c, c, 1, random, 1);
    initFilm(random);
  }

  /** Names of the FiLM layers (the parents at every scale), or none. */
  public java.util.List<String> filmWeightNames() {
    if (!hasFilm()) {
      return java.util.List.of();
    }
    return java.util.List.of(prefix + "dec.film1.weight", prefix + "dec.film1.bias", prefix + "dec.film2.weight",
        prefix + "dec.film2.bias");
  }

  private boolean hasFilm() {
    return arch.parentFilm() && parents > 0;
  }

  /** FiLM layers at zero: the decoder computes what it computed without them. */
  void initFilm(Random random) {
    if (hasFilm()) {
      linear("dec.film1", 2 * arch.decConv1(), parents, random, 0);
      linear("dec.film2", 2 * arch.decConv2(), parents, random, 0);
    }
  }

  private void conv(String name, int out, int in, int k, Random random, double gain) {
    weights.create(prefix + name + ".weight", new Shape(out, in, k, k), Math.sqrt(gain / (in * k * k)), random);
    weights.create(prefix + name + ".bias", new Shape(out), 0, random);
  }

  private void linear(String name, int out, int in, Random random, double gain) {
    weights.create(prefix + name + ".weight", new Shape(out, in), Math.sqrt(gain / in), random);
    weights.create(prefix + name + ".bias", new Shape(out), 0, random);
  }

  private void batchNorm(String name, int features) {
    NDManager m = weights.manager();
    weights.put(prefix + name + ".gamma", m.ones(new Shape(features)));
    weights.put(prefix + name + ".beta", m.zeros(new Shape(features)));
    buffers.put(prefix + name + ".running_mean", m.zeros(new Shape(features)));
    buffers.put(prefix + name + ".running_var", m.ones(new Shape(features)));
  }

  /** Named copies of every weight and running statistic, in {@code target}'s manager. */
  public NDList snapshot(NDManager target) {
    NDList list = weights.snapshot(target);
    buffers.copyInto(list, target);
    return list;
  }

  /**
   * Copies weights and running statistics from {@code list} by name; names not belonging to these
   * networks (other mechanisms, optimiser state) are ignored.
   *
   * @throws IllegalArgumentException naming a missing, misshapen or non-finite array
   */
  public void restore(NDList list, String source) {
    NDList mine = new NDList();
    for (NDArray a : list) {
      if (a.getName() != null && a.getName().startsWith(prefix) && weights.contains(a.getName())) {
        mine.add(a);
      }
    }
    weights.restore(mine, source);
    buffers.restore(list, source, "the model", false);
    // the running statistics were replaced after the weights: fold again from both
    weights.changed();
  }

  // ------------------------------------------------------------------ forward passes

  /**
   * Where one computation reads its weights: scoped views inside a gradient collector (training),
   * the stored arrays directly otherwise (inference: no copies).
   */
  public Function<String, NDArray> inference() {
    return weights::get;
  }

  /** The layers that batch norm follows, and their batch norms (the same for every model). */
  private static final String[][] FOLDABLE = {{"enc.conv2", "enc.bn2"}, {"enc.fc", "enc.bn3"},
      {"dec.fc1", "dec.bn1"}, {"dec.fc2", "dec.bn2"}, {"dec.conv1", "dec.bn3"}};

  /** The weights with batch norm folded in, and the parameter version they were folded from. */
  private Folded folded;

  /**
   * Weights for answering queries with batch norm folded into the layer before it: on its running
   * statistics batch norm is an affine map per channel, gamma (h - mean) / sqrt(var + eps) + beta, so
   * that layer's weights and bias can absorb it (W' = s W, b' = s (b - mean) + beta with
   * s = gamma / sqrt(var + eps)) and the normalisation is skipped: one pass over the feature maps
   * fewer per batch norm. Folded again when the weights or the statistics have changed since (training).
   */
  public synchronized Function<String, NDArray> foldedInference() {
    if (folded != null && folded.version == weights.version()) {
      return folded;
    }
    if (folded != null) {
      folded.manager.close();
    }
    NDManager manager = weights.manager().newSubManager();
    Map<String, NDArray> arrays = new java.util.HashMap<>();
    for (String[] pair : FOLDABLE) {
      String layer = prefix + pair[0];
      String bn = prefix + pair[1];
      NDArray w = weights.get(layer + ".weight");
      NDArray s = weights.get(bn + ".gamma").div(buffers.get(bn + ".running_var").add(BN_EPS).sqrt());
      long[] perOutput = new long[w.getShape().dimension()];
      java.util.Arrays.fill(perOutput, 1);
      perOutput[0] = -1;
      NDArray foldedW = w.mul(s.reshape(perOutput));
      NDArray foldedB = weights.get(layer + ".bias").sub(buffers.get(bn + ".running_mean")).mul(s)
          .add(weights.get(bn + ".beta"));
      foldedW.attach(manager);
      foldedB.attach(manager);
      s.close();
      arrays.put(layer + ".weight", foldedW);
      arrays.put(layer + ".bias", foldedB);
    }
    NDArray last = weights.get(prefix + "dec.conv2.weight");
    if (last.getShape().get(0) <= PHASE_MAX_OUTPUT_CHANNELS) {
      // both upsamplings by phases: conv1 on the small maps (its BN folded in), conv2 on conv1's phases
      NDArray[] first = phaseWeights(arrays.get(prefix + "dec.conv1.weight"), arrays.get(prefix + "dec.conv1.bias"),
          manager);
      arrays.put(prefix + "dec.conv1" + PHASES + ".weight", first[0]);
      arrays.put(prefix + "dec.conv1" + PHASES + ".bias", first[1]);
      NDArray[] second = polyphaseWeights(last, weights.get(prefix + "dec.conv2.bias"), manager);
      arrays.put(prefix + POLYPHASE + ".weight", second[0]);
      arrays.put(prefix + POLYPHASE + ".bias", second[1]);
    }
    folded = new Folded(arrays, weights, weights.version(), manager);
    return folded;
  }

  /** Name suffix of a layer's weights as four phase kernels ({@link #phaseWeights}). */
  private static final String PHASES = ".phases";

  /**
   * Most output channels of the decoder's last convolution for which its end is computed by phases
   * ({@link #polyphaseDecoderEnd}): the phases come out as 16 c channels that must be interleaved into the
   * image, a strided copy that costs more than the upsampling it saves when it is large (one interleaving
   * of 4 x 32 channels, brain, 32 particles: 3.2 -> 9.5 ms; of 4 x 1: 10.7 -> 1.5 ms).
   */
  static final int PHASE_MAX_OUTPUT_CHANNELS = 4;

  /**
   * Row (or column) taps of a 3x3 kernel that land on the low-resolution neighbours -1, 0, +1 of an output
   * pixel in phase 0 or 1 of a x2 nearest-neighbour upsampling: in phase 0 the tap above falls on the row
   * above and the two others on the pixel's own row; in phase 1 the tap below falls on the row below.
   */
  private static final int[][][] PHASE_TAPS = {{{0}, {1, 2}, {}}, {{}, {0, 1}, {2}}};

  /**
   * A 3x3 stride-1 convolution of the x2 nearest-neighbour upsampling of x, rewritten as one 3x3
   * convolution of x itself with 4 C outputs (one per output pixel's phase: row parity, column parity)
   * whose kernels sum the original taps that fall on the same low-resolution pixel. Same values (up to the
   * order of float additions), without the upsampled input ever being made (for the decoder's last layer
   * a 16 MiB array per brain call). Returns {weight (4 C, Cin, 3, 3), bias (4 C)} in {@code manager}.
   */
  static NDArray[] phaseWeights(NDArray weight, NDArray bias, NDManager manager) {
    Shape s = weight.getShape();
    int out = Math.toIntExact(s.get(0));
    int in = Math.toIntExact(s.get(1));
    return phaseArrays(phaseKernels(weight), new Shape(4L * out, in, 3, 3), repeatEach(bias, 4), weight, bias,
        manager);
  }

  /** Each bias of {@code bias} {@code times} times in a row: the bias of every phase of its channel. */
  private static float[] repeatEach(NDArray bias, int times) {
    float[] b = bias.toType(DataType.FLOAT32, false).toFloatArray();
    float[] out = new float[times * b.length];
    for (int q = 0; q < out.length; q++) {
      out[q] = b[q / times];
    }
    return out;
  }

  /** Phase kernels and biases computed in floats, as arrays of the original weight's and bias's data types. */
  private static NDArray[] phaseArrays(float[] kernels, Shape shape, float[] biases, NDArray weight, NDArray bias,
      NDManager manager) {
    return new NDArray[] {manager.create(kernels, shape).toType(weight.getDataType(), false),
        manager.create(biases).toType(bias.getDataType(), false)};
  }

  /** The kernels of {@link #phaseWeights}, (4 C, Cin, 3, 3) row-major; output channel o * 4 + a * 2 + c. */
  private static float[] phaseKernels(NDArray weight) {
    Shape s = weight.getShape();
    if (s.dimension() != 4 || s.get(2) != 3 || s.get(3) != 3) {
      throw new IllegalArgumentException("phase weights need a 3x3 kernel; got " + s);
    }
    int out = Math.toIntExact(s.get(0));
    int in = Math.toIntExact(s.get(1));
    float[] w = weight.toType(DataType.FLOAT32, false).toFloatArray();
    float[] p = new float[4 * out * in * 9];
    for (int o = 0; o < out; o++) {
      for (int a = 0; a < 2; a++) {
        for (int c = 0; c < 2; c++) {
          int phase = o * 4 + a * 2 + c;
          for (int i = 0; i < in; i++) {
            for (int r = 0; r < 3; r++) {
              for (int q = 0; q < 3; q++) {
                float sum = 0;
                for (int tr : PHASE_TAPS[a][r]) {
                  for (int tq : PHASE_TAPS[c][q]) {
                    sum += w[((o * in + i) * 3 + tr) * 3 + tq];
                  }
                }
                p[((phase * in + i) * 3 + r) * 3 + q] = sum;
              }
            }
          }
        }
      }
    }
    return p;
  }

  /** Name of the decoder's last convolution as kernels on the phases of conv1's phases ({@link #polyphaseWeights}). */
  private static final String POLYPHASE = "dec.conv2.polyphases";

  /**
   * The decoder from its first small maps h (N, C1, h/4, w/4) to conv2's output (N, c, h, w), without
   * an upsampled map ever being made: conv1 by its phase kernels gives the 14 x 14 (brain: 32 x 32) maps
   * as four phases of the small grid, FiLM and ReLU act on them channel by channel, and conv2 of their
   * upsampling is one convolution of those phases with 16 outputs per channel (the output pixel's row and
   * column modulo 4), interleaved at the end: a few kilobytes where the upsampled maps were megabytes.
   */
  private NDArray polyphaseDecoderEnd(Folded f, NDArray h, NDArray context) {
    NDArray p = strided(h, f.arrays.get(prefix + "dec.conv1" + PHASES + ".weight"),
        f.arrays.get(prefix + "dec.conv1" + PHASES + ".bias"), 1, 1);
    if (hasFilm() && context != null) {
      long channels = p.getShape().get(1) / 4;
      NDArray gb = linear(f, "dec.film2", context).reshape(-1, 2 * channels, 1, 1);
      // each channel's gamma and beta for its four phases (channel o's phases are o*4 .. o*4+3)
      NDArray gamma = gb.get(":, 0:" + channels).repeat(1, 4);
      NDArray beta = gb.get(":, " + channels + ":").repeat(1, 4);
      p = p.mul(gamma.add(1)).add(beta);
    }
    p = Activation.relu(p);
    return polyphaseConv(p, f.arrays.get(prefix + POLYPHASE + ".weight"), f.arrays.get(prefix + POLYPHASE + ".bias"));
  }

  /** conv3x3(upsample(H)) of a map H given by its phases P, from the kernels of {@link #polyphaseWeights}. */
  static NDArray polyphaseConv(NDArray phases, NDArray polyWeight, NDArray polyBias) {
    NDArray q = strided(phases, polyWeight, polyBias, 1, 1);
    Shape qs = q.getShape();
    long n = qs.get(0);
    long out = qs.get(1) / 16;
    // (N, c * [row mod 4, column mod 4], H, W) -> (N, c, 4H, 4W)
    return q.reshape(n, out, 4, 4, qs.get(2), qs.get(3)).transpose(0, 1, 4, 2, 5, 3)
        .reshape(n, out, 4 * qs.get(2), 4 * qs.get(3));
  }

  /**
   * conv3x3 of the x2 upsampling of a map H given as its four phases P on the half grid
   * (H[2i + a, 2j + b] = P[ci * 4 + a * 2 + b, i, j]), as one 3x3 convolution of P with 16 outputs per
   * output channel, output pixel (4i + R, 4j + C) in output channel o * 16 + R * 4 + C. R = 2a + s: the
   * phase (a) of H's row u = 2i + a and the phase (s) of the output's row 2u + s. Built from conv2's
   * phase kernels: a tap at offset dr - 1 from H's row u lands on P's row i + floor((a + dr - 1) / 2) in
   * phase (a + dr - 1) mod 2. Returns {weight (16 c, 4 Cin, 3, 3), bias (16 c)}.
   */
  static NDArray[] polyphaseWeights(NDArray weight, NDArray bias, NDManager manager) {
    Shape s = weight.getShape();
    int out = Math.toIntExact(s.get(0));
    int in = Math.toIntExact(s.get(1));
    float[] k = phaseKernels(weight);
    float[] p = new float[16 * out * 4 * in * 9];
    for (int o = 0; o < out; o++) {
      for (int a = 0; a < 2; a++) {
        for (int ph = 0; ph < 2; ph++) {
          for (int sr = 0; sr < 2; sr++) {
            for (int sc = 0; sc < 2; sc++) {
              int q = o * 16 + (2 * a + sr) * 4 + (2 * ph + sc);
              int kPhase = o * 4 + sr * 2 + sc;
              for (int ci = 0; ci < in; ci++) {
                for (int dr = 0; dr < 3; dr++) {
                  int rowShift = a + dr - 1;
                  int pr = Math.floorMod(rowShift, 2);
                  int r = Math.floorDiv(rowShift, 2) + 1;
                  for (int dc = 0; dc < 3; dc++) {
                    int colShift = ph + dc - 1;
                    int pc = Math.floorMod(colShift, 2);
                    int c = Math.floorDiv(colShift, 2) + 1;
                    int channel = ci * 4 + pr * 2 + pc;
                    p[((q * 4 * in + channel) * 3 + r) * 3 + c] += k[((kPhase * in + ci) * 3 + dr) * 3 + dc];
                  }
                }
              }
            }
          }
        }
      }
    }
    return phaseArrays(p, new Shape(16L * out, 4L * in, 3, 3), repeatEach(bias, 16), weight, bias, manager);
  }

  /** Weights with batch norm folded in ({@link #foldedInference()}); batch norm is skipped under them. */
  private static final class Folded implements Function<String, NDArray> {
    final Map<String, NDArray> arrays;
    final ParameterSet weights;
    final long version;
    final NDManager manager;

    Folded(Map<String, NDArray> arrays, ParameterSet weights, long version, NDManager manager) {
      this.arrays = arrays;
      this.weights = weights;
      this.version = version;
      this.manager = manager;
    }

    @Override
    public NDArray apply(String name) {
      NDArray a = arrays.get(name);
      return a != null ? a : weights.get(name);
    }
  }

  public Function<String, NDArray> training(NDManager scope) {
    ParameterSet.Scoped scoped = weights.scoped(scope);
    return scoped::get;
  }

  /**
   * Encoder: y (N, c, h, w) in logit space and context (N, P) or null -> {mean, log-variance}, each (N, zDim).
   */
  public NDList encode(Function<String, NDArray> w, NDArray y, NDArray context, boolean train) {
    return encode(w, y, context, train, train);
  }

  /**
   * As {@link #encode(Function, NDArray, NDArray, boolean)} with batch norm's mode and the gradient
   * path chosen apart: fine-tuning keeps batch norm's running statistics (as inference) and needs right
   * gradients.
   */
  public NDList encode(Function<String, NDArray> w, NDArray y, NDArray context, boolean batchStatistics,
      boolean gradients) {
    boolean train = gradients;
    NDArray h = conv2d(w, "enc.conv1", y, 2, 1, train);
    h = Activation.leakyRelu(h, LEAKY_SLOPE);
    h = conv2d(w, "enc.conv2", h, 2, 1, train);
    h = bn(w, "enc.bn2", h, batchStatistics);
    h = Activation.leakyRelu(h, LEAKY_SLOPE);
    h = h.reshape(h.getShape().get(0), -1);
    h = linear(w, "enc.fc", h);
    h = bn(w, "enc.bn3", h, batchStatistics);
    h = Activation.leakyRelu(h, LEAKY_SLOPE);
    if (context != null) {
      h = h.concat(context, 1);
    }
    h = Activation.relu(linear(w, "enc.head", h));
    return new NDList(linear(w, "enc.mean", h), linear(w, "enc.logvar", h));
  }

  /** Decoder: z (N, zDim) and context (N, P) or null -> mean mu(z, pa) (N, c, h, w) in logit space. */
  public NDArray decode(Function<String, NDArray> w, NDArray z, NDArray context, boolean train) {
    return decode(w, z, context, train, train);
  }

  /** As {@link #decode(Function, NDArray, NDArray, boolean)} with batch norm's mode and the gradient path apart. */
  public NDArray decode(Function<String, NDArray> w, NDArray z, NDArray context, boolean batchStatistics,
      boolean gradients) {
    boolean train = gradients;
    NDArray h = context == null ? z : z.concat(context, 1);
    h = Activation.relu(bn(w, "dec.bn1", linear(w, "dec.fc1", h), batchStatistics));
    h = bn(w, "dec.bn2", linear(w, "dec.fc2", h), batchStatistics);
    h = h.reshape(h.getShape().get(0), arch.decConv1(), h4(), w4());
    h = Activation.relu(film(w, "dec.film1", h, context));
    if (!batchStatistics && !train && w instanceof Folded f && f.arrays.containsKey(prefix + POLYPHASE + ".weight")) {
      return conv2d(w, "dec.out", polyphaseDecoderEnd(f, h, context), 1, 0, false);
    }
    h = upsample(h);
    h = bn(w, "dec.bn3", conv2d(w, "dec.conv1", h, 1, 1, train), batchStatistics);
    h = Activation.relu(film(w, "dec.film2", h, context));
    h = upsample(h);
    h = conv2d(w, "dec.conv2", h, 1, 1, train);
    return conv2d(w, "dec.out", h, 1, 0, train);
  }

  /** h * (1 + gamma(pa)) + beta(pa), channel by channel; h itself without FiLM layers. */
  private NDArray film(Function<String, NDArray> w, String name, NDArray h, NDArray context) {
    if (!hasFilm() || context == null) {
      return h;
    }
    long channels = h.getShape().get(1);
    NDArray gb = linear(w, name, context).reshape(-1, 2 * channels, 1, 1);
    NDArray gamma = gb.get(":, 0:" + channels);
    NDArray beta = gb.get(":, " + channels + ":");
    return h.mul(gamma.add(1)).add(beta);
  }

  private NDArray linear(Function<String, NDArray> w, String name, NDArray x) {
    return Linear.linear(x, w.apply(prefix + name + ".weight"), w.apply(prefix + name + ".bias")).singletonOrThrow();
  }

  private NDArray conv2d(Function<String, NDArray> w, String name, NDArray x, int stride, int pad, boolean train) {
    NDArray weight = w.apply(prefix + name + ".weight");
    NDArray bias = w.apply(prefix + name + ".bias");
    long k = weight.getShape().get(2);
    if (stride != 1) {
      return strided(x, weight, bias, stride, pad);
    }
    if (k == 1) {
      // a 1x1 convolution is a linear map over channels
      NDArray h = x.transpose(0, 2, 3, 1);
      Shape ws = weight.getShape();
      NDArray out = Linear.linear(h, weight.reshape(ws.get(0), ws.get(1)), bias).singletonOrThrow();
      return out.transpose(0, 3, 1, 2);
    }
    // the widening is only needed for gradients; inference keeps the cheaper native kernel
    return train ? sameSize(x, weight, bias, pad) : strided(x, weight, bias, 1, pad);
  }

  /** Fewest output channels for which libtorch's stride-1 convolution has right input gradients here. */
  static final int MIN_OUTPUT_CHANNELS = 16;

  /**
   * A stride-1 convolution. With fewer than 16 output channels, libtorch 2.5.1's CPU kernel (oneDNN,
   * AVX-512, seen on this project's machines) computes a wrong input gradient for 3x3 kernels (off
   * by up to 2 against the float64 path, on every call); with 16 or more it is right. So small
   * outputs are computed with zero-weight channels added, which are dropped again: same values, right
   * gradients. ImageMechanismTest checks this against the float64 path.
   */
  static NDArray sameSize(NDArray x, NDArray weight, NDArray bias, int pad) {
    long out = weight.getShape().get(0);
    if (out >= MIN_OUTPUT_CHANNELS) {
      return strided(x, weight, bias, 1, pad);
    }
    Shape ws = weight.getShape();
    NDManager scope = x.getManager();
    NDArray wide = weight.concat(scope.zeros(new Shape(MIN_OUTPUT_CHANNELS - out, ws.get(1), ws.get(2), ws.get(3)),
        weight.getDataType()), 0);
    NDArray wideBias = bias.concat(scope.zeros(new Shape(MIN_OUTPUT_CHANNELS - out), bias.getDataType()), 0);
    return strided(x, wide, wideBias, 1, pad).get(":, 0:" + out);
  }

  static NDArray strided(NDArray x, NDArray weight, NDArray bias, int stride, int pad) {
    return Conv2d.conv2d(x, weight, bias, new Shape(stride, stride), new Shape(pad, pad), new Shape(1, 1), 1)
        .singletonOrThrow();
  }

  private NDArray bn(Function<String, NDArray> w, String name, NDArray x, boolean train) {
    if (w instanceof Folded && !train) {
      return x; // already in the layer before
    }
    if (train) {
      // the running statistics move: anything folded from them is out of date
      weights.changed();
    }
    // axis -1: libtorch's own convention (channels on axis 1), without DJL's axis-swapping detour
    return BatchNorm.batchNorm(x, buffers.get(prefix + name + ".running_mean"),
        buffers.get(prefix + name + ".running_var"), w.apply(prefix + name + ".gamma"),
        w.apply(prefix + name + ".beta"), -1, BN_MOMENTUM, BN_EPS, train).singletonOrThrow();
  }

  /**
   * Nearest-neighbour x2 upsampling of (N, C, H, W), by libtorch's own kernel (upsample_nearest2d, with
   * its gradient): the reshape-broadcast-reshape it replaces copied through a six-dimensional strided
   * view and took 28 % of the brain decoder's time.
   */
  static NDArray upsample(NDArray x) {
    Shape s = x.getShape();
    return x.getNDArrayInternal().interpolation(new long[] {2 * s.get(2), 2 * s.get(3)}, NEAREST, false);
  }

  /** libtorch's interpolation mode "nearest", as DJL numbers them. */
  private static final int NEAREST = 0;

  /** z = mean + exp(log-var / 2) * eps. */
  static NDArray reparameterise(NDArray mean, NDArray logVar, NDArray eps) {
    return eps.mul(Scalars.times(logVar, 0.5).exp()).add(mean);
  }
}
