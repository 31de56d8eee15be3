package org.deepscm.flow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * The named trainable arrays of a model (float32, gradients attached), owned by one NDManager
 * that lives as long as the model.
 *
 * <p>Computation never starts from a stored array directly: DJL attaches an operation's result to
 * the manager of its first operand, so results of operations on stored arrays would pile up in the
 * model's manager. {@link #scoped(NDManager)} gives views that live in a caller's short-lived
 * manager (one per training step or per request) and still carry gradients to the stored arrays.
 */
public final class ParameterSet {
  /**
   * Turns libtorch's gradient recording off for the calling thread. libtorch records gradients by
   * default on every thread and DJL turns that off only on the thread that starts the engine, so a
   * worker thread would otherwise build an autograd graph in every inference through the stored
   * weights (slower, more memory) and an optimiser's in-place update of them would be refused.
   * A gradient collector turns recording on for its own lifetime only.
   */
  public static void stopRecordingGradients() {
    ai.djl.engine.Engine.getInstance(); // loads libtorch first
    ai.djl.pytorch.jni.JniUtils.setGradMode(false);
  }

  private final NDManager manager;
  private final Map<String, NDArray> arrays = new LinkedHashMap<>();

  public ParameterSet(NDManager manager) {
    this.manager = manager;
  }

  public NDManager manager() {
    return manager;
  }

  /** Adds a parameter drawn from N(0, std^2) with the given seed stream (std 0 gives zeros; a null stream too). */
  public NDArray create(String name, Shape shape, double std, Random random) {
    changed();
    if (random == null) {
      // zeros of the right name and shape, for a model folder's weights file to overwrite (drawing millions
      // of Gaussians only to overwrite them took a noticeable part of the explorer's start)
      try (NDArray zeros = manager.zeros(shape)) {
        return put(name, zeros);
      }
    }
    float[] values = new float[Math.toIntExact(shape.size())];
    for (int k = 0; k < values.length; k++) {
      values[k] = (float) (std * random.nextGaussian());
    }
    try (NDArray drawn = manager.create(values, shape)) {
      return put(name, drawn);
    }
  }

  /**
   * Adds or replaces a parameter with the given values, copied to float32 in this set's manager: the stored
   * array owns its memory, so {@code values} may be closed (with its manager) at once.
   */
  public NDArray put(String name, NDArray values) {
    changed();
    NDArray stored = ownCopy(values, manager);
    stored.setName(name);
    stored.setRequiresGradient(true);
    NDArray old = arrays.put(name, stored);
    if (old != null && old != stored) {
      old.close();
    }
    return stored;
  }

  /**
   * A float32 copy of {@code values} that owns its memory, in {@code target}. DJL's PyTorch engine answers
   * toType(FLOAT32, copy = true) on a float32 array with an alias of the same memory: a parameter stored that
   * way from an array made in a short-lived manager (from a Java array, whose memory the JVM frees once
   * that array is closed) was later updated in place by the optimiser in freed memory, and glibc aborted
   * the training with "corrupted double-linked list".
   */
  public static NDArray ownCopy(NDArray values, NDManager target) {
    NDArray converted = values.toType(DataType.FLOAT32, false);
    NDArray stored = converted.duplicate();
    if (converted != values) {
      converted.close();
    }
    if (stored.getManager() != target) {
      stored.attach(target);
    }
    return stored;
  }

  /**
   * Sets every parameter's gradient to 0 before a backward pass. The gradients' handles and what DJL makes
   * to set them live in a short-lived manager: in this set's own they stayed until the model closed, one
   * per parameter and step (1.5 million arrays in a 30-epoch brain run).
   */
  public void zeroGradients() {
    try (NDManager tmp = manager.newSubManager()) {
      for (NDArray p : arrays.values()) {
        NDArray g = p.getGradient();
        g.attach(tmp);
        g.set(new ai.djl.ndarray.index.NDIndex(":"), 0);
      }
    }
  }

  public NDArray get(String name) {
    NDArray a = arrays.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no parameter named '" + name + "'; have " + arrays.keySet());
    }
    return a;
  }

  public boolean contains(String name) {
    return arrays.containsKey(name);
  }

  public Map<String, NDArray> all() {
    return Collections.unmodifiableMap(arrays);
  }

  private volatile long version;

  /**
   * Goes up whenever a parameter's values may have changed (created, put, restored, or stepped by an
   * optimiser, which calls {@link #changed()}): what is derived from the values (batch norm folded into
   * the layer before it) is derived again.
   */
  public long version() {
    return version;
  }

  /** Says that parameter values were changed in place. */
  public void changed() {
    version++;
  }

  public long count() {
    return arrays.values().stream().mapToLong(a -> a.getShape().size()).sum();
  }

  /** Views of every parameter that live in {@code scope} and pass gradients through. */
  public Scoped scoped(NDManager scope) {
    Map<String, NDArray> views = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
      NDArray p = e.getValue();
      // zeros(scope) + p: a new array in scope whose gradient flows to p
      views.put(e.getKey(), scope.zeros(p.getShape(), p.getDataType()).add(p));
    }
    return new Scoped(views);
  }

  /** Parameters as seen by one computation. */
  public static final class Scoped {
    private final Map<String, NDArray> views;

    Scoped(Map<String, NDArray> views) {
      this.views = views;
    }

    public NDArray get(String name) {
      NDArray a = views.get(name);
      if (a == null) {
        throw new IllegalArgumentException("no parameter named '" + name + "'; have " + views.keySet());
      }
      return a;
    }
  }

  /** A named copy of every parameter in {@code target}'s manager (for saving or for a best-so-far snapshot). */
  public NDList snapshot(NDManager target) {
    NDList list = new NDList();
    for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
      NDArray copy = target.create(e.getValue().toFloatArray(), e.getValue().getShape());
      copy.setName(e.getKey());
      list.add(copy);
    }
    return list;
  }

  /**
   * Copies values from {@code list} into the parameters of the same names. Every parameter must be
   * present with the same shape; a missing or misshapen one is an error that names it.
   */
  public void restore(NDList list, String source) {
    changed();
    Map<String, NDArray> byName = new LinkedHashMap<>();
    for (NDArray a : list) {
      byName.put(a.getName(), a);
    }
    for (Map.Entry<String, NDArray> e : Map.copyOf(arrays).entrySet()) {
      NDArray saved = byName.get(e.getKey());
      if (saved == null) {
        throw new IllegalArgumentException(source + " has no weights for parameter '" + e.getKey() + "'");
      }
      if (!saved.getShape().equals(e.getValue().getShape())) {
        throw new IllegalArgumentException(
            source + ": parameter '" + e.getKey() + "' has shape " + saved.getShape()
                + " but the model needs " + e.getValue().getShape());
      }
      float[] values = saved.toType(DataType.FLOAT32, false).toFloatArray();
      for (float v : values) {
        if (!Float.isFinite(v)) {
          throw new IllegalArgumentException(
              source + ": parameter '" + e.getKey() + "' contains NaN or infinite values");
        }
      }
      try (NDArray read = manager.create(values, saved.getShape())) {
        put(e.getKey(), read);
      }
    }
  }
}
