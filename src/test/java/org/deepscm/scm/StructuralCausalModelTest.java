package org.deepscm.scm;

import static org.deepscm.scm.LinearGaussianScm.A;
import static org.deepscm.scm.LinearGaussianScm.B;
import static org.deepscm.scm.LinearGaussianScm.C;
import static org.deepscm.scm.LinearGaussianScm.D;
import static org.deepscm.scm.LinearGaussianScm.E;
import static org.deepscm.scm.LinearGaussianScm.MU;
import static org.deepscm.scm.LinearGaussianScm.R;
import static org.deepscm.scm.LinearGaussianScm.S;
import static org.deepscm.scm.LinearGaussianScm.SIGMA;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Rungs two and three on an SCM whose answers are known in closed form. */
class StructuralCausalModelTest {
  private StructuralCausalModel scm;
  private NDManager manager;

  @BeforeEach
  void open() {
    Engine.getInstance().setRandomSeed(1234);
    scm = LinearGaussianScm.build();
    manager = NDManager.newBaseManager();
  }

  @AfterEach
  void close() {
    manager.close();
    scm.close();
  }

  private static double[] doubles(NDArray a) {
    return a.toType(DataType.FLOAT64, false).toDoubleArray();
  }

  /** Sample mean and variance within 3 standard errors of the closed form. */
  private static void assertMoments(String what, double[] xs, double mean, double variance) {
    int n = xs.length;
    double m = 0;
    for (double v : xs) {
      m += v;
    }
    m /= n;
    double ss = 0;
    for (double v : xs) {
      ss += (v - m) * (v - m);
    }
    double var = ss / (n - 1);
    double seMean = Math.sqrt(variance / n);
    double seVar = variance * Math.sqrt(2.0 / (n - 1));
    assertEquals(mean, m, 3 * seMean, what + " mean");
    assertEquals(variance, var, 3 * seVar, what + " variance");
  }

  private static final int N = 200_000;

  @Test
  void observationalMomentsMatchClosedForm() {
    Map<String, NDArray> s = scm.sample(manager, N);
    double vx = SIGMA * SIGMA;
    double my = A * MU + B;
    double vy = A * A * vx + S * S;
    // z = C y + D x + E + R eps = (C A + D) x + C B + E + C S eps_y + R eps_z
    double mz = (C * A + D) * MU + C * B + E;
    double vz = (C * A + D) * (C * A + D) * vx + C * C * S * S + R * R;
    assertMoments("x", doubles(s.get("x")), MU, vx);
    assertMoments("y", doubles(s.get("y")), my, vy);
    assertMoments("z", doubles(s.get("z")), mz, vz);
  }

  @Test
  void atomicInterventionOnRootMatchesClosedForm() {
    double x0 = 2.0;
    Map<String, NDArray> s = scm.sample(manager, N, Map.of("x", Intervention.set(x0)));
    for (double v : doubles(s.get("x"))) {
      assertEquals(x0, v, 1e-6);
    }
    assertMoments("y | do(x)", doubles(s.get("y")), A * x0 + B, S * S);
    assertMoments("z | do(x)", doubles(s.get("z")), C * (A * x0 + B) + D * x0 + E, C * C * S * S + R * R);
  }

  @Test
  void atomicInterventionOnMediatorCutsItsParentsOnly() {
    double y0 = 1.0;
    Map<String, NDArray> s = scm.sample(manager, N, Map.of("y", Intervention.set(y0)));
    // x is upstream: unchanged; z keeps its direct edge from x
    assertMoments("x | do(y)", doubles(s.get("x")), MU, SIGMA * SIGMA);
    assertMoments("z | do(y)", doubles(s.get("z")), C * y0 + D * MU + E, D * D * SIGMA * SIGMA + R * R);
  }

  @Test
  void shiftInterventionMatchesClosedForm() {
    Map<String, NDArray> s = scm.sample(manager, N, Map.of("x", Intervention.shift(1)));
    assertMoments("x | do(x := f(eps) + 1)", doubles(s.get("x")), MU + 1, SIGMA * SIGMA);
    assertMoments("y | do(x := f(eps) + 1)", doubles(s.get("y")), A * (MU + 1) + B, A * A * SIGMA * SIGMA + S * S);
  }

  private Map<String, NDArray> observed(double[] x, double[] y, double[] z) {
    Map<String, NDArray> o = new LinkedHashMap<>();
    o.put("x", manager.create(x));
    o.put("y", manager.create(y));
    o.put("z", manager.create(z));
    return o;
  }

  @Test
  void counterfactualsAreExact() {
    double[] x = {1.5, -0.3, 4.0};
    double[] y = {0.2, 2.5, -1.0};
    double[] z = {3.3, 0.0, 7.5};
    double x1 = -2.0;
    Map<String, NDArray> cf = scm.counterfactual(observed(x, y, z), Map.of("x", Intervention.set(x1)));
    double[] ycf = doubles(cf.get("y"));
    double[] zcf = doubles(cf.get("z"));
    for (int k = 0; k < x.length; k++) {
      // abduction: eps_y = (y - A x - B) / S; prediction: y' = A x1 + B + S eps_y
      double yExpected = y[k] + A * (x1 - x[k]);
      double zExpected = z[k] + C * (yExpected - y[k]) + D * (x1 - x[k]);
      assertEquals(yExpected, ycf[k], 1e-9, "y counterfactual, unit " + k);
      assertEquals(zExpected, zcf[k], 1e-9, "z counterfactual, unit " + k);
    }
    // intervening on y leaves x alone and moves z by C (y1 - y)
    Map<String, NDArray> cfy = scm.counterfactual(observed(x, y, z), Map.of("y", Intervention.set(0.5)));
    assertArrayEquals(x, doubles(cfy.get("x")), 1e-12);
    double[] zy = doubles(cfy.get("z"));
    for (int k = 0; k < x.length; k++) {
      assertEquals(z[k] + C * (0.5 - y[k]), zy[k], 1e-9);
    }
  }

  @Test
  void interveningWithTheObservedValueGivesBackTheObservation() {
    double[] x = {1.5, -0.3, 4.0};
    double[] y = {0.2, 2.5, -1.0};
    double[] z = {3.3, 0.0, 7.5};
    for (String v : new String[] {"x", "y", "z"}) {
      double[] own = v.equals("x") ? x : v.equals("y") ? y : z;
      for (int k = 0; k < x.length; k++) {
        Map<String, NDArray> unit = observed(new double[] {x[k]}, new double[] {y[k]}, new double[] {z[k]});
        Map<String, NDArray> cf = scm.counterfactual(unit, Map.of(v, Intervention.set(own[k])));
        assertEquals(x[k], doubles(cf.get("x"))[0], 1e-9);
        assertEquals(y[k], doubles(cf.get("y"))[0], 1e-9);
        assertEquals(z[k], doubles(cf.get("z"))[0], 1e-9);
      }
    }
    Map<String, NDArray> none = scm.counterfactual(observed(x, y, z), Map.of());
    assertArrayEquals(z, doubles(none.get("z")), 1e-9);
  }

  @Test
  void logProbIsTheGaussianFactorisation() {
    double[] x = {1.5, -0.3};
    double[] y = {0.2, 2.5};
    double[] z = {3.3, 0.0};
    double[] lp = doubles(scm.logProb(observed(x, y, z)));
    for (int k = 0; k < x.length; k++) {
      double expected = new NormalDistribution(MU, SIGMA).logDensity(x[k])
          + new NormalDistribution(A * x[k] + B, S).logDensity(y[k])
          + new NormalDistribution(C * y[k] + D * x[k] + E, R).logDensity(z[k]);
      assertEquals(expected, lp[k], 1e-9);
    }
  }

  @Test
  void interventionOnYDoesNotChangeUpstreamSamples() {
    Engine.getInstance().setRandomSeed(99);
    double[] plain = doubles(scm.sample(manager, 1000).get("x"));
    Engine.getInstance().setRandomSeed(99);
    double[] under = doubles(scm.sample(manager, 1000, Map.of("y", Intervention.set(5))).get("x"));
    assertArrayEquals(plain, under, 0);
  }

  @Test
  void badObservationsAreRefusedWithTheVariableNamed() {
    InvalidValueException nan = assertThrows(InvalidValueException.class,
        () -> scm.counterfactual(observed(new double[] {Double.NaN}, new double[] {0}, new double[] {0}),
            Map.of("x", Intervention.set(1))));
    assertTrue(nan.getMessage().contains("x") && nan.getMessage().contains("NaN"), nan.getMessage());
    InvalidValueException inf = assertThrows(InvalidValueException.class,
        () -> scm.logProb(observed(new double[] {0}, new double[] {Double.POSITIVE_INFINITY}, new double[] {0})));
    assertTrue(inf.getMessage().contains("y") && inf.getMessage().contains("infinite"), inf.getMessage());
    Map<String, NDArray> missing = observed(new double[] {0}, new double[] {0}, new double[] {0});
    missing.remove("z");
    InvalidValueException m = assertThrows(InvalidValueException.class, () -> scm.abduct(missing));
    assertTrue(m.getMessage().contains("'z'"), m.getMessage());
    assertThrows(InvalidModelException.class, () -> scm.sample(manager, 3, Map.of("w", Intervention.set(1))));
    assertThrows(InvalidValueException.class, () -> Intervention.set(Double.NaN));
  }

  @Test
  void negativeThicknessIsOutsideTheSupport() {
    Variable t = Variable.positive("t", "pixels");
    InvalidValueException e = assertThrows(InvalidValueException.class, () -> t.check(-1.0));
    assertTrue(e.getMessage().contains("t [pixels] = -1.0 is outside its support (0, inf)"), e.getMessage());
    Variable i = Variable.bounded("i", "0-255", 0, 255);
    assertThrows(InvalidValueException.class, () -> i.check(300));
    t.check(2.5);
    i.check(255);
  }

  @Test
  void interventionsParseFromText() {
    CausalGraph g = scm.graph();
    Intervention set = Intervention.parse("x=2.5", g);
    assertTrue(set.isAtomic());
    assertEquals(2.5, set.amount());
    Intervention shift = Intervention.parse(" y -= 0.5", g);
    assertEquals(-0.5, shift.amount());
    assertEquals("do(y := f_y(eps) - 0.5)", shift.describe("y"));
    assertThrows(InvalidValueException.class, () -> Intervention.parse("x := 2", g));
    assertThrows(InvalidModelException.class, () -> Intervention.parse("q=2", g));
    assertThrows(InvalidValueException.class, () -> Intervention.parse("x=abc", g));
  }

  @Test
  void scaleInterventionsParseAndMultiplyTheNaturalValue() {
    CausalGraph g = scm.graph();
    Intervention twice = Intervention.parse("y *= 2", g);
    assertTrue(twice.isScale());
    assertEquals(2.0, twice.amount());
    assertEquals("do(y := f_y(eps) x 2)", twice.describe("y"));
    assertEquals(7.0, twice.apply(3.5));
    assertThrows(InvalidValueException.class, () -> Intervention.parse("y*=0", g));
    assertThrows(InvalidValueException.class, () -> Intervention.parse("y*=-1", g));
    InvalidValueException words = assertThrows(InvalidValueException.class, () -> Intervention.parse("y*=twice", g));
    assertTrue(words.getMessage().contains("y*=2"), words.getMessage());

    // the counterfactual: y' = 2 y (y's own noise kept), z follows through C
    double[] x = {1.5, -0.3, 4.0};
    double[] y = {0.2, 2.5, -1.0};
    double[] z = {3.3, 0.0, 7.5};
    Map<String, NDArray> cf = scm.counterfactual(observed(x, y, z), Map.of("y", twice));
    double[] ycf = doubles(cf.get("y"));
    double[] zcf = doubles(cf.get("z"));
    for (int k = 0; k < x.length; k++) {
      assertEquals(2 * y[k], ycf[k], 1e-9);
      assertEquals(z[k] + C * y[k], zcf[k], 1e-9);
    }
  }

  @Test
  void categoriesReadInAnyCaseAndByAnUnsharedInitial() {
    Variable sex = Variable.binary("sex", "female", "male");
    assertEquals(0, sex.parse("F"));
    assertEquals(1, sex.parse("m"));
    assertEquals(0, sex.parse("Female"));
    assertEquals(1, sex.parse("MALE"));
    assertEquals(1, sex.parse("1"));
    Variable shared = Variable.categorical("size", java.util.List.of("small", "smaller", "large"));
    // "s" could be small or smaller: refused, with the categories named
    InvalidValueException e = assertThrows(InvalidValueException.class, () -> shared.parse("s"));
    assertTrue(e.getMessage().contains("small"), e.getMessage());
    assertEquals(2, shared.parse("L"));
  }
}
