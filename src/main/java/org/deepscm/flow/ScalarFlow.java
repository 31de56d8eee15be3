package org.deepscm.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A flow's stages evaluated in plain Java doubles, one unit at a time: the same maps as the
 * {@link Transform}s that {@link FlowStep#build} makes, without libtorch. For a few units (the
 * explorer's case, a command-line query) a counterfactual's scalar part took some 500 small libtorch
 * calls of about 20 us each, ten milliseconds of every slider step; here it takes microseconds.
 * Batches and anything that needs gradients keep the NDArray transforms.
 *
 * <p>Built from the parameters' values at one moment: make a new one when they change
 * ({@link ParameterSet#version()}).
 */
public final class ScalarFlow {

  /** One stage: forward from noise towards the value, inverse back. */
  private interface Stage {
    double forward(double x, double[] context);

    /** {@code margin}: how far inside (0, 1) a sigmoid's inverse clamps (it depends on the data type). */
    double inverse(double y, double[] context, double margin);
  }

  private final List<Stage> stages;

  private ScalarFlow(List<Stage> stages) {
    this.stages = stages;
  }

  /**
   * @param steps the flow's stages, from the noise to the value
   * @param prefix the parameter name prefix of stage k
   * @param params the parameters by name
   */
  public static ScalarFlow of(List<FlowStep> steps, IntFunction<String> prefix, ParameterSet params) {
    List<Stage> stages = new ArrayList<>();
    for (int k = 0; k < steps.size(); k++) {
      FlowStep step = steps.get(k);
      String p = prefix.apply(k);
      if (step instanceof FlowStep.Spline s) {
        stages.add(new Spline(s.bound(), values(params.get(p + ".widths")), values(params.get(p + ".heights")),
            values(params.get(p + ".derivatives")), values(params.get(p + ".lambdas"))));
      } else if (step instanceof FlowStep.Affine) {
        double loc = values(params.get(p + ".loc"))[0];
        double logScale = values(params.get(p + ".log_scale"))[0];
        double[] fixed = {loc, logScale};
        stages.add(new Affine(c -> fixed));
      } else if (step instanceof FlowStep.ConditionalAffine a) {
        Mlp net = new Mlp(a.hidden().size() + 1, p, params);
        stages.add(new Affine(net::apply));
      } else if (step instanceof FlowStep.Normalise n) {
        stages.add(new Stage() {
          @Override
          public double forward(double x, double[] c) {
            return x * n.scale() + n.shift();
          }

          @Override
          public double inverse(double y, double[] c, double margin) {
            return (y - n.shift()) / n.scale();
          }
        });
      } else if (step instanceof FlowStep.Exp) {
        stages.add(new Stage() {
          @Override
          public double forward(double x, double[] c) {
            return Math.exp(x);
          }

          @Override
          public double inverse(double y, double[] c, double margin) {
            return Math.log(y);
          }
        });
      } else if (step instanceof FlowStep.Sigmoid) {
        stages.add(new Stage() {
          @Override
          public double forward(double x, double[] c) {
            return 1 / (1 + Math.exp(-x));
          }

          @Override
          public double inverse(double y, double[] c, double margin) {
            double q = Math.min(Math.max(y, margin), 1 - margin);
            return Math.log(q) - Math.log1p(-q);
          }
        });
      } else {
        throw new IllegalArgumentException("no scalar form for flow stage " + step.type());
      }
    }
    return new ScalarFlow(List.copyOf(stages));
  }

  /** Noise -> value for one unit whose encoded parents are {@code context} (empty without parents). */
  public double forward(double noise, double[] context) {
    double x = noise;
    for (Stage s : stages) {
      x = s.forward(x, context);
    }
    return x;
  }

  /** Value -> noise; {@code type}: the data type the NDArray path would compute in (its sigmoid clamp). */
  public double inverse(double value, double[] context, DataType type) {
    double margin = SigmoidTransform.clampMargin(type);
    double y = value;
    for (int k = stages.size() - 1; k >= 0; k--) {
      y = stages.get(k).inverse(y, context, margin);
    }
    return y;
  }

  /** An array's values as doubles, without leaving a converted copy behind in its manager. */
  public static double[] values(NDArray a) {
    if (a.getDataType() == DataType.FLOAT64) {
      return a.toDoubleArray();
    }
    if (a.getDataType() == DataType.FLOAT32) {
      float[] f = a.toFloatArray();
      double[] d = new double[f.length];
      for (int k = 0; k < f.length; k++) {
        d[k] = f[k];
      }
      return d;
    }
    try (NDManager scratch = a.getManager().newSubManager()) {
      NDArray copy = a.toType(DataType.FLOAT64, true);
      copy.attach(scratch);
      return copy.toDoubleArray();
    }
  }

  /** y = loc + exp(logScale) x, with {loc, logScale} fixed or predicted from the context (the network run once). */
  private record Affine(java.util.function.Function<double[], double[]> locAndLogScale) implements Stage {
    @Override
    public double forward(double x, double[] c) {
      double[] p = locAndLogScale.apply(c);
      return x * Math.exp(p[1]) + p[0];
    }

    @Override
    public double inverse(double y, double[] c, double margin) {
      double[] p = locAndLogScale.apply(c);
      return (y - p[0]) * Math.exp(-p[1]);
    }
  }

  /** {@link ContextNetwork}: h W + b per layer (W stored inputs x outputs), LeakyReLU between layers. */
  private static final class Mlp {
    private final double[][] weights;
    private final double[][] biases;
    private final int[] inputs;

    Mlp(int layers, String prefix, ParameterSet params) {
      weights = new double[layers][];
      biases = new double[layers][];
      inputs = new int[layers];
      for (int l = 0; l < layers; l++) {
        NDArray w = params.get(prefix + ".layer" + l + ".weight");
        weights[l] = values(w);
        biases[l] = values(params.get(prefix + ".layer" + l + ".bias"));
        inputs[l] = Math.toIntExact(w.getShape().get(0));
      }
    }

    double[] apply(double[] context) {
      double[] h = context;
      for (int l = 0; l < weights.length; l++) {
        int out = biases[l].length;
        double[] next = biases[l].clone();
        for (int i = 0; i < inputs[l]; i++) {
          for (int o = 0; o < out; o++) {
            next[o] += h[i] * weights[l][i * out + o];
          }
        }
        if (l + 1 < weights.length) {
          for (int o = 0; o < out; o++) {
            next[o] = next[o] >= 0 ? next[o] : ContextNetwork.LEAKY_SLOPE * next[o];
          }
        }
        h = next;
      }
      return h;
    }
  }

  /** {@link SplineTransform}'s linear-rational spline; the per-bin constants computed once. */
  private static final class Spline implements Stage {
    private final double bound;
    private final int bins;
    private final double[] xLeft;
    private final double[] width;
    private final double[] yLeft;
    private final double[] height;
    private final double[] lambda;
    private final double[] wb;
    private final double[] wc;
    private final double[] yc;

    Spline(double bound, double[] rawWidths, double[] rawHeights, double[] rawDerivatives, double[] rawLambdas) {
      this.bound = bound;
      this.bins = rawWidths.length;
      width = sizes(rawWidths, SplineTransform.MIN_BIN_WIDTH);
      height = sizes(rawHeights, SplineTransform.MIN_BIN_HEIGHT);
      xLeft = leftEdges(width);
      yLeft = leftEdges(height);
      lambda = new double[bins];
      wb = new double[bins];
      wc = new double[bins];
      yc = new double[bins];
      for (int k = 0; k < bins; k++) {
        double dLeft = k == 0 ? 1 : softPlus(rawDerivatives[k - 1]) + SplineTransform.MIN_DERIVATIVE;
        double dRight = k == bins - 1 ? 1 : softPlus(rawDerivatives[k]) + SplineTransform.MIN_DERIVATIVE;
        double lam = 1 / (1 + Math.exp(-rawLambdas[k])) * (1 - 2 * SplineTransform.MIN_LAMBDA)
            + SplineTransform.MIN_LAMBDA;
        lambda[k] = lam;
        wb[k] = Math.sqrt(dLeft / dRight);
        double slope = height[k] / width[k];
        wc[k] = (lam * dLeft + (1 - lam) * wb[k] * dRight) / slope;
        double yb = yLeft[k] + height[k];
        yc[k] = ((1 - lam) * yLeft[k] + lam * wb[k] * yb) / ((1 - lam) + lam * wb[k]);
      }
    }

    private static double softPlus(double x) {
      return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    private double[] sizes(double[] raw, double min) {
      double max = Double.NEGATIVE_INFINITY;
      for (double r : raw) {
        max = Math.max(max, r);
      }
      double sum = 0;
      double[] s = new double[raw.length];
      for (int k = 0; k < raw.length; k++) {
        s[k] = Math.exp(raw[k] - max);
        sum += s[k];
      }
      for (int k = 0; k < raw.length; k++) {
        s[k] = (s[k] / sum * (1 - min * bins) + min) * 2 * bound;
      }
      return s;
    }

    private double[] leftEdges(double[] sizes) {
      double[] left = new double[sizes.length];
      double cumulative = -bound;
      for (int k = 0; k < sizes.length; k++) {
        left[k] = cumulative;
        cumulative += sizes[k];
      }
      return left;
    }

    /** The bin whose inner left edges lie at or below v (0 .. K-1). */
    private int binOf(double v, double[] leftEdges) {
      int k = 0;
      for (int i = 1; i < bins; i++) {
        if (v >= leftEdges[i]) {
          k = i;
        }
      }
      return k;
    }

    @Override
    public double forward(double x, double[] c) {
      if (!(Math.abs(x) < bound)) {
        return x; // identity outside the spline's interval (and NaN stays NaN)
      }
      int k = binOf(x, xLeft);
      double theta = Math.min(Math.max((x - xLeft[k]) / width[k], 0), 1);
      double lam = lambda[k];
      double yb = yLeft[k] + height[k];
      if (theta <= lam) {
        return (yLeft[k] * (lam - theta) + wc[k] * yc[k] * theta) / (lam - theta + wc[k] * theta);
      }
      return (wc[k] * yc[k] * (1 - theta) + wb[k] * yb * (theta - lam))
          / (wc[k] * (1 - theta) + wb[k] * (theta - lam));
    }

    @Override
    public double inverse(double y, double[] c, double margin) {
      if (!(Math.abs(y) < bound)) {
        return y;
      }
      int k = binOf(y, yLeft);
      double lam = lambda[k];
      double yb = yLeft[k] + height[k];
      double theta = y <= yc[k]
          ? lam * (yLeft[k] - y) / ((wc[k] - 1) * y + yLeft[k] - wc[k] * yc[k])
          : ((wc[k] - lam * wb[k]) * y + lam * wb[k] * yb - wc[k] * yc[k])
              / ((wc[k] - wb[k]) * y + wb[k] * yb - wc[k] * yc[k]);
      theta = Math.min(Math.max(theta, 0), 1);
      return theta * width[k] + xLeft[k];
    }
  }
}
