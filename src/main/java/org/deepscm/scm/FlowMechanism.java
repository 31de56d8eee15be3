package org.deepscm.scm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.flow.ComposedTransform;
import org.deepscm.flow.FlowStep;
import org.deepscm.flow.ParameterSet;
import org.deepscm.flow.ScalarFlow;
import org.deepscm.flow.Scalars;
import org.deepscm.flow.Transform;

/**
 * An invertible, explicit mechanism (paper Eq. 1): x = f(eps; pa) with eps ~ N(0, 1) and f a
 * (conditional) normalising flow built from {@link FlowStep}s. Abduction inverts f exactly;
 * log p(x | pa) = log N(f^-1(x)) + log |d f^-1 / dx|.
 */
public final class FlowMechanism implements Mechanism {
  private static final double LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

  private final Variable variable;
  private final List<ContextEncoding> context;
  private final List<FlowStep> steps;
  private final ParameterSet params;

  public FlowMechanism(
      Variable variable, List<ContextEncoding> context, List<FlowStep> steps, ParameterSet params) {
    if (!variable.kind().isScalar() || variable.kind().isDiscrete()) {
      throw new InvalidModelException(
          "a flow mechanism models a continuous scalar; '" + variable.name() + "' is " + variable.kind());
    }
    if (steps.isEmpty()) {
      throw new InvalidModelException("flow of '" + variable.name() + "' has no steps");
    }
    this.variable = variable;
    this.context = List.copyOf(context);
    this.steps = List.copyOf(steps);
    this.params = params;
  }

  /** Creates fresh parameters for every learnt step (seeded). */
  public FlowMechanism initParameters(Random random) {
    for (int k = 0; k < steps.size(); k++) {
      steps.get(k).initParameters(params, prefix(k), context.size(), random);
    }
    return this;
  }

  private String prefix(int step) {
    return variable.name() + "." + step + "." + steps.get(step).type();
  }

  @Override
  public Variable variable() {
    return variable;
  }

  @Override
  public List<String> parents() {
    return context.stream().map(ContextEncoding::parent).toList();
  }

  public List<ContextEncoding> context() {
    return context;
  }

  public List<FlowStep> steps() {
    return steps;
  }

  /** The flow from noise to value for these parents, computed in {@code like}'s manager. */
  public Transform transform(NDArray like, Map<String, NDArray> parents) {
    NDManager scope = like.getManager();
    ParameterSet.Scoped scoped = params.scoped(scope);
    NDArray ctx = ContextEncoding.matrix(context, parents);
    if (ctx != null) {
      ctx = ctx.toType(like.getDataType(), false);
    }
    List<Transform> parts = new ArrayList<>();
    for (int k = 0; k < steps.size(); k++) {
      parts.add(steps.get(k).build(scoped, prefix(k), ctx));
    }
    return new ComposedTransform(parts);
  }

  @Override
  public NDArray sampleNoise(NDManager manager, long n) {
    return manager.randomNormal(0, 1, new Shape(n), DataType.FLOAT32);
  }

  @Override
  public NDArray generate(NDArray noise, Map<String, NDArray> parents) {
    if (fewUnits(noise)) {
      return unitByUnit(noise, parents, true);
    }
    return transform(noise, parents).forward(noise).value();
  }

  @Override
  public NDArray abduct(NDArray value, Map<String, NDArray> parents) {
    if (fewUnits(value)) {
      return unitByUnit(value, parents, false);
    }
    return transform(value, parents).inverse(value).value();
  }

  /** At most this many units are computed one by one in Java ({@link ScalarFlow}) rather than by libtorch. */
  static final int UNIT_BY_UNIT = 16;

  /** The flow in Java doubles, for the parameter version it was built from. */
  private ScalarFlow scalarFlow;
  private long scalarFlowVersion = -1;

  private synchronized ScalarFlow scalarFlow() {
    if (scalarFlow == null || scalarFlowVersion != params.version()) {
      scalarFlow = ScalarFlow.of(steps, this::prefix, params);
      scalarFlowVersion = params.version();
    }
    return scalarFlow;
  }

  /** A few plain units (no gradient to carry): the explorer's case, a command-line query. */
  private static boolean fewUnits(NDArray a) {
    return a.getShape().dimension() == 1 && a.size() <= UNIT_BY_UNIT && !a.hasGradient()
        && (a.getDataType() == DataType.FLOAT32 || a.getDataType() == DataType.FLOAT64);
  }

  /** generate ({@code forward}) or abduct, unit by unit in Java; the answer in {@code in}'s manager and type. */
  private NDArray unitByUnit(NDArray in, Map<String, NDArray> parents, boolean forward) {
    int n = Math.toIntExact(in.size());
    double[] x = ScalarFlow.values(in);
    double[][] columns = new double[context.size()][];
    for (int j = 0; j < context.size(); j++) {
      ContextEncoding e = context.get(j);
      NDArray p = parents.get(e.parent());
      if (p == null) {
        throw new InvalidModelException("missing value of parent '" + e.parent() + "'");
      }
      columns[j] = ScalarFlow.values(p);
      if (columns[j].length != n) {
        throw new InvalidValueException("parent '" + e.parent() + "' has " + columns[j].length + " rows, '"
            + variable.name() + "' has " + n);
      }
    }
    ScalarFlow flow = scalarFlow();
    double[] out = new double[n];
    double[] ctx = new double[context.size()];
    for (int u = 0; u < n; u++) {
      for (int j = 0; j < ctx.length; j++) {
        double encoded = context.get(j).encode(columns[j][u]);
        // rounded as the NDArray path's context (its input's type) would be
        ctx[j] = in.getDataType() == DataType.FLOAT32 ? (float) encoded : encoded;
      }
      out[u] = forward ? flow.forward(x[u], ctx) : flow.inverse(x[u], ctx, in.getDataType());
    }
    if (in.getDataType() == DataType.FLOAT64) {
      return in.getManager().create(out, in.getShape());
    }
    float[] f = new float[n];
    for (int u = 0; u < n; u++) {
      f[u] = (float) out[u];
    }
    return in.getManager().create(f, in.getShape());
  }

  @Override
  public NDArray logProb(NDArray value, Map<String, NDArray> parents) {
    var back = transform(value, parents).inverse(value);
    NDArray eps = back.value();
    return Scalars.times(eps.square(), -0.5).sub(LOG_SQRT_2PI).add(back.logDet());
  }

  @Override
  public boolean isInvertible() {
    return true;
  }
}
