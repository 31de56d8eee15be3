package org.deepscm.eval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.Mechanism;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;
import org.deepscm.scm.VariableKind;

/**
 * The joint density of two scalar variables x and y of a model on a grid, observational or under the
 * shift intervention do(x := f_x(eps) + shift) (paper Fig. 3). Exact where x and y are the whole
 * model (x a root, y caused by x or by nothing): p_x(x - shift) p(y | x). Otherwise estimated from
 * model samples (a smoothed histogram), which marginalises the other variables.
 *
 * @param density {@code density[row][column]} at {@code (xs[column], ys[row])}, integrating to about 1
 *     over the grid when the grid covers the mass
 */
public record PairDensity(String x, String y, double[] xs, double[] ys, double[][] density, boolean exact) {
  public static final int SAMPLES = 40_000;

  /** Cell area of the grid. */
  public double cellArea() {
    return (xs[1] - xs[0]) * (ys[1] - ys[0]);
  }

  /** Whether the density of (x, y) can be written down exactly (see the class comment). */
  public static boolean isExact(StructuralCausalModel scm, String x, String y) {
    return scm.variableNames().size() == 2 && scm.graph().parents(x).isEmpty()
        && List.of(x).containsAll(scm.graph().parents(y));
  }

  /** The density on the grid (xs, ys), exact where possible, else from {@link #SAMPLES} model samples. */
  public static PairDensity of(StructuralCausalModel model, String x, String y, double[] xs, double[] ys,
      double shift, long seed) {
    StructuralCausalModel scm = model.scalarPart();
    return isExact(scm, x, y) ? new PairDensity(x, y, xs, ys, exact(scm, x, y, xs, ys, shift), true)
        : new PairDensity(x, y, xs, ys, sampled(scm, x, y, xs, ys, shift, SAMPLES, seed), false);
  }

  /** {@code n} points evenly over a range widened by 8% on each side (cell centres). */
  public static double[] grid(double[] range, int n) {
    double pad = 0.08 * (range[1] - range[0]);
    double lo = range[0] - pad;
    double hi = range[1] + pad;
    double[] g = new double[n];
    for (int k = 0; k < n; k++) {
      g[k] = lo + (hi - lo) * (k + 0.5) / n;
    }
    return g;
  }

  static double[][] exact(StructuralCausalModel scm, String xName, String yName, double[] xs, double[] ys,
      double shift) {
    int n = xs.length * ys.length;
    float[] xv = new float[n];
    float[] xShifted = new float[n];
    float[] yv = new float[n];
    boolean[] valid = new boolean[n];
    Variable xVar = scm.graph().variable(xName);
    Variable yVar = scm.graph().variable(yName);
    int k = 0;
    for (double row : ys) {
      for (double col : xs) {
        valid[k] = inside(xVar, col - shift) && inside(xVar, col) && inside(yVar, row);
        // points outside a support get density 0; give the networks a harmless value meanwhile
        xv[k] = (float) (valid[k] ? col : xs[xs.length / 2]);
        xShifted[k] = (float) (valid[k] ? col - shift : xs[xs.length / 2]);
        yv[k] = (float) (valid[k] ? row : ys[ys.length / 2]);
        k++;
      }
    }
    double[][] out = new double[ys.length][xs.length];
    try (NDManager m = NDManager.newBaseManager()) {
      Mechanism mx = scm.mechanism(xName);
      Mechanism my = scm.mechanism(yName);
      NDArray shifted = m.create(xShifted);
      Map<String, NDArray> at = new LinkedHashMap<>();
      at.put(xName, m.create(xv));
      at.put(yName, m.create(yv));
      float[] lx = mx.logProb(shifted, Map.of(xName, shifted)).toType(DataType.FLOAT32, false).toFloatArray();
      float[] ly = my.logProb(at.get(yName), at).toType(DataType.FLOAT32, false).toFloatArray();
      k = 0;
      for (int r = 0; r < ys.length; r++) {
        for (int c = 0; c < xs.length; c++) {
          out[r][c] = valid[k] ? Math.exp(lx[k] + ly[k]) : 0;
          k++;
        }
      }
    }
    return out;
  }

  static double[][] sampled(StructuralCausalModel scm, String xName, String yName, double[] xs, double[] ys,
      double shift, int samples, long seed) {
    double[] px;
    double[] py;
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed((int) seed);
      Map<String, Intervention> dos = shift == 0 ? Map.of() : Map.of(xName, Intervention.shift(shift));
      Map<String, NDArray> draw = scm.sample(m, samples, dos);
      px = draw.get(xName).toType(DataType.FLOAT64, false).toDoubleArray();
      py = draw.get(yName).toType(DataType.FLOAT64, false).toDoubleArray();
    }
    double dx = xs[1] - xs[0];
    double dy = ys[1] - ys[0];
    double[][] counts = new double[ys.length][xs.length];
    for (int k = 0; k < samples; k++) {
      int c = (int) Math.floor((px[k] - (xs[0] - dx / 2)) / dx);
      int r = (int) Math.floor((py[k] - (ys[0] - dy / 2)) / dy);
      if (c >= 0 && c < xs.length && r >= 0 && r < ys.length) {
        counts[r][c]++;
      }
    }
    // a Gaussian blur of 1.5 cells: smooth contours from a finite sample, mass kept
    double[][] smooth = blurColumns(blurRows(counts, 1.5), 1.5);
    double[][] out = new double[ys.length][xs.length];
    for (int r = 0; r < ys.length; r++) {
      for (int c = 0; c < xs.length; c++) {
        out[r][c] = smooth[r][c] / (samples * dx * dy);
      }
    }
    return out;
  }

  private static double[] kernel(double sigma) {
    int half = (int) Math.ceil(3 * sigma);
    double[] w = new double[2 * half + 1];
    double sum = 0;
    for (int k = -half; k <= half; k++) {
      w[k + half] = Math.exp(-0.5 * k * k / (sigma * sigma));
      sum += w[k + half];
    }
    for (int k = 0; k < w.length; k++) {
      w[k] /= sum;
    }
    return w;
  }

  private static double[][] blurRows(double[][] a, double sigma) {
    double[] w = kernel(sigma);
    int half = w.length / 2;
    double[][] out = new double[a.length][a[0].length];
    for (int r = 0; r < a.length; r++) {
      for (int c = 0; c < a[0].length; c++) {
        for (int k = -half; k <= half; k++) {
          int cc = c + k;
          if (cc >= 0 && cc < a[0].length) {
            out[r][cc] += a[r][c] * w[k + half];
          }
        }
      }
    }
    return out;
  }

  private static double[][] blurColumns(double[][] a, double sigma) {
    double[] w = kernel(sigma);
    int half = w.length / 2;
    double[][] out = new double[a.length][a[0].length];
    for (int r = 0; r < a.length; r++) {
      for (int k = -half; k <= half; k++) {
        int rr = r + k;
        if (rr >= 0 && rr < a.length) {
          for (int c = 0; c < a[0].length; c++) {
            out[rr][c] += a[r][c] * w[k + half];
          }
        }
      }
    }
    return out;
  }

  private static boolean inside(Variable v, double value) {
    return v.kind() == VariableKind.POSITIVE ? value > 0 : value >= v.lower() && value <= v.upper();
  }
}
