package org.deepscm.data.brain;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Imports the axial slab of the Colin27 template that the brain generator needs into
 * resources/brain: the T1 intensities, a label map (1 brain tissue, 2 lateral ventricles) and
 * template.json with the whole template's volumes. Run once by hand (resources/brain/README.md):
 *
 * <pre>java -cp target/classes:... org.deepscm.data.brain.BrainTemplateImport ch2bet.nii.gz resources/brain</pre>
 *
 * The ventricles are not labelled in any atlas that ships with the template, so they are grown from
 * seeds inside the lateral ventricles through 6-connected dark voxels (CSF is 25-35, grey matter
 * 80-95, white matter 105-120 in ch2bet), bounded by a box around them that keeps the region off the
 * sulci and cisterns.
 */
public final class BrainTemplateImport {
  /** The slab holds axial planes z = +10..+26 mm (MNI); subjects' slices lie in +12..+24 mm. */
  public static final int SLAB_Z_MIN_MM = 10;
  public static final int SLAB_Z_MAX_MM = 26;
  /** Voxels darker than this (and above 0) are CSF candidates. */
  static final int CSF_BELOW = 55;
  /** The box the ventricles are grown in, mm (MNI). */
  static final int BOX_X = 32;
  static final int BOX_Y_MIN = -50;
  static final int BOX_Y_MAX = 35;
  static final int BOX_Z_MIN = -2;
  static final int BOX_Z_MAX = 36;
  /** Seeds in the bodies of both lateral ventricles (x, y, z in mm). */
  static final int[][] SEEDS = {{-8, 0, 15}, {8, 0, 15}, {-8, 5, 18}, {8, 5, 18}};

  public static final String INTENSITY_FILE = "colin27-slab.nii.gz";
  public static final String LABEL_FILE = "colin27-slab-labels.nii.gz";
  public static final String FACTS_FILE = "template.json";

  private BrainTemplateImport() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: BrainTemplateImport <ch2bet.nii.gz> <output folder, e.g. resources/brain>");
      System.exit(2);
    }
    JsonObject facts = importTemplate(Path.of(args[0]), Path.of(args[1]));
    System.out.println(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(facts));
  }

  public static JsonObject importTemplate(Path ch2bet, Path outDir) throws IOException {
    NiftiVolume vol = NiftiVolume.read(ch2bet);
    double[][] a = vol.affine();
    double[] size = vol.voxelSizeMm();
    boolean axisAligned = a[0][1] == 0 && a[0][2] == 0 && a[1][0] == 0 && a[1][2] == 0 && a[2][0] == 0 && a[2][1] == 0;
    if (!axisAligned || a[0][0] != 1 || a[1][1] != 1 || a[2][2] != 1 || !vol.orientation().equals("RAS")) {
      throw new IOException(ch2bet + ": expected the Colin27 template ch2bet.nii.gz (1 mm voxels, RAS, axis-aligned "
          + "MNI affine), found orientation " + vol.orientation() + " and voxel size " + java.util.Arrays.toString(size));
    }
    int nx = vol.nx();
    int ny = vol.ny();
    int nz = vol.nz();
    double ox = a[0][3];
    double oy = a[1][3];
    double oz = a[2][3];
    boolean[] ventricle = growVentricles(vol, ox, oy, oz);
    long brainVoxels = 0;
    long ventricleVoxels = 0;
    for (int k = 0; k < nz; k++) {
      for (int j = 0; j < ny; j++) {
        for (int i = 0; i < nx; i++) {
          int idx = i + nx * (j + ny * k);
          if (ventricle[idx]) {
            ventricleVoxels++;
          } else if (vol.voxel(i, j, k) > 0) {
            brainVoxels++;
          }
        }
      }
    }
    int k0 = (int) Math.round(SLAB_Z_MIN_MM - oz);
    int k1 = (int) Math.round(SLAB_Z_MAX_MM - oz);
    if (k0 < 0 || k1 >= nz) {
      throw new IOException(ch2bet + ": the volume does not cover z = " + SLAB_Z_MIN_MM + ".." + SLAB_Z_MAX_MM + " mm");
    }
    int sz = k1 - k0 + 1;
    byte[] intensity = new byte[nx * ny * sz];
    byte[] labels = new byte[nx * ny * sz];
    for (int k = k0; k <= k1; k++) {
      for (int j = 0; j < ny; j++) {
        for (int i = 0; i < nx; i++) {
          int src = i + nx * (j + ny * k);
          int dst = i + nx * (j + ny * (k - k0));
          float value = vol.voxel(i, j, k);
          if (value < 0 || value > 255 || value != Math.rint(value)) {
            throw new IOException(ch2bet + ": voxel " + i + "," + j + "," + k + " = " + value
                + " does not fit the slab's 8-bit range");
          }
          intensity[dst] = (byte) (int) value;
          labels[dst] = (byte) (ventricle[src] ? 2 : value > 0 ? 1 : 0);
        }
      }
    }
    double[][] slabAffine = {
        {1, 0, 0, ox}, {0, 1, 0, oy}, {0, 0, 1, oz + k0}, {0, 0, 0, 1}};
    Files.createDirectories(outDir);
    NiftiWriter.write(outDir.resolve(INTENSITY_FILE), nx, ny, sz, new double[] {1, 1, 1}, slabAffine, intensity,
        NiftiWriter.SFORM_MNI);
    NiftiWriter.write(outDir.resolve(LABEL_FILE), nx, ny, sz, new double[] {1, 1, 1}, slabAffine, labels,
        NiftiWriter.SFORM_MNI);
    JsonObject facts = new JsonObject();
    facts.addProperty("source", "ch2bet.nii.gz (Debian package mricron-data, /usr/share/mricron/templates)");
    facts.addProperty("source_sha256", sha256(ch2bet));
    facts.addProperty("source_dims", nx + "x" + ny + "x" + nz);
    facts.addProperty("slab_z_mm", SLAB_Z_MIN_MM + ".." + SLAB_Z_MAX_MM);
    facts.addProperty("brain_ml", brainVoxels / 1000.0);
    facts.addProperty("ventricle_ml", ventricleVoxels / 1000.0);
    facts.addProperty("ventricle_rule", String.format(Locale.ROOT,
        "6-connected voxels 0 < value < %d grown from seeds at (x,y,z) = (+-8, 0, 15) and (+-8, 5, 18) mm inside "
            + "|x| <= %d, %d <= y <= %d, %d <= z <= %d mm",
        CSF_BELOW, BOX_X, BOX_Y_MIN, BOX_Y_MAX, BOX_Z_MIN, BOX_Z_MAX));
    Gson gson = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
    Files.writeString(outDir.resolve(FACTS_FILE), gson.toJson(facts) + "\n", StandardCharsets.UTF_8);
    // the expansion's fastest speed over all planes, so that a renderer need not compute every plane to know it
    facts.addProperty(BrainTemplate.MAX_SPEED_KEY, BrainTemplate.load(outDir).maxExpansionSpeed());
    Files.writeString(outDir.resolve(FACTS_FILE), gson.toJson(facts) + "\n", StandardCharsets.UTF_8);
    return facts;
  }

  private static boolean[] growVentricles(NiftiVolume vol, double ox, double oy, double oz) {
    int nx = vol.nx();
    int ny = vol.ny();
    int nz = vol.nz();
    boolean[] in = new boolean[nx * ny * nz];
    ArrayDeque<int[]> queue = new ArrayDeque<>();
    for (int[] s : SEEDS) {
      int i = (int) Math.round(s[0] - ox);
      int j = (int) Math.round(s[1] - oy);
      int k = (int) Math.round(s[2] - oz);
      if (candidate(vol, i, j, k, ox, oy, oz) && !in[i + nx * (j + ny * k)]) {
        in[i + nx * (j + ny * k)] = true;
        queue.add(new int[] {i, j, k});
      }
    }
    if (queue.isEmpty()) {
      throw new IllegalStateException(vol.file() + ": no seed voxel lies in dark CSF; is this ch2bet.nii.gz?");
    }
    int[][] steps = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
    while (!queue.isEmpty()) {
      int[] p = queue.poll();
      for (int[] d : steps) {
        int i = p[0] + d[0];
        int j = p[1] + d[1];
        int k = p[2] + d[2];
        if (candidate(vol, i, j, k, ox, oy, oz) && !in[i + nx * (j + ny * k)]) {
          in[i + nx * (j + ny * k)] = true;
          queue.add(new int[] {i, j, k});
        }
      }
    }
    return in;
  }

  private static boolean candidate(NiftiVolume vol, int i, int j, int k, double ox, double oy, double oz) {
    if (i < 0 || j < 0 || k < 0 || i >= vol.nx() || j >= vol.ny() || k >= vol.nz()) {
      return false;
    }
    double x = i + ox;
    double y = j + oy;
    double z = k + oz;
    if (Math.abs(x) > BOX_X || y < BOX_Y_MIN || y > BOX_Y_MAX || z < BOX_Z_MIN || z > BOX_Z_MAX) {
      return false;
    }
    float v = vol.voxel(i, j, k);
    return v > 0 && v < CSF_BELOW;
  }

  private static String sha256(Path file) throws IOException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
