package org.deepscm.data.brain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.deepscm.scm.Intervention;
import org.junit.jupiter.api.Test;

/** The population's true SCM: calibration to UK Biobank, exact abduction, counterfactuals. */
class BrainTrueScmTest {
  private static final int N = 100_000;

  private static BrainTrueScm.Covariates[] draw() {
    BrainTrueScm.Covariates[] out = new BrainTrueScm.Covariates[N];
    for (int k = 0; k < N; k++) {
      out[k] = BrainDataset.subject(99, k).covariates();
    }
    return out;
  }

  @Test
  void marginalsMatchUkBiobankStatistics() {
    BrainTrueScm.Covariates[] c = draw();
    double[][] logs = new double[3][N];
    double men = 0;
    for (int k = 0; k < N; k++) {
      logs[0][k] = Math.log(c[k].age());
      logs[1][k] = Math.log(c[k].brainMl() * 1000);
      logs[2][k] = Math.log(c[k].ventricleMl() * 1000);
      men += c[k].sex();
      assertTrue(c[k].age() >= 44 && c[k].age() <= 73, "age " + c[k].age());
    }
    // UK Biobank (causal-gen): log-mean / log-std of age, brain and ventricle volume (mm3)
    double[][] ukb = {{4.11234, 0.117692}, {13.96558, 0.095378}, {10.34600, 0.431278}};
    double[] meanTol = {0.01, 0.003, 0.01};
    double[] sdTol = {0.01, 0.003, 0.01};
    for (int v = 0; v < 3; v++) {
      double mean = 0;
      for (double x : logs[v]) {
        mean += x;
      }
      mean /= N;
      double var = 0;
      for (double x : logs[v]) {
        var += (x - mean) * (x - mean);
      }
      double sd = Math.sqrt(var / (N - 1));
      assertEquals(ukb[v][0], mean, meanTol[v], "log-mean of variable " + v);
      assertEquals(ukb[v][1], sd, sdTol[v], "log-std of variable " + v);
    }
    assertEquals(BrainTrueScm.P_MALE, men / N, 0.01);
  }

  @Test
  void brainShrinksWithAgeAndIsLargerInMenVentriclesGrowWithAge() {
    BrainTrueScm.Noise u = new BrainTrueScm.Noise(0.9, 0.5, 0.3, -0.2);
    BrainTrueScm.Covariates young = BrainTrueScm.counterfactual(u, Map.of("age", Intervention.set(50)));
    BrainTrueScm.Covariates old = BrainTrueScm.counterfactual(u, Map.of("age", Intervention.set(70)));
    assertTrue(old.brainMl() < young.brainMl());
    assertTrue(old.ventricleMl() > 1.4 * young.ventricleMl(), young + " vs " + old);
    BrainTrueScm.Covariates man = BrainTrueScm.counterfactual(u, Map.of("sex", Intervention.set(1)));
    BrainTrueScm.Covariates woman = BrainTrueScm.counterfactual(u, Map.of("sex", Intervention.set(0)));
    assertEquals(Math.exp(BrainTrueScm.B_SEX), man.brainMl() / woman.brainMl(), 1e-12);
    assertEquals(man.age(), woman.age(), 0);
  }

  @Test
  void abductionRecoversTheNoiseAndDoNothingReturnsTheSubject() {
    for (int k = 0; k < 200; k++) {
      BrainDataset.Subject s = BrainDataset.subject(5, k);
      BrainTrueScm.Noise back = BrainTrueScm.abduct(s.covariates(), s.noise().sex());
      assertEquals(s.noise().age(), back.age(), 1e-9);
      assertEquals(s.noise().brain(), back.brain(), 1e-9);
      assertEquals(s.noise().ventricle(), back.ventricle(), 1e-9);
      assertEquals(s.covariates(), BrainTrueScm.counterfactual(s.noise(), Map.of()));
    }
  }

  @Test
  void doVentricleVolumeLeavesItsAncestorsAlone() {
    BrainDataset.Subject s = BrainDataset.subject(5, 1);
    BrainTrueScm.Covariates cf = BrainTrueScm.counterfactual(s.noise(),
        Map.of("ventricle_volume", Intervention.set(80)));
    assertEquals(80, cf.ventricleMl(), 0);
    assertEquals(s.covariates().brainMl(), cf.brainMl(), 0);
    assertEquals(s.covariates().age(), cf.age(), 0);
  }

  @Test
  void interventionalVentricleMeanMatchesMonteCarlo() {
    for (double age : new double[] {50, 60, 70}) {
      double sum = 0;
      for (int k = 0; k < N; k++) {
        sum += BrainTrueScm.counterfactual(BrainDataset.subject(11, k).noise(), Map.of("age", Intervention.set(age)))
            .ventricleMl();
      }
      double exact = BrainTrueScm.interventionalVentricleMean(age);
      assertEquals(exact, sum / N, 0.01 * exact, "E[v | do(age = " + age + ")]");
    }
  }

  @Test
  void badInterventionsAreRefusedByName() {
    BrainTrueScm.Noise u = new BrainTrueScm.Noise(0.2, 0.5, 0, 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BrainTrueScm.counterfactual(u, Map.of("thickness", Intervention.set(2))));
    assertTrue(e.getMessage().contains("thickness"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> BrainTrueScm.counterfactual(u, Map.of("brain_volume", Intervention.set(-5))));
    assertTrue(e.getMessage().contains("positive"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> BrainTrueScm.counterfactual(u, Map.of("sex", Intervention.set(2))));
    assertTrue(e.getMessage().contains("sex"), e.getMessage());
  }
}
