package org.deepscm.app;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deepscm.scm.SavedModel;

/**
 * The help text beside the uncertainty view: what the spread is, and how far it foretells the counterfactual's
 * error on this model as `evaluate` measured it against TRUE counterfactuals (from the measures recorded in the
 * model folder), or that it was not measured.
 */
final class UncertaintyHelp {
  private UncertaintyHelp() {}

  /** A rank correlation below this is said to foretell the error poorly. */
  static final double USEFUL_SPEARMAN = 0.3;

  static String text(SavedModel model, boolean brain) {
    String what = brain ? "brain" : "digit";
    StringBuilder b = new StringBuilder("Uncertainty: each pixel's spread (standard deviation, grey levels) over the "
        + "posterior particles whose mean is the counterfactual. Where it is large, the particles disagree. "
        + "The line under the images gives its mean over the " + what + " (pixels brighter than 10 in the original "
        + "or the counterfactual) and the share of the " + what + " whose change exceeds twice it. A preview made "
        + "while a slider moves has few particles: its spread is rough.\n\n");
    b.append(measured(model));
    return b.toString();
  }

  /** What `evaluate` recorded in the model folder about the spread, in words; or that nothing was. */
  static String measured(SavedModel model) {
    JsonObject m = model.training().has("measures") && model.training().get("measures").isJsonObject()
        ? model.training().getAsJsonObject("measures") : new JsonObject();
    List<String> parts = new ArrayList<>();
    List<String> poor = new ArrayList<>();
    String prefix = "cf_sd_error_spearman_do_";
    for (String key : m.keySet()) {
      if (!key.startsWith(prefix) || m.get(key).isJsonNull()) {
        continue;
      }
      String v = key.substring(prefix.length());
      double rho = m.get(key).getAsDouble();
      String coverage = "cf_true_coverage_2sd_do_" + v;
      parts.add(String.format(Locale.ROOT, "do(%s): rank correlation %.2f%s", v, rho,
          m.has(coverage) && !m.get(coverage).isJsonNull() ? String.format(Locale.ROOT,
              ", TRUE value within 2 spreads at %.0f %% of pixels", 100 * m.get(coverage).getAsDouble()) : ""));
      if (rho < USEFUL_SPEARMAN) {
        poor.add("do(" + v + ")");
      }
    }
    if (parts.isEmpty()) {
      return "Whether this spread foretells the error has not been measured for this model (`evaluate --record` "
          + "measures it against TRUE counterfactuals where a true SCM exists).";
    }
    String sample = model.training().has("measured_by") ? " " + model.training().get("measured_by").getAsString()
        : "";
    return "Measured against TRUE counterfactuals, the spread against the pixel error: " + String.join("; ", parts)
        + "." + (poor.isEmpty() ? "" : " Under " + String.join(", ", poor) + " the spread does not foretell where "
            + "the counterfactual is wrong (rank correlation below " + USEFUL_SPEARMAN + "): do not read it as an "
            + "error bar there.") + sample;
  }
}
