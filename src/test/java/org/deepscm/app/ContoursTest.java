package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ContoursTest {
  private static double[] grid(double from, double to, int n) {
    double[] v = new double[n];
    for (int k = 0; k < n; k++) {
      v[k] = from + (to - from) * k / (n - 1);
    }
    return v;
  }

  @Test
  void circleLevelLiesOnTheCircleAndHasItsLength() {
    double[] xs = grid(-2, 2, 81);
    double[] ys = grid(-2, 2, 81);
    double[][] z = new double[ys.length][xs.length];
    for (int r = 0; r < ys.length; r++) {
      for (int c = 0; c < xs.length; c++) {
        z[r][c] = xs[c] * xs[c] + ys[r] * ys[r];
      }
    }
    double radius = 1.3;
    List<Contours.Segment> segs = Contours.lines(xs, ys, z, radius * radius);
    double length = 0;
    for (Contours.Segment s : segs) {
      assertEquals(radius, Math.hypot(s.x1(), s.y1()), 0.01);
      assertEquals(radius, Math.hypot(s.x2(), s.y2()), 0.01);
      length += s.length();
    }
    assertEquals(2 * Math.PI * radius, length, 0.01 * 2 * Math.PI * radius);
  }

  @Test
  void planeGivesAStraightLineAndFlatFieldGivesNone() {
    double[] xs = grid(0, 1, 11);
    double[] ys = grid(0, 1, 11);
    double[][] plane = new double[11][11];
    double[][] flat = new double[11][11];
    for (int r = 0; r < 11; r++) {
      for (int c = 0; c < 11; c++) {
        plane[r][c] = xs[c] + 2 * ys[r];
      }
    }
    List<Contours.Segment> segs = Contours.lines(xs, ys, plane, 1.0);
    assertTrue(segs.size() > 0);
    for (Contours.Segment s : segs) {
      assertEquals(1.0, s.x1() + 2 * s.y1(), 1e-12);
      assertEquals(1.0, s.x2() + 2 * s.y2(), 1e-12);
    }
    assertTrue(Contours.lines(xs, ys, flat, 0.5).isEmpty());
  }

  @Test
  void saddleIsResolvedByTheCentre() {
    double[] xs = {0, 1};
    double[] ys = {0, 1};
    // a and e high, b and d low, centre 0.5 above the level 0.4: a and e are joined
    double[][] z = {{1, 0}, {0, 1}};
    List<Contours.Segment> segs = Contours.lines(xs, ys, z, 0.4);
    assertEquals(2, segs.size());
    for (Contours.Segment s : segs) {
      // each segment cuts off the low corner b = (1, 0) or d = (0, 1)
      boolean nearB = s.x1() > 0.5 && s.y2() < 0.5 || s.x2() > 0.5 && s.y1() < 0.5;
      boolean nearD = s.y1() > 0.5 && s.x2() < 0.5 || s.y2() > 0.5 && s.x1() < 0.5;
      assertTrue(nearB || nearD, s.toString());
    }
  }

  @Test
  void massLevelsEncloseTheRequestedProbability() {
    double[] xs = grid(-5, 5, 201);
    double cell = (xs[1] - xs[0]) * (xs[1] - xs[0]);
    double[][] d = new double[201][201];
    for (int r = 0; r < 201; r++) {
      for (int c = 0; c < 201; c++) {
        d[r][c] = Math.exp(-(xs[c] * xs[c] + xs[r] * xs[r]) / 2) / (2 * Math.PI);
      }
    }
    double[] levels = Contours.massLevels(d, cell, new double[] {0.5, 0.9});
    // a standard 2-D Gaussian's mass-p region is the disc of radius sqrt(-2 ln(1 - p))
    double r50 = Math.sqrt(-2 * Math.log(0.5));
    assertEquals(Math.exp(-r50 * r50 / 2) / (2 * Math.PI), levels[0], 2e-3);
    assertTrue(levels[1] < levels[0]);
  }
}
