package org.deepscm.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;

/**
 * Monotone linear-rational spline (Dolatabadi, Erfani and Leckie, AISTATS 2020), the first-order
 * neural spline of the paper: K bins on [-bound, bound], identity outside. Each bin is split at a
 * point lambda into two linear-rational pieces that meet continuously; the derivative at the outer
 * knots is 1, so the tails join smoothly.
 *
 * <p>A pure function of its unnormalised parameters: widths (K), heights (K), inner-knot
 * derivatives (K - 1) and split points (K). Minimum bin sizes and derivatives keep it strictly
 * monotone for any parameter values.
 */
public final class SplineTransform implements Transform {
  static final double MIN_BIN_WIDTH = 1e-3;
  static final double MIN_BIN_HEIGHT = 1e-3;
  static final double MIN_DERIVATIVE = 1e-3;
  static final double MIN_LAMBDA = 0.025;

  private final double bound;
  private final int bins;
  private final NDArray rawWidths;
  private final NDArray rawHeights;
  private final NDArray rawDerivatives;
  private final NDArray rawLambdas;

  public SplineTransform(
      double bound, NDArray widths, NDArray heights, NDArray derivatives, NDArray lambdas) {
    this.bins = (int) widths.getShape().get(0);
    if (heights.getShape().get(0) != bins
        || derivatives.getShape().get(0) != bins - 1
        || lambdas.getShape().get(0) != bins) {
      throw new IllegalArgumentException(
          "spline with " + bins + " bins needs " + bins + " heights, " + (bins - 1)
              + " derivatives and " + bins + " lambdas; got " + heights.getShape() + ", "
              + derivatives.getShape() + ", " + lambdas.getShape());
    }
    this.bound = bound;
    this.rawWidths = widths;
    this.rawHeights = heights;
    this.rawDerivatives = derivatives;
    this.rawLambdas = lambdas;
  }

  /** The spline's geometry for one evaluation: bin edges and per-bin constants, shape (K). */
  private final class Bins {
    final NDArray xLeft; // left knot x_k
    final NDArray width; // w_k
    final NDArray yLeft; // y_k
    final NDArray height; // h_k
    final NDArray dLeft; // derivative at x_k
    final NDArray dRight; // derivative at x_{k+1}
    final NDArray lambda;

    Bins(NDArray like) {
      DataType type = like.getDataType();
      width = normalisedSizes(rawWidths.toType(type, false), MIN_BIN_WIDTH);
      height = normalisedSizes(rawHeights.toType(type, false), MIN_BIN_HEIGHT);
      xLeft = leftEdges(width);
      yLeft = leftEdges(height);
      NDArray inner = Activation.softPlus(rawDerivatives.toType(type, false)).add(MIN_DERIVATIVE);
      NDArray one = inner.get("0:1").onesLike();
      dLeft = one.concat(inner);
      dRight = inner.concat(one);
      lambda =
          Scalars.times(Activation.sigmoid(rawLambdas.toType(type, false)), 1 - 2 * MIN_LAMBDA)
              .add(MIN_LAMBDA);
    }

    private NDArray normalisedSizes(NDArray raw, double min) {
      return Scalars.times(Scalars.times(raw.softmax(0), 1 - min * bins).add(min), 2 * bound);
    }

    private NDArray leftEdges(NDArray sizes) {
      NDArray cumulative = sizes.cumSum(0).sub(bound);
      return cumulative.get("0:1").zerosLike().sub(bound).concat(cumulative.get("0:-1"));
    }
  }

  /** One-hot (N, K) of the bin that holds each value, given the left edges of the bins. */
  private NDArray binOf(NDArray v, NDArray leftEdges) {
    // count the inner left edges at or below v: 0 .. K-1
    NDArray inner = leftEdges.get("1:");
    NDArray index = v.expandDims(-1).gte(inner).toType(DataType.INT64, false).sum(new int[] {-1});
    return index.oneHot(bins, v.getDataType());
  }

  private static NDArray select(NDArray oneHot, NDArray perBin) {
    return oneHot.mul(perBin).sum(new int[] {-1});
  }

  /** Weights and the split point's y for the bins chosen by {@code oneHot}. */
  private static final class Piece {
    NDArray xk, wk, yk, hk, lam, wb, wc, yc;
  }

  private Piece piece(Bins b, NDArray oneHot) {
    Piece p = new Piece();
    p.xk = select(oneHot, b.xLeft);
    p.wk = select(oneHot, b.width);
    p.yk = select(oneHot, b.yLeft);
    p.hk = select(oneHot, b.height);
    p.lam = select(oneHot, b.lambda);
    NDArray dk = select(oneHot, b.dLeft);
    NDArray dk1 = select(oneHot, b.dRight);
    // w_a = 1; w_b makes the derivative at the right knot equal d_{k+1}; w_c sets the split point
    p.wb = dk.div(dk1).sqrt();
    NDArray slope = p.hk.div(p.wk);
    p.wc = p.lam.mul(dk).add(p.lam.neg().add(1).mul(p.wb).mul(dk1)).div(slope);
    NDArray yb = p.yk.add(p.hk);
    NDArray oneMinusLam = p.lam.neg().add(1);
    p.yc =
        oneMinusLam.mul(p.yk).add(p.lam.mul(p.wb).mul(yb))
            .div(oneMinusLam.add(p.lam.mul(p.wb)));
    return p;
  }

  /**
   * log dy/dx at relative position theta in the bin. Each piece is evaluated only on its own side
   * of the split (theta clamped to it), so the branch that {@code where} discards never divides
   * by zero and never sends NaN into the gradient.
   */
  private static NDArray logDerivative(Piece p, NDArray theta) {
    NDArray left = theta.lte(p.lam);
    NDArray thetaL = theta.minimum(p.lam);
    NDArray thetaR = theta.maximum(p.lam);
    NDArray yb = p.yk.add(p.hk);
    NDArray numLeft = p.wc.mul(p.lam).mul(p.yc.sub(p.yk));
    NDArray denLeft = p.lam.sub(thetaL).add(p.wc.mul(thetaL));
    NDArray numRight = p.wb.mul(p.wc).mul(p.lam.neg().add(1)).mul(yb.sub(p.yc));
    NDArray denRight = p.wc.mul(thetaR.neg().add(1)).add(p.wb.mul(thetaR.sub(p.lam)));
    NDArray logLeft = numLeft.log().sub(Scalars.times(denLeft.log(), 2));
    NDArray logRight = numRight.log().sub(Scalars.times(denRight.log(), 2));
    return NDArrays.where(left, logLeft, logRight).sub(p.wk.log());
  }

  @Override
  public Transformed forward(NDArray x) {
    Bins b = new Bins(x);
    NDArray inside = x.abs().lt(bound);
    NDArray xc = x.clip(-bound, bound);
    Piece p = piece(b, binOf(xc, b.xLeft));
    NDArray theta = xc.sub(p.xk).div(p.wk).clip(0, 1);
    NDArray left = theta.lte(p.lam);
    NDArray thetaL = theta.minimum(p.lam);
    NDArray thetaR = theta.maximum(p.lam);
    NDArray yb = p.yk.add(p.hk);
    NDArray numLeft = p.yk.mul(p.lam.sub(thetaL)).add(p.wc.mul(p.yc).mul(thetaL));
    NDArray denLeft = p.lam.sub(thetaL).add(p.wc.mul(thetaL));
    NDArray numRight =
        p.wc.mul(p.yc).mul(thetaR.neg().add(1)).add(p.wb.mul(yb).mul(thetaR.sub(p.lam)));
    NDArray denRight = p.wc.mul(thetaR.neg().add(1)).add(p.wb.mul(thetaR.sub(p.lam)));
    NDArray y = NDArrays.where(left, numLeft.div(denLeft), numRight.div(denRight));
    NDArray logDet = logDerivative(p, theta);
    return new Transformed(
        NDArrays.where(inside, y, x), NDArrays.where(inside, logDet, x.zerosLike()));
  }

  @Override
  public Transformed inverse(NDArray y) {
    Bins b = new Bins(y);
    NDArray inside = y.abs().lt(bound);
    NDArray yIn = y.clip(-bound, bound);
    Piece p = piece(b, binOf(yIn, b.yLeft));
    NDArray left = yIn.lte(p.yc);
    // each piece inverted only on its own side of the split point (see logDerivative)
    NDArray yL = yIn.minimum(p.yc);
    NDArray yR = yIn.maximum(p.yc);
    NDArray yb = p.yk.add(p.hk);
    NDArray numLeft = p.lam.mul(p.yk.sub(yL));
    NDArray denLeft = p.wc.sub(1).mul(yL).add(p.yk).sub(p.wc.mul(p.yc));
    NDArray numRight =
        p.wc.sub(p.lam.mul(p.wb)).mul(yR).add(p.lam.mul(p.wb).mul(yb)).sub(p.wc.mul(p.yc));
    NDArray denRight = p.wc.sub(p.wb).mul(yR).add(p.wb.mul(yb)).sub(p.wc.mul(p.yc));
    NDArray theta =
        NDArrays.where(left, numLeft.div(denLeft), numRight.div(denRight)).clip(0, 1);
    NDArray x = theta.mul(p.wk).add(p.xk);
    NDArray logDet = logDerivative(p, theta).neg();
    return new Transformed(
        NDArrays.where(inside, x, y), NDArrays.where(inside, logDet, y.zerosLike()));
  }

  public int bins() {
    return bins;
  }

  public double bound() {
    return bound;
  }
}
