package org.deepscm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.HashMap;
import java.util.Map;
import org.deepscm.flow.ParameterSet;

/**
 * Adam (Kingma and Ba 2015) over a {@link ParameterSet}, with its moment estimates kept by
 * parameter name so that a checkpoint can save and restore them exactly (training resumes where
 * it stopped, not with a cold optimiser).
 */
public final class Adam {
  private double learningRate;
  private final double beta1;
  private final double beta2;
  private final double epsilon;
  private final NDManager manager;
  private final Map<String, NDArray> first = new HashMap<>();
  private final Map<String, NDArray> second = new HashMap<>();
  private long steps;

  public Adam(NDManager manager, double learningRate, double epsilon) {
    this.manager = manager;
    this.learningRate = learningRate;
    this.beta1 = 0.9;
    this.beta2 = 0.999;
    this.epsilon = epsilon;
  }

  /** Sets the learning rate of the next steps (a schedule); the moments are kept. */
  public void learningRate(double rate) {
    if (!(rate > 0)) {
      throw new IllegalArgumentException("learning rate must be positive, got " + rate);
    }
    learningRate = rate;
  }

  public long steps() {
    return steps;
  }

  /** One update from the gradients the last backward pass left on each parameter. */
  public void step(ParameterSet params) {
    steps++;
    // an in-place update of the weights must not be recorded (the thread may have recording on)
    org.deepscm.flow.ParameterSet.stopRecordingGradients();
    double c1 = 1 - Math.pow(beta1, steps);
    double c2 = 1 - Math.pow(beta2, steps);
    for (Map.Entry<String, NDArray> e : params.all().entrySet()) {
      NDArray w = e.getValue();
      NDArray m = first.computeIfAbsent(e.getKey(), k -> manager.zeros(w.getShape(), w.getDataType()));
      NDArray v = second.computeIfAbsent(e.getKey(), k -> manager.zeros(w.getShape(), w.getDataType()));
      try (NDManager tmp = manager.newSubManager(); NDArray g = w.getGradient()) {
        NDArray gt = tmp.zeros(g.getShape(), g.getDataType()).add(g);
        m.muli(beta1).addi(gt.mul(1 - beta1));
        v.muli(beta2).addi(gt.square().mul(1 - beta2));
        NDArray update = tmp.zeros(m.getShape(), m.getDataType()).add(m).div(c1)
            .div(tmp.zeros(v.getShape(), v.getDataType()).add(v).div(c2).sqrt().add(epsilon))
            .mul(learningRate);
        w.subi(update);
      }
    }
    params.changed();
  }

  /** Moments and step count, named for a checkpoint. */
  public NDList state(NDManager target) {
    NDList list = new NDList();
    first.forEach((k, a) -> list.add(named(target, a, "adam.m." + k)));
    second.forEach((k, a) -> list.add(named(target, a, "adam.v." + k)));
    NDArray s = target.create(new long[] {steps});
    s.setName("adam.steps");
    list.add(s);
    return list;
  }

  private static NDArray named(NDManager target, NDArray a, String name) {
    NDArray c = target.create(a.toFloatArray(), a.getShape());
    c.setName(name);
    return c;
  }

  public void restore(NDList list) {
    for (NDArray a : list) {
      String name = a.getName();
      if (name == null) {
        continue;
      }
      if (name.equals("adam.steps")) {
        steps = a.toLongArray()[0];
      } else if (name.startsWith("adam.m.")) {
        first.put(name.substring(7), manager.create(a.toFloatArray(), a.getShape()));
      } else if (name.startsWith("adam.v.")) {
        second.put(name.substring(7), manager.create(a.toFloatArray(), a.getShape()));
      }
    }
  }
}
