package org.deepscm.flow;

import ai.djl.ndarray.NDArray;

/**
 * Multiplication by a constant that is safe under autograd.
 *
 * <p>DJL's {@code NDArray.mul(Number)} wraps the number in a temporary tensor over Java memory and
 * closes it right after the operation; the backward pass of a product still reads that number,
 * by then possibly freed and reused. Gradients then came out slightly different from run to run,
 * and now and then NaN (seen training the thickness spline, DJL 0.33 / libtorch 2.5.1). A constant
 * attached to the computation's own manager stays alive until that manager closes.
 */
public final class Scalars {
  private Scalars() {}

  public static NDArray times(NDArray x, double c) {
    return x.mul(constant(x, c));
  }

  public static NDArray dividedBy(NDArray x, double c) {
    return x.div(constant(x, c));
  }

  /** A 0-d array of x's type, owned by x's manager, so it outlives any backward pass over x. */
  private static NDArray constant(NDArray x, double c) {
    return x.getManager().create(c).toType(x.getDataType(), false);
  }
}
