package org.deepscm.data.brain;

import java.util.SplittableRandom;

/**
 * A subject's exogenous image noise (what makes two people with the same brain and ventricle
 * volumes look different), all of it drawn from one seed:
 *
 * @param sliceZMm where the axial slice lies in the slab (mm, MNI z)
 * @param warpX control-point displacements (mm) of a smooth cubic B-spline deformation along x
 *     (individual anatomy), {@link #WARP_GRID} x {@link #WARP_GRID}, row-major from the anterior-left
 * @param warpY the same along y
 * @param logGain scanner gain (natural log)
 * @param logBias control points of a smooth multiplicative bias field (natural log),
 *     {@link #BIAS_GRID} x {@link #BIAS_GRID}
 * @param acquisitionSeed seed of the acquisition noise (Rician, per pixel)
 */
public record Anatomy(double sliceZMm, double[] warpX, double[] warpY, double logGain, double[] logBias,
    long acquisitionSeed) {
  public static final double SLICE_Z_MIN_MM = 12;
  public static final double SLICE_Z_MAX_MM = 24;
  public static final int WARP_GRID = 8;
  /** Standard deviation of each warp control point, mm. */
  public static final double WARP_SD_MM = 2.5;
  public static final double GAIN_SD = 0.06;
  public static final int BIAS_GRID = 4;
  public static final double BIAS_SD = 0.05;

  /** The noise of one subject from its own random stream. */
  public static Anatomy draw(SplittableRandom rng) {
    double z = SLICE_Z_MIN_MM + (SLICE_Z_MAX_MM - SLICE_Z_MIN_MM) * rng.nextDouble();
    double[] wx = new double[WARP_GRID * WARP_GRID];
    double[] wy = new double[WARP_GRID * WARP_GRID];
    for (int q = 0; q < wx.length; q++) {
      wx[q] = WARP_SD_MM * gaussian(rng);
      wy[q] = WARP_SD_MM * gaussian(rng);
    }
    double gain = GAIN_SD * gaussian(rng);
    double[] bias = new double[BIAS_GRID * BIAS_GRID];
    for (int q = 0; q < bias.length; q++) {
      bias[q] = BIAS_SD * gaussian(rng);
    }
    return new Anatomy(z, wx, wy, gain, bias, rng.nextLong());
  }

  /** A standard normal draw by Box-Muller: the same numbers on every JVM (Random's is not specified to be). */
  static double gaussian(SplittableRandom rng) {
    double u1 = 1 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
