package org.deepscm.data.brain;

import java.util.Locale;
import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;
import org.deepscm.data.StratifiedSample;

/**
 * How the synthetic population compares with UK Biobank's statistics (reference-implementation.md),
 * and how well the {@link BrainMeasurer} agrees with the generator's label maps.
 */
public final class BrainCalibration {
  private BrainCalibration() {}

  /** UK Biobank (causal-gen): log-mean and log-std of age (years) and of the volumes (mm3), and ranges. */
  static final double[][] UKB = {
      {4.11234, 0.117692, 44, 73},
      {13.96558, 0.095378, 841_919, 1_629_520},
      {10.34600, 0.431278, 7_613, 157_075}};

  /** A markdown table of the population's marginal statistics next to UK Biobank's. */
  public static String table(BrainDataset d) {
    int n = d.size();
    double[][] cols = new double[3][n];
    double male = 0;
    for (int u = 0; u < n; u++) {
      BrainTrueScm.Covariates c = d.covariates(u);
      cols[0][u] = c.age();
      cols[1][u] = c.brainMl() * 1000;
      cols[2][u] = c.ventricleMl() * 1000;
      male += c.sex();
    }
    String[] names = {"age (years)", "brain volume (mm3)", "ventricle volume (mm3)"};
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "| statistic (%d synthetic training subjects) | synthetic | UK Biobank |%n", n));
    s.append("|---|---|---|\n");
    for (int v = 0; v < 3; v++) {
      double[] x = cols[v];
      double mean = 0;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (double value : x) {
        mean += Math.log(value);
        min = Math.min(min, value);
        max = Math.max(max, value);
      }
      mean /= n;
      double var = 0;
      for (double value : x) {
        var += (Math.log(value) - mean) * (Math.log(value) - mean);
      }
      double sd = Math.sqrt(var / (n - 1));
      s.append(String.format(Locale.ROOT, "| %s: log-mean | %.5f | %.5f |%n", names[v], mean, UKB[v][0]));
      s.append(String.format(Locale.ROOT, "| %s: log-std | %.6f | %.6f |%n", names[v], sd, UKB[v][1]));
      s.append(String.format(Locale.ROOT, "| %s: range | %,.0f - %,.0f | %,.0f - %,.0f |%n", names[v], min, max,
          UKB[v][2], UKB[v][3]));
    }
    PearsonsCorrelation p = new PearsonsCorrelation();
    s.append(String.format(Locale.ROOT, "| share of men | %.3f | (not in the reference) |%n", male / n));
    s.append(String.format(Locale.ROOT, "| correlation of age and brain volume | %.3f | |%n", p.correlation(cols[0], cols[1])));
    s.append(String.format(Locale.ROOT, "| correlation of age and ventricle volume | %.3f | |%n",
        p.correlation(cols[0], cols[2])));
    return s.toString();
  }

  /** Agreement of the measurer with the label maps: Pearson r and mean |relative error| of each area. */
  public record Agreement(int n, double brainR, double brainRelError, double ventricleR, double ventricleRelError) {}

  /** The measurer against the label maps on a seeded sample of n subjects, stratified by sex and age decade. */
  public static Agreement measurerAgreement(BrainDataset d, int n, long seed) {
    int[] strata = new int[d.size()];
    for (int u = 0; u < d.size(); u++) {
      BrainTrueScm.Covariates c = d.covariates(u);
      strata[u] = c.stratum();
    }
    int[] units = StratifiedSample.of(strata, n, seed);
    double[] mb = new double[units.length];
    double[] lb = new double[units.length];
    double[] mv = new double[units.length];
    double[] lv = new double[units.length];
    double eb = 0;
    double ev = 0;
    for (int k = 0; k < units.length; k++) {
      BrainMeasurer.Areas a = BrainMeasurer.measure(d.image(units[k]));
      mb[k] = a.brainMm2();
      mv[k] = a.ventricleMm2();
      lb[k] = d.brainAreaMm2(units[k]);
      lv[k] = d.ventricleAreaMm2(units[k]);
      eb += Math.abs(mb[k] - lb[k]) / lb[k];
      ev += Math.abs(mv[k] - lv[k]) / lv[k];
    }
    PearsonsCorrelation p = new PearsonsCorrelation();
    return new Agreement(units.length, p.correlation(mb, lb), eb / units.length, p.correlation(mv, lv),
        ev / units.length);
  }
}
