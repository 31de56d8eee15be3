package org.deepscm.scm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.flow.ContextNetwork;
import org.deepscm.flow.ParameterSet;

/**
 * A discrete mechanism in the Gumbel-max parametrisation (paper Appendix C): logits lambda =
 * g(pa), y = argmax_l (eps_l + lambda_l), eps_l ~ Gumbel(0, 1). Binary variables are the K = 2
 * case. Abduction draws eps from its exact posterior given the observed category (Eq. C.3), so
 * counterfactuals (Eq. C.4) are counterfactually stable (Oberst and Sontag 2019).
 */
public final class GumbelMaxMechanism implements Mechanism {
  private final Variable variable;
  private final List<ContextEncoding> context;
  private final List<Integer> hidden;
  private final ParameterSet params;

  public GumbelMaxMechanism(
      Variable variable, List<ContextEncoding> context, List<Integer> hidden, ParameterSet params) {
    if (!variable.kind().isDiscrete()) {
      throw new InvalidModelException(
          "a Gumbel-max mechanism models a discrete variable; '" + variable.name() + "' is " + variable.kind());
    }
    this.variable = variable;
    this.context = List.copyOf(context);
    this.hidden = List.copyOf(hidden);
    this.params = params;
  }

  private int categories() {
    return variable.categories().size();
  }

  private ContextNetwork network() {
    return new ContextNetwork(context.size(), hidden, categories());
  }

  private String prefix() {
    return variable.name() + ".logits";
  }

  public GumbelMaxMechanism initParameters(Random random) {
    network().initParameters(params, prefix(), random);
    return this;
  }

  public List<ContextEncoding> context() {
    return context;
  }

  public List<Integer> hidden() {
    return hidden;
  }

  /** (N, K) logits for the given parents; {@code like} gives N, the data type and the manager. */
  public NDArray logits(NDArray like, Map<String, NDArray> parents) {
    NDArray ctx = ContextEncoding.matrix(context, parents);
    ctx = ctx == null ? like.zerosLike().reshape(-1, 1) : ctx.toType(like.getDataType(), false);
    return network().apply(params.scoped(like.getManager()), prefix(), ctx);
  }

  @Override
  public Variable variable() {
    return variable;
  }

  @Override
  public List<String> parents() {
    return context.stream().map(ContextEncoding::parent).toList();
  }

  /** -log(-log U), U ~ Uniform(0, 1), shape (N, K). */
  static NDArray gumbel(NDManager manager, Shape shape, DataType type) {
    NDArray u = manager.randomUniform(1e-7f, 1f - 1e-7f, shape, type);
    return u.log().neg().log().neg();
  }

  @Override
  public NDArray sampleNoise(NDManager manager, long n) {
    return gumbel(manager, new Shape(n, categories()), DataType.FLOAT32);
  }

  @Override
  public NDArray generate(NDArray noise, Map<String, NDArray> parents) {
    NDArray lambda = logits(noise.get(":, 0"), parents);
    return noise.add(lambda).argMax(1).toType(noise.getDataType(), false);
  }

  @Override
  public NDArray abduct(NDArray value, Map<String, NDArray> parents) {
    NDArray lambda = logits(value, parents);
    NDArray observed = value.toType(DataType.INT64, false).oneHot(categories(), lambda.getDataType());
    NDArray g = gumbel(value.getManager(), lambda.getShape(), lambda.getDataType());
    // Eq. C.3: the observed category's perturbed logit is the max, a Gumbel located at logsumexp(lambda)
    NDArray top = g.mul(observed).sum(new int[] {1}, true).add(lambda.sub(lambda.logSoftmax(1)).get(":, 0:1"));
    NDArray epsTop = top.sub(lambda);
    // every other perturbed logit is a Gumbel(lambda_l) truncated below that max
    NDArray a = g.add(lambda).neg();
    NDArray b = top.neg().broadcast(lambda.getShape());
    NDArray m = a.maximum(b);
    NDArray truncated = m.add(a.sub(m).exp().add(b.sub(m).exp()).log()).neg();
    NDArray epsOther = truncated.sub(lambda);
    return NDArrays.where(observed.gt(0.5), epsTop, epsOther);
  }

  @Override
  public NDArray logProb(NDArray value, Map<String, NDArray> parents) {
    NDArray lambda = logits(value, parents);
    NDArray observed = value.toType(DataType.INT64, false).oneHot(categories(), lambda.getDataType());
    return lambda.logSoftmax(1).mul(observed).sum(new int[] {1});
  }

  @Override
  public boolean isInvertible() {
    return false;
  }
}
