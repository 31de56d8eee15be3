package org.deepscm.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Random;

/**
 * One stage of a 1-D flow mechanism as it is described and saved: its kind, its fixed constants
 * and, for learnt stages, how its parameters are named and initialised. {@link #build} turns a
 * stage into a concrete {@link Transform} for one computation (the parameters seen by that
 * computation, and the context for conditional stages).
 *
 * <p>Stages are listed from the noise to the value: e.g. thickness = Spline, Normalise(mean, std), Exp.
 */
public sealed interface FlowStep {

  /** The name used in model files. */
  String type();

  /** Creates this stage's parameters under {@code prefix}; fixed stages have none. */
  default void initParameters(ParameterSet params, String prefix, int contextSize, Random random) {}

  Transform build(ParameterSet.Scoped params, String prefix, NDArray context);

  /** Linear-rational spline, identity outside [-bound, bound] (Appendix A.2: 8 bins, bound 3). */
  record Spline(int bins, double bound) implements FlowStep {
    public Spline {
      if (bins < 2 || !(bound > 0)) {
        throw new IllegalArgumentException("spline needs >= 2 bins and a positive bound, got " + bins + ", " + bound);
      }
    }

    @Override
    public String type() {
      return "spline";
    }

    @Override
    public void initParameters(ParameterSet params, String prefix, int contextSize, Random random) {
      // equal bins, derivative 1 everywhere, split in the middle: the identity
      params.create(prefix + ".widths", new Shape(bins), 0, random);
      params.create(prefix + ".heights", new Shape(bins), 0, random);
      NDArray d = params.manager().full(new Shape(bins - 1),
          (float) Math.log(Math.expm1(1 - SplineTransform.MIN_DERIVATIVE)));
      params.put(prefix + ".derivatives", d);
      params.create(prefix + ".lambdas", new Shape(bins), 0, random);
    }

    @Override
    public Transform build(ParameterSet.Scoped params, String prefix, NDArray context) {
      return new SplineTransform(bound, params.get(prefix + ".widths"), params.get(prefix + ".heights"),
          params.get(prefix + ".derivatives"), params.get(prefix + ".lambdas"));
    }
  }

  /** Learnt y = loc + exp(logScale) x. */
  record Affine() implements FlowStep {
    @Override
    public String type() {
      return "affine";
    }

    @Override
    public void initParameters(ParameterSet params, String prefix, int contextSize, Random random) {
      params.create(prefix + ".loc", new Shape(1), 0, random);
      params.create(prefix + ".log_scale", new Shape(1), 0, random);
    }

    @Override
    public Transform build(ParameterSet.Scoped params, String prefix, NDArray context) {
      return new AffineTransform(params.get(prefix + ".loc"), params.get(prefix + ".log_scale"));
    }
  }

  /** Affine whose loc and log-scale a context network predicts from the parents. */
  record ConditionalAffine(List<Integer> hidden) implements FlowStep {
    public ConditionalAffine {
      hidden = List.copyOf(hidden);
    }

    @Override
    public String type() {
      return "conditional_affine";
    }

    ContextNetwork network(int contextSize) {
      return new ContextNetwork(contextSize, hidden, 2);
    }

    @Override
    public void initParameters(ParameterSet params, String prefix, int contextSize, Random random) {
      if (contextSize == 0) {
        throw new IllegalArgumentException(prefix + ": a conditional affine needs at least one parent");
      }
      network(contextSize).initParameters(params, prefix, random);
    }

    @Override
    public Transform build(ParameterSet.Scoped params, String prefix, NDArray context) {
      NDArray out = network((int) context.getShape().get(1)).apply(params, prefix, context);
      return new AffineTransform(out.get(":, 0"), out.get(":, 1"));
    }
  }

  /** Fixed y = shift + scale x from training statistics. */
  record Normalise(double shift, double scale) implements FlowStep {
    @Override
    public String type() {
      return "normalise";
    }

    @Override
    public Transform build(ParameterSet.Scoped params, String prefix, NDArray context) {
      return new AffineNormalisation(shift, scale);
    }
  }

  record Exp() implements FlowStep {
    @Override
    public String type() {
      return "exp";
    }

    @Override
    public Transform build(ParameterSet.Scoped params, String prefix, NDArray context) {
      return new ExpTransform();
    }
  }

  record Sigmoid() implements FlowStep {
    @Override
    public String type() {
      return "sigmoid";
    }

    @Override
    public Transform build(ParameterSet.Scoped params, String prefix, NDArray context) {
      return new SigmoidTransform();
    }
  }
}
