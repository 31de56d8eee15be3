package org.deepscm.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepscm.image.ParticleSpread;

/**
 * Does a counterfactual's spread over its posterior particles say where it is wrong? Judged against the TRUE
 * counterfactual image, one do() at a time, over the pixels of the brain or the digit: the pixels brighter than
 * {@link ParticleSpread#REGION_THRESHOLD} grey levels in the original, the model's counterfactual or the TRUE
 * one (the dark background, where nothing is and nothing is asked to change, is left out). Per case (one unit
 * under one do() target):
 *
 * <ul>
 *   <li>{@code cf_sd_error_spearman_do_<v>}: the median over cases of the Spearman rank correlation, over the
 *       case's pixels, between the spread and the error |mean - TRUE| (1: the spread ranks the pixels exactly as
 *       the error does; 0: no relation); cases where either is constant (the null intervention: no spread) have
 *       no correlation and are left out, {@code cf_sd_error_spearman_cases_do_<v>} counts those that have one;
 *   <li>{@code cf_true_coverage_2sd_do_<v>}: the share of all cases' pixels whose TRUE value lies within mean
 *       +- 2 spread (about 0.95 if the spread were the error's standard deviation and the error Gaussian);
 *   <li>{@code cf_sd_error_unit_corr_do_<v>}: across cases, the Pearson correlation of a case's mean spread with
 *       its mean error (do the cases the model is less sure of go more wrong?);
 *   <li>{@code cf_mean_sd_do_<v>} and {@code cf_region_mae_do_<v>}: the mean spread and the mean error over the
 *       same pixels, grey levels.
 * </ul>
 */
public final class SpreadCalibration {
  /** Each case's correlation, mean spread and mean error; the coverage counts; per do() in order of first use. */
  private final Map<String, Sums> byDo = new LinkedHashMap<>();

  private static final class Sums {
    final List<Double> spearman = new ArrayList<>();
    final List<Double> meanSd = new ArrayList<>();
    final List<Double> meanError = new ArrayList<>();
    long pixels;
    long covered;
  }

  /**
   * Adds one case: the model's counterfactual (mean over particles) and its spread, the TRUE counterfactual and
   * the original, pixel by pixel (any numeric arrays of one length).
   */
  public void add(String doVariable, double[] mean, double[] sd, double[] truth, double[] original) {
    int n = mean.length;
    if (sd.length != n || truth.length != n || original.length != n) {
      throw new IllegalArgumentException("mean, spread, TRUE and original images differ in size: " + n + ", "
          + sd.length + ", " + truth.length + ", " + original.length + " pixels");
    }
    double t = ParticleSpread.REGION_THRESHOLD;
    int count = 0;
    for (int k = 0; k < n; k++) {
      count += inRegion(original[k], mean[k], truth[k], t) ? 1 : 0;
    }
    Sums s = byDo.computeIfAbsent(doVariable, k -> new Sums());
    if (count == 0) {
      return;
    }
    double[] spread = new double[count];
    double[] error = new double[count];
    int j = 0;
    long covered = 0;
    double sumSd = 0;
    double sumError = 0;
    for (int k = 0; k < n; k++) {
      if (inRegion(original[k], mean[k], truth[k], t)) {
        spread[j] = sd[k];
        error[j] = Math.abs(mean[k] - truth[k]);
        covered += error[j] <= 2 * sd[k] ? 1 : 0;
        sumSd += spread[j];
        sumError += error[j];
        j++;
      }
    }
    s.pixels += count;
    s.covered += covered;
    s.meanSd.add(sumSd / count);
    s.meanError.add(sumError / count);
    double rho = spearman(spread, error);
    if (Double.isFinite(rho)) {
      s.spearman.add(rho);
    }
  }

  /** {@link #add(String, double[], double[], double[], double[])} of float images. */
  public void add(String doVariable, float[] mean, float[] sd, float[] truth, float[] original) {
    add(doVariable, doubles(mean), doubles(sd), doubles(truth), doubles(original));
  }

  private static boolean inRegion(double original, double mean, double truth, double threshold) {
    return original > threshold || mean > threshold || truth > threshold;
  }

  /** The measures of every do() seen, keyed as the class comment says. */
  public Map<String, Double> measures() {
    Map<String, Double> out = new LinkedHashMap<>();
    byDo.forEach((v, s) -> {
      out.put("cf_sd_error_spearman_do_" + v, median(s.spearman));
      out.put("cf_sd_error_spearman_cases_do_" + v, (double) s.spearman.size());
      out.put("cf_true_coverage_2sd_do_" + v, s.pixels == 0 ? Double.NaN : (double) s.covered / s.pixels);
      out.put("cf_sd_error_unit_corr_do_" + v, pearson(toArray(s.meanSd), toArray(s.meanError)));
      out.put("cf_mean_sd_do_" + v, mean(s.meanSd));
      out.put("cf_region_mae_do_" + v, mean(s.meanError));
    });
    return out;
  }

  /** Spearman's rank correlation (ties get their average rank); NaN when either side is constant or empty. */
  public static double spearman(double[] x, double[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException("x and y differ in length: " + x.length + " and " + y.length);
    }
    return pearson(ranks(x), ranks(y));
  }

  /** Pearson's correlation; NaN when either side is constant or has fewer than two values. */
  public static double pearson(double[] x, double[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException("x and y differ in length: " + x.length + " and " + y.length);
    }
    int n = x.length;
    if (n < 2) {
      return Double.NaN;
    }
    double mx = 0;
    double my = 0;
    for (int k = 0; k < n; k++) {
      mx += x[k] / n;
      my += y[k] / n;
    }
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int k = 0; k < n; k++) {
      double dx = x[k] - mx;
      double dy = y[k] - my;
      sxy += dx * dy;
      sxx += dx * dx;
      syy += dy * dy;
    }
    if (sxx <= 0 || syy <= 0) {
      return Double.NaN;
    }
    return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  }

  /** Ranks 1..n, ties sharing their average rank. */
  static double[] ranks(double[] v) {
    int n = v.length;
    Integer[] order = new Integer[n];
    for (int k = 0; k < n; k++) {
      order[k] = k;
    }
    Arrays.sort(order, (a, b) -> Double.compare(v[a], v[b]));
    double[] rank = new double[n];
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && v[order[j + 1]] == v[order[i]]) {
        j++;
      }
      double shared = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        rank[order[k]] = shared;
      }
      i = j + 1;
    }
    return rank;
  }

  static double median(List<Double> values) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    double[] v = toArray(values);
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  private static double mean(List<Double> values) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return sum / values.size();
  }

  private static double[] toArray(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static double[] doubles(float[] f) {
    double[] d = new double[f.length];
    for (int k = 0; k < d.length; k++) {
      d[k] = f[k];
    }
    return d;
  }
}
