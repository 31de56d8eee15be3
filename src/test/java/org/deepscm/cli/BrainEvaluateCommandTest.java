package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * evaluate on a brain model: measured against the TRUE counterfactual images of test subjects. The
 * model here is trained for seconds, so the test checks what is measured, not how good it is.
 */
class BrainEvaluateCommandTest {
  @TempDir
  Path dir;

  @Test
  void measuresABrainModelAgainstTheTrueCounterfactuals() throws IOException {
    Path model = dir.resolve("brain-tiny");
    CommandLineTest.Run r = CommandLineTest.run("train", "--dataset", "brain", "--subjects", "200", "--epochs", "2",
        "--image-epochs", "1", "--image-batch", "16", "--out", model.toString(), "--checkpoint",
        dir.resolve("ckpt").toString());
    assertEquals(0, r.code(), r.err());
    Path json = dir.resolve("m.json");
    r = CommandLineTest.run("evaluate", "--model", model.toString(), "--units", "6", "--json", json.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("a random sample of 6 of the 2100 test subjects"), r.err());
    JsonObject m = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    for (String v : new String[] {"age", "sex", "brain_volume", "ventricle_volume"}) {
      assertTrue(m.get("cf_true_mae_do_" + v).getAsDouble() >= 0, v);
      assertTrue(m.get("identity_mae_do_" + v).getAsDouble() > 0, "do(" + v + ") changes the true image");
    }
    for (String k : new String[] {"elbo", "log_p_sex", "log_p_age", "log_p_brain", "log_p_ventricle", "recon_mae",
        "cf_ventricle_rel_error", "cf_brain_rel_error", "do_age_ventricle_rel_error", "reversibility_l1"}) {
      assertTrue(Double.isFinite(m.get(k).getAsDouble()), k);
    }
    // the sample-level check: the true world's ventricles grow with do(v) as the measurer reads them
    double previous = 0;
    for (String ml : new String[] {"10", "25", "50", "100"}) {
      double truth = m.get("sample_ventricle_mm2_do_v_" + ml + "_true").getAsDouble();
      assertTrue(truth > previous, "true ventricle area under do(v := " + ml + " ml): " + truth);
      previous = truth;
      assertTrue(m.get("sample_ventricle_mm2_do_v_" + ml + "_model").getAsDouble() >= 0, ml);
    }
    assertTrue(Double.isFinite(m.get("sample_ventricle_slope_do_ventricle_volume").getAsDouble()));
    assertEquals(Math.log(0.5), m.get("log_p_sex").getAsDouble(), 0.05, "sex is about even");
    assertTrue(m.get("composition_l1_10").getAsDouble() < 1e-3, "do(nothing) keeps the image");
    assertEquals("a random sample of 6 of the 2100 test subjects, stratified by sex and age decade (seed 1)",
        m.get("unit_sample").getAsString());
  }

  @Test
  void aUnitCountBelowOneIsRefused() {
    for (String n : new String[] {"0", "-5"}) {
      CommandLineTest.Run r = CommandLineTest.run("evaluate", "--model", "models/morphomnist-full", "--units", n);
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().contains("--units takes a positive number of test units, got " + n), r.err());
    }
  }
}
