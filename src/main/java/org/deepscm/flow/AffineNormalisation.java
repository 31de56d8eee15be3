package org.deepscm.flow;

import ai.djl.ndarray.NDArray;

/**
 * A fixed affine map y = shift + scale * x, with constants computed from the training data
 * (e.g. log-thickness mean and standard deviation, or an intensity range). Not trained.
 */
public final class AffineNormalisation implements Transform {
  private final double shift;
  private final double scale;

  public AffineNormalisation(double shift, double scale) {
    if (!Double.isFinite(shift) || !Double.isFinite(scale) || scale == 0) {
      throw new IllegalArgumentException(
          "affine normalisation needs a finite shift and a finite non-zero scale, got shift="
              + shift + ", scale=" + scale);
    }
    this.shift = shift;
    this.scale = scale;
  }

  public double shift() {
    return shift;
  }

  public double scale() {
    return scale;
  }

  @Override
  public Transformed forward(NDArray x) {
    return new Transformed(Scalars.times(x, scale).add(shift), x.zerosLike().add(Math.log(Math.abs(scale))));
  }

  @Override
  public Transformed inverse(NDArray y) {
    return new Transformed(Scalars.dividedBy(y.sub(shift), scale), y.zerosLike().sub(Math.log(Math.abs(scale))));
  }
}
