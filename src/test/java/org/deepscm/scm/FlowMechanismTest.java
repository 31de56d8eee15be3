package org.deepscm.scm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.flow.FlowStep;
import org.deepscm.flow.ParameterSet;
import org.junit.jupiter.api.Test;

/**
 * A few units are computed one by one in Java, batches by libtorch: both must be the same map. Flows
 * with every kind of stage and random parameters (splines far from the identity, context networks with
 * hidden layers), values across and beyond the splines' interval.
 */
class FlowMechanismTest {
  private static final int ROWS = 60;

  @Test
  void aFewUnitsOneByOneGiveWhatTheBatchGives() {
    try (NDManager nd = NDManager.newBaseManager()) {
      ParameterSet params = new ParameterSet(nd);
      // volume-like: positive, two parents (one encoded in log space), spline + conditional affine + exp
      FlowMechanism positive = new FlowMechanism(Variable.positive("v", "ml"),
          List.of(new ContextEncoding("a", false, 50, 10), new ContextEncoding("b", true, 7, 0.5)),
          List.of(new FlowStep.Spline(8, 3), new FlowStep.ConditionalAffine(List.of(8, 4)),
              new FlowStep.Normalise(0.3, 1.7), new FlowStep.Exp()),
          params).initParameters(new Random(1));
      // a root in (0, 1): spline, learnt affine, sigmoid
      FlowMechanism unit = new FlowMechanism(Variable.bounded("p", "", 0, 1), List.of(),
          List.of(new FlowStep.Spline(6, 2.5), new FlowStep.Affine(), new FlowStep.Sigmoid()), params)
          .initParameters(new Random(2));
      Random r = new Random(3);
      for (Map.Entry<String, NDArray> e : params.all().entrySet()) {
        float[] v = new float[(int) e.getValue().size()];
        for (int k = 0; k < v.length; k++) {
          v[k] = (float) (0.8 * r.nextGaussian());
        }
        e.getValue().set(v);
      }
      params.changed();

      float[] noise = new float[ROWS];
      float[] a = new float[ROWS];
      float[] b = new float[ROWS];
      for (int u = 0; u < ROWS; u++) {
        noise[u] = (float) (2.5 * r.nextGaussian()); // some beyond the spline's bound
        a[u] = (float) (50 + 15 * r.nextGaussian());
        b[u] = (float) Math.exp(7 + 0.5 * r.nextGaussian());
      }
      Map<String, NDArray> parents = Map.of("a", nd.create(a), "b", nd.create(b));
      for (FlowMechanism m : List.of(positive, unit)) {
        NDArray eps = nd.create(noise);
        float[] batchValues = m.generate(eps, parents).toFloatArray();
        float[] batchNoise = m.abduct(nd.create(batchValues), parents).toFloatArray();
        for (int from = 0; from < ROWS; from += FlowMechanism.UNIT_BY_UNIT) {
          int to = Math.min(ROWS, from + FlowMechanism.UNIT_BY_UNIT);
          Map<String, NDArray> few = Map.of("a", nd.create(java.util.Arrays.copyOfRange(a, from, to)),
              "b", nd.create(java.util.Arrays.copyOfRange(b, from, to)));
          float[] values = m.generate(nd.create(java.util.Arrays.copyOfRange(noise, from, to)), few).toFloatArray();
          float[] back = m.abduct(nd.create(java.util.Arrays.copyOfRange(batchValues, from, to)), few)
              .toFloatArray();
          for (int u = from; u < to; u++) {
            String where = m.variable().name() + ", unit " + u + " (noise " + noise[u] + ")";
            assertEquals(batchValues[u], values[u - from], 2e-4 * Math.max(1, Math.abs(batchValues[u])),
                "generate, " + where);
            assertEquals(batchNoise[u], back[u - from], 2e-3 * Math.max(1, Math.abs(batchNoise[u])),
                "abduct, " + where);
          }
        }
      }
      // the splines really bend: the map is not an affine one
      float[] v = positive.generate(nd.create(new float[] {-1, 0, 1}), Map.of("a", nd.create(new float[] {50, 50, 50}),
          "b", nd.create(new float[] {1000, 1000, 1000}))).toFloatArray();
      double l0 = Math.log(v[0]);
      double l1 = Math.log(v[1]);
      double l2 = Math.log(v[2]);
      assertTrue(Math.abs((l2 - l1) - (l1 - l0)) > 1e-3, "a curved flow: " + (l1 - l0) + " vs " + (l2 - l1));
    }
  }
}
