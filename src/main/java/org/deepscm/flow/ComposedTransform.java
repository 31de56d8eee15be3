package org.deepscm.flow;

import ai.djl.ndarray.NDArray;
import java.util.List;

/** Applies its parts in order; the inverse undoes them in reverse order. Log-dets add up. */
public final class ComposedTransform implements Transform {
  private final List<Transform> parts;

  public ComposedTransform(List<Transform> parts) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("a composed transform needs at least one part");
    }
    this.parts = List.copyOf(parts);
  }

  public List<Transform> parts() {
    return parts;
  }

  @Override
  public Transformed forward(NDArray x) {
    NDArray value = x;
    NDArray logDet = null;
    for (Transform t : parts) {
      Transformed step = t.forward(value);
      value = step.value();
      logDet = logDet == null ? step.logDet() : logDet.add(step.logDet());
    }
    return new Transformed(value, logDet);
  }

  @Override
  public Transformed inverse(NDArray y) {
    NDArray value = y;
    NDArray logDet = null;
    for (int k = parts.size() - 1; k >= 0; k--) {
      Transformed step = parts.get(k).inverse(value);
      value = step.value();
      logDet = logDet == null ? step.logDet() : logDet.add(step.logDet());
    }
    return new Transformed(value, logDet);
  }
}
