package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.deepscm.scm.SavedModel;
import org.junit.jupiter.api.Test;

/** The help beside the uncertainty view says what was measured, for the model on screen only. */
class UncertaintyHelpTest {
  private static SavedModel model(String name, JsonObject training) {
    return new SavedModel(name, null, Map.of(), training, null);
  }

  private static JsonObject trainedAt(String when) {
    JsonObject t = new JsonObject();
    t.addProperty("trained_at", when);
    return t;
  }

  @Test
  void theShippedBrainModelIsToldThatItsSpreadDoesNotForetellTheError() {
    UncertaintyHelp.Measured brain = UncertaintyHelp.SHIPPED.get(0);
    String text = UncertaintyHelp.text(model("brain-synthetic", trainedAt(brain.trainedAt())), true);
    assertTrue(text.contains("do(ventricle_volume): rank correlation of spread and error 0.19"), text);
    assertTrue(text.contains("Under do(age), do(sex), do(brain_volume), do(ventricle_volume) the spread does not "
        + "foretell where the counterfactual is wrong"), text);
    assertTrue(text.contains("do not read it as an error bar"), text);
    assertTrue(text.contains("evaluate --model models/brain-synthetic --units 300 --seed 1"), text);
    assertTrue(text.contains("mean over the brain"), text);

    UncertaintyHelp.Measured digits = UncertaintyHelp.SHIPPED.get(1);
    String d = UncertaintyHelp.measured(model("morphomnist-full", trainedAt(digits.trainedAt())));
    assertTrue(d.contains("Under do(i) the spread does not foretell"), d);
    assertTrue(d.contains("Under do(t) it points to the pixels that are more wrong"), d);
  }

  @Test
  void anotherModelOfTheSameNameIsNotToldTheShippedOnesMeasures() {
    String text = UncertaintyHelp.measured(model("brain-synthetic", trainedAt("2030-01-01T00:00:00Z")));
    assertTrue(text.startsWith("Whether this spread foretells the error has not been measured"), text);
  }

  @Test
  void measuresRecordedInTheModelFolderComeFirst() {
    JsonObject training = trainedAt("2030-01-01T00:00:00Z");
    JsonObject measures = new JsonObject();
    measures.addProperty("cf_sd_error_spearman_do_t", 0.62);
    measures.addProperty("cf_true_coverage_2sd_do_t", 0.91);
    measures.addProperty("recon_mae", 5.0);
    training.add("measures", measures);
    training.addProperty("measured_by", "Measured on 20 units.");
    String text = UncertaintyHelp.measured(model("mine", training));
    assertEquals("Measured against TRUE counterfactuals: do(t): rank correlation of spread and error 0.62, TRUE "
        + "pixel within 2 spreads 91 % of the time. Under do(t) it points to the pixels that are more wrong. "
        + "Measured on 20 units.", text);
    assertFalse(text.contains("error bar"), "a spread that covers the truth is not called narrow");
  }

  /** The shipped measures belong to the shipped models as trained: a retrained model must be measured again. */
  @Test
  void theShippedMeasuresNameTheShippedModelsTrainingTimes() throws IOException {
    for (UncertaintyHelp.Measured m : UncertaintyHelp.SHIPPED) {
      Path file = Path.of("models", m.name(), "model.json");
      assumeTrue(Files.isRegularFile(file), file + " is shipped");
      JsonObject json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
      assertEquals(m.trainedAt(), json.getAsJsonObject("training").get("trained_at").getAsString(), m.name());
    }
  }
}
