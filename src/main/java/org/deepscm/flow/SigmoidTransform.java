package org.deepscm.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;

/**
 * y = 1 / (1 + exp(-x)): maps the real line onto (0, 1). The inverse clamps y strictly inside
 * (0, 1) first, so a value on the boundary (an extreme training sample) gives a large finite
 * logit instead of an infinite one (the NaN source of the reference code, deepscm issue #1).
 */
public final class SigmoidTransform implements Transform {

  /** How far inside (0, 1) the inverse clamps, per data type. */
  public static double clampMargin(DataType type) {
    return type == DataType.FLOAT64 ? 1e-12 : 1e-6;
  }

  @Override
  public Transformed forward(NDArray x) {
    // log sigma(x) + log sigma(-x) = -softplus(-x) - softplus(x)
    NDArray logDet = Activation.softPlus(x.neg()).add(Activation.softPlus(x)).neg();
    return new Transformed(Activation.sigmoid(x), logDet);
  }

  @Override
  public Transformed inverse(NDArray y) {
    double eps = clampMargin(y.getDataType());
    NDArray p = y.clip(eps, 1 - eps);
    NDArray logP = p.log();
    NDArray log1mP = p.neg().add(1).log();
    return new Transformed(logP.sub(log1mP), logP.add(log1mP).neg());
  }
}
