package org.deepscm.flow;

import ai.djl.ndarray.NDArray;

/**
 * The output of a 1-D transform applied elementwise: the transformed values and, per element,
 * log |d output / d input|.
 */
public record Transformed(NDArray value, NDArray logDet) {}
