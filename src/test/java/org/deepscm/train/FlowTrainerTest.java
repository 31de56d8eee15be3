package org.deepscm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlowTrainerTest {
  @TempDir
  Path dir;

  @Test
  void fitsMorphoMnistCovariatesCloseToTheTrueEntropy() throws Exception {
    CovariateTable train = MorphoMnistTrueScm.draw(8000, 11);
    CovariateTable validation = MorphoMnistTrueScm.draw(2000, 12);
    CovariateTable test = MorphoMnistTrueScm.draw(4000, 13);
    try (StructuralCausalModel scm = MorphoMnistModels.builder("full").build(train, 1)) {
      double before = FlowTrainer.evaluate(scm, test);
      FlowTrainer.Result r = new FlowTrainer().fit(scm, train, validation,
          new FlowTrainer.Options(5e-3, 256, 15, 5, 1, null, false), TrainingListener.SILENT);
      double after = FlowTrainer.evaluate(scm, test);
      assertTrue(after < before - 0.3, "training must lower the test NLL: " + before + " -> " + after);
      // the true SCM's differential entropy is about 0.93 + 4.2 nats; 15 short epochs get within 0.15
      assertTrue(after < 5.35, "test NLL after training: " + after);
      assertTrue(r.bestEpoch() >= 1 && r.history().size() == r.epochs());
    }
  }

  @Test
  void resumingFromACheckpointContinuesTheSameRun() throws Exception {
    CovariateTable train = MorphoMnistTrueScm.draw(3000, 21);
    CovariateTable validation = MorphoMnistTrueScm.draw(1000, 22);
    FlowTrainer.Options straight = new FlowTrainer.Options(5e-3, 256, 6, 100, 3, dir.resolve("a"), false);
    double[] expected;
    try (StructuralCausalModel scm = MorphoMnistModels.builder("full").build(train, 3)) {
      new FlowTrainer().fit(scm, train, validation, straight, TrainingListener.SILENT);
      expected = scm.parameters().snapshot(scm.parameters().manager()).stream()
          .flatMap(a -> java.util.stream.Stream.of(a.toFloatArray())).map(FlowTrainerTest::toDoubles)
          .flatMapToDouble(java.util.Arrays::stream).toArray();
    }
    Path ck = dir.resolve("b");
    try (StructuralCausalModel scm = MorphoMnistModels.builder("full").build(train, 3)) {
      new FlowTrainer().fit(scm, train, validation, straight.withCheckpoints(ck, false).withMaxEpochs(3),
          TrainingListener.SILENT);
    }
    double[] resumed;
    FlowTrainer.Result r;
    try (StructuralCausalModel scm = MorphoMnistModels.builder("full").build(train, 3)) {
      r = new FlowTrainer().fit(scm, train, validation, straight.withCheckpoints(ck, true), TrainingListener.SILENT);
      resumed = scm.parameters().snapshot(scm.parameters().manager()).stream()
          .flatMap(a -> java.util.stream.Stream.of(a.toFloatArray())).map(FlowTrainerTest::toDoubles)
          .flatMapToDouble(java.util.Arrays::stream).toArray();
    }
    assertEquals(6, r.epochs());
    assertEquals(6, r.history().size(), "history holds the epochs before and after the resume");
    assertArrayEquals(expected, resumed, 1e-3, "3 + 3 resumed epochs must equal 6 straight epochs");
  }

  private static double[] toDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int k = 0; k < f.length; k++) {
      d[k] = f[k];
    }
    return d;
  }

  @Test
  void learnsABinaryRootFrequencyAndALinearDependence() throws Exception {
    // sex ~ Bernoulli(0.3); height | sex: positive with a sex effect
    java.util.Random r = new java.util.Random(4);
    int n = 6000;
    double[] sex = new double[n];
    double[] height = new double[n];
    for (int k = 0; k < n; k++) {
      sex[k] = r.nextDouble() < 0.3 ? 1 : 0;
      height[k] = Math.exp(5.1 + 0.08 * sex[k] + 0.04 * r.nextGaussian());
    }
    CovariateTable data = new CovariateTable(new java.util.LinkedHashMap<>(Map.of("sex", sex, "height", height)));
    ScmBuilder b = new ScmBuilder().variable(Variable.binary("sex", "female", "male"))
        .variable(Variable.positive("height", "cm"), "sex");
    try (StructuralCausalModel scm = b.build(data.slice(0, 5000), 2)) {
      new FlowTrainer().fit(scm, data.slice(0, 5000), data.slice(5000, n),
          new FlowTrainer.Options(2e-2, 256, 60, 10, 2, null, false), TrainingListener.SILENT);
      try (var m = ai.djl.ndarray.NDManager.newBaseManager()) {
        ai.djl.engine.Engine.getInstance().setRandomSeed(5);
        var s = scm.sample(m, 20000);
        double male = s.get("sex").mean().getFloat();
        assertEquals(0.3, male, 0.03, "learnt P(male)");
        var under = scm.sample(m, 20000, Map.of("sex", org.deepscm.scm.Intervention.set(1)));
        double meanLog = under.get("height").log().mean().getFloat();
        assertEquals(5.18, meanLog, 0.02, "E[log height | do(sex := male)]");
      }
      assertEquals(List.of("sex"), scm.graph().parents("height"));
    }
  }
}
