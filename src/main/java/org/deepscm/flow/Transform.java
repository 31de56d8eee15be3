package org.deepscm.flow;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * An invertible elementwise map of the real line (or an interval of it). {@code forward} goes
 * from noise towards data; {@code inverse} goes back. Both return log |det J| of the direction
 * they compute, so {@code forward(x).logDet + inverse(forward(x).value).logDet == 0}.
 *
 * <p>Implementations compute with the input's data type and keep every intermediate result in the
 * input's NDManager, so callers control native memory by choosing where their input lives.
 */
public interface Transform {

  Transformed forward(NDArray x);

  Transformed inverse(NDArray y);

  /** This transform followed by {@code next}. */
  default Transform then(Transform next) {
    List<Transform> parts = new ArrayList<>();
    parts.add(this);
    parts.add(next);
    return new ComposedTransform(parts);
  }
}
