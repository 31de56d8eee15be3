package org.deepscm.app;

import java.util.ArrayList;
import java.util.List;

/**
 * Contour lines of a function sampled on a grid, by marching squares (JFreeChart has no contour
 * renderer). Each grid cell is cut where the level crosses its edges, with linear interpolation;
 * the two ambiguous (saddle) cases are resolved by the value at the cell's centre.
 */
public final class Contours {
  private Contours() {}

  /** A line segment (x1, y1) - (x2, y2). */
  public record Segment(double x1, double y1, double x2, double y2) {
    public double length() {
      return Math.hypot(x2 - x1, y2 - y1);
    }
  }

  /**
   * Segments of the level set {z = level}.
   *
   * @param xs grid x coordinates, increasing (nx)
   * @param ys grid y coordinates, increasing (ny)
   * @param z values, z[row][col] at (xs[col], ys[row]); NaN cells are skipped
   */
  public static List<Segment> lines(double[] xs, double[] ys, double[][] z, double level) {
    if (z.length != ys.length || (z.length > 0 && z[0].length != xs.length)) {
      throw new IllegalArgumentException("grid of " + z.length + " rows for " + ys.length + " y values, or columns "
          + "differ from " + xs.length + " x values");
    }
    List<Segment> out = new ArrayList<>();
    for (int r = 0; r + 1 < ys.length; r++) {
      for (int c = 0; c + 1 < xs.length; c++) {
        double a = z[r][c]; // (x0, y0)
        double b = z[r][c + 1]; // (x1, y0)
        double d = z[r + 1][c]; // (x0, y1)
        double e = z[r + 1][c + 1]; // (x1, y1)
        if (Double.isNaN(a) || Double.isNaN(b) || Double.isNaN(d) || Double.isNaN(e)) {
          continue;
        }
        int code = (a >= level ? 1 : 0) | (b >= level ? 2 : 0) | (e >= level ? 4 : 0) | (d >= level ? 8 : 0);
        if (code == 0 || code == 15) {
          continue;
        }
        double x0 = xs[c];
        double x1 = xs[c + 1];
        double y0 = ys[r];
        double y1 = ys[r + 1];
        // crossing points on the four edges: bottom (a-b), right (b-e), top (d-e), left (a-d)
        double[] bottom = {lerp(x0, x1, a, b, level), y0};
        double[] right = {x1, lerp(y0, y1, b, e, level)};
        double[] top = {lerp(x0, x1, d, e, level), y1};
        double[] left = {x0, lerp(y0, y1, a, d, level)};
        switch (code) {
          case 1, 14 -> add(out, left, bottom);
          case 2, 13 -> add(out, bottom, right);
          case 3, 12 -> add(out, left, right);
          case 4, 11 -> add(out, right, top);
          case 6, 9 -> add(out, bottom, top);
          case 7, 8 -> add(out, left, top);
          case 5, 10 -> {
            // saddle: corners a and e on one side, b and d on the other; the centre decides
            boolean centreAbove = (a + b + d + e) / 4 >= level;
            boolean aAbove = code == 5;
            if (centreAbove == aAbove) {
              add(out, left, top);
              add(out, bottom, right);
            } else {
              add(out, left, bottom);
              add(out, right, top);
            }
          }
          default -> throw new IllegalStateException("marching squares case " + code);
        }
      }
    }
    return out;
  }

  private static double lerp(double p0, double p1, double v0, double v1, double level) {
    double t = (level - v0) / (v1 - v0);
    return p0 + t * (p1 - p0);
  }

  private static void add(List<Segment> out, double[] p, double[] q) {
    out.add(new Segment(p[0], p[1], q[0], q[1]));
  }

  /**
   * Density levels that enclose the given probability masses (highest-density regions), from a
   * density on a regular grid: e.g. masses {0.5, 0.9, 0.995}.
   */
  public static double[] massLevels(double[][] density, double cellArea, double[] masses) {
    List<Double> values = new ArrayList<>();
    double total = 0;
    for (double[] row : density) {
      for (double v : row) {
        if (!Double.isNaN(v)) {
          values.add(v);
          total += v * cellArea;
        }
      }
    }
    values.sort((p, q) -> Double.compare(q, p));
    double[] levels = new double[masses.length];
    for (int k = 0; k < masses.length; k++) {
      double acc = 0;
      double level = values.isEmpty() ? 0 : values.get(values.size() - 1);
      for (double v : values) {
        acc += v * cellArea;
        if (acc >= masses[k] * total) {
          level = v;
          break;
        }
      }
      levels[k] = level;
    }
    return levels;
  }
}
