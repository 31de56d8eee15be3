package org.deepscm.scm;

import ai.djl.ndarray.NDArray;
import org.deepscm.flow.Scalars;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.util.List;
import java.util.Map;

/**
 * How a parent's value enters a child's context network: ((log x or x) - shift) / scale, the
 * "hat" (unconstrained, normalised) parent of the paper, e.g. t-hat = (log t - 0.886) / 0.252.
 */
public record ContextEncoding(String parent, boolean log, double shift, double scale) {

  public ContextEncoding {
    if (!Double.isFinite(shift) || !Double.isFinite(scale) || scale <= 0) {
      throw new InvalidModelException(
          "context encoding of '" + parent + "' needs a finite shift and a positive scale");
    }
  }

  /** The same normalisation on one number (the image networks' context rows, a few units' flows in Java). */
  public double encode(double value) {
    return ((log ? Math.log(value) : value) - shift) / scale;
  }

  public NDArray encode(NDArray value) {
    NDArray v = log ? value.log() : value;
    return Scalars.dividedBy(v.sub(shift), scale);
  }

  /** The encodings as written in model files: [{parent, log, shift, scale}, ...]. */
  public static com.google.gson.JsonArray toJson(List<ContextEncoding> encodings) {
    com.google.gson.JsonArray a = new com.google.gson.JsonArray();
    for (ContextEncoding c : encodings) {
      com.google.gson.JsonObject e = new com.google.gson.JsonObject();
      e.addProperty("parent", c.parent());
      e.addProperty("log", c.log());
      e.addProperty("shift", c.shift());
      e.addProperty("scale", c.scale());
      a.add(e);
    }
    return a;
  }

  /** (N, P) context matrix of the encoded parents, in the given order; null when there are none. */
  public static NDArray matrix(List<ContextEncoding> encodings, Map<String, NDArray> parents) {
    if (encodings.isEmpty()) {
      return null;
    }
    NDList columns = new NDList();
    for (ContextEncoding e : encodings) {
      NDArray value = parents.get(e.parent());
      if (value == null) {
        throw new InvalidModelException("missing value of parent '" + e.parent() + "'");
      }
      columns.add(e.encode(value));
    }
    return NDArrays.stack(columns, 1);
  }
}
