package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.train.MorphoMnistModels;
import org.deepscm.train.ScmBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image counterfactuals from the command line, on a small untrained model of the full graph. */
class ImageCommandLineTest {
  @TempDir
  Path dir;

  private Path model;
  private Path digit;

  @BeforeEach
  void makeModelAndDigit() throws IOException {
    model = dir.resolve("model");
    ScmBuilder b = MorphoMnistModels.builder("full", true).imageArchitecture(ImageArchitecture.tiny(28, 28));
    var table = MorphoMnistTrueScm.draw(500, 3);
    JsonObject training = new JsonObject();
    training.addProperty("dataset", "morphomnist");
    try (SavedModel m = new SavedModel("tiny", b.build(table, 1), b.trainingRanges(table), training, null)) {
      ModelFolder.save(m, model);
    }
    MnistDigits digits = MnistDigits.load(Path.of("resources", "mnist"));
    digit = dir.resolve("digit.png");
    ImageFiles.writeGrey(digit, MorphoMnistTrueScm.image(digits.imageDoubles(3), 2.5, 180), 28, 28);
  }

  @Test
  void writesTheCounterfactualAndItsDifferenceMap() throws IOException {
    Path cf = dir.resolve("cf.png");
    Path diff = dir.resolve("diff.png");
    var r = CommandLineTest.run("counterfactual", "--model", model.toString(), "--image", digit.toString(),
        "--observed", "t=2.5,i=180", "--do", "t=4", "--particles", "4", "--image-out", cf.toString(), "--diff-out",
        diff.toString(), "--csv");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("t,2.5000,4.0000"), r.out());
    assertEquals(28, ImageFiles.read(cf, 28, 28).width());
    assertTrue(Files.size(diff) > 0);
  }

  @Test
  void theNullInterventionGivesTheImageBack() throws IOException {
    Path cf = dir.resolve("same.png");

    var r = CommandLineTest.run("counterfactual", "--model", model.toString(), "--image", digit.toString(),
        "--observed", "t=2.5,i=180", "--do", "t=2.5", "--particles", "4", "--image-out", cf.toString());
    assertEquals(0, r.code(), r.err());
    double[] before = ImageFiles.read(digit, 28, 28).pixels();
    double[] after = ImageFiles.read(cf, 28, 28).pixels();
    for (int p = 0; p < before.length; p++) {
      assertEquals(before[p], after[p], 1.0, "pixel " + p);
    }
  }

  @Test
  void missingCovariatesAreMeasuredAndBadImagesRefused() throws IOException {
    var measured = CommandLineTest.run("counterfactual", "--model", model.toString(), "--image", digit.toString(),
        "--do", "i=100", "--particles", "2");
    assertEquals(0, measured.code(), measured.err());
    assertTrue(measured.err().contains("t measured from the image"), measured.err());

    Path small = dir.resolve("small.png");
    ImageFiles.writeGrey(small, new double[32 * 32], 32, 32);
    var wrongSize = CommandLineTest.run("counterfactual", "--model", model.toString(), "--image", small.toString(),
        "--observed", "t=2,i=100", "--do", "t=3");
    assertEquals(2, wrongSize.code());
    assertTrue(wrongSize.err().contains("is 32x32 pixels; this model needs 28x28"), wrongSize.err());

    Path blank = dir.resolve("blank.png");
    ImageFiles.writeGrey(blank, new double[28 * 28], 28, 28);
    var empty = CommandLineTest.run("counterfactual", "--model", model.toString(), "--image", blank.toString(),
        "--do", "t=3");
    assertEquals(2, empty.code());
    assertTrue(empty.err().contains("no foreground"), empty.err());

    Path text = dir.resolve("notes.png");
    Files.writeString(text, "not an image");
    var notImage = CommandLineTest.run("counterfactual", "--model", model.toString(), "--image", text.toString(),
        "--observed", "t=2,i=100", "--do", "t=3");
    assertEquals(2, notImage.code());
    assertTrue(notImage.err().contains("not an image format"), notImage.err());

    var noImage = CommandLineTest.run("counterfactual", "--model", model.toString(), "--observed", "t=2,i=100",
        "--do", "t=3");
    assertEquals(2, noImage.code());
    assertTrue(noImage.err().contains("--image FILE.png"), noImage.err());
  }

  @Test
  void evaluateWritesEveryImageMeasure() throws IOException {
    Path json = dir.resolve("m.json");
    var r = CommandLineTest.run("evaluate", "--model", model.toString(), "--units", "10", "--json", json.toString());
    assertEquals(0, r.code(), r.err());
    var m = com.google.gson.JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    for (String key : new String[] {"elbo_x_t_i", "elbo_x_given_t_i", "log_p_t", "log_p_i_given_t", "recon_mae",
        "cf_thickness_mae", "cf_intensity_mae", "cf_true_mae", "composition_l1_1", "composition_l1_10",
        "reversibility_l1", "do_t_mean_abs_error", "cf_thickness_slope_do_t", "cf_intensity_slope_do_i",
        "cf_thickness_mae_do_t", "cf_intensity_mae_do_i", "recon_mae_class_0", "recon_mae_class_9",
        "cf_intensity_mae_class_5"}) {
      assertTrue(m.has(key), key + " in " + m.keySet());
      assertTrue(Double.isFinite(m.get(key).getAsDouble()), key + " = " + m.get(key));
    }
    assertTrue(m.get("composition_l1_1").getAsDouble() < 1e-2, "the null intervention keeps the image");
    assertEquals(10, m.get("test_units").getAsInt());
    // ten of the class-ordered split, stratified: one of each class, not ten zeros
    for (int c = 0; c < 10; c++) {
      assertEquals(1, m.get("test_units_class_" + c).getAsInt(), "class " + c);
    }
    assertTrue(m.get("unit_sample").getAsString().contains("class-stratified random sample of 10"),
        m.get("unit_sample").getAsString());
    assertEquals(1, m.get("seed").getAsInt());
  }
}
