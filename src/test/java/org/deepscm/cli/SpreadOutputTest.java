package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.brain.BrainCases;
import org.deepscm.data.brain.NiftiVolume;
import org.deepscm.data.brain.NiftiWriter;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.image.ImageCounterfactual;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.train.MorphoMnistModels;
import org.deepscm.train.ScmBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** counterfactual --sd-out: the spread over the particles as a scaled PNG, its scale in the answers, and NIfTI. */
class SpreadOutputTest {
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
  void oneDigitsSpreadIsAPngScaledToItsLargestSpreadWhichTheAnswersGive() throws IOException {
    Path sd = dir.resolve("out").resolve("sd.png");
    Path answers = dir.resolve("answers.csv");
    var r = CommandLineTest.run("counterfactual", "--model", model.toString(), "--image", digit.toString(),
        "--observed", "t=2.5,i=180", "--do", "t=4", "--particles", "8", "--seed", "5", "--sd-out", sd.toString(),
        "--output", answers.toString());
    assertEquals(0, r.code(), r.err());
    List<List<String>> rows = Rfc4180.parse(Files.readString(answers, StandardCharsets.UTF_8));
    Map<String, String> byLabel = new LinkedHashMap<>();
    rows.forEach(row -> byLabel.put(row.get(0), row.get(2)));
    double largest = Double.parseDouble(byLabel.get("x (largest spread: PNG level 255)"));
    double mean = Double.parseDouble(byLabel.get("x (mean spread over the particles, 0-255)"));
    assertTrue(largest > 0 && mean > 0 && mean < largest, largest + " / " + mean);

    // the same answer computed here, with the seed the command used: the PNG is its spread over largest * 255
    double[] px = ImageFiles.read(digit, 28, 28).pixels();
    try (SavedModel m = ModelFolder.load(model)) {
      Engine.getInstance().setRandomSeed(5);
      ImageCounterfactual.Answers a = ImageCounterfactual.computeInBatches(m.scm(),
          Map.of("t", new double[] {2.5}, "i", new double[] {180}), new double[][] {px},
          Map.of("t", Intervention.set(4)), 8, 1);
      double[] spread = a.spreads()[0];
      double most = 0;
      for (double v : spread) {
        most = Math.max(most, v);
      }
      assertEquals(most, largest, 1e-3 * most + 1e-4, "x_sd_max is the largest spread");
      double[] png = ImageFiles.read(sd, 28, 28).pixels();
      for (int k = 0; k < png.length; k++) {
        assertEquals(Math.round(spread[k] / most * 255), png[k], 1.0, "PNG level of pixel " + k);
      }
    }
    assertTrue(r.err().contains("level 255 = "), r.err());

    var bad = CommandLineTest.run("counterfactual", "--model", model.toString(), "--image", digit.toString(),
        "--observed", "t=2.5,i=180", "--do", "t=4", "--sd-out", dir.resolve("sd.nii.gz").toString());
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("--sd-out") && bad.err().contains("give a .png name"), bad.err());
  }

  @Test
  void manyDigitsGetOneSpreadPngEachAndTheirScaleInTheirRow() throws IOException {
    Files.copy(digit, dir.resolve("b.png"));
    Path csv = dir.resolve("digits.csv");
    Files.writeString(csv, "image,t,i\ndigit.png,2.5,180\nb.png,,\n", StandardCharsets.UTF_8);
    Path sds = dir.resolve("sds");
    var r = CommandLineTest.run("counterfactual", "--model", model.toString(), "--input", csv.toString(), "--do",
        "t+=1", "--particles", "4", "--csv", "--sd-out", sds.toString());
    assertEquals(0, r.code(), r.err());
    List<List<String>> rows = Rfc4180.parse(r.out());
    assertEquals(List.of("image", "t", "i", "t_cf", "i_cf", "x_mean_abs_change", "x_mean_sd", "x_sd_max"),
        rows.get(0));
    for (String name : new String[] {"digit", "b"}) {
      double[] png = ImageFiles.read(sds.resolve(name + "-sd.png"), 28, 28).pixels();
      double top = 0;
      for (double v : png) {
        top = Math.max(top, v);
      }
      double max = Double.parseDouble(rows.get(name.equals("digit") ? 1 : 2).get(7));
      assertEquals(max > 0 ? 255 : 0, top, "the largest spread of " + name + " at level 255");
    }
    // without --sd-out the answers keep their columns
    var plain = CommandLineTest.run("counterfactual", "--model", model.toString(), "--input", csv.toString(), "--do",
        "t+=1", "--particles", "2", "--csv");
    assertEquals(List.of("image", "t", "i", "t_cf", "i_cf", "x_mean_abs_change"), Rfc4180.parse(plain.out()).get(0));
  }

  /** A brain-like volume in MNI space: an ellipse of tissue whose grey level rises steadily with x and y. */
  private static Path volume(Path file) throws IOException {
    int nx = 100;
    int ny = 110;
    int nz = 20;
    byte[] data = new byte[nx * ny * nz];
    for (int k = 0; k < nz; k++) {
      for (int j = 0; j < ny; j++) {
        for (int i = 0; i < nx; i++) {
          double x = -100 + 2 * i;
          double y = -120 + 2 * j;
          boolean inside = Math.pow((x - 10) / 60, 2) + Math.pow((y + 20) / 75, 2) <= 1;
          data[i + nx * (j + ny * k)] = (byte) (inside ? Math.round(120 + 0.5 * x + 0.3 * y) : 0);
        }
      }
    }
    double[][] affine = {{2, 0, 0, -100}, {0, 2, 0, -120}, {0, 0, 2, -10}, {0, 0, 0, 1}};
    NiftiWriter.write(file, nx, ny, nz, new double[] {2, 2, 2}, affine, data, NiftiWriter.SFORM_MNI);
    return file;
  }

  @Test
  void aNiftiSlicesAffinePutsEachPixelWhereItWasSampled() throws IOException {
    NiftiVolume v = NiftiVolume.read(volume(dir.resolve("ramp.nii.gz")));
    BrainCases.NiftiSlice slice = BrainCases.axialImage(v, 4);
    double[][] a = BrainCases.sliceAffine(slice, 4);
    double scale = BrainCases.WHITE_MATTER_GREY / slice.whiteLevel();
    int checked = 0;
    for (int r = 0; r < 64; r++) {
      for (int c = 0; c < 64; c++) {
        double x = a[0][0] * c + a[0][1] * r + a[0][3];
        double y = a[1][0] * c + a[1][1] * r + a[1][3];
        assertEquals(4, a[2][0] * c + a[2][1] * r + a[2][3], 1e-9);
        // well inside the tissue, 3 mm from its edge: the ramp is linear there, so the pixel is its value at x, y
        if (Math.pow((x - 10) / 54, 2) + Math.pow((y + 20) / 69, 2) <= 1) {
          double expected = Math.max(0, Math.min(255, Math.rint((120 + 0.5 * x + 0.3 * y) * scale)));
          assertEquals(expected, slice.pixels()[r * 64 + c], 1.5, "pixel row " + r + ", column " + c);
          checked++;
        }
      }
    }
    assertTrue(checked > 1000, "pixels checked: " + checked);
  }

  @Test
  void aBrainGivenAsNiftiAlsoGetsItsSpreadAsAFloatNiftiSliceInItsOwnSpace() throws IOException {
    Path t1 = volume(dir.resolve("t1.nii.gz"));
    Path sd = dir.resolve("sd.png");
    Path answers = dir.resolve("answers.csv");
    var r = CommandLineTest.run("counterfactual", "--model", "models/brain-synthetic", "--image", t1.toString(),
        "--slice-mm", "4", "--observed", "sex=F,age=60,brain_volume=1100,ventricle_volume=20", "--do",
        "ventricle_volume*=2", "--particles", "4", "--sd-out", sd.toString(), "--output", answers.toString());
    assertEquals(0, r.code(), r.err());
    Path nifti = dir.resolve("sd.nii.gz");
    assertTrue(r.err().contains("wrote " + nifti), r.err());
    NiftiVolume written = NiftiVolume.read(nifti);
    assertEquals(List.of(64, 64, 1), List.of(written.nx(), written.ny(), written.nz()));
    assertEquals("float32", written.datatypeName());
    // the slice's geometry: the same affine as the slice cut from the input
    BrainCases.NiftiSlice slice = BrainCases.axialImage(NiftiVolume.read(t1), 4);
    double[][] expected = BrainCases.sliceAffine(slice, 4);
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(expected[i], written.affine()[i], 1e-3, "affine row " + i);
    }
    // its values: the spread in grey levels, the largest of them the answers' and the PNG's level 255
    float[] values = written.data();
    double most = 0;
    int at = 0;
    for (int k = 0; k < values.length; k++) {
      if (values[k] > most) {
        most = values[k];
        at = k;
      }
    }
    Map<String, String> byLabel = new LinkedHashMap<>();
    Rfc4180.parse(Files.readString(answers, StandardCharsets.UTF_8)).forEach(row -> byLabel.put(row.get(0),
        row.get(2)));
    assertTrue(most > 0, "a real intervention has a spread");
    assertEquals(Double.parseDouble(byLabel.get("x (largest spread: PNG level 255)")), most, 1e-3 * most + 1e-4);
    double[] png = ImageFiles.read(sd, 64, 64).pixels();
    assertEquals(255, png[at]);
    for (int k = 0; k < values.length; k++) {
      assertEquals(Math.round(values[k] / most * 255), png[k], 1.0, "pixel " + k);
    }
  }
}
