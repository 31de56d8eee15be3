package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.brain.Anatomy;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTemplate;
import org.deepscm.data.brain.NiftiWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The brain counterfactual from the command line speaks the clinic's language: ventricle_volume*=2, sex as F / M,
 * the CSV's id naming answers and files, NIfTI volumes with --slice-mm, volumes in mm3 and impossible brains refused.
 */
class BrainCounterfactualCommandTest {
  private static final String MODEL = "models/brain-synthetic";

  @TempDir
  static Path dir;

  private static Path png;

  @BeforeAll
  static void slice() throws IOException {
    BrainSliceRenderer renderer = new BrainSliceRenderer(BrainTemplate.load(Path.of("resources", "brain")));
    float[] f = renderer.render(1100, 20, Anatomy.draw(new SplittableRandom(7)), false).image();
    double[] px = new double[f.length];
    for (int p = 0; p < px.length; p++) {
      px[p] = f[p];
    }
    png = dir.resolve("sub-1.png");
    ImageFiles.writeGrey(png, px, 64, 64);
  }

  @Test
  void aScaleOfTheVentriclesWithSexGivenAsALetter() {
    var r = CommandLineTest.run("counterfactual", "--model", MODEL, "--image", png.toString(), "--observed",
        "sex=F,age=55,brain_volume=1100,ventricle_volume=20", "--do", "ventricle_volume*=2", "--particles", "4");
    assertEquals(0, r.code(), r.err());
    // twice her own 20 ml, her sex read as female
    assertTrue(r.out().contains("do(ventricle_volume := f_ventricle_volume(eps) x 2)"), r.out());
    assertTrue(r.out().matches("(?s).*ventricle_volume\\s+20(\\.0+)?\\s+40(\\.0+)?\\s.*"), r.out());
    assertTrue(r.out().matches("(?s).*sex\\s+female\\s+female\\s.*"), r.out());
  }

  @Test
  void volumesInMm3AndBrainsNoOneHasAreRefusedWithTheReason() {
    var mm3 = CommandLineTest.run("counterfactual", "--model", MODEL, "--image", png.toString(), "--observed",
        "sex=M,age=55,brain_volume=1057852,ventricle_volume=20", "--do", "age=60");
    assertEquals(2, mm3.code(), mm3.err());
    assertTrue(mm3.err().contains("looks like mm3: volumes are in ml"), mm3.err());

    var huge = CommandLineTest.run("counterfactual", "--model", MODEL, "--image", png.toString(), "--observed",
        "sex=male,age=55,brain_volume=1100,ventricle_volume=20", "--do", "ventricle_volume=1e9");
    assertEquals(2, huge.code(), huge.err());
    assertTrue(huge.err().contains("asks for a brain no subject can have"), huge.err());
    assertTrue(huge.err().contains("looks like mm3"), huge.err());

    var larger = CommandLineTest.run("counterfactual", "--model", MODEL, "--image", png.toString(), "--observed",
        "sex=male,age=55,brain_volume=1100,ventricle_volume=20", "--do", "ventricle_volume=2000");
    assertEquals(2, larger.code(), larger.err());
    assertTrue(larger.err().contains("do not fit in a brain"), larger.err());
  }

  @Test
  void anAgeOutsideAHumanLifeIsRefusedAsAnImpossibleBrainIs() {
    String observed = "sex=F,age=55,brain_volume=1100,ventricle_volume=20";
    // it was answered with only a warning that 300 years is an extrapolation
    var set = CommandLineTest.run("counterfactual", "--model", MODEL, "--image", png.toString(), "--observed",
        observed, "--do", "age=300");
    assertEquals(2, set.code(), set.out() + set.err());
    assertEquals("error: do(age := 300) asks for a brain no subject can have, so nothing was computed: age 300 "
        + "years is outside a human life (0..120 years)", set.err().strip());
    assertEquals("", set.out());

    var shifted = CommandLineTest.run("counterfactual", "--model", MODEL, "--image", png.toString(), "--observed",
        observed, "--do", "age+=100", "--particles", "4");
    assertEquals(2, shifted.code(), shifted.out() + shifted.err());
    assertTrue(shifted.err().contains("asks for a brain no subject can have"), shifted.err());
    assertTrue(shifted.err().contains("age 155 years is outside a human life"), shifted.err());

    var seen = CommandLineTest.run("counterfactual", "--model", MODEL, "--image", png.toString(), "--observed",
        "sex=F,age=300,brain_volume=1100,ventricle_volume=20", "--do", "ventricle_volume*=2");
    assertEquals(2, seen.code(), seen.out() + seen.err());
    assertEquals("error: age 300 years is outside a human life (0..120 years)", seen.err().strip());

    var population = CommandLineTest.run("intervene", "--model", MODEL, "--do", "age=300");
    assertEquals(2, population.code(), population.out() + population.err());
    assertTrue(population.err().contains("do(age := 300) asks for a brain no subject can have"), population.err());

    var old = CommandLineTest.run("counterfactual", "--model", MODEL, "--image", png.toString(), "--observed",
        observed, "--do", "age=100", "--particles", "4");
    assertEquals(0, old.code(), "a centenarian is a person: " + old.err());
    assertTrue(old.err().contains("extrapolation"), old.err());
  }

  @Test
  void aCsvWithIdsAndANiftiVolumeNamesItsAnswersAndFilesByTheIds() throws IOException {
    Path volume = dir.resolve("t1.nii.gz");
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
          boolean ventricle = Math.abs(x - 10) < 8 && Math.abs(y + 20) < 20;
          data[i + nx * (j + ny * k)] = (byte) (inside ? (ventricle ? 20 : 100) : 0);
        }
      }
    }
    double[][] affine = {{2, 0, 0, -100}, {0, 2, 0, -120}, {0, 0, 2, -10}, {0, 0, 0, 1}};
    NiftiWriter.write(volume, nx, ny, nz, new double[] {2, 2, 2}, affine, data, NiftiWriter.SFORM_MNI);
    Path csv = dir.resolve("subjects.csv");
    Files.writeString(csv, "id,age,sex,brain_volume,ventricle_volume,image\n"
        + "sub-A,60,F,1100,20,sub-1.png\n"
        + "sub/B,58,male,1250,30,t1.nii.gz\n", StandardCharsets.UTF_8);
    Path out = dir.resolve("cfs");
    var none = CommandLineTest.run("counterfactual", "--model", MODEL, "--input", csv.toString(), "--do",
        "ventricle_volume*=2");
    assertEquals(2, none.code(), none.err());
    assertTrue(none.err().contains("--slice-mm"), none.err());

    var r = CommandLineTest.run("counterfactual", "--model", MODEL, "--input", csv.toString(), "--slice-mm", "4",
        "--do", "ventricle_volume*=2", "--particles", "4", "--csv", "--image-out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("id,"), r.out());
    assertTrue(r.out().contains("\nsub-A,"), r.out());
    assertTrue(r.out().contains("\nsub/B,"), r.out());
    assertFalse(r.err().contains("ignored"), r.err());
    assertTrue(Files.isRegularFile(out.resolve("sub-A-cf.png")));
    assertTrue(Files.isRegularFile(out.resolve("sub_B-cf.png")));
  }

  @Test
  void aCsvWithoutIdsNamesItsRowsByTheirImagesAndSaysSoOnce() throws IOException {
    // refused with "no column 'id'" before; an id is a convenience, not a need
    Path csv = dir.resolve("no-ids.csv");
    Files.writeString(csv, "age,sex,brain_volume,ventricle_volume,image\n"
        + "60,F,1100,20,sub-1.png\n", StandardCharsets.UTF_8);
    Path out = dir.resolve("no-id-cfs");
    var r = CommandLineTest.run("counterfactual", "--model", MODEL, "--input", csv.toString(), "--do",
        "ventricle_volume*=2", "--particles", "4", "--csv", "--image-out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("id,"), r.out());
    assertTrue(r.out().contains("\nsub-1,"), r.out());
    assertTrue(Files.isRegularFile(out.resolve("sub-1-cf.png")));
    String note = "note: " + csv + " has no column 'id': its subjects are named by their image files' names (sub-1, "
        + "...)";
    assertEquals(1, r.err().lines().filter(note::equals).count(), r.err());
  }
}
