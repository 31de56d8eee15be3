package org.deepscm.scm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;

/**
 * A structural assignment x := f(eps; pa) with its noise distribution P(eps). Values are batches:
 * one row per unit (shape (N) for scalar variables); parents come as a map from name to batch.
 */
public interface Mechanism {

  Variable variable();

  List<String> parents();

  /** N draws of the exogenous noise from P(eps). */
  NDArray sampleNoise(NDManager manager, long n);

  /** Prediction: x = f(eps; pa). */
  NDArray generate(NDArray noise, Map<String, NDArray> parents);

  /**
   * Abduction: noise compatible with the observed value and parents. Exact inversion when
   * {@link #isInvertible()}; otherwise one draw from the posterior P(eps | x, pa).
   */
  NDArray abduct(NDArray value, Map<String, NDArray> parents);

  /** log p(x | pa) per row. */
  NDArray logProb(NDArray value, Map<String, NDArray> parents);

  /** Whether {@link #abduct} is deterministic (x determines eps given pa). */
  boolean isInvertible();
}
