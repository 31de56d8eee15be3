package org.deepscm.flow;

import ai.djl.ndarray.NDArray;

/**
 * y = loc + exp(logScale) * x with learnable or context-predicted parameters. {@code loc} and
 * {@code logScale} broadcast against the input: scalars for a learnt affine, one value per row
 * for a conditional affine.
 */
public final class AffineTransform implements Transform {
  private final NDArray loc;
  private final NDArray logScale;

  public AffineTransform(NDArray loc, NDArray logScale) {
    this.loc = loc;
    this.logScale = logScale;
  }

  @Override
  public Transformed forward(NDArray x) {
    NDArray y = x.mul(logScale.exp()).add(loc);
    return new Transformed(y, x.zerosLike().add(logScale));
  }

  @Override
  public Transformed inverse(NDArray y) {
    NDArray x = y.sub(loc).mul(logScale.neg().exp());
    return new Transformed(x, y.zerosLike().sub(logScale));
  }
}
