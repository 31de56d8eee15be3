package org.deepscm.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The measures that judge a counterfactual's spread against its TRUE image. */
class SpreadCalibrationTest {

  @Test
  void spearmanIsPearsonOfAverageRanks() {
    assertArrayEquals(new double[] {1, 2.5, 2.5, 4}, SpreadCalibration.ranks(new double[] {-3, 7, 7, 9}), 0);
    // any increasing relation ranks perfectly, whatever its shape
    assertEquals(1, SpreadCalibration.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {1, 8, 27, 64, 125}), 1e-12);
    assertEquals(-1, SpreadCalibration.spearman(new double[] {1, 2, 3, 4}, new double[] {9, 4, 1, 0}), 1e-12);
    // scipy.stats.spearmanr([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) = 0.8
    assertEquals(0.8, SpreadCalibration.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {2, 1, 4, 3, 5}), 1e-12);
    assertTrue(Double.isNaN(SpreadCalibration.spearman(new double[] {0, 0, 0}, new double[] {1, 2, 3})),
        "a constant side has no rank correlation");
    assertEquals(3, SpreadCalibration.median(java.util.List.of(5.0, 1.0, 3.0)), 0);
    assertEquals(2, SpreadCalibration.median(java.util.List.of(4.0, 1.0, 3.0, 0.0)), 0);
  }

  /**
   * A model whose error at every pixel is drawn from N(0, sd^2), its sd known to it: the spread ranks the errors,
   * and the TRUE value lies within 2 sd about 95 % of the time. Cases that are surer make smaller errors.
   */
  @Test
  void aSpreadThatIsTheErrorsStandardDeviationIsMeasuredAsSuch() {
    Random random = new Random(1);
    SpreadCalibration c = new SpreadCalibration();
    int pixels = 400;
    for (int unit = 0; unit < 60; unit++) {
      double scale = 0.5 + unit % 6;
      double[] original = new double[pixels];
      double[] truth = new double[pixels];
      double[] mean = new double[pixels];
      double[] sd = new double[pixels];
      for (int p = 0; p < pixels; p++) {
        // the last 100 pixels are background: dark in every image, wrong by a lot, and left out
        boolean background = p >= 300;
        original[p] = background ? 0 : 120;
        truth[p] = background ? 0 : 130;
        sd[p] = background ? 0.01 : scale * (0.2 + 3 * random.nextDouble());
        mean[p] = background ? 9 : truth[p] + sd[p] * random.nextGaussian();
      }
      c.add("v", mean, sd, truth, original);
    }
    Map<String, Double> m = c.measures();
    assertEquals(0.95, m.get("cf_true_coverage_2sd_do_v"), 0.01);
    // |N(0, sd^2)| against sd: a clear but noisy positive rank correlation
    double rho = m.get("cf_sd_error_spearman_do_v");
    assertTrue(rho > 0.35 && rho < 0.65, "spearman " + rho);
    assertTrue(m.get("cf_sd_error_unit_corr_do_v") > 0.9, "unsure cases err more: " + m);
    assertEquals(60, m.get("cf_sd_error_spearman_cases_do_v"));

    // a spread that says nothing: coverage collapses, no rank correlation
    SpreadCalibration blind = new SpreadCalibration();
    for (int unit = 0; unit < 40; unit++) {
      double[] original = new double[pixels];
      double[] truth = new double[pixels];
      double[] mean = new double[pixels];
      double[] sd = new double[pixels];
      for (int p = 0; p < pixels; p++) {
        original[p] = 120;
        truth[p] = 130;
        sd[p] = 0.1 * random.nextDouble();
        mean[p] = truth[p] + 5 * random.nextGaussian();
      }
      blind.add("t", mean, sd, truth, original);
    }
    Map<String, Double> b = blind.measures();
    assertTrue(b.get("cf_true_coverage_2sd_do_t") < 0.05, b.toString());
    assertEquals(0, b.get("cf_sd_error_spearman_do_t"), 0.1);
  }

  @Test
  void theNullInterventionHasNoCorrelationButFullCoverage() {
    SpreadCalibration c = new SpreadCalibration();
    double[] image = {0, 40, 80, 120};
    c.add("sex", image, new double[4], image, image);
    Map<String, Double> m = c.measures();
    assertEquals(0, m.get("cf_sd_error_spearman_cases_do_sex"));
    assertTrue(Double.isNaN(m.get("cf_sd_error_spearman_do_sex")), "no correlation without spread: " + m);
    // the TRUE value is the mean itself: within +- 0
    assertEquals(1, m.get("cf_true_coverage_2sd_do_sex"));
    assertEquals(0, m.get("cf_mean_sd_do_sex"));
  }
}
