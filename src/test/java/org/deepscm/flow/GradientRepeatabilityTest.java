package org.deepscm.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The same forward and backward pass must give the same gradients every time, also after other
 * work has reused native memory. (Scalar constants that DJL frees before the backward pass made
 * the spline's gradients vary and sometimes go NaN: see {@link Scalars}.)
 */
class GradientRepeatabilityTest {

  @Test
  void thicknessFlowGradientsAreRepeatable() {
    try (NDManager m = NDManager.newBaseManager()) {
      ParameterSet params = new ParameterSet(m);
      Random r = new Random(1);
      for (String name : new String[] {"w", "h", "l"}) {
        params.create(name, new Shape(8), 0.3, r);
      }
      params.create("d", new Shape(7), 0.3, r);
      float[] t = new float[256];
      for (int k = 0; k < t.length; k++) {
        t[k] = (float) Math.exp(0.886 + 0.4 * r.nextGaussian());
      }
      float[] first = null;
      for (int repeat = 0; repeat < 60; repeat++) {
        try (NDManager step = m.newSubManager()) {
          // dirty the allocator so a read of freed memory would show
          step.randomNormal(new Shape(4096)).mul(1e30f).close();
          NDArray x = step.create(t);
          for (NDArray p : params.all().values()) {
            p.getGradient().set(new NDIndex(":"), 0);
          }
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            ParameterSet.Scoped s = params.scoped(step);
            Transform flow = new SplineTransform(3, s.get("w"), s.get("h"), s.get("d"), s.get("l"))
                .then(new AffineNormalisation(0.886, 0.252)).then(new ExpTransform());
            Transformed back = flow.inverse(x);
            NDArray logProb = Scalars.times(back.value().square(), -0.5).add(back.logDet());
            // let the JVM free unreachable direct buffers, then let libtorch reuse small blocks
            System.gc();
            for (int j = 0; j < 64; j++) {
              step.randomNormal(new Shape(1)).mul(1e30f).close();
            }
            gc.backward(logProb.sum());
          }
          float[] grads = new float[31];
          int k = 0;
          for (NDArray p : params.all().values()) {
            for (float g : p.getGradient().toFloatArray()) {
              assertTrue(Float.isFinite(g), "non-finite gradient in repeat " + repeat);
              grads[k++] = g;
            }
          }
          if (first == null) {
            first = grads;
          } else {
            assertArrayEquals(first, grads, 0f, "gradients changed in repeat " + repeat);
          }
        }
      }
    }
  }
}
