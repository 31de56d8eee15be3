package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deepscm.flow.ParameterSet;

/**
 * Batch norm's running statistics of a network: named arrays that are not trained but are saved with the
 * weights, each a copy owned by one manager (never an alias of an array someone else may free:
 * {@link ParameterSet#ownCopy}).
 */
final class RunningStatistics {
  private final NDManager owner;
  private final Map<String, NDArray> arrays = new LinkedHashMap<>();

  RunningStatistics(NDManager owner) {
    this.owner = owner;
  }

  /** Stores a copy of {@code values} under {@code name}, closing the one it replaces. */
  void put(String name, NDArray values) {
    NDArray stored = ParameterSet.ownCopy(values, owner);
    stored.setName(name);
    NDArray old = arrays.put(name, stored);
    if (old != null && old != stored) {
      old.close();
    }
  }

  NDArray get(String name) {
    return arrays.get(name);
  }

  /** The statistics by name (live arrays; do not close). */
  Map<String, NDArray> view() {
    return Collections.unmodifiableMap(arrays);
  }

  /** Adds a named copy of every statistic, in {@code target}'s manager, to {@code list}. */
  void copyInto(NDList list, NDManager target) {
    for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
      NDArray copy = target.create(e.getValue().toFloatArray(), e.getValue().getShape());
      copy.setName(e.getKey());
      list.add(copy);
    }
  }

  /**
   * Replaces every statistic by the array of the same name in {@code list}.
   *
   * @param needs what the statistics belong to, for the messages ("the model")
   * @param nonNegativeVariances whether a negative value of a {@code running_var} is refused too
   * @throws IllegalArgumentException naming {@code source} and a missing, misshapen or non-finite array
   */
  void restore(NDList list, String source, String needs, boolean nonNegativeVariances) {
    Map<String, NDArray> byName = new LinkedHashMap<>();
    for (NDArray a : list) {
      byName.put(a.getName(), a);
    }
    for (Map.Entry<String, NDArray> e : Map.copyOf(arrays).entrySet()) {
      NDArray saved = byName.get(e.getKey());
      if (saved == null) {
        throw new IllegalArgumentException(source + " has no values for '" + e.getKey() + "'");
      }
      if (!saved.getShape().equals(e.getValue().getShape())) {
        throw new IllegalArgumentException(source + ": '" + e.getKey() + "' has shape " + saved.getShape()
            + " but " + needs + " needs " + e.getValue().getShape());
      }
      float[] values = saved.toType(DataType.FLOAT32, false).toFloatArray();
      boolean variance = nonNegativeVariances && e.getKey().endsWith("running_var");
      for (float v : values) {
        if (!Float.isFinite(v) || variance && v < 0) {
          throw new IllegalArgumentException(source + ": '" + e.getKey() + "' contains NaN"
              + (nonNegativeVariances ? ", infinite or (variances) negative values" : " or infinite values"));
        }
      }
      try (NDArray read = owner.create(values, saved.getShape())) {
        put(e.getKey(), read);
      }
    }
  }
}
