package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
    assertTrue(notImage.err().contains("is named .png but holds no known image format"), notImage.err());

    var noImage = CommandLineTest.run("counterfactual", "--model", model.toString(), "--observed", "t=2,i=100",
        "--do", "t=3");
    assertEquals(2, noImage.code());
    assertTrue(noImage.err().contains("--image FILE.png"), noImage.err());
  }

  /** Three digits in a folder beside their CSV: one with t and i given, one with both measured, one with i measured. */
  private Path writeCases() throws IOException {
    MnistDigits digits = MnistDigits.load(Path.of("resources", "mnist"));
    Path folder = dir.resolve("cases");
    Files.createDirectories(folder.resolve("more"));
    ImageFiles.writeGrey(folder.resolve("given.png"), MorphoMnistTrueScm.image(digits.imageDoubles(3), 2.5, 180),
        28, 28);
    ImageFiles.writeGrey(folder.resolve("more").resolve("measured.png"),
        MorphoMnistTrueScm.image(digits.imageDoubles(5), 3.0, 120), 28, 28);
    // a file name with a comma: quoted in the input CSV, and it must come out quoted
    ImageFiles.writeGrey(folder.resolve("seven, thin.png"), MorphoMnistTrueScm.image(digits.imageDoubles(7), 1.8, 200),
        28, 28);
    Path csv = folder.resolve("cases.csv");
    Files.writeString(csv, "image,t,i\ngiven.png,2.5,180\nmore/measured.png,,\n\"seven, thin.png\",1.8,\n");
    return csv;
  }

  @Test
  void aCsvOfImageCasesIsAnsweredInOneRunWithOneRowAndImagePerCase() throws IOException {
    Path csv = writeCases();
    Path answers = dir.resolve("answers.csv");
    Path cfs = dir.resolve("cfs");
    Path diffs = dir.resolve("diffs");
    var r = CommandLineTest.run("counterfactual", "--model", model.toString(), "--input", csv.toString(), "--do",
        "t+=1", "--particles", "2", "--csv", "--output", answers.toString(), "--image-out", cfs.toString(),
        "--diff-out", diffs.toString());
    assertEquals(0, r.code(), r.err());
    List<List<String>> rows = Rfc4180.parse(r.out());
    assertEquals(List.of("image", "t", "i", "t_cf", "i_cf", "x_mean_abs_change"), rows.get(0));
    assertEquals(4, rows.size(), r.out());
    assertEquals(List.of("given.png", "2.5000", "180.0000"), rows.get(1).subList(0, 3));
    assertEquals("more/measured.png", rows.get(2).get(0));
    assertEquals("seven, thin.png", rows.get(3).get(0));
    assertEquals("1.8000", rows.get(3).get(1));
    for (List<String> row : rows.subList(1, 4)) {
      assertEquals(6, row.size(), row.toString());
      // t is a root: t += 1 shifts it by one
      assertEquals(Double.parseDouble(row.get(1)) + 1, Double.parseDouble(row.get(3)), 1e-3, row.toString());
      double i = Double.parseDouble(row.get(2));
      assertTrue(i > 0 && i <= 255, "i from the row or measured: " + row);
      assertTrue(Double.parseDouble(row.get(5)) >= 0, row.toString());
    }
    // measured from a digit drawn at t = 3 and i = 120
    assertEquals(3.0, Double.parseDouble(rows.get(2).get(1)), 0.5);
    assertEquals(120, Double.parseDouble(rows.get(2).get(2)), 15);
    assertTrue(r.err().contains("t measured from the image in 1 of 3 rows"), r.err());
    assertTrue(r.err().contains("i measured from the image in 2 of 3 rows"), r.err());
    assertEquals(rows, Rfc4180.parse(Files.readString(answers)), "--output holds the printed table");
    for (String name : new String[] {"given", "measured", "seven, thin"}) {
      assertEquals(28, ImageFiles.read(cfs.resolve(name + "-cf.png"), 28, 28).width(), name);
      assertTrue(Files.size(diffs.resolve(name + "-diff.png")) > 0, name);
    }
  }

  @Test
  void aBadRowIsOneErrorNamingItsRowAndFile() throws IOException {
    Path csv = writeCases();
    Path folder = csv.getParent();
    ImageFiles.writeGrey(folder.resolve("small.png"), new double[32 * 32], 32, 32);
    ImageFiles.writeGrey(folder.resolve("blank.png"), new double[28 * 28], 28, 28);
    String good = "image,t,i\ngiven.png,2.5,180\n";
    String[][] cases = {
        {"absent.png,2,100\n", "row 2 (line 3), image absent.png: image file", "does not exist"},
        {"small.png,2,100\n", "row 2 (line 3), image small.png:", "is 32x32 pixels; this model needs 28x28"},
        {"given.png,NaN,100\n", "row 2 (line 3), image given.png:", "t [pixels] is NaN"},
        {"blank.png,,\n", "row 2 (line 3), image blank.png:", "has no foreground"},
        {"blank.png,2,100\n", "row 2 (line 3), image blank.png:", "has no foreground"},
        {",2,100\n", "row 2 (line 3): column 'image' is empty", ""}};
    for (String[] c : cases) {
      Path bad = folder.resolve("bad.csv");
      Files.writeString(bad, good + c[0]);
      var r = CommandLineTest.run("counterfactual", "--model", model.toString(), "--input", bad.toString(), "--do",
          "t=3", "--particles", "2");
      assertEquals(2, r.code(), c[0] + r.err());
      String line = r.err().strip();
      assertTrue(line.startsWith("error: " + bad + " " + c[1]) && line.contains(c[2]), c[0] + line);
      assertFalse(line.contains("Exception") || line.contains("\n"), "one line, no stack trace: " + line);
    }
    Files.writeString(folder.resolve("noimage.csv"), "t,i\n2,100\n");
    var noColumn = CommandLineTest.run("counterfactual", "--model", model.toString(), "--input",
        folder.resolve("noimage.csv").toString(), "--do", "t=3");
    assertEquals(2, noColumn.code());
    assertTrue(noColumn.err().contains("has no column image"), noColumn.err());
  }

  @Test
  void everyCsvTheCounterfactualWritesIsRfc4180() throws IOException {
    Path answers = dir.resolve("one.csv");
    var r = CommandLineTest.run("counterfactual", "--model", model.toString(), "--image", digit.toString(),
        "--observed", "t=2.5,i=180", "--do", "t=4", "--particles", "2", "--csv", "--output", answers.toString());
    assertEquals(0, r.code(), r.err());
    for (String text : new String[] {r.out(), Files.readString(answers)}) {
      List<List<String>> rows = Rfc4180.parse(text);
      assertEquals(4, rows.size(), text);
      rows.forEach(row -> assertEquals(3, row.size(), "fields of " + row));
      assertEquals(List.of("variable", "observed", "counterfactual"), rows.get(0));
      assertEquals("x (mean |change|, 0-255)", rows.get(3).get(0), "the label with a comma is one field");
      assertTrue(text.contains("\"x (mean |change|, 0-255)\""), text);
    }
  }

  @Test
  void aRealDigitIsCalledAtypicalAndCanBeBroughtIntoTheModelsWorld() throws IOException {
    MnistDigits digits = MnistDigits.load(Path.of("resources", "mnist"));
    Path real = dir.resolve("real.png");
    ImageFiles.writeGrey(real, digits.imageDoubles(digits.split().test()[700]), 28, 28);
    var asIs = CommandLineTest.run("counterfactual", "--model", "models/morphomnist-full", "--image", real.toString(),
        "--do", "i=120", "--particles", "4", "--csv");
    assertEquals(0, asIs.code(), asIs.err());
    assertTrue(asIs.err().contains("warning: This case is unlike the model's training data: i = ")
        && asIs.err().contains("--typical-intensity"), asIs.err());

    var typical = CommandLineTest.run("counterfactual", "--model", "models/morphomnist-full", "--image",
        real.toString(), "--do", "i=120", "--particles", "4", "--csv", "--typical-intensity");
    assertEquals(0, typical.code(), typical.err());
    assertTrue(typical.err().contains("intensity set to the model's typical"), typical.err());
    assertTrue(!typical.err().contains("unlike the model's training data"), typical.err());
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
        "cf_intensity_mae_class_5", "digit_kept_do_t", "digit_kept_do_i", "digit_read_observed"}) {
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
    // the judge of digit kept is the shipped classifier: it reads the observed test renderings
    assertTrue(m.get("digit_read_observed").getAsDouble() >= 0.9, "digit_read_observed " + m.get(
        "digit_read_observed"));
    assertTrue(r.err().contains("digit kept judged by the classifier in"), r.err());
    // no predictors in this folder: no second opinion under the pred_ keys
    assertTrue(!m.has("pred_digit_kept_do_t"), m.keySet().toString());
  }

  @Test
  void evaluateNamesAMissingOrDamagedDigitJudge() throws IOException {
    Path missing = dir.resolve("no-judge.safetensors");
    var r = CommandLineTest.run("evaluate", "--model", model.toString(), "--units", "10", "--digit-judge",
        missing.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains(missing.toString()) && r.err().contains("missing"), r.err());
    assertTrue(!r.err().contains("evaluated"), "nothing is measured without the judge: " + r.err());

    Path damaged = dir.resolve("damaged.safetensors");
    Files.write(damaged, new byte[] {42, 0, 0, 0, 0, 0, 0, 0, 123});
    r = CommandLineTest.run("evaluate", "--model", model.toString(), "--units", "10", "--digit-judge",
        damaged.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains(damaged.toString()) && r.err().contains("cannot be read"), r.err());
  }
}
