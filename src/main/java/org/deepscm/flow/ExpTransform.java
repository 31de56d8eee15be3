package org.deepscm.flow;

import ai.djl.ndarray.NDArray;

/** y = exp(x): maps the real line onto the positive half-line. */
public final class ExpTransform implements Transform {

  @Override
  public Transformed forward(NDArray x) {
    return new Transformed(x.exp(), x.duplicate());
  }

  @Override
  public Transformed inverse(NDArray y) {
    NDArray x = y.log();
    return new Transformed(x, x.neg());
  }
}
