package org.deepscm.data.brain;

import java.util.SplittableRandom;

/**
 * The true image mechanism of the synthetic brain population: x := f(brain volume, ventricle volume;
 * anatomy noise). It deforms the real Colin27 template and images one axial slice:
 *
 * <ol>
 *   <li>brain volume b scales the whole brain by s = (b / b_template)^(1/3) about its centre;</li>
 *   <li>ventricle volume v expands (or shrinks) each lateral ventricle about its own centre by
 *       k = ((v / v_template) / (b / b_template))^(1/3), fading smoothly into the surrounding tissue
 *       (a monotone radial map in the ventricle's own elliptical metric, so no tissue folds);</li>
 *   <li>the subject's own anatomy: a smooth random B-spline warp (about 2 mm);</li>
 *   <li>the slice at the subject's z, sampled at 1 mm and averaged to 3 mm pixels (64 x 64, a 192 mm
 *       field of view as in the paper);</li>
 *   <li>scanner gain, a smooth bias field and Rician acquisition noise; grey levels 0..255, rounded.</li>
 * </ol>
 *
 * Every step is a deterministic function of (b, v, anatomy), so the true counterfactual image of a
 * subject is the same call with its own anatomy and the counterfactual volumes. Images are stored in
 * radiological convention: row 0 anterior, column 0 the subject's right.
 */
public final class BrainSliceRenderer {
  public static final int SIDE = 64;
  public static final int PIXELS = SIDE * SIDE;
  public static final double PIXEL_MM = 3;
  public static final double FOV_MM = SIDE * PIXEL_MM;
  /** Template units (0..133 in ch2bet) to grey levels: white matter near 200. */
  public static final double GREY_PER_UNIT = 255.0 / 133 * 0.9;
  /** Rician noise sigma, grey levels. */
  public static final double NOISE_SIGMA = 3;
  /** Largest distance a point moves in one RK2 step of the ventricle flow, mm. */
  static final double MAX_STEP_MM = 0.75;
  private static final int SUB = 3;

  private final BrainTemplate template;

  public BrainSliceRenderer(BrainTemplate template) {
    this.template = template;
  }

  public BrainTemplate template() {
    return template;
  }

  /** One image with its label maps: fractions of each 3 mm pixel that are brain tissue or ventricle. */
  public record Slice(float[] image, float[] brain, float[] ventricle) {
    /** Brain tissue area (ventricles excluded), mm2. */
    public double brainAreaMm2() {
      return sum(brain) * PIXEL_MM * PIXEL_MM;
    }

    public double ventricleAreaMm2() {
      return sum(ventricle) * PIXEL_MM * PIXEL_MM;
    }

    private static double sum(float[] a) {
      double s = 0;
      for (float v : a) {
        s += v;
      }
      return s;
    }
  }

  /** The global scale of a brain of b ml. */
  public double brainScale(double brainMl) {
    return Math.cbrt(brainMl / template.brainMl());
  }

  /** The ventricles' own linear expansion on top of the global scale. */
  public double ventricleExpansion(double brainMl, double ventricleMl) {
    return Math.cbrt((ventricleMl / template.ventricleMl()) / (brainMl / template.brainMl()));
  }

  public Slice render(double brainMl, double ventricleMl, Anatomy anatomy) {
    return render(brainMl, ventricleMl, anatomy, true);
  }

  /**
   * @param labels whether to sample the label maps too (they cost a third of the time); without, the
   *     label arrays are null
   */
  public Slice render(double brainMl, double ventricleMl, Anatomy anatomy, boolean labels) {
    if (!(brainMl > 0) || !(ventricleMl > 0) || !Double.isFinite(brainMl) || !Double.isFinite(ventricleMl)) {
      throw new IllegalArgumentException("volumes must be positive and finite: brain " + brainMl + " ml, ventricles "
          + ventricleMl + " ml");
    }
    double s = brainScale(brainMl);
    double k = ventricleExpansion(brainMl, ventricleMl);
    double z = anatomy.sliceZMm();
    double cx = template.centreX();
    double cy = template.centreY();
    float[][] field = template.expansionField(z);
    double time = flowTime(k);
    int steps = (int) Math.max(1, Math.ceil(Math.abs(time) * template.maxExpansionSpeed() / MAX_STEP_MM));
    double[] sum = new double[PIXELS];
    float[] brain = labels ? new float[PIXELS] : null;
    float[] ventricle = labels ? new float[PIXELS] : null;
    double[] q = new double[2];
    double inv = 1.0 / (SUB * SUB);
    for (int r = 0; r < SIDE; r++) {
      for (int c = 0; c < SIDE; c++) {
        double acc = 0;
        double accB = 0;
        double accV = 0;
        for (int sy = 0; sy < SUB; sy++) {
          for (int sx = 0; sx < SUB; sx++) {
            // radiological: column 0 holds the subject's right (+x); row 0 anterior (+y)
            double u = (c * SUB + sx + 0.5) / (SIDE * SUB);
            double w = (r * SUB + sy + 0.5) / (SIDE * SUB);
            double x = cx + FOV_MM / 2 - u * FOV_MM;
            double y = cy + FOV_MM / 2 - w * FOV_MM;
            // backward map: undo the global scale, then each ventricle's expansion, then the warp
            q[0] = cx + (x - cx) / s;
            q[1] = cy + (y - cy) / s;
            flowBack(q, field, template, time, steps);
            double tx = (q[0] - (cx - FOV_MM / 2)) / FOV_MM;
            double ty = ((cy + FOV_MM / 2) - q[1]) / FOV_MM;
            double px = q[0] + bspline(anatomy.warpX(), Anatomy.WARP_GRID, tx, ty);
            double py = q[1] + bspline(anatomy.warpY(), Anatomy.WARP_GRID, tx, ty);
            acc += template.intensity(px, py, z);
            if (labels) {
              accB += template.brainFraction(px, py, z);
              accV += template.ventricleFraction(px, py, z);
            }
          }
        }
        int p = r * SIDE + c;
        sum[p] = acc * inv;
        if (labels) {
          brain[p] = (float) (accB * inv);
          ventricle[p] = (float) (accV * inv);
        }
      }
    }
    float[] image = new float[PIXELS];
    SplittableRandom noise = new SplittableRandom(anatomy.acquisitionSeed());
    double gain = Math.exp(anatomy.logGain());
    for (int r = 0; r < SIDE; r++) {
      for (int c = 0; c < SIDE; c++) {
        int p = r * SIDE + c;
        double bias = Math.exp(bspline(anatomy.logBias(), Anatomy.BIAS_GRID, (c + 0.5) / SIDE, (r + 0.5) / SIDE));
        double signal = sum[p] * GREY_PER_UNIT * gain * bias;
        // magnitude of a complex signal with Gaussian noise in both channels: Rician
        double re = signal + NOISE_SIGMA * Anatomy.gaussian(noise);
        double im = NOISE_SIGMA * Anatomy.gaussian(noise);
        image[p] = (float) Math.min(255, Math.rint(Math.hypot(re, im)));
      }
    }
    return new Slice(image, brain, ventricle);
  }

  /**
   * The flow time that scales the ventricles' area in the plane by about k^2: the source field adds
   * the template ventricles' own area per unit time while they grow (area(t) = area0 (1 + t)) and
   * removes the remaining area's own while they shrink (area(t) = area0 e^t), so t = k^2 - 1 for k >= 1
   * and 2 ln k below (the two agree to first order at k = 1).
   */
  static double flowTime(double k) {
    return k >= 1 ? k * k - 1 : 2 * Math.log(k);
  }

  /**
   * A uniform cubic B-spline through a g x g control grid over the unit square (tx, ty in 0..1; row 0
   * of the grid at ty = 0): smooth to the second derivative.
   */
  static double bspline(double[] ctrl, int g, double tx, double ty) {
    double gx = Math.max(0, Math.min(1, tx)) * (g - 3) + 1;
    double gy = Math.max(0, Math.min(1, ty)) * (g - 3) + 1;
    int ix = Math.min(g - 3, (int) Math.floor(gx));
    int iy = Math.min(g - 3, (int) Math.floor(gy));
    double fx = gx - ix;
    double fy = gy - iy;
    double[] bx = basis(fx);
    double[] by = basis(fy);
    double v = 0;
    for (int a = 0; a < 4; a++) {
      int row = iy - 1 + a;
      for (int b = 0; b < 4; b++) {
        v += by[a] * bx[b] * ctrl[row * g + ix - 1 + b];
      }
    }
    return v;
  }

  private static double[] basis(double f) {
    double f2 = f * f;
    double f3 = f2 * f;
    return new double[] {(1 - f) * (1 - f) * (1 - f) / 6, (3 * f3 - 6 * f2 + 4) / 6, (-3 * f3 + 3 * f2 + 3 * f + 1) / 6,
        f3 / 6};
  }

  /**
   * Moves a point back along the ventricles' expansion flow for time t (RK2 midpoint steps): where
   * the point of the expanded plane came from. The flow is smooth and
   * stationary, so the map is a diffeomorphism: no tissue folds, whatever t.
   */
  static void flowBack(double[] p, float[][] field, BrainTemplate t, double time, int steps) {
    if (time == 0) {
      return;
    }
    double h = -time / steps;
    double[] u = new double[2];
    for (int s = 0; s < steps; s++) {
      velocity(field, t, p[0], p[1], u);
      double mx = p[0] + 0.5 * h * u[0];
      double my = p[1] + 0.5 * h * u[1];
      velocity(field, t, mx, my, u);
      p[0] += h * u[0];
      p[1] += h * u[1];
    }
  }

  private static void velocity(float[][] field, BrainTemplate t, double x, double y, double[] out) {
    int nx = t.gridNx();
    int ny = t.gridNy();
    double fi = x - t.gridOriginX();
    double fj = y - t.gridOriginY();
    int i0 = (int) Math.floor(fi);
    int j0 = (int) Math.floor(fj);
    if (i0 < 0 || j0 < 0 || i0 >= nx - 1 || j0 >= ny - 1) {
      out[0] = 0;
      out[1] = 0;
      return;
    }
    double di = fi - i0;
    double dj = fj - j0;
    int p = i0 + nx * j0;
    for (int c = 0; c < 2; c++) {
      float[] v = field[c];
      double a = v[p] * (1 - di) + v[p + 1] * di;
      double b = v[p + nx] * (1 - di) + v[p + nx + 1] * di;
      out[c] = a * (1 - dj) + b * dj;
    }
  }
}
