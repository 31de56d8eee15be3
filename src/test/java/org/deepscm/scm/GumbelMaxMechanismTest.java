package org.deepscm.scm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.flow.ParameterSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Appendix C: exact Gumbel-max abduction and the counterfactual-stability property. */
class GumbelMaxMechanismTest {
  private static final double EULER_GAMMA = 0.5772156649015329;
  private NDManager manager;
  private GumbelMaxMechanism mechanism;
  private ParameterSet params;

  @BeforeEach
  void open() {
    Engine.getInstance().setRandomSeed(7);
    manager = NDManager.newBaseManager();
    params = new ParameterSet(manager);
    Variable y = Variable.categorical("y", List.of("a", "b", "c", "d"));
    mechanism = new GumbelMaxMechanism(y, List.of(new ContextEncoding("u", false, 0, 1)), List.of(), params)
        .initParameters(new Random(1));
    params.put("y.logits.layer0.weight", manager.create(new float[] {1.5f, -0.5f, 0.0f, 2.0f}, new Shape(1, 4)));
    params.put("y.logits.layer0.bias", manager.create(new float[] {0.3f, 1.0f, -1.0f, -0.7f}));
  }

  @AfterEach
  void close() {
    manager.close();
  }

  private Map<String, NDArray> parents(int n) {
    return Map.of("u", manager.randomNormal(0, 1, new Shape(n), DataType.FLOAT32));
  }

  @Test
  void abductedNoiseReproducesTheObservedCategory() {
    int n = 20_000;
    Map<String, NDArray> pa = parents(n);
    NDArray y = mechanism.generate(mechanism.sampleNoise(manager, n), pa);
    for (int repeat = 0; repeat < 3; repeat++) {
      NDArray eps = mechanism.abduct(y, pa);
      float[] again = mechanism.generate(eps, pa).toFloatArray();
      float[] observed = y.toFloatArray();
      for (int k = 0; k < n; k++) {
        assertEquals(observed[k], again[k], "unit " + k);
      }
    }
  }

  @Test
  void posteriorNoiseAveragedOverTheDataIsStandardGumbel() {
    // if y ~ p(y | pa) and eps ~ p(eps | y, pa), then eps ~ Gumbel(0, 1): a check of Eq. C.3
    int n = 100_000;
    Map<String, NDArray> pa = parents(n);
    NDArray y = mechanism.generate(mechanism.sampleNoise(manager, n), pa);
    float[] eps = mechanism.abduct(y, pa).toFloatArray();
    double mean = 0;
    for (float e : eps) {
      mean += e;
    }
    mean /= eps.length;
    double var = 0;
    for (float e : eps) {
      var += (e - mean) * (e - mean);
    }
    var /= eps.length - 1;
    double gumbelVar = Math.PI * Math.PI / 6;
    assertEquals(EULER_GAMMA, mean, 4 * Math.sqrt(gumbelVar / eps.length) * 2);
    assertEquals(gumbelVar, var, 0.03);
  }

  @Test
  void counterfactualsAreStable() {
    // Oberst and Sontag (2019): if the intervention raises the observed category's logit at least as
    // much as every other's, the counterfactual outcome is the observed one.
    int n = 5_000;
    Map<String, NDArray> pa = parents(n);
    NDArray y = mechanism.generate(mechanism.sampleNoise(manager, n), pa);
    NDArray eps = mechanism.abduct(y, pa);
    NDArray lambda = mechanism.logits(y, pa);
    NDArray observed = y.toType(DataType.INT64, false).oneHot(4, DataType.FLOAT32);
    NDArray boost = manager.randomUniform(0f, 2f, new Shape(n, 4));
    // every category may move up or down, the observed one by at least the most any other rises
    NDArray others = boost.sub(1).mul(observed.neg().add(1));
    NDArray lift = others.max(new int[] {1}, true).add(boost.get(":, 0:1"));
    NDArray changed = lambda.add(others).add(observed.mul(lift));
    float[] cf = eps.add(changed).argMax(1).toType(DataType.FLOAT32, false).toFloatArray();
    float[] obs = y.toFloatArray();
    for (int k = 0; k < n; k++) {
      assertEquals(obs[k], cf[k], "unit " + k + " changed category although its odds rose most");
    }
  }

  @Test
  void logProbIsTheSoftmaxOfTheLogits() {
    Map<String, NDArray> pa = Map.of("u", manager.create(new float[] {0.5f, 0.5f, 0.5f, 0.5f}));
    float[] lp = mechanism.logProb(manager.create(new float[] {0, 1, 2, 3}), pa).toFloatArray();
    double[] logits = {0.3 + 0.75, 1.0 - 0.25, -1.0, -0.7 + 1.0};
    double lse = Math.log(Math.exp(logits[0]) + Math.exp(logits[1]) + Math.exp(logits[2]) + Math.exp(logits[3]));
    double total = 0;
    for (int k = 0; k < 4; k++) {
      assertEquals(logits[k] - lse, lp[k], 1e-5);
      total += Math.exp(lp[k]);
    }
    assertEquals(1.0, total, 1e-5);
  }

  @Test
  void binaryRootWithoutParentsSamplesItsLearntFrequency() {
    ParameterSet ps = new ParameterSet(manager);
    GumbelMaxMechanism sex = new GumbelMaxMechanism(Variable.binary("sex", "female", "male"), List.of(), List.of(),
        ps).initParameters(new Random(0));
    ps.put("sex.logits.layer0.bias", manager.create(new float[] {0f, (float) Math.log(0.3 / 0.7)}));
    int n = 50_000;
    float[] s = sex.generate(sex.sampleNoise(manager, n), Map.of()).toFloatArray();
    double male = 0;
    for (float v : s) {
      male += v;
    }
    assertEquals(0.3, male / n, 3 * Math.sqrt(0.21 / n) + 1e-9);
    assertTrue(sex.abduct(manager.create(new float[] {1, 0}), Map.of()).getShape().equals(new Shape(2, 2)));
  }
}
