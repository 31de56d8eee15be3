package org.deepscm.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The small network that predicts a conditional transform's parameters from its (normalised)
 * parents: a linear map when {@code hidden} is empty, otherwise an MLP with LeakyReLU(0.1) between
 * layers, e.g. 2 -> 8 -> 16 -> 2 as the brain model's volume mechanisms.
 *
 * <p>The last layer starts at zero, so a fresh conditional affine is the identity.
 */
public final class ContextNetwork {
  static final float LEAKY_SLOPE = 0.1f;

  private final int inputs;
  private final List<Integer> hidden;
  private final int outputs;

  public ContextNetwork(int inputs, List<Integer> hidden, int outputs) {
    if (inputs < 0 || outputs < 1 || hidden.stream().anyMatch(h -> h < 1)) {
      throw new IllegalArgumentException(
          "context network sizes must be positive: inputs=" + inputs + ", hidden=" + hidden
              + ", outputs=" + outputs);
    }
    this.inputs = inputs;
    this.hidden = List.copyOf(hidden);
    this.outputs = outputs;
  }

  public int inputs() {
    return inputs;
  }

  public List<Integer> hidden() {
    return hidden;
  }

  public int outputs() {
    return outputs;
  }

  private List<Integer> sizes() {
    List<Integer> sizes = new ArrayList<>();
    sizes.add(inputs);
    sizes.addAll(hidden);
    sizes.add(outputs);
    return sizes;
  }

  public void initParameters(ParameterSet params, String prefix, Random random) {
    List<Integer> sizes = sizes();
    for (int layer = 0; layer + 1 < sizes.size(); layer++) {
      int in = sizes.get(layer);
      int out = sizes.get(layer + 1);
      boolean last = layer + 2 == sizes.size();
      double std = last ? 0 : Math.sqrt(2.0 / Math.max(1, in));
      params.create(prefix + ".layer" + layer + ".weight", new Shape(in, out), std, random);
      params.create(prefix + ".layer" + layer + ".bias", new Shape(out), 0, random);
    }
  }

  /** (N, inputs) context -> (N, outputs). With no inputs, pass any (N, 1) array: only N is used. */
  public NDArray apply(ParameterSet.Scoped params, String prefix, NDArray context) {
    List<Integer> sizes = sizes();
    NDArray h = context;
    for (int layer = 0; layer + 1 < sizes.size(); layer++) {
      NDArray weight = params.get(prefix + ".layer" + layer + ".weight");
      NDArray bias = params.get(prefix + ".layer" + layer + ".bias");
      h = sizes.get(layer) == 0
          ? h.get(":, 0:1").zerosLike().add(bias.toType(h.getDataType(), false))
          : h.matMul(weight.toType(h.getDataType(), false)).add(bias.toType(h.getDataType(), false));
      if (layer + 2 < sizes.size()) {
        h = Activation.leakyRelu(h, LEAKY_SLOPE);
      }
    }
    return h;
  }
}
