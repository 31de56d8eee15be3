package org.deepscm.data.brain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NiftiReaderTest {
  /** The full Colin27 template where the Debian package was unpacked by hand; absent in CI. */
  static final Path CH2BET = Path.of("/work/brainsrc/x/usr/share/mricron/templates/ch2bet.nii.gz");
  /** The axial slab of ch2bet shipped in the repository. */
  static final Path SLAB = Path.of("resources", "brain", "colin27-slab.nii.gz");

  /** Voxels of ch2bet.nii.gz (i, j, k, value) as nibabel 5.0 reads them. */
  static final int[][] CH2BET_VOXELS = {{90, 126, 71, 39}, {90, 108, 89, 32}, {100, 120, 90, 31}, {60, 150, 81, 69},
      {90, 125, 71, 32}};

  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
  private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

  @TempDir
  Path tmp;

  private Path write(String name, byte[] bytes) throws IOException {
    Path p = tmp.resolve(name);
    Files.write(p, bytes);
    return p;
  }

  /** Reads a file that must be refused; returns the message after checking it names the file. */
  private String refused(String name, byte[] bytes) throws IOException {
    Path p = write(name, bytes);
    NiftiFormatException e = assertThrows(NiftiFormatException.class, () -> NiftiVolume.read(p));
    assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
    assertEquals(p, e.file());
    return e.getMessage();
  }

  private static double[] ramp(int n, double scale, double offset) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = offset + scale * ((i * 37) % 101);
    }
    return v;
  }

  private static void assertAffine(double[][] expected, double[][] actual, double tol) {
    for (int r = 0; r < 4; r++) {
      for (int c = 0; c < 4; c++) {
        assertEquals(expected[r][c], actual[r][c], tol, "affine[" + r + "][" + c + "]");
      }
    }
  }

  // --- the real template ---------------------------------------------------------------------------------------

  @Test
  void readsTheColin27Template() throws IOException {
    assumeTrue(Files.exists(CH2BET), "the unpacked mricron-data template is not on this machine");
    NiftiVolume v = NiftiVolume.read(CH2BET);
    assertEquals(181, v.nx());
    assertEquals(217, v.ny());
    assertEquals(181, v.nz());
    assertEquals("uint8", v.datatypeName());
    assertArrayEquals(new double[] {1, 1, 1}, v.voxelSizeMm());
    assertEquals("sform", v.affineSource());
    assertEquals("RAS", v.orientation());
    assertAffine(new double[][] {{1, 0, 0, -90}, {0, 1, 0, -125}, {0, 0, 1, -71}, {0, 0, 0, 1}}, v.affine(), 0);
    for (int[] f : CH2BET_VOXELS) {
      assertEquals(f[3], v.voxel(f[0], f[1], f[2]), "voxel " + f[0] + "," + f[1] + "," + f[2]);
    }
    float[] data = v.data();
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    long nonzero = 0;
    long sum = 0;
    for (float x : data) {
      min = Math.min(min, x);
      max = Math.max(max, x);
      nonzero += x != 0 ? 1 : 0;
      sum += (long) x;
    }
    assertEquals(0, min);
    assertEquals(133, max);
    assertEquals(1_737_193, nonzero);
    assertEquals(158_526_435L, sum);
    assertArrayEquals(new double[] {90, 125, 71}, v.worldToVoxel(0, 0, 0), 1e-12);

    // On the voxel grid the slice is the voxels themselves: z = 18 mm is k = 89, column c is i, row r is j = 216 - r.
    float[][] slice = v.axialSlice(18, -90, 91, 1, 217, 181);
    for (int r = 0; r < 217; r++) {
      for (int c = 0; c < 181; c++) {
        assertEquals(v.voxel(c, 216 - r, 89), slice[r][c], "row " + r + " column " + c);
      }
    }
    // Half-way between two planes, between two columns: the mean of the four voxels.
    float[][] between = v.axialSlice(18.5, 10.5, 5, 1, 1, 1);
    double mean = (v.voxel(100, 130, 89) + v.voxel(101, 130, 89) + v.voxel(100, 130, 90) + v.voxel(101, 130, 90)) / 4.0;
    assertEquals(mean, between[0][0], 1e-4);
  }

  /**
   * The slab in resources/brain: an axial slab of ch2bet on the same 1 mm MNI grid. Its voxels must be the
   * template's at the same world position: checked against nibabel's values and, where the template is here,
   * plane by plane.
   */
  @Test
  void readsTheShippedColin27Slab() throws IOException {
    assumeTrue(Files.exists(SLAB), "resources/brain/colin27-slab.nii.gz is not in the repository yet");
    NiftiVolume slab = NiftiVolume.read(SLAB);
    assertEquals(181, slab.nx());
    assertEquals(217, slab.ny());
    assertTrue(slab.nz() >= 1 && slab.nz() <= 181, "nz = " + slab.nz());
    assertEquals("uint8", slab.datatypeName());
    assertEquals("sform", slab.affineSource());
    assertEquals("RAS", slab.orientation());
    assertArrayEquals(new double[] {1, 1, 1}, slab.voxelSizeMm());
    double[][] a = slab.affine();
    double zOffset = a[2][3];
    assertAffine(new double[][] {{1, 0, 0, -90}, {0, 1, 0, -125}, {0, 0, 1, zOffset}, {0, 0, 0, 1}}, a, 0);
    int k0 = (int) (zOffset + 71);
    assertEquals(k0, zOffset + 71, 0, "the slab's planes must be template planes");

    int checked = 0;
    for (int[] f : CH2BET_VOXELS) {
      int k = f[2] - k0;
      if (k >= 0 && k < slab.nz()) {
        assertEquals(f[3], slab.voxel(f[0], f[1], k), "template voxel " + f[0] + "," + f[1] + "," + f[2]);
        checked++;
      }
    }
    assertTrue(checked > 0, "no known template voxel lies in the slab (planes " + k0 + ".." + (k0 + slab.nz() - 1)
        + "); the ventricles are at k = 81..96");
    for (float x : slab.data()) {
      assertTrue(x >= 0 && x <= 133, "value " + x + " outside the template's 0..133");
    }

    if (Files.exists(CH2BET)) {
      NiftiVolume full = NiftiVolume.read(CH2BET);
      for (int k = 0; k < slab.nz(); k++) {
        for (int j = 0; j < 217; j++) {
          for (int i = 0; i < 181; i++) {
            assertEquals(full.voxel(i, j, k + k0), slab.voxel(i, j, k));
          }
        }
      }
    }
  }

  // --- crafted files that must be read ---------------------------------------------------------------------------

  @Test
  void readsPlainAndGzippedFilesTellingGzipByItsMagicNotItsName() throws IOException {
    double[] values = ramp(4 * 5 * 6, 2, 0);
    NiftiFiles f = NiftiFiles.of(4, 5, 6, 2, LE, values);
    Path[] files = {write("plain.nii", f.bytes()), write("gz.nii.gz", f.gzipped()),
        write("gzipped-but-named.nii", f.gzipped()), write("plain-but-named.nii.gz", f.bytes())};
    for (Path p : files) {
      NiftiVolume v = NiftiVolume.read(p);
      assertEquals(4, v.nx());
      assertEquals(5, v.ny());
      assertEquals(6, v.nz());
      assertEquals("uint8", v.datatypeName());
      assertEquals(p, v.file());
      float[] data = v.data();
      for (int idx = 0; idx < values.length; idx++) {
        assertEquals(values[idx], data[idx], p.toString());
      }
      assertEquals(values[3 + 4 * (2 + 5 * 5)], v.voxel(3, 2, 5));
    }
  }

  @Test
  void readsEveryDatatypeInBothByteOrders() throws IOException {
    Object[][] cases = {
        {2, "uint8", new double[] {0, 1, 127, 128, 200, 255}},
        {256, "int8", new double[] {-128, -1, 0, 1, 100, 127}},
        {4, "int16", new double[] {-32768, -300, 0, 7, 1000, 32767}},
        {512, "uint16", new double[] {0, 1, 300, 32768, 40000, 65535}},
        {8, "int32", new double[] {-2_000_000, -1, 0, 1, 16_777_216, 3}},
        {768, "uint32", new double[] {0, 1, 70_000, 3_000_000_000.0, 5, 6}},
        {16, "float32", new double[] {-1.5, 0, 0.25, 3.75, 1e6, -2e-3}},
        {64, "float64", new double[] {-1.5, 0, 0.1, 123456.5, -7, 1e30}},
    };
    for (Object[] c : cases) {
      int type = (int) c[0];
      double[] values = (double[]) c[2];
      for (ByteOrder order : new ByteOrder[] {LE, BE}) {
        Path p = write(c[1] + "-" + order + ".nii", NiftiFiles.of(3, 2, 1, type, order, values).bytes());
        NiftiVolume v = NiftiVolume.read(p);
        assertEquals(c[1], v.datatypeName());
        float[] data = v.data();
        for (int i = 0; i < values.length; i++) {
          assertEquals((float) values[i], data[i], c[1] + " " + order + " element " + i);
        }
      }
    }
  }

  @Test
  void scalesBySclSlopeAndInterAsTheStandardSays() throws IOException {
    double[] raw = {-5, 0, 3, 1000, -32768, 32767};
    NiftiFiles f = NiftiFiles.of(6, 1, 1, 4, BE, raw);
    f.sclSlope = 2;
    f.sclInter = 10;
    float[] data = NiftiVolume.read(write("scaled.nii", f.bytes())).data();
    for (int i = 0; i < raw.length; i++) {
      assertEquals(2 * raw[i] + 10, data[i], "scaled element " + i);
    }
    // A slope of 0 or NaN means no scaling, and the intercept is ignored with it.
    for (float slope : new float[] {0, Float.NaN}) {
      f.sclSlope = slope;
      f.sclInter = 10;
      data = NiftiVolume.read(write("unscaled-" + slope + ".nii", f.bytes())).data();
      for (int i = 0; i < raw.length; i++) {
        assertEquals(raw[i], data[i], "slope " + slope + " element " + i);
      }
    }
    // A valid slope with a NaN intercept: the intercept counts as 0 (nibabel does the same).
    f.sclSlope = 0.5f;
    f.sclInter = Float.NaN;
    data = NiftiVolume.read(write("nan-inter.nii", f.bytes())).data();
    assertEquals(1.5f, data[2]);
  }

  /** Quaternion fields and expected affines made by nibabel 5.0 (set_qform, then header.get_qform()). */
  @Test
  void qformOnlyFilesGiveTheAffineNibabelGives() throws IOException {
    Object[][] cases = {
        // quatern_b, c, d, qoffset x, y, z; pixdim[0..3]; nibabel's affine; nibabel's aff2axcodes
        {new float[] {0, 1, 0, 100, -120, -60}, new float[] {-1, 2, 3, 4},
            new double[][] {{-2, 0, 0, 100}, {0, 3, 0, -120}, {0, 0, 4, -60}, {0, 0, 0, 1}}, "LAS"},
        {new float[] {0.0858316496014595f, 0.015134436078369617f, 0.17298738658428192f, -80.5f, -110.25f, -50},
            new float[] {1, 1.5f, 2, 2.5f},
            new double[][] {{1.4095389388, -0.6736481499, 0.148477933, -80.5},
                {0.5130301941, 1.850833168, -0.4079397712, -110.25},
                {-0.0000000033, 0.3472963493, 2.4620193839, -50}, {0, 0, 0, 1}}, "RAS"},
        {new float[] {-0.17247776687145233f, -0.24632376432418823f, 0.5470295548439026f, 10, 20, 30},
            new float[] {-1, 1, 1.2000000476837158f, 0.800000011920929f},
            new double[][] {{0.2801665385, -0.9237013796, 0.4588611538, 10},
                {0.9396926103, 0.4104242229, -0.0000000218, 20},
                {0.1961746896, -0.6467826783, -0.6553216467, 30}, {0, 0, 0, 1}}, "ALI"},
    };
    int n = 0;
    for (Object[] c : cases) {
      NiftiFiles f = NiftiFiles.of(4, 5, 6, 2, LE, new double[120]);
      f.quatern = (float[]) c[0];
      float[] pix = (float[]) c[1];
      System.arraycopy(pix, 0, f.pixdim, 0, 4);
      f.qformCode = 1;
      f.sformCode = 0;
      NiftiVolume v = NiftiVolume.read(write("qform-" + n++ + ".nii", f.bytes()));
      assertEquals("qform", v.affineSource());
      assertAffine((double[][]) c[2], v.affine(), 2e-7);
      assertEquals(c[3], v.orientation());
      assertArrayEquals(new double[] {pix[1], pix[2], pix[3]}, v.voxelSizeMm());
    }
  }

  @Test
  void sformWinsOverQformAndPixdimIsTheLastResort() throws IOException {
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 2, LE, new double[8]);
    f.qformCode = 1;
    f.quatern = new float[] {0, 1, 0, 100, -120, -60};
    f.pixdim = new float[] {-1, 2, 3, 4, 0, 0, 0, 0};
    f.sform(2, new double[][] {{0, 0, -4, 5}, {2, 0, 0, 6}, {0, 3, 0, 7}});
    NiftiVolume v = NiftiVolume.read(write("both.nii", f.bytes()));
    assertEquals("sform", v.affineSource());
    assertAffine(new double[][] {{0, 0, -4, 5}, {2, 0, 0, 6}, {0, 3, 0, 7}, {0, 0, 0, 1}}, v.affine(), 0);
    assertEquals("ASL", v.orientation());

    f.sformCode = 0;
    f.qformCode = 0;
    v = NiftiVolume.read(write("neither.nii", f.bytes()));
    assertEquals("pixdim", v.affineSource());
    assertAffine(new double[][] {{2, 0, 0, 0}, {0, 3, 0, 0}, {0, 0, 4, 0}, {0, 0, 0, 1}}, v.affine(), 0);
    assertEquals("RAS", v.orientation());

    // As in nifti1_io, a zero pixdim counts as 1 mm rather than making the affine singular.
    f.pixdim = new float[] {1, 2, 3, 0, 0, 0, 0, 0};
    v = NiftiVolume.read(write("zero-pixdim.nii", f.bytes()));
    assertEquals(1, v.affine()[2][2]);
  }

  /** Expected codes from nibabel 5.0's aff2axcodes on the same 3x3 matrices. */
  @Test
  void orientationMatchesNibabelAff2axcodes() {
    Object[][] cases = {
        {new double[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, "RAS"},
        {new double[][] {{-1, 0, 0}, {0, -1, 0}, {0, 0, -1}}, "LPI"},
        {new double[][] {{0, 0, -2}, {1, 0, 0}, {0, -1.5, 0}}, "AIL"},
        {new double[][] {{0.766044443119, -0.642787609687, 0}, {0.642787609687, 0.766044443119, 0}, {0, 0, 1}}, "RAS"},
        {new double[][] {{1.92836282906, -0.383022221559, 0}, {2.298133329357, 0.321393804843, 0}, {0, 0, 1}}, "ALS"},
        {new double[][] {{1, 0.9, 0}, {0, 1, 0}, {0, 0, 1}}, "RAS"},
        {new double[][] {{1, 0, 0}, {0.95, 1, 0}, {0, 0.3, -1}}, "RAI"},
        {new double[][] {{0.5, 0, -0.866025403784}, {-0.433012701892, -1.732050807569, -0.25},
            {0.75, -1, 0.433012701892}}, "SPL"},
    };
    for (Object[] c : cases) {
      double[][] m = (double[][]) c[0];
      double[][] affine = new double[4][4];
      for (int r = 0; r < 3; r++) {
        System.arraycopy(m[r], 0, affine[r], 0, 3);
        affine[r][3] = 10 * r - 7;
      }
      affine[3][3] = 1;
      assertEquals(c[1], NiftiVolume.axisCodes(affine), Arrays.deepToString(m));
    }
  }

  @Test
  void voxOffsetBelow352InASingleFileCountsAs352AndExtensionsAreSkipped() throws IOException {
    double[] values = ramp(8, 1, 3);
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 2, LE, values);
    f.voxOffset = 0;
    assertEquals(3, NiftiVolume.read(write("offset0.nii", f.bytes())).voxel(0, 0, 0));

    // An extension of 28 bytes after the 4-byte flag: data at 352 + 28 = 380.
    f.voxOffset = 380;
    f.extension = new byte[32];
    f.extension[0] = 1;
    f.extension[4] = 28;
    float[] data = NiftiVolume.read(write("extension.nii", f.bytes())).data();
    for (int i = 0; i < values.length; i++) {
      assertEquals(values[i], data[i]);
    }
  }

  @Test
  void lowerDimensionalAndSingleVolume4dFilesAreRead() throws IOException {
    NiftiFiles f = NiftiFiles.of(3, 2, 2, 16, LE, ramp(12, 0.5, -1));
    f.dim = new short[] {4, 3, 2, 2, 1, 0, 0, 0};
    NiftiVolume v = NiftiVolume.read(write("one-volume.nii", f.bytes()));
    assertEquals(2, v.nz());
    assertEquals(-1 + 0.5 * ((11 * 37) % 101), v.voxel(2, 1, 1));

    f.dim = new short[] {2, 3, 4, 0, 0, 0, 0, 0}; // a 2-D image: nz = 1, dims past dim[0] are ignored
    v = NiftiVolume.read(write("two-d.nii", f.bytes()));
    assertEquals(3, v.nx());
    assertEquals(4, v.ny());
    assertEquals(1, v.nz());
  }

  @Test
  void worldToVoxelInvertsTheAffine() throws IOException {
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 2, LE, new double[8]);
    double[][] affine = {{-2, 0.5, 0, 30}, {0.1, 3, 0, -40}, {0, 0.2, 4, 5}};
    f.sform(1, affine);
    NiftiVolume v = NiftiVolume.read(write("oblique.nii", f.bytes()));
    double[][] a = v.affine();
    double[] ijk = {1.25, -3, 7.5};
    double[] world = new double[3];
    for (int r = 0; r < 3; r++) {
      world[r] = a[r][0] * ijk[0] + a[r][1] * ijk[1] + a[r][2] * ijk[2] + a[r][3];
    }
    assertArrayEquals(ijk, v.worldToVoxel(world[0], world[1], world[2]), 1e-9);
  }

  /**
   * A volume whose values are linear in (i, j, k) is reproduced exactly by trilinear sampling, so every slice
   * value is known; the affine flips x (LAS) and has 2 mm voxels in y, so the world grid is not the voxel grid.
   */
  @Test
  void axialSliceSamplesTheWorldGridTrilinearly() throws IOException {
    int nx = 6;
    int ny = 5;
    int nz = 4;
    double[] values = new double[nx * ny * nz];
    for (int k = 0; k < nz; k++) {
      for (int j = 0; j < ny; j++) {
        for (int i = 0; i < nx; i++) {
          values[i + nx * (j + ny * k)] = 1 + 2 * i + 3 * j + 5 * k;
        }
      }
    }
    NiftiFiles f = NiftiFiles.of(nx, ny, nz, 16, LE, values);
    // x = 10 - i, y = 2j - 4, z = k + 1
    f.sform(1, new double[][] {{-1, 0, 0, 10}, {0, 2, 0, -4}, {0, 0, 1, 1}});
    NiftiVolume v = NiftiVolume.read(write("linear.nii", f.bytes()));
    assertEquals("LAS", v.orientation());
    double step = 0.5;
    double xMin = 4;
    double yMax = 5;
    double z = 2.25;
    float[][] s = v.axialSlice(z, xMin, yMax, step, 14, 16);
    assertEquals(14, s.length);
    assertEquals(16, s[0].length);
    for (int r = 0; r < 14; r++) {
      for (int c = 0; c < 16; c++) {
        double x = xMin + c * step;
        double y = yMax - r * step;
        double i = 10 - x;
        double j = (y + 4) / 2;
        double k = z - 1;
        boolean inside = i >= 0 && i <= nx - 1 && j >= 0 && j <= ny - 1;
        double expected = inside ? 1 + 2 * i + 3 * j + 5 * k : 0;
        assertEquals(expected, s[r][c], 1e-5, "row " + r + " (y " + y + "), column " + c + " (x " + x + ")");
      }
    }
    // Row 0 is the most anterior (largest y): values fall down the rows; column 0 is the smallest x, the largest i.
    assertTrue(s[3][5] > s[4][5]);
    assertTrue(s[5][4] > s[5][5]);
    assertEquals(0, s[5][0]); // x = 4 is i = 6, past the last voxel
    // Above the top plane and below the bottom one: nothing.
    assertEquals(0, v.axialSlice(1 + nz - 1 + 0.01, xMin, yMax, step, 3, 3)[1][1]);
    assertEquals(0, v.axialSlice(0.99, xMin, yMax, step, 3, 3)[1][1]);
    // Exactly on the top plane: still inside.
    assertEquals(1 + 2 * 4 + 3 * 2 + 5 * 3, v.axialSlice(4, 6, 0, 1, 1, 1)[0][0], 1e-5);
    assertThrows(IllegalArgumentException.class, () -> v.axialSlice(0, 0, 0, 0, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> v.axialSlice(0, 0, 0, 1, 0, 1));
  }

  @Test
  void aSingleSliceVolumeCanBeSampledInItsPlane() throws IOException {
    NiftiFiles f = NiftiFiles.of(3, 3, 1, 2, LE, 0, 1, 2, 3, 4, 5, 6, 7, 8);
    NiftiVolume v = NiftiVolume.read(write("single-slice.nii", f.bytes()));
    assertEquals(4 + 0.5 * 1 + 0.5 * 3, v.axialSlice(0, 1.5, 1.5, 1, 1, 1)[0][0], 1e-6);
    assertEquals(0, v.axialSlice(0.5, 1, 1, 1, 1, 1)[0][0]);
  }

  @Test
  void dataIsACopyAndVoxelChecksItsBounds() throws IOException {
    NiftiVolume v = NiftiVolume.read(write("copy.nii", NiftiFiles.of(2, 2, 2, 2, LE, ramp(8, 1, 1)).bytes()));
    float before = v.voxel(0, 0, 0);
    v.data()[0] = -99;
    v.affine()[0][3] = 1234;
    v.voxelSizeMm()[0] = 9;
    assertEquals(before, v.voxel(0, 0, 0));
    assertEquals(0, v.affine()[0][3]);
    assertEquals(1, v.voxelSizeMm()[0]);
    IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> v.voxel(2, 0, 0));
    assertTrue(e.getMessage().contains("2,0,0") && e.getMessage().contains("2x2x2"), e.getMessage());
    assertThrows(IndexOutOfBoundsException.class, () -> v.voxel(0, -1, 0));
  }

  // --- bad files ---------------------------------------------------------------------------------------------------

  @Test
  void truncatedHeaderIsReported() throws IOException {
    byte[] full = NiftiFiles.of(2, 2, 2, 2, LE, new double[8]).bytes();
    String m = refused("short-header.nii", Arrays.copyOf(full, 100));
    assertTrue(m.contains("truncated header: the file holds 100 bytes, a NIfTI-1 header needs 348"), m);
    m = refused("two-bytes.nii", Arrays.copyOf(full, 2));
    assertTrue(m.contains("truncated header"), m);
    m = refused("empty.nii", new byte[0]);
    assertTrue(m.contains("truncated header: the file holds 0 bytes"), m);
    m = refused("short-header.nii.gz", NiftiFiles.gzip(Arrays.copyOf(full, 200)));
    assertTrue(m.contains("truncated header: the file holds 200 bytes"), m);
  }

  @Test
  void truncatedDataIsReported() throws IOException {
    byte[] full = NiftiFiles.of(4, 5, 6, 4, LE, new double[120]).bytes();
    String m = refused("short-data.nii", Arrays.copyOf(full, full.length - 10));
    assertTrue(m.contains("truncated: holds 230 bytes of voxel data, the header's dims 4x5x6 of int16 need 240"), m);
    m = refused("short-data.nii.gz", NiftiFiles.gzip(Arrays.copyOf(full, full.length - 10)));
    assertTrue(m.contains("holds 230 bytes of voxel data"), m);
    m = refused("no-data.nii", Arrays.copyOf(full, 350));
    assertTrue(m.contains("truncated") && m.contains("vox_offset 352"), m);
  }

  @Test
  void dimsThatDisagreeWithTheFileSizeAreReported() throws IOException {
    byte[] full = NiftiFiles.of(4, 5, 6, 2, LE, new double[120]).bytes();
    String m = refused("long.nii", Arrays.copyOf(full, full.length + 7));
    assertTrue(m.contains("holds 127 bytes of voxel data, the header's dims 4x5x6 of uint8 need 120 (7 bytes too many)"),
        m);
  }

  @Test
  void wrongMagicAndSizeofHdrAreReported() throws IOException {
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 2, LE, new double[8]);
    f.magic = new byte[] {'n', '+', '2', 0};
    String m = refused("magic.nii", f.bytes());
    assertTrue(m.contains("not a NIfTI-1 file: magic \"n+2\\0\""), m);
    f.magic = new byte[] {0, 0, 0, 0}; // an Analyze 7.5 header
    m = refused("analyze.nii", f.bytes());
    assertTrue(m.contains("not a NIfTI-1 file: magic \"\\0\\0\\0\\0\""), m);
    f.magic = new byte[] {'n', 'i', '1', 0};
    m = refused("pair.hdr", f.bytes());
    assertTrue(m.contains("header/image pair") && m.contains("ni1"), m);

    f.magic = new byte[] {'n', '+', '1', 0};
    f.sizeofHdr = 349;
    m = refused("sizeof.nii", f.bytes());
    assertTrue(m.contains("not a NIfTI-1 file: sizeof_hdr is 349 (byte-swapped 1560346624), expected 348"), m);
    f.sizeofHdr = 540;
    m = refused("nifti2.nii", f.bytes());
    assertTrue(m.contains("NIfTI-2"), m);
    m = refused("text.nii", "this is not an image at all, just words".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    assertTrue(m.contains("not a NIfTI-1 file: sizeof_hdr"), m);
  }

  @Test
  void badDimsAreReported() throws IOException {
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 2, LE, new double[8]);
    f.dim = new short[] {0, 2, 2, 2, 1, 1, 1, 1};
    assertTrue(refused("dim0.nii", f.bytes()).contains("dim[0] = 0: the number of dimensions must be 1..7"));
    f.dim = new short[] {8, 2, 2, 2, 1, 1, 1, 1};
    assertTrue(refused("dim8.nii", f.bytes()).contains("dim[0] = 8"));
    f.dim = new short[] {3, 2, 0, 2, 1, 1, 1, 1};
    assertTrue(refused("dim2.nii", f.bytes()).contains("dim[2] = 0: every size must be at least 1"));
    f.dim = new short[] {3, -2, 2, 2, 1, 1, 1, 1};
    assertTrue(refused("negative.nii", f.bytes()).contains("dim[1] = -2"));
  }

  @Test
  void aSeriesOfVolumesIsRefused() throws IOException {
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 2, LE, new double[40]);
    f.dim = new short[] {4, 2, 2, 2, 5, 1, 1, 1};
    String m = refused("series.nii", f.bytes());
    assertTrue(m.contains("a 4-D series of 5 volumes; give one 3-D volume"), m);
    f.dim = new short[] {5, 2, 2, 2, 1, 3, 1, 1};
    m = refused("five-d.nii", f.bytes());
    assertTrue(m.contains("a 5-D series of 3 volumes"), m);
  }

  @Test
  void hugeDimsAreRefusedBeforeAnythingIsAllocated() throws IOException {
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 64, LE, new double[8]);
    f.dim = new short[] {3, 32767, 32767, 2, 1, 1, 1, 1};
    String m = refused("huge.nii", f.bytes());
    assertTrue(m.contains("dims 32767x32767x2 hold 2147352578 voxels; volumes over 536870912 voxels"), m);
    // Within the limit but far more than the file holds: refused as truncated, without allocating the promise.
    f.dim = new short[] {3, 32767, 16384, 1, 1, 1, 1, 1};
    m = refused("promise.nii.gz", f.gzipped());
    assertTrue(m.contains("truncated: holds 64 bytes of voxel data"), m);
  }

  @Test
  void unsupportedDatatypesAreNamed() throws IOException {
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 2, LE, new double[8]);
    f.datatype = 128;
    String m = refused("rgb.nii", f.bytes());
    assertTrue(m.contains("datatype 128 (RGB24) is not supported; supported: uint8 (2), int16 (4), int32 (8), "
        + "float32 (16), float64 (64), int8 (256), uint16 (512), uint32 (768)"), m);
    f.datatype = 1024;
    assertTrue(refused("int64.nii", f.bytes()).contains("datatype 1024 (int64) is not supported"));
    f.datatype = 999;
    assertTrue(refused("odd.nii", f.bytes()).contains("datatype 999 (not a NIfTI-1 datatype code)"));
  }

  @Test
  void nanAndInfiniteVoxelsAreRefused() throws IOException {
    double[] values = new double[4 * 5 * 6];
    int first = 1 + 4 * (2 + 5 * 3); // i,j,k = 1,2,3
    for (int n = 0; n < 12; n++) {
      values[first + 4 * n] = Double.NaN;
    }
    String m = refused("nan.nii", NiftiFiles.of(4, 5, 6, 16, LE, values).bytes());
    assertTrue(m.contains("holds 12 NaN voxels (first at i,j,k = 1,2,3)"), m);

    values[0] = Double.NEGATIVE_INFINITY;
    m = refused("nan-inf.nii", NiftiFiles.of(4, 5, 6, 16, BE, values).bytes());
    assertTrue(m.contains("holds 12 NaN and 1 infinite voxels (first at i,j,k = 0,0,0)"), m);

    // A float64 beyond float32's range becomes infinite when it is held as float32.
    m = refused("overflow.nii", NiftiFiles.of(2, 1, 1, 64, LE, 1, 1e300).bytes());
    assertTrue(m.contains("holds 1 infinite voxels (first at i,j,k = 1,0,0)"), m);

    // Scaling can overflow too.
    NiftiFiles f = NiftiFiles.of(2, 1, 1, 4, LE, 1, 30000);
    f.sclSlope = 1e36f;
    m = refused("scaled-overflow.nii", f.bytes());
    assertTrue(m.contains("holds 1 infinite voxels (first at i,j,k = 1,0,0)"), m);
  }

  @Test
  void singularOrNonFiniteAffinesAreRefused() throws IOException {
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 2, LE, new double[8]);
    f.sform(1, new double[][] {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 0, 0}});
    String m = refused("flat.nii", f.bytes());
    assertTrue(m.contains("the sform affine is singular (determinant 0.00 of its 3x3 part)"), m);
    f.sform(1, new double[][] {{1, 2, 0, 0}, {2, 4, 0, 0}, {0, 0, 1, 0}});
    assertTrue(refused("dependent.nii", f.bytes()).contains("singular"));
    f.sform(1, new double[][] {{1, 0, 0, Double.NaN}, {0, 1, 0, 0}, {0, 0, 1, 0}});
    m = refused("nan-affine.nii", f.bytes());
    assertTrue(m.contains("the sform affine holds a non-finite value (NaN in row 0, column 3)"), m);
    // Tiny voxels are not singular: the test is relative to the voxel size.
    f.sform(1, new double[][] {{1e-4, 0, 0, 0}, {0, 1e-4, 0, 0}, {0, 0, 1e-4, 0}});
    assertEquals("sform", NiftiVolume.read(write("tiny-voxels.nii", f.bytes())).affineSource());
  }

  @Test
  void badVoxOffsetIsReported() throws IOException {
    NiftiFiles f = NiftiFiles.of(2, 2, 2, 2, LE, new double[8]);
    f.voxOffset = Float.NaN;
    assertTrue(refused("nan-offset.nii", f.bytes()).contains("vox_offset NaN is not a byte offset"));
    f.voxOffset = -16;
    assertTrue(refused("negative-offset.nii", f.bytes()).contains("vox_offset -16.0 is not a byte offset"));
    f.voxOffset = 1e9f;
    assertTrue(refused("far-offset.nii", f.bytes()).contains("before vox_offset 1000000000"));
  }

  @Test
  void corruptGzipStreamsAreReported() throws IOException {
    byte[] gz = NiftiFiles.of(20, 20, 20, 2, LE, ramp(8000, 1, 0)).gzipped();
    String m = refused("cut.nii.gz", Arrays.copyOf(gz, gz.length / 2));
    assertTrue(m.contains("corrupt or truncated gzip stream"), m);

    byte[] garbage = gz.clone();
    for (int i = 12; i < garbage.length - 8; i++) {
      garbage[i] ^= 0x5a;
    }
    m = refused("garbage.nii.gz", garbage);
    assertTrue(m.contains("gzip") || m.contains("not a NIfTI-1 file"), m);

    byte[] badCrc = gz.clone();
    badCrc[badCrc.length - 6] ^= 0x01;
    m = refused("crc.nii.gz", badCrc);
    assertTrue(m.contains("corrupt or truncated gzip stream"), m);

    m = refused("header-only.nii.gz", Arrays.copyOf(gz, 10));
    assertTrue(m.contains("corrupt or truncated gzip stream"), m);
  }

  @Test
  void aMissingFileIsNamed() {
    Path p = tmp.resolve("nowhere.nii.gz");
    IOException e = assertThrows(IOException.class, () -> NiftiVolume.read(p));
    assertEquals(p + ": no such file", e.getMessage());
    assertFalse(e instanceof NiftiFormatException);
  }
}
