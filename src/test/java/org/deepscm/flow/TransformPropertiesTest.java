package org.deepscm.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The properties every flow must have, checked on each transform: inverse(forward(x)) = x, the
 * two log-dets cancel, and log |det J| equals a central finite-difference derivative.
 */
class TransformPropertiesTest {
  private NDManager manager;

  @BeforeEach
  void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterEach
  void close() {
    manager.close();
  }

  /** A transform, built in the test's manager, and the interval of inputs it is defined on. */
  record Case(String name, Function<NDManager, Transform> make, double from, double to) {
    @Override
    public String toString() {
      return name;
    }
  }

  static NDArray randomParams(NDManager m, Random r, int n, double scale) {
    double[] v = new double[n];
    for (int k = 0; k < n; k++) {
      v[k] = scale * r.nextGaussian();
    }
    return m.create(v);
  }

  static Transform randomSpline(NDManager m, long seed) {
    Random r = new Random(seed);
    return new SplineTransform(3.0, randomParams(m, r, 8, 1.5), randomParams(m, r, 8, 1.5),
        randomParams(m, r, 7, 1.5), randomParams(m, r, 8, 1.5));
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        new Case("affine", m -> new AffineTransform(m.create(0.7), m.create(-0.4)), -8, 8),
        new Case("normalise", m -> new AffineNormalisation(0.886, 0.252), -8, 8),
        new Case("exp", m -> new ExpTransform(), -6, 4),
        new Case("sigmoid", m -> new SigmoidTransform(), -9, 9),
        // the range covers both identity tails (|x| > 3) and all eight bins
        new Case("spline seed 1", m -> randomSpline(m, 1), -5, 5),
        new Case("spline seed 2", m -> randomSpline(m, 2), -5, 5),
        new Case("spline seed 3", m -> randomSpline(m, 3), -5, 5),
        new Case("thickness flow", m -> randomSpline(m, 4).then(new AffineNormalisation(0.886, 0.252))
            .then(new ExpTransform()), -5, 5),
        new Case("intensity flow", m -> new AffineTransform(m.create(0.3), m.create(0.2))
            .then(new SigmoidTransform()).then(new AffineNormalisation(64, 191)), -5, 5))
        .map(Arguments::of);
  }

  private NDArray grid(double from, double to, int n) {
    double[] v = new double[n];
    for (int k = 0; k < n; k++) {
      v[k] = from + (to - from) * k / (n - 1);
    }
    return manager.create(v);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void inverseUndoesForward(Case c) {
    Transform t = c.make().apply(manager);
    NDArray x = grid(c.from(), c.to(), 2001);
    Transformed fwd = t.forward(x);
    Transformed back = t.inverse(fwd.value());
    double[] xs = x.toDoubleArray();
    double[] again = back.value().toDoubleArray();
    for (int k = 0; k < xs.length; k++) {
      assertEquals(xs[k], again[k], 1e-5, c.name() + " round trip at x=" + xs[k]);
    }
    double[] sum = fwd.logDet().add(back.logDet()).toDoubleArray();
    for (int k = 0; k < sum.length; k++) {
      assertEquals(0, sum[k], 1e-6, c.name() + " log-dets do not cancel at x=" + xs[k]);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void logDetMatchesFiniteDifference(Case c) {
    Transform t = c.make().apply(manager);
    double h = 1e-5;
    // offset the grid so no point sits exactly on a spline knot or the tails' boundary
    NDArray x = grid(c.from() + 0.0123, c.to() - 0.0123, 997);
    double[] up = t.forward(x.add(h)).value().toDoubleArray();
    double[] down = t.forward(x.sub(h)).value().toDoubleArray();
    double[] logDet = t.forward(x).logDet().toDoubleArray();
    double[] xs = x.toDoubleArray();
    for (int k = 0; k < xs.length; k++) {
      double numeric = Math.log(Math.abs((up[k] - down[k]) / (2 * h)));
      assertEquals(numeric, logDet[k], 1e-3, c.name() + " log|det J| at x=" + xs[k]);
    }
  }

  @Test
  void splineIsStrictlyMonotoneAndIdentityOutsideBound() {
    for (long seed = 1; seed <= 20; seed++) {
      Transform spline = randomSpline(manager, seed);
      NDArray x = grid(-6, 6, 4001);
      double[] y = spline.forward(x).value().toDoubleArray();
      double[] xs = x.toDoubleArray();
      for (int k = 1; k < y.length; k++) {
        assertTrue(y[k] > y[k - 1], "spline seed " + seed + " not increasing at x=" + xs[k]);
      }
      for (int k = 0; k < y.length; k++) {
        if (Math.abs(xs[k]) >= 3) {
          assertEquals(xs[k], y[k], 1e-12, "tail must be the identity at x=" + xs[k]);
        }
      }
      // the spline maps [-3, 3] onto itself: continuous at the bound
      assertEquals(-3, spline.forward(manager.create(new double[] {-3 + 1e-12})).value().getDouble(0), 1e-6);
      assertEquals(3, spline.forward(manager.create(new double[] {3 - 1e-12})).value().getDouble(0), 1e-6);
    }
  }

  @Test
  void freshSplineStepIsTheIdentity() {
    ParameterSet params = new ParameterSet(manager);
    FlowStep.Spline step = new FlowStep.Spline(8, 3);
    step.initParameters(params, "s", 0, new Random(0));
    Transform t = step.build(params.scoped(manager), "s", null);
    NDArray x = grid(-4, 4, 101);
    double[] y = t.forward(x).value().toDoubleArray();
    double[] xs = x.toDoubleArray();
    for (int k = 0; k < xs.length; k++) {
      assertEquals(xs[k], y[k], 1e-5);
    }
  }

  @Test
  void conditionalAffineWithMlpContextRoundTripsPerRow() {
    ParameterSet params = new ParameterSet(manager);
    FlowStep.ConditionalAffine step = new FlowStep.ConditionalAffine(List.of(8, 16));
    step.initParameters(params, "c", 2, new Random(5));
    // give the zero-initialised last layer random values so the context matters
    params.create("c.layer2.weight", new Shape(16, 2), 0.5, new Random(6));
    params.create("c.layer2.bias", new Shape(2), 0.5, new Random(7));
    Random r = new Random(8);
    int n = 500;
    NDArray context = randomParams(manager, r, 2 * n, 1.0).reshape(n, 2);
    Transform t = step.build(params.scoped(manager), "c", context);
    NDArray x = randomParams(manager, r, n, 2.0);
    Transformed fwd = t.forward(x);
    Transformed back = t.inverse(fwd.value());
    double[] xs = x.toDoubleArray();
    double[] again = back.value().toDoubleArray();
    double[] ld = fwd.logDet().add(back.logDet()).toDoubleArray();
    double h = 1e-5;
    double[] up = t.forward(x.add(h)).value().toDoubleArray();
    double[] down = t.forward(x.sub(h)).value().toDoubleArray();
    double[] logDet = fwd.logDet().toDoubleArray();
    for (int k = 0; k < n; k++) {
      assertEquals(xs[k], again[k], 1e-5);
      assertEquals(0, ld[k], 1e-6);
      assertEquals(Math.log(Math.abs((up[k] - down[k]) / (2 * h))), logDet[k], 1e-3);
    }
    // different contexts give different transforms
    double[] y = fwd.value().toDoubleArray();
    assertTrue(Math.abs((y[0] - xs[0]) - (y[1] - xs[1])) > 1e-6 || Math.abs(y[0] / xs[0] - y[1] / xs[1]) > 1e-6);
  }

  @Test
  void sigmoidInverseOfBoundaryIsFinite() {
    Transform t = new SigmoidTransform();
    double[] x = t.inverse(manager.create(new double[] {0, 1})).value().toDoubleArray();
    assertTrue(Double.isFinite(x[0]) && Double.isFinite(x[1]));
    float[] xf = t.inverse(manager.create(new float[] {0, 1})).value().toFloatArray();
    assertTrue(Float.isFinite(xf[0]) && Float.isFinite(xf[1]));
  }
}
