package org.deepscm.data.brain;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deepscm.AppPaths;

/**
 * The axial slab of the Colin27 T1 template (resources/brain) that every synthetic subject is
 * made from: intensities and labels sampled in world millimetres (MNI, RAS: +x is the subject's
 * right, +y anterior, +z superior), and the shape of each lateral ventricle per plane.
 */
public final class BrainTemplate {
  private final int nx;
  private final int ny;
  private final int nz;
  private final double ox;
  private final double oy;
  private final double oz;
  private final float[] intensity;
  private final float[] brain;
  private final float[] ventricle;
  private final double brainMl;
  private final double ventricleMl;
  private final double centreX;
  private final double centreY;
  /** Per plane: the ventricles' expansion velocity (mm per unit time) along x and y, voxel by voxel. */
  private final float[][] flowX;
  private final float[][] flowY;
  private double maxSpeed;

  /** The template's facts file key of {@link #maxExpansionSpeed()}: with it, planes are computed when first used. */
  static final String MAX_SPEED_KEY = "max_expansion_speed_mm";

  /**
   * @param knownMaxSpeed the fastest expansion speed of any plane as the import computed it (the facts file), or
   *     NaN: then every plane's field is computed here to find it
   */
  private BrainTemplate(NiftiVolume t1, NiftiVolume labels, double brainMl, double ventricleMl, double knownMaxSpeed)
      throws IOException {
    for (NiftiVolume v : new NiftiVolume[] {t1, labels}) {
      double[][] a = v.affine();
      if (a[0][0] != 1 || a[1][1] != 1 || a[2][2] != 1 || a[0][1] != 0 || a[0][2] != 0 || a[1][0] != 0
          || a[1][2] != 0 || a[2][0] != 0 || a[2][1] != 0) {
        throw new IOException(v.file() + ": the template slab must have 1 mm axis-aligned RAS voxels");
      }
    }
    if (t1.nx() != labels.nx() || t1.ny() != labels.ny() || t1.nz() != labels.nz()
        || t1.affine()[2][3] != labels.affine()[2][3]) {
      throw new IOException(labels.file() + " does not match " + t1.file() + " voxel for voxel");
    }
    nx = t1.nx();
    ny = t1.ny();
    nz = t1.nz();
    ox = t1.affine()[0][3];
    oy = t1.affine()[1][3];
    oz = t1.affine()[2][3];
    intensity = t1.data();
    float[] lab = labels.data();
    brain = new float[lab.length];
    ventricle = new float[lab.length];
    double sx = 0;
    double sy = 0;
    double n = 0;
    for (int idx = 0; idx < lab.length; idx++) {
      int code = Math.round(lab[idx]);
      if (code == 1) {
        brain[idx] = 1;
      } else if (code == 2) {
        ventricle[idx] = 1;
      } else if (code != 0) {
        throw new IOException(labels.file() + ": label " + code + " is not 0, 1 (brain) or 2 (ventricle)");
      }
      if (code != 0) {
        int i = idx % nx;
        int j = (idx / nx) % ny;
        sx += i + ox;
        sy += j + oy;
        n++;
      }
    }
    centreX = sx / n;
    centreY = sy / n;
    this.brainMl = brainMl;
    this.ventricleMl = ventricleMl;
    flowX = new float[nz][];
    flowY = new float[nz][];
    if (Double.isNaN(knownMaxSpeed)) {
      for (int k = 0; k < nz; k++) {
        expansionField(k);
      }
    } else {
      // a slice needs two planes of the seventeen: the others are not computed before they are asked for (this
      // took a second of the explorer's start)
      maxSpeed = knownMaxSpeed;
    }
  }

  /** The slab shipped in resources/brain. */
  public static BrainTemplate shipped() throws IOException {
    return load(AppPaths.resolve(Path.of("resources", "brain")));
  }

  public static BrainTemplate load(Path dir) throws IOException {
    Path factsFile = dir.resolve(BrainTemplateImport.FACTS_FILE);
    if (!Files.isRegularFile(factsFile)) {
      throw new IOException("brain template not found: " + factsFile + " is missing (resources/brain/README.md says "
          + "how to import it)");
    }
    JsonObject facts;
    try {
      facts = JsonParser.parseString(Files.readString(factsFile, StandardCharsets.UTF_8)).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new IOException(factsFile + " is not the template's JSON facts file");
    }
    if (!facts.has("brain_ml") || !facts.has("ventricle_ml")) {
      throw new IOException(factsFile + " lacks brain_ml or ventricle_ml");
    }
    return new BrainTemplate(NiftiVolume.read(dir.resolve(BrainTemplateImport.INTENSITY_FILE)),
        NiftiVolume.read(dir.resolve(BrainTemplateImport.LABEL_FILE)),
        facts.get("brain_ml").getAsDouble(), facts.get("ventricle_ml").getAsDouble(),
        facts.has(MAX_SPEED_KEY) ? facts.get(MAX_SPEED_KEY).getAsDouble() : Double.NaN);
  }

  /** As {@link #load}, every plane's expansion field computed at once, whatever the facts file says. */
  static BrainTemplate loadComputingEveryPlane(Path dir) throws IOException {
    BrainTemplate stored = load(dir);
    return new BrainTemplate(NiftiVolume.read(dir.resolve(BrainTemplateImport.INTENSITY_FILE)),
        NiftiVolume.read(dir.resolve(BrainTemplateImport.LABEL_FILE)), stored.brainMl, stored.ventricleMl,
        Double.NaN);
  }

  /** Brain tissue (all but the lateral ventricles) of the whole template, ml. */
  public double brainMl() {
    return brainMl;
  }

  /** The lateral ventricles of the whole template, ml. */
  public double ventricleMl() {
    return ventricleMl;
  }

  public double centreX() {
    return centreX;
  }

  public double centreY() {
    return centreY;
  }

  public double zMinMm() {
    return oz;
  }

  public double zMaxMm() {
    return oz + nz - 1;
  }

  /** T1 intensity (template units, 0..133) by trilinear interpolation; 0 outside the slab. */
  public float intensity(double x, double y, double z) {
    return trilinear(intensity, x, y, z);
  }

  public float brainFraction(double x, double y, double z) {
    return trilinear(brain, x, y, z);
  }

  public float ventricleFraction(double x, double y, double z) {
    return trilinear(ventricle, x, y, z);
  }

  /**
   * The velocity field that grows the ventricles in plane z (interpolated between the slab's planes),
   * on the template's voxel grid of that plane: the field of a uniform source inside the ventricle
   * label V, u(p) = 1/(2 pi) sum over ventricle voxels q of (p - q) / |p - q|^2 (softened within
   * 0.5 mm). Its divergence is 1 inside the ventricles and 0 outside: the ventricles swell while the
   * tissue around is pushed aside without being compressed or stretched (incompressible), and between
   * two ventricles (the septum) the pushes from both sides cancel, so the septum stays.
   *
   * @return {ux, uy}, each nx * ny values, x fastest
   */
  public float[][] expansionField(double z) {
    double kz = Math.max(0, Math.min(nz - 1, z - oz));
    int k0 = (int) Math.floor(kz);
    int k1 = Math.min(nz - 1, k0 + 1);
    float f = (float) (kz - k0);
    ensurePlane(k0);
    ensurePlane(k1);
    float[] ux = new float[nx * ny];
    float[] uy = new float[nx * ny];
    for (int p = 0; p < ux.length; p++) {
      ux[p] = (1 - f) * flowX[k0][p] + f * flowX[k1][p];
      uy[p] = (1 - f) * flowY[k0][p] + f * flowY[k1][p];
    }
    return new float[][] {ux, uy};
  }

  /** The fastest speed of any plane's expansion field, mm per unit time: it sets the flow's step. */
  public double maxExpansionSpeed() {
    return maxSpeed;
  }

  /** The template's in-plane grid: voxels along x and y, and the world position of voxel (0, 0). */
  public int gridNx() {
    return nx;
  }

  public int gridNy() {
    return ny;
  }

  public double gridOriginX() {
    return ox;
  }

  public double gridOriginY() {
    return oy;
  }

  /** A plane's field, computed when first asked for (renderers on several threads may ask at once). */
  private synchronized void ensurePlane(int k) {
    if (flowX[k] == null) {
      double known = maxSpeed;
      expansionField(k);
      maxSpeed = known; // the facts file's value is the maximum over all planes already
    }
  }

  private void expansionField(int k) {
    int count = 0;
    for (int p = 0; p < nx * ny; p++) {
      if (ventricle[p + nx * ny * k] > 0) {
        count++;
      }
    }
    double[] qx = new double[count];
    double[] qy = new double[count];
    int n = 0;
    for (int p = 0; p < nx * ny; p++) {
      if (ventricle[p + nx * ny * k] > 0) {
        qx[n] = p % nx;
        qy[n] = p / nx;
        n++;
      }
    }
    float[] ux = new float[nx * ny];
    float[] uy = new float[nx * ny];
    double soft = 0.25;
    for (int j = 0; j < ny; j++) {
      for (int i = 0; i < nx; i++) {
        double sx = 0;
        double sy = 0;
        for (int q = 0; q < count; q++) {
          double dx = i - qx[q];
          double dy = j - qy[q];
          double inv = 1 / (dx * dx + dy * dy + soft);
          sx += dx * inv;
          sy += dy * inv;
        }
        ux[i + nx * j] = (float) (sx / (2 * Math.PI));
        uy[i + nx * j] = (float) (sy / (2 * Math.PI));
        maxSpeed = Math.max(maxSpeed, Math.hypot(ux[i + nx * j], uy[i + nx * j]));
      }
    }
    flowX[k] = ux;
    flowY[k] = uy;
  }

  private float trilinear(float[] v, double x, double y, double z) {
    double fi = x - ox;
    double fj = y - oy;
    double fk = z - oz;
    int i0 = (int) Math.floor(fi);
    int j0 = (int) Math.floor(fj);
    int k0 = (int) Math.floor(fk);
    if (i0 < 0 || j0 < 0 || k0 < 0 || i0 >= nx - 1 || j0 >= ny - 1 || k0 > nz - 1) {
      return 0;
    }
    int k1 = Math.min(k0 + 1, nz - 1);
    double di = fi - i0;
    double dj = fj - j0;
    double dk = fk - k0;
    int p00 = i0 + nx * (j0 + ny * k0);
    int p01 = i0 + nx * (j0 + ny * k1);
    double c00 = v[p00] * (1 - di) + v[p00 + 1] * di;
    double c10 = v[p00 + nx] * (1 - di) + v[p00 + nx + 1] * di;
    double c01 = v[p01] * (1 - di) + v[p01 + 1] * di;
    double c11 = v[p01 + nx] * (1 - di) + v[p01 + nx + 1] * di;
    double c0 = c00 * (1 - dj) + c10 * dj;
    double c1 = c01 * (1 - dj) + c11 * dj;
    return (float) (c0 * (1 - dk) + c1 * dk);
  }
}
