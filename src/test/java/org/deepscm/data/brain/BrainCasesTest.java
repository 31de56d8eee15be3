package org.deepscm.data.brain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrainCasesTest {
  @TempDir
  Path tmp;

  private static final String HEADER = "id,age,sex,brain_volume,ventricle_volume,image";

  /** Writes the lines (joined by LF) as cases.csv in the temp folder. */
  private Path csv(String... lines) throws IOException {
    Path f = tmp.resolve("cases.csv");
    Files.writeString(f, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    return f;
  }

  /** A 64x64 grey PNG whose pixel (r, c) is (base + r + 2c) mod 256. */
  private Path png(String name, int base) throws IOException {
    return png(name, base, 64, 64);
  }

  private Path png(String name, int base, int width, int height) throws IOException {
    Path f = tmp.resolve(name);
    Files.createDirectories(f.getParent());
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    for (int r = 0; r < height; r++) {
      for (int c = 0; c < width; c++) {
        img.getRaster().setSample(c, r, 0, (base + r + 2 * c) % 256);
      }
    }
    assertTrue(ImageIO.write(img, "png", f.toFile()));
    return f;
  }

  private static double pixel(int base, int r, int c) {
    return (base + r + 2 * c) % 256;
  }

  private BrainCases.InvalidCasesException invalid(Path file, Double sliceMm) {
    return assertThrows(BrainCases.InvalidCasesException.class, () -> BrainCases.read(file, sliceMm));
  }

  private static void assertMentions(String message, String... parts) {
    for (String p : parts) {
      assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
    }
  }

  // ------------------------------------------------------------------------------------------ valid files

  @Test
  void readsAValidCsvWithPngsInAnyColumnOrderWithExtraColumns() throws IOException {
    png("a.png", 10);
    png("sub/b.png", 50);
    Path abs = png("c.png", 90).toAbsolutePath();
    Path f = csv("site,image,ventricle_volume,brain_volume,sex,age,id",
        "leeds,a.png,20.5,1150,0,60,s1",
        "leeds,sub/b.png,35,1250.25,M,55.5,s2",
        "york," + abs + ",40,1100,female,70,s3",
        "york,a.png,25,1200,Male,45,s4");
    BrainCases.Cases cases = BrainCases.read(f, null);
    assertEquals(4, cases.size());
    assertArrayEquals(new String[] {"s1", "s2", "s3", "s4"}, cases.ids());
    assertEquals(new BrainTrueScm.Covariates(0, 60, 1150, 20.5), cases.covariates()[0]);
    assertEquals(new BrainTrueScm.Covariates(1, 55.5, 1250.25, 35), cases.covariates()[1]);
    assertEquals(new BrainTrueScm.Covariates(0, 70, 1100, 40), cases.covariates()[2]);
    assertEquals(new BrainTrueScm.Covariates(1, 45, 1200, 25), cases.covariates()[3]);
    assertArrayEquals(new int[] {2, 3, 4, 5}, cases.rows());
    assertEquals(tmp.resolve("sub/b.png").toAbsolutePath().normalize(), cases.imageFiles()[1]);
    assertEquals(4096, cases.images()[0].length);
    for (int[] rc : new int[][] {{0, 0}, {0, 63}, {63, 0}, {17, 40}}) {
      assertEquals(pixel(10, rc[0], rc[1]), cases.images()[0][rc[0] * 64 + rc[1]]);
      assertEquals(pixel(50, rc[0], rc[1]), cases.images()[1][rc[0] * 64 + rc[1]]);
      assertEquals(pixel(90, rc[0], rc[1]), cases.images()[2][rc[0] * 64 + rc[1]]);
    }
    assertEquals(0, cases.warnings().size(), cases.warnings().toString());
  }

  @Test
  void withoutAnIdColumnSubjectsAreNamedByTheirImagesOrElseByTheirRows() throws IOException {
    png("sub-0001.png", 10);
    png("b/sub-0002.PNG", 20);
    Path f = csv("age,sex,brain_volume,ventricle_volume,image",
        "60,F,1150,20.5,sub-0001.png",
        "55,M,1250,35,b/sub-0002.PNG");
    BrainCases.Cases cases = BrainCases.read(f, null);
    assertArrayEquals(new String[] {"sub-0001", "sub-0002"}, cases.ids());
    assertEquals(f + " has no column 'id': its subjects are named by their image files' names (sub-0001, ...)",
        cases.naming());
    assertEquals(new BrainTrueScm.Covariates(1, 55, 1250, 35), cases.covariates()[1]);

    // UK Biobank's volumes share one name in a folder per subject: the rows name them
    png("1234567/T1.png", 30);
    png("7654321/T1.png", 40);
    Path shared = csv("image,age,sex,brain_volume,ventricle_volume",
        "1234567/T1.png,60,F,1150,20.5",
        "sub-0001.png,61,F,1150,20.5",
        "7654321/T1.png,62,M,1250,35");
    BrainCases.Cases rows = BrainCases.read(shared, null);
    assertArrayEquals(new String[] {"row2", "row3", "row4"}, rows.ids());
    assertMentions(rows.naming(), "has no column 'id'", "by their rows (row2, ...: the header is row 1)");

    assertNull(BrainCases.read(csv(HEADER, "s1,60,1,1200,30,sub-0001.png"), null).naming(), "ids given");
  }

  @Test
  void toleratesAByteOrderMarkAndCrlf() throws IOException {
    png("a.png", 0);
    Path f = tmp.resolve("bom.csv");
    byte[] text = (HEADER + "\r\ns1,60,1,1200,30,a.png\r\n").getBytes(StandardCharsets.UTF_8);
    byte[] bytes = new byte[text.length + 3];
    bytes[0] = (byte) 0xEF;
    bytes[1] = (byte) 0xBB;
    bytes[2] = (byte) 0xBF;
    System.arraycopy(text, 0, bytes, 3, text.length);
    Files.write(f, bytes);
    BrainCases.Cases cases = BrainCases.read(f, null);
    assertArrayEquals(new String[] {"s1"}, cases.ids());
    assertEquals(1, cases.covariates()[0].sex());
  }

  @Test
  void agesOutsideTheTrainingRangeAreWarningsNamingTheRow() throws IOException {
    png("a.png", 0);
    Path f = csv(HEADER, "s1,60,0,1200,30,a.png", "s2,80,1,1200,30,a.png", "s3,30,1,1200,30,a.png");
    BrainCases.Cases cases = BrainCases.read(f, null);
    assertEquals(3, cases.size());
    assertEquals(2, cases.warnings().size(), cases.warnings().toString());
    assertMentions(cases.warnings().get(0), "row 3 (id s2), column 'age'", "80 years", "training range 44..73");
    assertMentions(cases.warnings().get(1), "row 4 (id s3), column 'age'", "30 years");
    // the training range is a parameter
    assertEquals(0, BrainCases.read(f, null, 20, 90).warnings().size());
  }

  @Test
  void convertsAColourPngWithAWarning() throws IOException {
    BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    img.setRGB(5, 3, 0xff0000);
    Files.createDirectories(tmp);
    ImageIO.write(img, "png", tmp.resolve("colour.png").toFile());
    BrainCases.Cases cases = BrainCases.read(csv(HEADER, "s1,60,0,1200,30,colour.png"), null);
    assertEquals(Math.round(0.299 * 255), cases.images()[0][3 * 64 + 5]);
    assertEquals(1, cases.warnings().size());
    assertMentions(cases.warnings().get(0), "row 2 (id s1), column 'image'", "colour PNG", "converted to grey");
  }

  /**
   * A 2 mm RAS volume, 100 x 110 x 20 voxels, origin (-100, -120, -10) mm: z spans -10 .. 28 mm. An ellipse of 100
   * (semi-axes 60 x 75 mm) centred at world (10, -20); in it a 200 block at the subject's right front, world x in
   * 40..60, y in 20..40 (about 4% of the ellipse, so the 99.5th percentile is 200).
   */
  private Path volume(String name) throws IOException {
    int nx = 100;
    int ny = 110;
    int nz = 20;
    byte[] data = new byte[nx * ny * nz];
    for (int k = 0; k < nz; k++) {
      for (int j = 0; j < ny; j++) {
        for (int i = 0; i < nx; i++) {
          double x = -100 + 2 * i;
          double y = -120 + 2 * j;
          double e = Math.pow((x - 10) / 60, 2) + Math.pow((y + 20) / 75, 2);
          int v = e <= 1 ? 100 : 0;
          if (x >= 40 && x <= 60 && y >= 20 && y <= 40) {
            v = 200;
          }
          data[i + nx * (j + ny * k)] = (byte) v;
        }
      }
    }
    double[][] affine = {{2, 0, 0, -100}, {0, 2, 0, -120}, {0, 0, 2, -10}, {0, 0, 0, 1}};
    Path f = tmp.resolve(name);
    NiftiWriter.write(f, nx, ny, nz, new double[] {2, 2, 2}, affine, data, NiftiWriter.SFORM_MNI);
    return f;
  }

  @Test
  void takesTheAxialSliceOfANiftiVolumeCentredScaledAndRadiological() throws IOException {
    volume("t1.nii.gz");
    volume("t1.nii");
    png("a.png", 0);
    Path f = csv(HEADER, "s1,60,0,1200,30,t1.nii.gz", "s2,61,1,1200,30,a.png", "s3,62,1,1200,30,t1.nii");
    BrainCases.Cases cases = BrainCases.read(f, 4.0);
    assertEquals(3, cases.size());
    assertEquals(0, cases.warnings().size(), cases.warnings().toString());
    double[] img = cases.images()[0];
    assertArrayEquals(img, cases.images()[2], "plain and gzipped give the same slice");
    // centred on the centroid of the non-zero voxels, near the ellipse's centre (10, -20): the ellipse's extent
    // (60 mm = 20 pixels each side in x, 75 mm = 25 pixels in y) sits about the middle of the image
    int minR = 64;
    int maxR = -1;
    int minC = 64;
    int maxC = -1;
    for (int r = 0; r < 64; r++) {
      for (int c = 0; c < 64; c++) {
        if (img[r * 64 + c] > 0) {
          minR = Math.min(minR, r);
          maxR = Math.max(maxR, r);
          minC = Math.min(minC, c);
          maxC = Math.max(maxC, c);
        }
      }
    }
    assertTrue(Math.abs((minC + maxC) / 2.0 - 31.5) <= 3, "columns " + minC + ".." + maxC);
    assertTrue(Math.abs((minR + maxR) / 2.0 - 31.5) <= 3, "rows " + minR + ".." + maxR);
    assertTrue(maxC - minC >= 38 && maxC - minC <= 42, "40 pixels wide: " + minC + ".." + maxC);
    assertTrue(maxR - minR >= 48 && maxR - minR <= 52, "50 pixels tall: " + minR + ".." + maxR);
    // grey levels: the 99.5th percentile (200) becomes 230, so tissue of 100 becomes 115
    BrainCases.NiftiSlice slice = BrainCases.axialImage(NiftiVolume.read(tmp.resolve("t1.nii")), 4.0);
    assertEquals(200, slice.whiteLevel(), 1e-9);
    double cx = slice.centreXMm();
    double cy = slice.centreYMm();
    assertTrue(Math.abs(cx - 10) < 3 && Math.abs(cy + 20) < 3, "centre " + cx + ", " + cy);
    assertArrayEquals(img, slice.pixels());
    // a pixel in the ellipse well away from the block: world (cx, cy - 30) is row 10 below the middle
    assertEquals(115, img[(32 + 10) * 64 + 32]);
    // the block (world x 40..60, y 20..40: the subject's right, anterior) lies in the top-left quadrant in
    // radiological display: column of world x = 50 is (cx + 96 - 50) / 3, row of world y = 30 is (cy + 96 - 30) / 3
    int blockC = (int) ((cx + 96 - 50) / 3);
    int blockR = (int) ((cy + 96 - 30) / 3);
    assertTrue(blockC < 32 && blockR < 32);
    assertEquals(230, img[blockR * 64 + blockC]);
    assertEquals(115, img[blockR * 64 + (63 - blockC)], "the mirror position (the subject's left) is tissue");
    assertTrue(Arrays.stream(img).allMatch(v -> v >= 0 && v <= 255 && v == Math.rint(v)));
  }

  // ------------------------------------------------------------------------------------------ errors

  @Test
  void aMissingColumnListsTheColumnsFound() throws IOException {
    Path f = csv("id,age,sex,brain_vol,ventricle_volume,img", "s1,60,0,1200,30,a.png");
    BrainCases.InvalidCasesException e = invalid(f, null);
    assertMentions(e.getMessage(), f.toString(), "row 1", "no column 'brain_volume', 'image'",
        "the columns found are [id, age, sex, brain_vol, ventricle_volume, img]");
  }

  @Test
  void anEmptyFileAndAHeaderWithoutRowsAreErrors() throws IOException {
    Path f = csv(HEADER);
    assertMentions(invalid(f, null).getMessage(), f.toString(), "has a header but no rows");
    Files.writeString(f, "");
    assertMentions(invalid(f, null).getMessage(), f.toString(), "is empty");
    assertMentions(invalid(tmp.resolve("none.csv"), null).getMessage(), "none.csv", "does not exist");
  }

  @Test
  void emptyCellsNameRowAndColumn() throws IOException {
    png("a.png", 0);
    Path f = csv(HEADER, "s1,60,0,1200,30,a.png", "s2, ,0,1200,30,a.png", ",60,,1200,30,");
    BrainCases.InvalidCasesException e = invalid(f, null);
    assertEquals(4, e.total(), e.getMessage());
    assertMentions(e.getMessage(), f.toString(), "row 3, column 'age': empty", "row 4, column 'id': empty",
        "row 4, column 'sex': empty: give 0, F or female", "row 4, column 'image': empty");
  }

  @Test
  void nonNumericAndNonFiniteValuesAreErrors() throws IOException {
    png("a.png", 0);
    Path f = csv(HEADER, "s1,sixty,0,1200,30,a.png", "s2,60,0,NaN,30,a.png", "s3,60,0,1200,Infinity,a.png",
        "s4,\"60,5\",0,1200,30,a.png", "s5,60,X,1200,30,a.png", "s6,1e999,0,1200,30,a.png");
    BrainCases.InvalidCasesException e = invalid(f, null);
    assertEquals(6, e.total(), e.getMessage());
    assertMentions(e.getMessage(), "row 2, column 'age': 'sixty' is not a number: give the age in years",
        "row 3, column 'brain_volume': 'NaN' is not a finite number: give the volume in ml",
        "row 4, column 'ventricle_volume': 'Infinity' is not a finite number",
        "row 5, column 'age': '60,5' is not a number (write the decimal point as '.')",
        "row 6, column 'sex': 'X' is not a sex we read: give 0, F or female for female, 1, M or male for male",
        "row 7, column 'age': '1e999' is not a finite number");
  }

  @Test
  void aDuplicateIdNamesBothRows() throws IOException {
    png("a.png", 0);
    Path f = csv(HEADER, "s1,60,0,1200,30,a.png", "s2,60,0,1200,30,a.png", "s1,61,1,1250,35,a.png");
    assertMentions(invalid(f, null).getMessage(), f.toString(),
        "row 4, column 'id': 's1' is already the id of row 2: ids must be unique");
  }

  @Test
  void agesOutsideZeroTo120AreErrors() throws IOException {
    png("a.png", 0);
    Path f = csv(HEADER, "s1,-1,0,1200,30,a.png", "s2,121,0,1200,30,a.png", "s3,120,0,1200,30,a.png");
    BrainCases.InvalidCasesException e = invalid(f, null);
    assertEquals(2, e.total(), e.getMessage());
    assertMentions(e.getMessage(), "row 2, column 'age': -1 years is outside 0..120",
        "row 3, column 'age': 121 years is outside 0..120");
  }

  @Test
  void volumesMustBePositiveInMlAndVentriclesBelowBrain() throws IOException {
    png("a.png", 0);
    Path f = csv(HEADER, "s1,60,0,0,30,a.png", "s2,60,0,1200,-3,a.png", "s3,60,0,1234567,30,a.png",
        "s4,60,0,1200,1300,a.png", "s5,60,0,1200,1200,a.png", "s6,60,0,1200,25000.5,a.png");
    BrainCases.InvalidCasesException e = invalid(f, null);
    assertEquals(6, e.total(), e.getMessage());
    assertMentions(e.getMessage(), "row 2, column 'brain_volume': 0 ml is not positive: give the volume in ml",
        "row 3, column 'ventricle_volume': -3 ml is not positive",
        "row 4, column 'brain_volume': brain_volume 1234567 looks like mm3; give ml (1234.567)",
        "row 5, column 'ventricle_volume': 1300 ml is not below brain_volume 1200 ml",
        "row 6, column 'ventricle_volume': 1200 ml is not below brain_volume 1200 ml",
        "row 7, column 'ventricle_volume': ventricle_volume 25000.5 looks like mm3; give ml (25.0005)");
  }

  @Test
  void imageFileProblemsNameRowColumnAndFile() throws IOException {
    png("a.png", 0);
    png("big.png", 0, 128, 96);
    Files.createDirectories(tmp.resolve("folder.png"));
    Files.writeString(tmp.resolve("scan.jpg"), "not really");
    Files.write(tmp.resolve("broken.png"), Arrays.copyOf(Files.readAllBytes(tmp.resolve("a.png")), 40));
    Files.writeString(tmp.resolve("fake.png"), "GIF89a...");
    Path f = csv(HEADER, "s1,60,0,1200,30,missing.png", "s2,60,0,1200,30,folder.png",
        "s3,60,0,1200,30,big.png", "s4,60,0,1200,30,scan.jpg", "s5,60,0,1200,30,broken.png",
        "s6,60,0,1200,30,fake.png", "s7,60,0,1200,30,a.png");
    BrainCases.InvalidCasesException e = invalid(f, null);
    assertEquals(6, e.total(), e.getMessage());
    assertMentions(e.getMessage(), "row 2, column 'image': image file missing.png does not exist",
        "paths are relative to the CSV's folder", "row 3, column 'image': folder.png is a folder",
        "row 4, column 'image': ", "big.png is 128x96 pixels; images must be 64x64",
        "row 5, column 'image': scan.jpg is neither a PNG (.png) nor a NIfTI volume (.nii, .nii.gz)",
        "row 6, column 'image': ", "broken.png is not a readable", "row 7, column 'image': ",
        "fake.png is named .png but is not a PNG file");
    assertFalse(e.getMessage().contains("row 8"), e.getMessage());
  }

  @Test
  void niftiProblemsNameRowColumnFileAndTheZRange() throws IOException {
    volume("t1.nii.gz");
    byte[] whole = Files.readAllBytes(volume("t1.nii"));
    Files.write(tmp.resolve("cut.nii"), Arrays.copyOf(whole, 1000));
    Path f = csv(HEADER, "s1,60,0,1200,30,t1.nii.gz", "s2,60,0,1200,30,cut.nii");
    // no --slice-mm: one error naming the first NIfTI row and counting the others
    BrainCases.InvalidCasesException none = invalid(f, null);
    assertEquals(1, none.total(), none.getMessage());
    assertMentions(none.getMessage(), "row 2, column 'image': ", "t1.nii.gz is a NIfTI volume",
        "(and 1 more rows name NIfTI volumes)", "--slice-mm");
    // z outside the volume (-10 .. 28 mm), and the reader's own error wrapped
    BrainCases.InvalidCasesException outside = invalid(f, 40.0);
    assertEquals(2, outside.total(), outside.getMessage());
    assertMentions(outside.getMessage(), "row 2, column 'image': ", "t1.nii.gz: the slice z = 40 mm lies outside"
        + " the volume: its voxel centres span z = -10 .. 28 mm", "row 3, column 'image': ", "cut.nii: truncated");
  }

  @Test
  void aPlaneWithoutNonZeroVoxelsIsAnError() throws IOException {
    byte[] data = new byte[4 * 4 * 3];
    data[1 + 4 * (1 + 4 * 0)] = 50; // only the bottom slice holds anything
    double[][] affine = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    NiftiWriter.write(tmp.resolve("tiny.nii"), 4, 4, 3, new double[] {1, 1, 1}, affine, data);
    Path f = csv(HEADER, "s1,60,0,1200,30,tiny.nii");
    assertEquals(1, BrainCases.read(f, 0.0).size());
    assertMentions(invalid(f, 2.0).getMessage(), "row 2, column 'image': ",
        "the axial plane at z = 2 mm holds no non-zero voxel");
  }

  @Test
  void collectsAllErrorsListingTwentyThenCounting() throws IOException {
    png("a.png", 0);
    String[] lines = new String[31];
    lines[0] = HEADER;
    for (int k = 1; k <= 30; k++) {
      lines[k] = "s" + k + ",200,0,1200,30,a.png";
    }
    BrainCases.InvalidCasesException e = invalid(csv(lines), null);
    assertEquals(30, e.total());
    assertEquals(20, e.problems().size());
    assertMentions(e.getMessage(), "30 problems", "row 2, column 'age'", "row 21, column 'age'", "and 10 more");
    assertFalse(e.getMessage().contains("row 22,"), e.getMessage());
  }

  @Test
  void rowsAreCountedAsASpreadsheetShowsThemAndCellCountsChecked() throws IOException {
    png("a.png", 0);
    Path f = csv(HEADER + ",note", "s1,60,0,1200,30,a.png,\"two\nlines\"", "s2,60,0,-1,30,a.png,x",
        "s3,60,0,1200,30,a.png");
    BrainCases.InvalidCasesException e = invalid(f, null);
    assertEquals(2, e.total(), e.getMessage());
    assertMentions(e.getMessage(), "row 3 (line 4), column 'brain_volume': -1 ml is not positive",
        "row 4 (line 5): 6 cells but the header has 7 columns");
  }

  @Test
  void duplicateHeaderColumnsAndMalformedCsvAreErrors() throws IOException {
    Path f = csv(HEADER + ",Age", "s1,60,0,1200,30,a.png,61");
    assertMentions(invalid(f, null).getMessage(), "row 1: column 'age' appears twice (columns B and G)");
    Path g = csv(HEADER, "s1,60,0,1200,30,\"a.png");
    assertMentions(invalid(g, null).getMessage(), g.toString(), "never closed");
    Path latin = tmp.resolve("latin.csv");
    Files.write(latin, (HEADER + "\nJos\u00e9,60,0,1200,30,a.png\n").getBytes(StandardCharsets.ISO_8859_1));
    assertMentions(invalid(latin, null).getMessage(), "is not UTF-8 text");
  }

  @Test
  void refusesMoreThanTheRowLimit() throws IOException {
    StringBuilder b = new StringBuilder(HEADER).append('\n');
    for (int k = 0; k <= BrainCases.MAX_ROWS; k++) {
      b.append('s').append(k).append(",60,0,1200,30,a.png\n");
    }
    Path f = tmp.resolve("many.csv");
    Files.writeString(f, b);
    assertMentions(invalid(f, null).getMessage(), f.toString(), "has 200001 rows; at most 200000");
  }

  @Test
  void columnLettersAsInASpreadsheet() {
    assertEquals("A", BrainCases.letters(0));
    assertEquals("Z", BrainCases.letters(25));
    assertEquals("AA", BrainCases.letters(26));
    assertEquals("BA", BrainCases.letters(52));
  }
}
