package org.deepscm.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class WarpTest {

  /** (n, 2, h, w) float32 from a function of (batch, channel, y, x). */
  interface FieldValue {
    double at(int b, int c, int y, int x);
  }

  static NDArray field(NDManager m, int n, int c, int h, int w, FieldValue f) {
    float[] v = new float[n * c * h * w];
    for (int b = 0; b < n; b++) {
      for (int k = 0; k < c; k++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            v[((b * c + k) * h + y) * w + x] = (float) f.at(b, k, y, x);
          }
        }
      }
    }
    return m.create(v, new Shape(n, c, h, w));
  }

  static int clamp(int v, int lo, int hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  /**
   * n smooth random velocities in fine pixels, (n, 2, 64, 64): 8 x 8 values uniform in +-amplitude / 9
   * coarse pixels, upsampled by upsampleVelocity (x 63 / 7 = 9), so up to +-amplitude fine pixels.
   */
  static NDArray smoothVelocity(NDManager m, int n, double amplitude, long seed) {
    Random r = new Random(seed);
    NDArray coarse = field(m, n, 2, 8, 8, (b, c, y, x) -> (2 * r.nextDouble() - 1) * amplitude / 9);
    return Warp.upsampleVelocity(coarse, 64, 64);
  }

  // ------------------------------------------------------------------ sample

  @Test
  void zeroDisplacementReturnsTheImageExactly() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray image = m.randomNormal(new Shape(2, 3, 5, 7));
      NDArray out = Warp.sample(image, m.zeros(new Shape(2, 2, 5, 7)));
      assertEquals(image.getShape(), out.getShape());
      assertArrayEquals(image.toFloatArray(), out.toFloatArray(), 0f);
    }
  }

  /** d = (+2, -1): out(y, x) = I(y - 1, x + 2), the rows and columns past the edge reading the border. */
  @Test
  void integerShiftShiftsAndClampsAtTheBorder() {
    try (NDManager m = NDManager.newBaseManager()) {
      int h = 5;
      int w = 7;
      NDArray image = m.randomNormal(new Shape(2, 3, h, w));
      NDArray d = field(m, 2, 2, h, w, (b, c, y, x) -> c == 0 ? 2 : -1);
      float[] in = image.toFloatArray();
      float[] out = Warp.sample(image, d).toFloatArray();
      for (int b = 0; b < 2; b++) {
        for (int k = 0; k < 3; k++) {
          for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
              float expected = in[((b * 3 + k) * h + clamp(y - 1, 0, h - 1)) * w + clamp(x + 2, 0, w - 1)];
              assertEquals(expected, out[((b * 3 + k) * h + y) * w + x], 0f, "at " + b + "," + k + "," + y + "," + x);
            }
          }
        }
      }
      // the border explicitly: row 0 reads row 0 (not row -1), the last two columns read the last column
      assertEquals(in[2], out[0], 0f); // (0, 0) reads (clamp(-1) = 0, 2)
      assertEquals(in[w + w - 1], out[2 * w + w - 1], 0f); // (2, w - 1) reads (1, clamp(w + 1))
      assertEquals(in[w + w - 1], out[2 * w + w - 2], 0f); // (2, w - 2) reads (1, clamp(w))
    }
  }

  /** Random non-integer displacements, some pointing outside, against bilinear with clamping written out. */
  @Test
  void sampleMatchesBilinearWithBorderPaddingWrittenOut() {
    try (NDManager m = NDManager.newBaseManager()) {
      int n = 2;
      int c = 2;
      int h = 6;
      int w = 9;
      Random r = new Random(3);
      NDArray image = m.randomNormal(new Shape(n, c, h, w));
      NDArray d = field(m, n, 2, h, w, (b, k, y, x) -> 8 * r.nextDouble() - 4);
      float[] in = image.toFloatArray();
      float[] dv = d.toFloatArray();
      float[] out = Warp.sample(image, d).toFloatArray();
      int outside = 0;
      for (int b = 0; b < n; b++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            double sx = x + dv[((b * 2) * h + y) * w + x];
            double sy = y + dv[((b * 2 + 1) * h + y) * w + x];
            outside += sx < 0 || sx > w - 1 || sy < 0 || sy > h - 1 ? 1 : 0;
            sx = Math.max(0, Math.min(w - 1, sx));
            sy = Math.max(0, Math.min(h - 1, sy));
            int x0 = (int) Math.floor(sx);
            int y0 = (int) Math.floor(sy);
            int x1 = Math.min(x0 + 1, w - 1);
            int y1 = Math.min(y0 + 1, h - 1);
            double fx = sx - x0;
            double fy = sy - y0;
            for (int k = 0; k < c; k++) {
              int base = (b * c + k) * h * w;
              double v = (1 - fx) * (1 - fy) * in[base + y0 * w + x0] + fx * (1 - fy) * in[base + y0 * w + x1]
                  + (1 - fx) * fy * in[base + y1 * w + x0] + fx * fy * in[base + y1 * w + x1];
              assertEquals(v, out[base + y * w + x], 1e-5, "at " + b + "," + k + "," + y + "," + x);
            }
          }
        }
      }
      assertTrue(outside > 20, "the test needs points outside the image: " + outside);
    }
  }

  /**
   * d/d image and d/d displacement of sum(sample(I, d) * R) in float64 against central differences (step
   * 1e-6). Sampling points stay at least 0.1 px from integer coordinates (bilinear's kinks, the clamp's
   * corners among them); about a quarter lie outside the image, where the displacement's gradient along
   * the clamped axis must be 0.
   */
  @Test
  void sampleGradientsMatchFiniteDifferences() {
    try (NDManager m = NDManager.newBaseManager()) {
      int n = 2;
      int c = 2;
      int h = 5;
      int w = 6;
      Random r = new Random(11);
      double[] img = new double[n * c * h * w];
      double[] weights = new double[img.length];
      for (int i = 0; i < img.length; i++) {
        img[i] = r.nextGaussian();
        weights[i] = r.nextGaussian();
      }
      double[] disp = new double[n * 2 * h * w];
      for (int b = 0; b < n; b++) {
        for (int k = 0; k < 2; k++) {
          int size = k == 0 ? w : h;
          for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
              double target;
              do {
                target = -1.5 + (size + 2) * r.nextDouble();
              } while (Math.abs(target - Math.rint(target)) < 0.1);
              disp[((b * 2 + k) * h + y) * w + x] = target - (k == 0 ? x : y);
            }
          }
        }
      }
      Shape is = new Shape(n, c, h, w);
      Shape ds = new Shape(n, 2, h, w);
      NDArray rr = m.create(weights, is);
      Function<double[][], Double> loss = a -> {
        try (NDManager s = m.newSubManager()) {
          return Warp.sample(s.create(a[0], is), s.create(a[1], ds)).mul(rr).sum().getDouble();
        }
      };
      NDArray image = m.create(img, is);
      NDArray d = m.create(disp, ds);
      image.setRequiresGradient(true);
      d.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out = Warp.sample(image, d);
        assertEquals(DataType.FLOAT64, out.getDataType());
        gc.backward(out.mul(rr).sum());
      }
      double[] gImage = image.getGradient().toDoubleArray();
      double[] gDisp = d.getGradient().toDoubleArray();
      double eps = 1e-6;
      int zeros = 0;
      for (int which = 0; which < 2; which++) {
        double[] x = which == 0 ? img : disp;
        double[] g = which == 0 ? gImage : gDisp;
        for (int i = 0; i < x.length; i++) {
          double keep = x[i];
          x[i] = keep + eps;
          double up = loss.apply(new double[][] {img, disp});
          x[i] = keep - eps;
          double down = loss.apply(new double[][] {img, disp});
          x[i] = keep;
          double fd = (up - down) / (2 * eps);
          assertEquals(fd, g[i], 1e-7 * (1 + Math.abs(fd)), (which == 0 ? "image" : "displacement") + " entry " + i);
          zeros += which == 1 && g[i] == 0 ? 1 : 0;
        }
      }
      // the clamp's zero gradients happened, and were not everything
      assertTrue(zeros > 5 && zeros < disp.length / 2, "zero displacement gradients: " + zeros);
    }
  }

  // ------------------------------------------------------------------ compose and exp

  /**
   * a(p) = (0.1 x, 0), b = (1.5, 0) everywhere: a o b moves by 1.5 + 0.1 (x + 1.5), b o a by 0.1 x + 1.5;
   * and warping a linear image by a o b is warping it by a, then by b.
   */
  @Test
  void composeAppliesInnerFirst() {
    try (NDManager m = NDManager.newBaseManager()) {
      int h = 6;
      int w = 16;
      NDArray a = field(m, 1, 2, h, w, (b, c, y, x) -> c == 0 ? 0.1 * x : 0);
      NDArray t = field(m, 1, 2, h, w, (b, c, y, x) -> c == 0 ? 1.5 : 0);
      float[] ab = Warp.compose(a, t).toFloatArray();
      float[] ba = Warp.compose(t, a).toFloatArray();
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < 12; x++) { // x + 1.5 and 1.1 x inside the image
          assertEquals(1.5 + 0.1 * (x + 1.5), ab[y * w + x], 1e-5);
          assertEquals(0.1 * x + 1.5, ba[y * w + x], 1e-5);
          assertEquals(0, ab[h * w + y * w + x], 0);
          assertEquals(0, ba[h * w + y * w + x], 0);
        }
      }
      NDArray ramp = field(m, 1, 1, h, w, (b, c, y, x) -> x + 2 * y);
      float[] twice = Warp.sample(Warp.sample(ramp, a), t).toFloatArray();
      float[] once = Warp.sample(ramp, Warp.compose(a, t)).toFloatArray();
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < 12; x++) {
          assertEquals(twice[y * w + x], once[y * w + x], 1e-5);
          assertEquals(1.1 * (x + 1.5) + 2 * y, once[y * w + x], 1e-5);
        }
      }
    }
  }

  /** A constant velocity's flow is the translation by it (everywhere: a constant field reads the same off the edge). */
  @Test
  void expOfAConstantVelocityIsThatTranslation() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray v = field(m, 2, 2, 16, 16, (b, c, y, x) -> c == 0 ? 1.3 * (b + 1) : -0.7);
      NDArray d = Warp.exp(v, 7);
      assertArrayEquals(v.toFloatArray(), d.toFloatArray(), 1e-5f);
    }
  }

  /**
   * v = lambda (p - c): scaling and squaring composes the linear map p -> c + (1 + lambda / 128)(p - c) with
   * itself 7 times (bilinear reproduces linear fields exactly), so d = ((1 + lambda / 128)^128 - 1)(p - c),
   * within 2e-3 px of the true flow (e^lambda - 1)(p - c), 6 px or more from the edge. Nearer, the squarings
   * read values that border padding made at the edge (points moved out by up to 2.8 px): 5e-5 px off 5 px
   * from the edge, 6e-3 px 3 px from it.
   */
  @Test
  void expOfALinearVelocityIsTheScalingItGenerates() {
    try (NDManager m = NDManager.newBaseManager()) {
      double lambda = 0.2;
      double centre = 15.5;
      NDArray v = field(m, 1, 2, 32, 32, (b, c, y, x) -> lambda * ((c == 0 ? x : y) - centre));
      float[] d = Warp.exp(v, 7).toFloatArray();
      double squared = Math.pow(1 + lambda / 128, 128) - 1;
      for (int c = 0; c < 2; c++) {
        for (int y = 6; y < 26; y++) {
          for (int x = 6; x < 26; x++) {
            double p = (c == 0 ? x : y) - centre;
            assertEquals(squared * p, d[(c * 32 + y) * 32 + x], 1e-4, "at " + c + "," + y + "," + x);
            assertEquals(Math.expm1(lambda) * p, d[(c * 32 + y) * 32 + x], 2e-3);
          }
        }
      }
    }
  }

  /**
   * exp(v) and exp(-v) are inverses up to interpolation: for 8 smooth random velocities of up to 3 px on
   * 64 x 64 (see smoothVelocity), 4 px or more from the edge, |exp(-v) o exp(v) - id| measured 0.016 px on
   * average and 0.25 px at most (exp(v) o exp(-v): 0.015 and 0.21); bounds 0.05 and 0.4. Without squaring
   * (0 steps: v o -v) the mean is 0.35 px. The determinants stay positive (min 0.40).
   */
  @Test
  void expOfMinusVInvertsExpOfV() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray v = smoothVelocity(m, 8, 3, 42);
      assertEquals(3, v.abs().max().getFloat(), 0.3, "the test's fields reach about 3 px");
      NDArray forward = Warp.exp(v, 7);
      NDArray inverse = Warp.exp(v.neg(), 7);
      for (NDArray e : new NDArray[] {Warp.identityError(forward, inverse, 4), Warp.identityError(inverse, forward, 4)}) {
        assertEquals(new Shape(8, 56, 56), e.getShape());
        float mean = e.mean().getFloat();
        float max = e.max().getFloat();
        assertTrue(mean < 0.05, "mean inverse error " + mean);
        assertTrue(max < 0.4, "max inverse error " + max);
      }
      // the error is not zero by construction: an unsquared field (exp with 0 steps) is not inverted as well
      float crude = Warp.identityError(Warp.exp(v, 0), Warp.exp(v.neg(), 0), 4).mean().getFloat();
      assertTrue(crude > 0.1, "v o -v is off by " + crude);
      NDArray det = Warp.jacobianDeterminant(forward);
      assertEquals(new Shape(8, 64, 64), det.getShape());
      assertTrue(det.min().getFloat() > 0.2, "min det " + det.min().getFloat());
      assertTrue(Warp.jacobianDeterminant(inverse).min().getFloat() > 0.2);
    }
  }

  /** Results go to the first argument's manager, whatever manager the other argument lives in. */
  @Test
  void resultsLiveInTheFirstArgumentsManager() {
    try (NDManager m = NDManager.newBaseManager(); NDManager other = NDManager.newBaseManager()) {
      NDArray v = m.randomNormal(new Shape(1, 2, 8, 8));
      assertEquals(m, Warp.exp(v, 7).getManager());
      NDArray u = other.zeros(new Shape(1, 2, 8, 8));
      assertEquals(m, Warp.sample(v, u).getManager());
      assertEquals(m, Warp.compose(v, u).getManager());
      assertEquals(other, Warp.compose(u, v).getManager());
      assertEquals(other, Warp.identityError(u, v).getManager());
    }
  }

  /** identityError is the norm of compose(inverse, forward), pixel by pixel. */
  @Test
  void identityErrorIsTheNormOfTheRoundTrip() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray f = field(m, 1, 2, 8, 8, (b, c, y, x) -> c == 0 ? 3 : 4);
      NDArray g = m.zeros(new Shape(1, 2, 8, 8));
      NDArray e = Warp.identityError(f, g);
      assertEquals(new Shape(1, 8, 8), e.getShape());
      assertArrayEquals(m.full(new Shape(64), 5f).toFloatArray(), e.toFloatArray(), 1e-6f);
      assertEquals(new Shape(1, 4, 4), Warp.identityError(f, g, 2).getShape());
      assertEquals(0, Warp.identityError(f, f.neg(), 0).max().getFloat(), 1e-6);
    }
  }

  // ------------------------------------------------------------------ Jacobian, penalties

  @Test
  void jacobianOfZeroIsOne() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray det = Warp.jacobianDeterminant(m.zeros(new Shape(2, 2, 5, 6)));
      assertEquals(new Shape(2, 5, 6), det.getShape());
      assertArrayEquals(m.ones(new Shape(60)).toFloatArray(), det.toFloatArray(), 0f);
    }
  }

  /** d = (s - 1)(p - c): det s^2 everywhere, no bending, a gradient penalty of (s - 1)^2 / 2. */
  @Test
  void scalingHasDeterminantSSquaredAndNoBending() {
    try (NDManager m = NDManager.newBaseManager()) {
      for (double s : new double[] {1.1, 0.8}) {
        NDArray d = field(m, 2, 2, 9, 12, (b, c, y, x) -> (s - 1) * (c == 0 ? x - 5.5 : y - 4));
        NDArray det = Warp.jacobianDeterminant(d);
        assertEquals(s * s, det.min().getFloat(), 1e-5);
        assertEquals(s * s, det.max().getFloat(), 1e-5);
        assertEquals(0, Warp.bendingEnergy(d).getFloat(), 1e-10);
        assertEquals((s - 1) * (s - 1) / 2, Warp.gradientPenalty(d).getFloat(), 1e-6);
      }
    }
  }

  /** d = (a y, b x): det (1 + 0)(1 + 0) - a b; the cross term's sign and which axis is which. */
  @Test
  void jacobianOfAShearPairIsOneMinusAB() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray d = field(m, 1, 2, 7, 5, (b, c, y, x) -> c == 0 ? 0.3 * y : 0.5 * x);
      NDArray det = Warp.jacobianDeterminant(d);
      assertEquals(1 - 0.15, det.min().getFloat(), 1e-6);
      assertEquals(1 - 0.15, det.max().getFloat(), 1e-6);
    }
  }

  /**
   * d = (q x^2, 0): d d_x / dx is 2 q x inside by central differences, q and q (2 (W - 1) - 1) one-sided at the
   * first and last column; the bending energy is mean over both components of (2 q)^2, i.e. 2 q^2.
   */
  @Test
  void quadraticFieldCentralInsideOneSidedAtTheBorderAndItsBending() {
    try (NDManager m = NDManager.newBaseManager()) {
      double q = 0.01;
      int w = 8;
      NDArray d = field(m, 1, 2, 4, w, (b, c, y, x) -> c == 0 ? q * x * x : 0);
      float[] det = Warp.jacobianDeterminant(d).toFloatArray();
      for (int y = 0; y < 4; y++) {
        for (int x = 0; x < w; x++) {
          double slope = x == 0 ? q : x == w - 1 ? q * (2 * (w - 1) - 1) : 2 * q * x;
          assertEquals(1 + slope, det[y * w + x], 1e-6, "at " + y + "," + x);
        }
      }
      assertEquals(2 * q * q, Warp.bendingEnergy(d).getFloat(), 1e-9);
      // gradient penalty: forward differences q (2x + 1) along x in channel 0, nothing else
      double sum = 0;
      for (int x = 0; x < w - 1; x++) {
        sum += Math.pow(q * (2 * x + 1), 2);
      }
      double expected = (sum / (w - 1) / 2 + 0) / 2;
      assertEquals(expected, Warp.gradientPenalty(d).getFloat(), 1e-8);
    }
  }

  /**
   * Each second derivative counts, the mixed one twice: (q x^2, 0) and (0, q y^2) have bending energy
   * (2 q)^2 / 2 (one of two components bends), (q x y, 0) has 2 q^2 / 2 from its d_xy = q.
   */
  @Test
  void bendingEnergyCountsEachSecondDerivative() {
    try (NDManager m = NDManager.newBaseManager()) {
      double q = 0.05;
      NDArray xx = field(m, 1, 2, 6, 7, (b, c, y, x) -> c == 0 ? q * x * x : 0);
      NDArray yy = field(m, 1, 2, 6, 7, (b, c, y, x) -> c == 1 ? q * y * y : 0);
      NDArray xy = field(m, 1, 2, 6, 7, (b, c, y, x) -> c == 0 ? q * x * y : 0);
      assertEquals(2 * q * q, Warp.bendingEnergy(xx).getFloat(), 1e-8);
      assertEquals(2 * q * q, Warp.bendingEnergy(yy).getFloat(), 1e-8);
      assertEquals(q * q, Warp.bendingEnergy(xy).getFloat(), 1e-8);
    }
  }

  /** Both penalties differentiate: float64 gradients against central differences on a random field. */
  @Test
  void penaltyGradientsMatchFiniteDifferences() {
    try (NDManager m = NDManager.newBaseManager()) {
      Shape s = new Shape(2, 2, 4, 5);
      Random r = new Random(5);
      double[] v = new double[(int) s.size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = r.nextGaussian();
      }
      for (int which = 0; which < 2; which++) {
        Function<NDArray, NDArray> penalty = which == 0 ? Warp::bendingEnergy : Warp::gradientPenalty;
        NDArray d = m.create(v, s);
        d.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          gc.backward(penalty.apply(d));
        }
        double[] g = d.getGradient().toDoubleArray();
        double eps = 1e-6;
        for (int i = 0; i < v.length; i++) {
          double keep = v[i];
          v[i] = keep + eps;
          double up = penalty.apply(m.create(v, s)).getDouble();
          v[i] = keep - eps;
          double down = penalty.apply(m.create(v, s)).getDouble();
          v[i] = keep;
          assertEquals((up - down) / (2 * eps), g[i], 1e-7, "penalty " + which + " entry " + i);
        }
      }
    }
  }

  // ------------------------------------------------------------------ upsampling

  /** A linear ramp a + b x + c y upsampled with the corners aligned is the same ramp on the fine grid. */
  @Test
  void upsampleOfARampIsTheRamp() {
    try (NDManager m = NDManager.newBaseManager()) {
      int h = 5;
      int w = 4;
      int fh = 13;
      int fw = 10;
      NDArray coarse = field(m, 2, 3, h, w, (b, c, y, x) -> b - c + 0.5 * x - 2 * y);
      coarse.setRequiresGradient(true);
      float[] up;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray u = Warp.upsample(coarse, fh, fw);
        assertEquals(new Shape(2, 3, fh, fw), u.getShape());
        up = u.toFloatArray();
        gc.backward(u.sum());
      }
      for (int b = 0; b < 2; b++) {
        for (int c = 0; c < 3; c++) {
          for (int y = 0; y < fh; y++) {
            for (int x = 0; x < fw; x++) {
              double sx = x * (w - 1.0) / (fw - 1);
              double sy = y * (h - 1.0) / (fh - 1);
              assertEquals(b - c + 0.5 * sx - 2 * sy, up[((b * 3 + c) * fh + y) * fw + x], 1e-5);
            }
          }
        }
      }
      // every fine pixel's weights sum to 1, so the gradient of the sum spreads fh * fw over each map
      assertEquals(6.0 * fh * fw, coarse.getGradient().sum().getFloat(), 1e-3);
      // and it is not uniform: corner pixels feed fewer fine pixels than inner ones
      assertTrue(coarse.getGradient().max().getFloat() > coarse.getGradient().min().getFloat() + 0.5);
    }
  }

  /** (8, 5) to (15, 21): one coarse pixel is (21 - 1) / (5 - 1) = 5 fine pixels along x, (15 - 1) / (8 - 1) = 2 along y. */
  @Test
  void upsampleVelocityRescalesEachComponentToFinePixels() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray v = field(m, 1, 2, 8, 5, (b, c, y, x) -> c == 0 ? 0.7 : -1.2);
      float[] up = Warp.upsampleVelocity(v, 15, 21).toFloatArray();
      for (int p = 0; p < 15 * 21; p++) {
        assertEquals(0.7 * 5, up[p], 1e-5);
        assertEquals(-1.2 * 2, up[15 * 21 + p], 1e-5);
      }
      // the flow of the rescaled field moves a fine point as far as the coarse one moved on its grid
      NDArray ramp = field(m, 1, 1, 8, 5, (b, c, y, x) -> x);
      NDArray movedCoarse = Warp.sample(ramp, Warp.exp(v, 7));
      NDArray movedFine = Warp.sample(Warp.upsample(ramp, 15, 21), Warp.exp(Warp.upsampleVelocity(v, 15, 21), 7));
      // coarse column 1 + 0.7 = 1.7 (inside) is fine column 5 * 1.7 = 8.5, at fine column 5
      assertEquals(movedCoarse.getFloat(0, 0, 3, 1), movedFine.getFloat(0, 0, 6, 5), 1e-5);
    }
  }

  @Test
  void mismatchedShapesAreRefused() {
    try (NDManager m = NDManager.newBaseManager()) {
      assertThrows(IllegalArgumentException.class,
          () -> Warp.sample(m.zeros(new Shape(1, 1, 4, 4)), m.zeros(new Shape(1, 2, 4, 5))));
      assertThrows(IllegalArgumentException.class,
          () -> Warp.sample(m.zeros(new Shape(1, 1, 4, 4)), m.zeros(new Shape(1, 3, 4, 4))));
      assertThrows(IllegalArgumentException.class,
          () -> Warp.compose(m.zeros(new Shape(1, 2, 4, 4)), m.zeros(new Shape(2, 2, 4, 4))));
      assertThrows(IllegalArgumentException.class, () -> Warp.exp(m.zeros(new Shape(1, 2, 4, 4)), -1));
      assertThrows(IllegalArgumentException.class,
          () -> Warp.upsampleVelocity(m.zeros(new Shape(1, 2, 1, 4)), 8, 8));
    }
  }
}
