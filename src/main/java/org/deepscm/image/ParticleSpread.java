package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The mean and the spread of a counterfactual over its posterior particles: for every pixel, the mean of the
 * particles' images and their standard deviation (grey levels 0..255), both in one pass over the particles
 * (Welford's update, in double precision). The standard deviation divides by the number of particles: it is the
 * spread of the images the answer is made of, 0 when every particle shows the same image (the null intervention),
 * not an estimate corrected for a small sample.
 */
public final class ParticleSpread {
  private ParticleSpread() {}

  /** A counterfactual's mean image and its per-pixel spread over the particles, both shaped like the input. */
  public record MeanAndSpread(NDArray mean, NDArray sd, int particles) {}

  /** Mean and spread as plain arrays: unit u's pixel p at {@code u * pixels + p}. */
  public record PerPixel(float[] mean, float[] sd, int units, int pixels, int particles) {
    public PerPixel {
      if (mean.length != (long) units * pixels || sd.length != mean.length) {
        throw new IllegalArgumentException("mean and sd must hold " + units + " x " + pixels + " values");
      }
    }
  }

  /**
   * One pass over particle-major images: particle s's image of unit u, pixel p at
   * {@code (s * units + u) * pixels + p} (as the image mechanism tiles its particles).
   *
   * @throws IllegalArgumentException when the array does not hold particles x units x pixels values, or fewer
   *     than one of each is asked for
   */
  public static PerPixel of(float[] perParticle, int particles, int units, int pixels) {
    if (particles < 1 || units < 1 || pixels < 1) {
      throw new IllegalArgumentException("particles, units and pixels must each be at least 1, got " + particles
          + ", " + units + ", " + pixels);
    }
    long cells = (long) units * pixels;
    if (perParticle.length != particles * cells) {
      throw new IllegalArgumentException(particles + " particles of " + units + " images of " + pixels
          + " pixels need " + particles * cells + " values, got " + perParticle.length);
    }
    int n = (int) cells;
    double[] mean = new double[n];
    double[] m2 = new double[n];
    for (int s = 0; s < particles; s++) {
      int base = s * n;
      double weight = 1.0 / (s + 1);
      for (int k = 0; k < n; k++) {
        double x = perParticle[base + k];
        double d = x - mean[k];
        mean[k] += d * weight;
        m2[k] += d * (x - mean[k]);
      }
    }
    float[] meanOut = new float[n];
    float[] sdOut = new float[n];
    for (int k = 0; k < n; k++) {
      meanOut[k] = (float) mean[k];
      sdOut[k] = (float) Math.sqrt(Math.max(0, m2[k]) / particles);
    }
    return new PerPixel(meanOut, sdOut, units, pixels, particles);
  }

  /**
   * {@link #of(float[], int, int, int)} of particle images (particles * N, C, H, W), particle-major, as NDArrays
   * of the given shape (the caller's image shape) in {@code target}.
   */
  static MeanAndSpread of(NDArray perParticle, int particles, Shape shape, NDManager target) {
    long units = shape.get(0);
    int pixels = Math.toIntExact(shape.size() / units);
    PerPixel a = of(perParticle.toFloatArray(), particles, Math.toIntExact(units), pixels);
    return new MeanAndSpread(target.create(a.mean(), shape), target.create(a.sd(), shape), particles);
  }

  /**
   * The region a spread is judged over: the pixels brighter than {@code threshold} grey levels in either image
   * (the brain or the digit in the original, and where the counterfactual puts it); the dark background, where
   * nothing is and nothing is asked to change, is left out.
   */
  public static boolean[] region(double[] original, double[] counterfactual, double threshold) {
    if (original.length != counterfactual.length) {
      throw new IllegalArgumentException("the two images differ in size: " + original.length + " and "
          + counterfactual.length + " pixels");
    }
    boolean[] in = new boolean[original.length];
    for (int k = 0; k < in.length; k++) {
      in[k] = original[k] > threshold || counterfactual[k] > threshold;
    }
    return in;
  }

  /** Grey level above which a pixel is part of the brain or the digit ({@link #region}). */
  public static final double REGION_THRESHOLD = 10;

  /** How a counterfactual's change compares with its spread over a region. */
  public record Summary(double meanSpread, double shareBeyond, int regionPixels) {}

  /**
   * A change smaller than this (grey levels) is never "beyond the model's doubt", however small the spread: it does
   * not show in an 8-bit image (the null intervention moves pixels by rounding only, with no spread at all).
   */
  public static final double VISIBLE_CHANGE = 0.5;

  /** Whether a pixel's change exceeds {@code factor} times its spread, and {@link #VISIBLE_CHANGE}. */
  static boolean isBeyond(double change, double sd, double factor) {
    double c = Math.abs(change);
    return c > factor * sd && c >= VISIBLE_CHANGE;
  }

  /**
   * Over the region: the mean spread (grey levels) and the share of pixels whose change |counterfactual -
   * original| exceeds {@code factor} times their spread (changed beyond the model's doubt; see
   * {@link #VISIBLE_CHANGE}). An empty region gives NaN for both.
   */
  public static Summary summarise(double[] change, double[] sd, boolean[] region, double factor) {
    if (change.length != sd.length || sd.length != region.length) {
      throw new IllegalArgumentException("change, spread and region must have one value per pixel: " + change.length
          + ", " + sd.length + ", " + region.length);
    }
    double sum = 0;
    int count = 0;
    int beyond = 0;
    for (int k = 0; k < sd.length; k++) {
      if (region[k]) {
        count++;
        sum += sd[k];
        beyond += isBeyond(change[k], sd[k], factor) ? 1 : 0;
      }
    }
    return count == 0 ? new Summary(Double.NaN, Double.NaN, 0)
        : new Summary(sum / count, (double) beyond / count, count);
  }

  /** The pixels whose |change| exceeds {@code factor} times their spread (and a visible change), inside the region. */
  public static boolean[] beyond(double[] change, double[] sd, boolean[] region, double factor) {
    boolean[] out = new boolean[sd.length];
    for (int k = 0; k < out.length; k++) {
      out[k] = region[k] && isBeyond(change[k], sd[k], factor);
    }
    return out;
  }
}
