package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import org.deepscm.flow.Scalars;

/**
 * The fixed low-level flow of the image mechanism (RealNVP-style "preprocessing"):
 * {@code y = logit(ALPHA + (1 - ALPHA) * x / 256)} from pixels x in [0, 256) to logit space, and back.
 * Training adds dequantisation noise U(0, 1) to integer pixels first; the density of x then includes
 * {@code log |dy/dx| = log((1 - ALPHA) / 256) - log p - log(1 - p)} per pixel, p = ALPHA + (1 - ALPHA) x / 256.
 */
public final class LogitPreprocessing {
  public static final double ALPHA = 0.05;
  public static final double RANGE = 256;
  private static final double SLOPE = (1 - ALPHA) / RANGE;
  private static final double LOG_SLOPE = Math.log(SLOPE);

  private LogitPreprocessing() {}

  /** x (pixels) -> y (logit space), element-wise. */
  public static NDArray forward(NDArray x) {
    NDArray p = Scalars.times(x, SLOPE).add(ALPHA);
    return p.log().sub(p.neg().add(1).log());
  }

  /** log |dy/dx| element-wise (same shape as x). */
  public static NDArray logDet(NDArray x) {
    NDArray p = Scalars.times(x, SLOPE).add(ALPHA);
    return p.log().add(p.neg().add(1).log()).neg().add(LOG_SLOPE);
  }

  /** y (logit space) -> x (pixels), element-wise; lies in (-ALPHA/SLOPE, 256). */
  public static NDArray inverse(NDArray y) {
    return Scalars.dividedBy(Activation.sigmoid(y).sub(ALPHA), SLOPE);
  }
}
