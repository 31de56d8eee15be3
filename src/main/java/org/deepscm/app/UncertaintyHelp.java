package org.deepscm.app;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deepscm.scm.SavedModel;

/**
 * The help text beside the uncertainty view: what the spread is, and how far it foretells the counterfactual's
 * error on this model as `evaluate` measured it against TRUE counterfactuals: from the measures recorded in the
 * model folder ({@code evaluate --record}), else, for the shipped models as trained (told by name and training
 * time), from the run the README quotes; else it says that nothing was measured.
 */
final class UncertaintyHelp {
  private UncertaintyHelp() {}

  /** A rank correlation below this is said not to foretell where the counterfactual is wrong. */
  static final double USEFUL_SPEARMAN = 0.3;

  /** What `evaluate` measured on a shipped model: which model (name, training time), how, and the measures. */
  record Measured(String name, String trainedAt, String how, Map<String, Double> measures) {}

  /** The shipped models' measures (README, "How sure is the model?"). */
  static final List<Measured> SHIPPED = List.of(
      new Measured("brain-synthetic", "2026-12-06T00:10:49.498519916Z", "evaluate --model models/brain-synthetic "
          + "--units 300 --seed 1 (300 of the 2,100 test subjects, stratified by sex and age decade)", measures(
              "age", 0.2393, 0.0755, 0.8025, 0.1325, 3.2175,
              "sex", 0.2798, 0.0319, -0.0687, 0.2643, 14.7507,
              "brain_volume", 0.2555, 0.0375, 0.8190, 0.2196, 12.8281,
              "ventricle_volume", 0.1850, 0.0535, 0.7555, 0.1773, 7.5787)),
      new Measured("morphomnist-full", "2026-11-28T03:14:19.631104009Z", "evaluate --model models/morphomnist-full "
          + "--units 500 --seed 1 (500 of the 2,000 test digits, stratified by class)", measures(
              "t", 0.4784, 0.0222, 0.5910, 0.5039, 36.0384,
              "i", 0.2827, 0.0333, 0.4117, 0.3871, 17.2110)));

  /** Per do(): variable, Spearman, coverage, unit correlation, mean spread, mean error over the region. */
  private static Map<String, Double> measures(Object... rows) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int k = 0; k < rows.length; k += 6) {
      String v = (String) rows[k];
      out.put("cf_sd_error_spearman_do_" + v, (Double) rows[k + 1]);
      out.put("cf_true_coverage_2sd_do_" + v, (Double) rows[k + 2]);
      out.put("cf_sd_error_unit_corr_do_" + v, (Double) rows[k + 3]);
      out.put("cf_mean_sd_do_" + v, (Double) rows[k + 4]);
      out.put("cf_region_mae_do_" + v, (Double) rows[k + 5]);
    }
    return out;
  }

  static String text(SavedModel model, boolean brain) {
    String what = brain ? "brain" : "digit";
    return "Uncertainty: each pixel's spread (standard deviation, grey levels) over the posterior particles whose "
        + "mean is the counterfactual: where it is large, the particles disagree. The line under the images gives "
        + "its mean over the " + what + " (pixels brighter than 10 in the original or the counterfactual) and the "
        + "share of the " + what + " whose change exceeds twice its spread. A preview made while a slider moves "
        + "has " + ExplorerView.PREVIEW_PARTICLES + " particles: its spread is rough. Double-click any image to see it large.\n\n" + measured(model);
  }

  /** How far the spread foretold the error on this model, in words; or that it was not measured. */
  static String measured(SavedModel model) {
    JsonObject training = model.training();
    Map<String, Double> recorded = new LinkedHashMap<>();
    if (training.has("measures") && training.get("measures").isJsonObject()) {
      for (Map.Entry<String, JsonElement> e : training.getAsJsonObject("measures").entrySet()) {
        if (e.getKey().startsWith("cf_") && e.getValue().isJsonPrimitive()) {
          recorded.put(e.getKey(), e.getValue().getAsDouble());
        }
      }
    }
    if (recorded.keySet().stream().anyMatch(k -> k.startsWith("cf_sd_error_spearman_do_"))) {
      return describe(recorded, training.has("measured_by") ? training.get("measured_by").getAsString() : "");
    }
    String trainedAt = training.has("trained_at") ? training.get("trained_at").getAsString() : "";
    for (Measured m : SHIPPED) {
      if (m.name().equals(model.name()) && m.trainedAt().equals(trainedAt)) {
        return describe(m.measures(), "Measured with `" + m.how() + "`.");
      }
    }
    return "Whether this spread foretells the error has not been measured for this model (`evaluate --record` "
        + "measures it against TRUE counterfactuals where a true SCM exists: the cf_sd_error_* measures).";
  }

  /** The measures of every do() in words: the rank correlation, the coverage, and what they mean together. */
  static String describe(Map<String, Double> m, String how) {
    String prefix = "cf_sd_error_spearman_do_";
    List<String> parts = new ArrayList<>();
    List<String> poor = new ArrayList<>();
    List<String> good = new ArrayList<>();
    boolean allNarrow = true;
    for (String key : m.keySet()) {
      if (!key.startsWith(prefix) || m.get(key) == null || !Double.isFinite(m.get(key))) {
        continue;
      }
      String v = key.substring(prefix.length());
      double rho = m.get(key);
      Double coverage = m.get("cf_true_coverage_2sd_do_" + v);
      Double spread = m.get("cf_mean_sd_do_" + v);
      Double error = m.get("cf_region_mae_do_" + v);
      parts.add(String.format(Locale.ROOT, "do(%s): rank correlation of spread and error %.2f%s%s", v, rho,
          coverage == null ? "" : String.format(Locale.ROOT, ", TRUE pixel within 2 spreads %.0f %% of the time",
              100 * coverage),
          spread == null || error == null ? "" : String.format(Locale.ROOT, ", mean spread %.2f against a mean "
              + "error of %.1f grey levels", spread, error)));
      (rho < USEFUL_SPEARMAN ? poor : good).add("do(" + v + ")");
      allNarrow &= coverage != null && coverage < 0.5;
    }
    StringBuilder b = new StringBuilder("Measured against TRUE counterfactuals: ").append(String.join("; ", parts))
        .append('.');
    if (!poor.isEmpty()) {
      b.append(" Under ").append(String.join(", ", poor)).append(" the spread does not foretell where the "
          + "counterfactual is wrong (rank correlation below ").append(USEFUL_SPEARMAN).append(").");
    }
    if (!good.isEmpty()) {
      b.append(" Under ").append(String.join(", ", good)).append(" it points to the pixels that are more wrong.");
    }
    if (allNarrow) {
      b.append(" The spread is far narrower than the error: it shows where the particles disagree, not how far the "
          + "image is from the truth; do not read it as an error bar.");
    }
    if (!how.isEmpty()) {
      b.append(' ').append(how);
    }
    return b.toString();
  }
}
