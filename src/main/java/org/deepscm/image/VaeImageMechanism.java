package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.deepscm.flow.ParameterSet;
import org.deepscm.flow.Scalars;
import org.deepscm.scm.ContextEncoding;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.InvalidValueException;
import org.deepscm.scm.Mechanism;
import org.deepscm.scm.Variable;
import org.deepscm.scm.VariableKind;

/**
 * The amortised, explicit image mechanism of the paper (Eq. 2-6):
 *
 * <pre>
 *   x := h(u; g(z; pa)),   z ~ N(0, I_zDim),  u ~ N(0, I_pixels)
 *   g(z; pa) = mu(z, pa-hat)                         (the decoder, in logit space)
 *   h(u; mu) = preprocessing^-1(mu + sigma * u)        (fixed log-variance -5: sigma = exp(-2.5))
 *   preprocessing: y = logit(0.05 + 0.95 x / 256)      ({@link LogitPreprocessing})
 * </pre>
 *
 * trained with an encoder q(z | x, pa-hat) by maximising the ELBO (Eq. 3). Parents enter both
 * networks normalised by their {@link ContextEncoding}s.
 *
 * <p><b>Values.</b> An image batch is a float array of pixels 0..255, shape (N, H, W) for grey
 * images or (N, C, H, W). Results of {@link #generate}, {@link #counterfactual} and
 * {@link #reconstruct} are clipped to [0, 255] (the low-level flow itself reaches (-13.5, 256)); an
 * observed image comes back unchanged. <b>Noise.</b> One row per unit: z (zDim values) followed by
 * u (the flattened C*H*W pixels), shape (N, zDim + C*H*W).
 *
 * <p><b>Abduction</b> (Eq. 5) draws z ~ q(z | x, pa) and computes u = (y - mu(z, pa)) / sigma
 * exactly, so {@code generate(abduct(x, pa), pa) == x} and a counterfactual is
 * y* = y + mu(z, pa*) - mu(z, pa) (Eq. 6 with fixed variance).
 *
 * <p>Networks run in evaluation mode here (batch norm with its running statistics); only
 * {@link ImageTrainer} runs them in training mode. Every method works in a short-lived sub-manager
 * of its input's manager and hands back only its result, attached to the input's manager.
 */
public final class VaeImageMechanism implements ImageMechanism {
  /** The fixed log-variance of the low-level flow, in logit space (paper Appendix A.2). */
  /** This member's name in model.json. */
  public static final String KIND = "vae";
  public static final double LOG_VARIANCE = -5;
  public static final double SIGMA = Math.exp(LOG_VARIANCE / 2);
  private static final double LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

  private final Variable variable;
  private final List<ContextEncoding> context;
  private final ImageArchitecture arch;
  private final ImageNetworks nets;

  /**
   * @param weights where the networks' weights and running statistics live (a set of its own, so
   *     that training the image networks does not touch the covariate flows; it may share the SCM's
   *     NDManager so that closing the SCM frees it)
   * @throws InvalidModelException when the variable is not an image or its shape differs from the
   *     architecture's
   */
  public VaeImageMechanism(Variable variable, List<ContextEncoding> context, ImageArchitecture arch,
      ParameterSet weights) {
    if (variable.kind() != VariableKind.IMAGE) {
      throw new InvalidModelException(
          "an image mechanism models an image; '" + variable.name() + "' is " + variable.kind());
    }
    List<Integer> expected = List.of(arch.channels(), arch.height(), arch.width());
    if (!variable.shape().equals(expected)) {
      throw new InvalidModelException("image variable '" + variable.name() + "' has shape " + variable.shape()
          + " but the image networks are built for " + expected);
    }
    this.variable = variable;
    this.context = List.copyOf(context);
    this.arch = arch;
    this.nets = new ImageNetworks(arch, context.size(), variable.name() + ".", weights);
  }

  /** Fresh, seeded weights. */
  public VaeImageMechanism initParameters(Random random) {
    nets.initParameters(random);
    return this;
  }

  @Override
  public Variable variable() {
    return variable;
  }

  @Override
  public List<String> parents() {
    return context.stream().map(ContextEncoding::parent).toList();
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public int channels() {
    return arch.channels();
  }

  @Override
  public int height() {
    return arch.height();
  }

  @Override
  public int width() {
    return arch.width();
  }

  @Override
  public List<ContextEncoding> context() {
    return context;
  }

  public ImageArchitecture architecture() {
    return arch;
  }

  public ImageNetworks networks() {
    return nets;
  }

  /** The trainable weights (not the batch-norm running statistics: see {@link #snapshot}). */
  @Override
  public ParameterSet weights() {
    return nets.weights();
  }

  /** Every weight and running statistic by name, copied into {@code target}. */
  @Override
  public NDList snapshot(NDManager target) {
    return nets.snapshot(target);
  }

  /**
   * Restores weights and running statistics by name from a list that may hold other arrays too.
   *
   * @throws IllegalArgumentException naming a missing, misshapen or non-finite array
   */
  @Override
  public void restore(NDList list, String source) {
    nets.restore(list, source);
  }

  // ------------------------------------------------------------------ Mechanism

  @Override
  public NDArray sampleNoise(NDManager manager, long n) {
    return manager.randomNormal(0, 1, new Shape(n, arch.noiseSize()), DataType.FLOAT32);
  }

  /** Prediction: x = preprocessing^-1(mu(z, pa) + sigma u), clipped to [0, 255]. */
  @Override
  public NDArray generate(NDArray noise, Map<String, NDArray> parents) {
    Shape s = noise.getShape();
    if (s.dimension() != 2 || s.get(1) != arch.noiseSize()) {
      throw new InvalidValueException("noise of image '" + variable.name() + "' must have shape (N, "
          + arch.noiseSize() + ") (z: " + arch.zDim() + ", u: " + arch.pixels() + "); got " + s);
    }
    int n = Math.toIntExact(s.get(0));
    float[] ctx = contextRows(parents, n, "");
    NDManager caller = noise.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray e = local(scope, noise).toType(DataType.FLOAT32, false);
      NDArray z = e.get(":, 0:" + arch.zDim());
      NDArray u = e.get(":, " + arch.zDim() + ":").reshape(n, arch.channels(), arch.height(), arch.width());
      NDArray mu = decodeInChunks(z, contextArray(scope, ctx, n));
      NDArray x = toPixels(Scalars.times(u, SIGMA).add(mu));
      return handBack(caller, x.reshape(valueShape(n, 3)));
    }
  }

  /**
   * Abduction (Eq. 5): one draw z ~ q(z | x, pa) and the exact u = (y - mu(z, pa)) / sigma.
   *
   * @throws InvalidValueException for a wrong image size, a NaN or infinite pixel, a pixel outside
   *     0..255, or a missing or invalid parent value
   */
  @Override
  public NDArray abduct(NDArray value, Map<String, NDArray> parents) {
    Images img = checkImages(value);
    float[] ctx = contextRows(parents, img.n, "");
    NDManager caller = value.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray y = LogitPreprocessing.forward(img.array(scope, arch));
      NDArray c = contextArray(scope, ctx, img.n);
      Function<String, NDArray> w = nets.foldedInference();
      NDList q = nets.encode(w, y, c, false);
      NDArray z = ImageNetworks.reparameterise(q.get(0), q.get(1), scope.randomNormal(q.get(0).getShape()));
      NDArray mu = decodeInChunks(z, c);
      NDArray u = Scalars.dividedBy(y.sub(mu), SIGMA).reshape(img.n, arch.pixels());
      return handBack(caller, z.concat(u, 1));
    }
  }

  /**
   * A Monte-Carlo estimate (4 particles) of the evidence lower bound on log p(x | pa) per image (nats,
   * pixels in 0..255 units), with the low-level flow's log-determinant: <b>a lower bound, not the exact
   * log-likelihood</b>, and random (each call draws new z). Evaluated on the pixels as given (no
   * dequantisation noise) with batch norm in evaluation mode.
   */
  @Override
  public NDArray logProb(NDArray value, Map<String, NDArray> parents) {
    return elbo(value, parents, ELBO_PARTICLES);
  }

  /** The ELBO of {@link #logProb} with a chosen number of particles. */
  @Override
  public NDArray elbo(NDArray value, Map<String, NDArray> parents, int particles) {
    checkParticles(particles);
    Images img = checkImages(value);
    float[] ctx = contextRows(parents, img.n, "");
    NDManager caller = value.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray elbo = elboTerms(nets.foldedInference(), img.array(scope, arch), contextArray(scope, ctx, img.n),
          particles, false, false);
      return handBack(caller, elbo);
    }
  }

  @Override
  public boolean isInvertible() {
    return false;
  }

  // ------------------------------------------------------------------ counterfactuals

  /**
   * Floating-point operations (2 per multiply-add) of one image's counterfactual with {@code particles}
   * particles: the encoder once, the decoder under pa and under pa* for each particle ({@code cached}:
   * the abduction kept, as the explorer keeps it while a slider moves, so only pa*'s decoder runs).
   */
  @Override
  public long counterfactualFlops(int particles, boolean cached) {
    long decoder = nets.multiplyAdds(false);
    long macs = cached ? particles * decoder : nets.multiplyAdds(true) + 2L * particles * decoder;
    return 2 * macs;
  }

  /**
   * The paper's Monte-Carlo counterfactual (Eq. 6): for each of {@code particles} draws
   * z ~ q(z | x, pa), x*_s = preprocessing^-1(y + mu(z, pa*) - mu(z, pa)) clipped to [0, 255]; the
   * result is their mean in pixel space, shaped like {@code value}. With pa* = pa it returns x.
   */
  @Override
  public NDArray counterfactual(NDArray value, Map<String, NDArray> parents,
      Map<String, NDArray> counterfactualParents, int particles) {
    checkParticles(particles);
    Images img = checkImages(value);
    float[] ctx = contextRows(parents, img.n, "");
    float[] ctxStar = contextRows(counterfactualParents, img.n, "counterfactual ");
    if (ctx == null || java.util.Arrays.equals(ctx, ctxStar)) {
      try (VaeAbduction a = abduct(value.getManager(), img, ctx, particles)) {
        return counterfactual(a, counterfactualParents, value.getManager());
      }
    }
    try (NDManager scope = value.getManager().newSubManager()) {
      NDArray perParticle = counterfactualParticles(img, ctx, ctxStar, particles, scope);
      return handBack(value.getManager(), meanOverParticles(perParticle, particles, img));
    }
  }

  /**
   * As {@link #counterfactual(NDArray, Map, Map, int)}, with each pixel's spread over the particles beside the
   * mean ({@link ParticleSpread}: both from the same particle images, in one pass); both in {@code value}'s manager.
   */
  @Override
  public ParticleSpread.MeanAndSpread counterfactualWithSpread(NDArray value, Map<String, NDArray> parents,
      Map<String, NDArray> counterfactualParents, int particles) {
    checkParticles(particles);
    Images img = checkImages(value);
    float[] ctx = contextRows(parents, img.n, "");
    float[] ctxStar = contextRows(counterfactualParents, img.n, "counterfactual ");
    if (ctx == null || java.util.Arrays.equals(ctx, ctxStar)) {
      try (VaeAbduction a = abduct(value.getManager(), img, ctx, particles)) {
        return counterfactualWithSpread(a, counterfactualParents, value.getManager());
      }
    }
    try (NDManager scope = value.getManager().newSubManager()) {
      return ParticleSpread.of(counterfactualParticles(img, ctx, ctxStar, particles, scope), particles, img.shape,
          value.getManager());
    }
  }

  /** Eq. 6's particle images (particles * N, C, H, W), particle-major, for pa != pa*, in {@code scope}. */
  private NDArray counterfactualParticles(Images img, float[] ctx, float[] ctxStar, int particles,
      NDManager scope) {
    // One decoder call for the particles under pa and under pa*: the decoder's weights (25 MB for
    // Morpho-MNIST's first layer) are read from memory once instead of twice.
    NDArray y = LogitPreprocessing.forward(img.array(scope, arch));
    NDArray c = contextArray(scope, ctx, img.n);
    NDArray cStar = contextArray(scope, ctxStar, img.n);
    NDArray z = posteriorDraws(nets.foldedInference(), y, c, particles);
    long rows = (long) particles * img.n;
    NDArray both = decodeInChunks(z.concat(z, 0), tileRows(c, particles).concat(tileRows(cStar, particles), 0));
    NDArray mu = both.get("0:" + rows);
    NDArray muStar = both.get(rows + ":");
    return toPixels(tileRows(y, particles).add(muStar.sub(mu)));
  }

  /**
   * The half of Eq. 6 that depends only on the observed units: their logit images y, the particles
   * z ~ q(z | x, pa) and the decoded means mu(z, pa). One abduction answers any number of
   * counterfactual parents (the explorer keeps its case's while a slider moves, so that each step
   * decodes only the particles under pa*). It owns its arrays: close it.
   */
  public final class VaeAbduction implements ImageMechanism.Abduction {
    private final NDManager manager;
    private final NDArray y;
    private final NDArray mu;
    private final NDArray z;
    private final Images images;
    private final int particles;
    private final float[] context;

    private VaeAbduction(NDManager manager, NDArray y, NDArray z, NDArray mu, Images images, int particles,
        float[] context) {
      this.manager = manager;
      this.context = context;
      this.y = y;
      this.z = z;
      this.mu = mu;
      this.images = images;
      this.particles = particles;
    }

    @Override
    public int units() {
      return images.n;
    }

    /**
     * Lends the abduction's arrays to {@code scope} until it closes: what is computed from them (a
     * counterfactual's feature maps) then lives and dies with the scope. Without it every result would be
     * kept with the abduction, and a slider drag, which reuses one abduction for many steps, would pile
     * up every step's feature maps until the case changed.
     */
    void visit(NDManager scope) {
      y.tempAttach(scope);
      z.tempAttach(scope);
      mu.tempAttach(scope);
    }

    /** Arrays the abduction holds now (its own three, and anything a computation left with it). */
    int heldArrays() {
      return manager.getManagedArrays().size();
    }

    @Override
    public int particles() {
      return particles;
    }

    VaeImageMechanism mechanism() {
      return VaeImageMechanism.this;
    }

    @Override
    public void close() {
      manager.close();
    }
  }

  private VaeAbduction own(Abduction a) {
    if (a instanceof VaeAbduction va && va.mechanism() == this) {
      return va;
    }
    throw new IllegalArgumentException("an abduction of another image mechanism");
  }

  /** Abduction of {@code value} given its parents, its arrays in a new sub-manager of {@code owner}. */
  @Override
  public Abduction abduct(NDManager owner, NDArray value, Map<String, NDArray> parents, int particles) {
    checkParticles(particles);
    Images img = checkImages(value);
    return abduct(owner, img, contextRows(parents, img.n, ""), particles);
  }

  /**
   * {@link #reconstruct(NDArray, Map, int)} of some images of a data set, as {@code evaluate} measures it
   * ({@code recon_mae}), (rows, C, H, W) in {@code target}; the images themselves are {@code x}.
   */
  @Override
  public NDArray reconstruct(NDManager target, NDArray x, ImageData data, int[] rows, int particles) {
    checkParticles(particles);
    try (VaeAbduction a = abduct(target, checkImages(x), contextRows(data, rows), particles)) {
      return reconstruct(a, target);
    }
  }

  /** The abduction itself, its inputs already checked. */
  private VaeAbduction abduct(NDManager owner, Images img, float[] ctx, int particles) {
    NDManager own = owner.newSubManager();
    try (NDManager scope = own.newSubManager()) {
      NDArray y = LogitPreprocessing.forward(img.array(scope, arch));
      NDArray c = contextArray(scope, ctx, img.n);
      Function<String, NDArray> w = nets.foldedInference();
      NDArray z = posteriorDraws(w, y, c, particles);
      NDArray mu = decodeInChunks(z, c == null ? null : tileRows(c, particles));
      y.attach(own);
      z.attach(own);
      mu.attach(own);
      return new VaeAbduction(own, y, z, mu, img, particles, ctx);
    } catch (RuntimeException e) {
      own.close();
      throw e;
    }
  }

  /**
   * Eq. 6 from an abduction: x*_s = preprocessing^-1(y + mu(z_s, pa*) - mu(z_s, pa)) clipped to
   * [0, 255], averaged over the particles in pixel space; shaped like the abducted images, in
   * {@code target}.
   */
  @Override
  public NDArray counterfactual(Abduction abduction, Map<String, NDArray> counterfactualParents, NDManager target) {
    VaeAbduction a = own(abduction);
    float[] ctxStar = contextRows(counterfactualParents, a.images.n, "counterfactual ");
    try (NDManager scope = a.manager.newSubManager()) {
      a.visit(scope);
      return meanOverParticles(a, counterfactualParticles(a, ctxStar, scope), target);
    }
  }

  /**
   * As {@link #counterfactual(Abduction, Map, NDManager)}, with each pixel's spread over the particles beside the
   * mean ({@link ParticleSpread}: both from the same particle images, in one pass); 0 everywhere under the null
   * intervention, where every particle gives the observed image back.
   */
  @Override
  public ParticleSpread.MeanAndSpread counterfactualWithSpread(Abduction abduction,
      Map<String, NDArray> counterfactualParents, NDManager target) {
    VaeAbduction a = own(abduction);
    float[] ctxStar = contextRows(counterfactualParents, a.images.n, "counterfactual ");
    try (NDManager scope = a.manager.newSubManager()) {
      a.visit(scope);
      return ParticleSpread.of(counterfactualParticles(a, ctxStar, scope), a.particles, a.images.shape, target);
    }
  }

  /** Eq. 6's particle images of an abduction (particles * N, C, H, W), particle-major, in {@code scope}. */
  private NDArray counterfactualParticles(VaeAbduction a, float[] ctxStar, NDManager scope) {
    if (java.util.Arrays.equals(ctxStar, a.context)) {
      // the null intervention: the decoder is deterministic, so mu(z, pa*) = mu(z, pa) and y* = y
      return toPixels(tileRows(a.y, a.particles));
    }
    NDArray cStar = contextArray(scope, ctxStar, a.images.n);
    NDArray muStar = decodeInChunks(a.z, cStar == null ? null : tileRows(cStar, a.particles));
    return toPixels(tileRows(a.y, a.particles).add(muStar.sub(a.mu)));
  }

  /**
   * Rows decoded at once at inference: the decoder's activations for 4,096 brain particles at once took
   * 8 GB; in blocks of this many rows they stay under 1 GB, with the same result (batch norm in
   * evaluation mode treats rows independently).
   */
  static final int DECODE_ROWS = 256;

  /** The decoder's mean in evaluation mode, DECODE_ROWS rows at a time; in z's manager. */
  private NDArray decodeInChunks(NDArray z, NDArray context) {
    long rows = z.getShape().get(0);
    Function<String, NDArray> w = nets.foldedInference();
    if (rows <= DECODE_ROWS) {
      return nets.decode(w, z, context, false);
    }
    NDManager owner = z.getManager();
    NDList parts = new NDList();
    for (long from = 0; from < rows; from += DECODE_ROWS) {
      long to = Math.min(rows, from + DECODE_ROWS);
      try (NDManager block = owner.newSubManager()) {
        NDArray zb = z.get(from + ":" + to);
        zb.attach(block);
        NDArray cb = null;
        if (context != null) {
          cb = context.get(from + ":" + to);
          cb.attach(block);
        }
        NDArray mu = nets.decode(w, zb, cb, false);
        mu.attach(owner);
        parts.add(mu);
      }
    }
    NDArray all = ai.djl.ndarray.NDArrays.concat(parts, 0);
    parts.close();
    return all;
  }

  /** Per-particle images (particles * N, C, H, W) of an abduction averaged in pixel space, shaped like its input. */
  private NDArray meanOverParticles(VaeAbduction a, NDArray perParticle, NDManager target) {
    return handBack(target, meanOverParticles(perParticle, a.particles, a.images));
  }

  private NDArray meanOverParticles(NDArray perParticle, int particles, Images images) {
    return perParticle.reshape(particles, images.n, arch.channels(), arch.height(), arch.width())
        .mean(new int[] {0}).reshape(images.shape);
  }

  /**
   * The paper's reconstruction: the mean over particles z ~ q(z | x, pa) of the decoded mean
   * mu(z, pa) mapped to pixels (clipped to [0, 255]), shaped like {@code value}. Unlike
   * generate(abduct(x)), which gives x back, this shows what the networks capture of x.
   */
  @Override
  public NDArray reconstruct(NDArray value, Map<String, NDArray> parents, int particles) {
    return ImageMechanism.super.reconstruct(value, parents, particles);
  }

  /** The reconstruction of {@link #reconstruct(NDArray, Map, int)} from an abduction, in {@code target}. */
  @Override
  public NDArray reconstruct(Abduction abduction, NDManager target) {
    VaeAbduction a = own(abduction);
    return meanOverParticles(a, toPixels(a.mu), target);
  }

  /**
   * The decoder's mean mu(z, pa) in logit space, (N, C, H, W), for z of shape (N, zDim); evaluation
   * mode. Mapped to pixels it is the "blurry" conditional-VAE image.
   */
  public NDArray decoderMean(NDArray z, Map<String, NDArray> parents) {
    Shape s = z.getShape();
    if (s.dimension() != 2 || s.get(1) != arch.zDim()) {
      throw new InvalidValueException("latent z of image '" + variable.name() + "' must have shape (N, "
          + arch.zDim() + "); got " + s);
    }
    int n = Math.toIntExact(s.get(0));
    float[] ctx = contextRows(parents, n, "");
    NDManager caller = z.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray zz = local(scope, z).toType(DataType.FLOAT32, false);
      return handBack(caller, decodeInChunks(zz, contextArray(scope, ctx, n)));
    }
  }

  /** (particles * N, zDim) draws from q(z | x, pa), particle-major. */
  private NDArray posteriorDraws(Function<String, NDArray> w, NDArray y, NDArray c, int particles) {
    NDList q = nets.encode(w, y, c, false);
    NDArray mean = tileRows(q.get(0), particles);
    NDArray logVar = tileRows(q.get(1), particles);
    return ImageNetworks.reparameterise(mean, logVar, y.getManager().randomNormal(mean.getShape()));
  }

  // ------------------------------------------------------------------ the ELBO (shared with training)

  /**
   * ELBO per image (N): E_q[log N(y; mu(z, pa), sigma^2)] + log|dy/dx| - KL(q(z | x, pa) || N(0, I)),
   * the expectation over {@code particles} reparameterised draws, the KL term in closed form.
   *
   * @param x (N, C, H, W) pixels, living in the computation's scope
   * @param dequantise add U(0, 1) to every pixel first (training)
   * @param train batch norm in training mode (batch statistics, running statistics updated)
   */
  public NDArray elboTerms(Function<String, NDArray> w, NDArray x, NDArray c, int particles, boolean dequantise,
      boolean train) {
    return elboTerms(w, x, c, particles, dequantise, train, 1);
  }

  /** As above with the KL term weighted by {@code klWeight} (beta; 1 is the ELBO), for training a beta-VAE. */
  public NDArray elboTerms(Function<String, NDArray> w, NDArray x, NDArray c, int particles, boolean dequantise,
      boolean train, double klWeight) {
    return elboParts(w, x, c, particles, dequantise, train, train, klWeight).get(0);
  }

  /**
   * What counterfactual fine-tuning needs of one batch, computed as inference computes a counterfactual
   * (batch norm on its running statistics) but with gradients: {ELBO per image (N), the counterfactual
   * logit images y* = y + mu(z, pa*) - mu(z, pa) ((particles * N, C, H, W), particle-major), the
   * reconstruction's mean absolute pixel error (0..255) per image (N)} for the same reparameterised draws
   * z ~ q(z | x, pa).
   *
   * @param cStar the counterfactual parents, encoded as {@code c} (N, P)
   */
  public NDList counterfactualTrainingTerms(Function<String, NDArray> w, NDArray x, NDArray c, NDArray cStar,
      int particles, boolean dequantise) {
    return counterfactualTrainingTerms(w, x, c, cStar, particles, dequantise, 1);
  }

  /** As above with the KL term of the first part weighted by {@code klWeight} (beta). */
  public NDList counterfactualTrainingTerms(Function<String, NDArray> w, NDArray x, NDArray c, NDArray cStar,
      int particles, boolean dequantise, double klWeight) {
    NDList parts = elboParts(w, x, c, particles, dequantise, false, true, klWeight);
    NDArray muStar = nets.decode(w, parts.get(2), tileRows(cStar, particles), false, true);
    NDArray y = tileRows(parts.get(1), particles);
    NDArray yStar = y.add(muStar.sub(parts.get(3)));
    // the reconstruction's error in pixels (what recon_mae measures); the ELBO's term is in logit space,
    // where the dark background weighs most
    long n = x.getShape().get(0);
    NDArray pixelError = LogitPreprocessing.inverse(parts.get(3)).sub(LogitPreprocessing.inverse(y)).abs()
        .reshape(particles, n, -1).mean(new int[] {2}).mean(new int[] {0});
    return new NDList(parts.get(0), yStar, pixelError);
  }

  /** {ELBO per image, y, z, mu(z, pa)} of one batch. */
  private NDList elboParts(Function<String, NDArray> w, NDArray x, NDArray c, int particles, boolean dequantise,
      boolean batchStatistics, boolean gradients, double klWeight) {
    int n = Math.toIntExact(x.getShape().get(0));
    if (dequantise) {
      x = x.add(x.getManager().randomUniform(0, 1, x.getShape(), DataType.FLOAT32));
    }
    NDArray y = LogitPreprocessing.forward(x);
    NDArray logDet = LogitPreprocessing.logDet(x).reshape(n, -1).sum(new int[] {1});
    NDList q = nets.encode(w, y, c, batchStatistics, gradients);
    NDArray mean = q.get(0);
    NDArray logVar = q.get(1);
    NDArray eps = x.getManager().randomNormal(new Shape((long) particles * n, arch.zDim()));
    NDArray z = ImageNetworks.reparameterise(tileRows(mean, particles), tileRows(logVar, particles), eps);
    NDArray mu = nets.decode(w, z, c == null ? null : tileRows(c, particles), batchStatistics, gradients);
    NDArray r = Scalars.dividedBy(tileRows(y, particles).sub(mu), SIGMA);
    NDArray logLik = Scalars.times(r.square().reshape((long) particles * n, -1).sum(new int[] {1}), -0.5)
        .sub(arch.pixels() * (Math.log(SIGMA) + LOG_SQRT_2PI))
        .reshape(particles, n).mean(new int[] {0});
    NDArray kl = Scalars.times(logVar.exp().add(mean.square()).sub(1).sub(logVar).sum(new int[] {1}), 0.5);
    return new NDList(logLik.add(logDet).sub(klWeight == 1 ? kl : Scalars.times(kl, klWeight)), y, z, mu);
  }

  // ------------------------------------------------------------------ checks and helpers

  private static void checkParticles(int particles) {
    if (particles < 1) {
      throw new InvalidValueException("the number of particles must be at least 1, got " + particles);
    }
  }

  /** Checked pixels of a batch: values (N*C*H*W, row-major), N and the caller's shape. */
  record Images(float[] pixels, int n, Shape shape) {
    NDArray array(NDManager scope, ImageArchitecture arch) {
      return scope.create(pixels, new Shape(n, arch.channels(), arch.height(), arch.width()));
    }
  }

  /**
   * @throws InvalidValueException for a wrong shape, a NaN or infinite pixel or one outside 0..255,
   *     naming the image, row and column
   */
  Images checkImages(NDArray value) {
    if (value == null) {
      throw new InvalidValueException("no value given for image '" + variable.name() + "'");
    }
    Shape s = value.getShape();
    String expected = arch.channels() == 1
        ? "(N, " + arch.height() + ", " + arch.width() + ") or (N, 1, " + arch.height() + ", " + arch.width() + ")"
        : "(N, " + arch.channels() + ", " + arch.height() + ", " + arch.width() + ")";
    boolean ok = s.dimension() == 4
        ? s.get(1) == arch.channels() && s.get(2) == arch.height() && s.get(3) == arch.width()
        : s.dimension() == 3 && arch.channels() == 1 && s.get(1) == arch.height() && s.get(2) == arch.width();
    if (!ok || s.get(0) < 1) {
      throw new InvalidValueException("image '" + variable.name() + "' must have shape " + expected
          + " (pixels 0..255); got " + s);
    }
    int n = Math.toIntExact(s.get(0));
    float[] px = value.toType(DataType.FLOAT32, false).toFloatArray();
    int perImage = arch.pixels();
    int plane = arch.height() * arch.width();
    for (int k = 0; k < px.length; k++) {
      float v = px[k];
      if (!(v >= 0 && v <= 255)) {
        int image = k / perImage;
        int within = k % perImage;
        int row = (within % plane) / arch.width();
        int col = within % arch.width();
        String where = "image '" + variable.name() + "': pixel (row " + row + ", column " + col + ")"
            + (arch.channels() > 1 ? " of channel " + within / plane : "")
            + (n > 1 ? " of image " + image : "");
        if (Float.isNaN(v)) {
          throw new InvalidValueException(where + " is NaN (not a number)");
        }
        if (Float.isInfinite(v)) {
          throw new InvalidValueException(where + " is infinite");
        }
        throw new InvalidValueException(where + " = " + v + " is outside 0..255");
      }
    }
    return new Images(px, n, s);
  }

  /**
   * The encoded parents as an (n, P) row-major float array (null without parents).
   *
   * @throws InvalidValueException for a missing parent, a wrong number of rows, or a value that is
   *     not finite (or not positive for a log-encoded parent)
   */
  float[] contextRows(Map<String, NDArray> parents, int n, String what) {
    if (context.isEmpty()) {
      return null;
    }
    int p = context.size();
    float[] out = new float[n * p];
    for (int j = 0; j < p; j++) {
      ContextEncoding e = context.get(j);
      NDArray a = parents == null ? null : parents.get(e.parent());
      if (a == null) {
        throw new InvalidValueException(
            "no " + what + "value given for '" + e.parent() + "', a parent of image '" + variable.name() + "'");
      }
      if (a.getShape().size() != n) {
        throw new InvalidValueException(what + "parent '" + e.parent() + "' of image '" + variable.name()
            + "' has " + a.getShape().size() + " values for " + n + " image(s)");
      }
      double[] v = a.toType(DataType.FLOAT64, false).toDoubleArray();
      for (int r = 0; r < n; r++) {
        double x = v[r];
        if (!Double.isFinite(x) || (e.log() && x <= 0)) {
          throw new InvalidValueException(what + "parent '" + e.parent() + "' of image '" + variable.name()
              + "' = " + x + (n > 1 ? " (row " + (r + 1) + ")" : "")
              + (Double.isFinite(x) ? " must be positive" : " is not a finite number"));
        }
        out[r * p + j] = (float) e.encode(x);
      }
    }
    return out;
  }

  /** The encoded parents of some rows of a data set, (rows, P) row-major (null without parents). */
  @Override
  public float[] contextRows(ImageData data, int[] rows) {
    if (context.isEmpty()) {
      return null;
    }
    int p = context.size();
    float[] out = new float[rows.length * p];
    for (int j = 0; j < p; j++) {
      ContextEncoding e = context.get(j);
      double[] v = data.parents().get(e.parent());
      if (v == null) {
        throw new InvalidValueException(
            "the image data have no values of '" + e.parent() + "', a parent of image '" + variable.name() + "'");
      }
      for (int r = 0; r < rows.length; r++) {
        double x = v[rows[r]];
        if (!Double.isFinite(x) || (e.log() && x <= 0)) {
          throw new InvalidValueException("parent '" + e.parent() + "' of image '" + variable.name() + "' = " + x
              + " (row " + (rows[r] + 1) + ")" + (Double.isFinite(x) ? " must be positive" : " is not a finite number"));
        }
        out[r * p + j] = (float) e.encode(x);
      }
    }
    return out;
  }

  public NDArray contextArray(NDManager scope, float[] rows, int n) {
    return rows == null ? null : scope.create(rows, new Shape(n, context.size()));
  }

  /** {@code a} stacked {@code k} times along axis 0 (copy-major: row r of copy j at j * N + r). */
  /** Rows of {@code width} values repeated {@code k} times, row-major as {@link #tileRows(NDArray, int)} tiles. */
  static float[] tileRows(float[] rows, int width, int k) {
    float[] out = new float[rows.length * k];
    for (int s = 0; s < k; s++) {
      System.arraycopy(rows, 0, out, s * rows.length, rows.length);
    }
    return out;
  }

  public static NDArray tileRows(NDArray a, int k) {
    long[] reps = new long[a.getShape().dimension()];
    java.util.Arrays.fill(reps, 1);
    reps[0] = k;
    return a.tile(reps);
  }

  /** Logit space -> pixels in [0, 255]. */
  static NDArray toPixels(NDArray y) {
    return LogitPreprocessing.inverse(y).clip(0, 255);
  }

  /** Shape of n images as values: (n, H, W) for grey images when {@code rank} is 3, else (n, C, H, W). */
  private Shape valueShape(int n, int rank) {
    return rank == 3 && arch.channels() == 1
        ? new Shape(n, arch.height(), arch.width())
        : new Shape(n, arch.channels(), arch.height(), arch.width());
  }

  private static NDArray local(NDManager scope, NDArray a) {
    NDArray copy = a.duplicate();
    copy.attach(scope);
    return copy;
  }

  private static NDArray handBack(NDManager caller, NDArray result) {
    result.attach(caller);
    return result;
  }

  // ------------------------------------------------------------------ description

  /** The mechanism's description for a model file (type "image"; weights are saved by name elsewhere). */
  @Override
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("variable", variable.name());
    o.addProperty("type", "image");
    o.addProperty("kind", KIND);
    JsonArray ctx = ContextEncoding.toJson(context);
    o.add("context", ctx);
    o.add("architecture", arch.toJson());
    o.addProperty("log_variance", LOG_VARIANCE);
    o.addProperty("preprocessing", "logit(" + LogitPreprocessing.ALPHA + " + " + (1 - LogitPreprocessing.ALPHA)
        + " * x / " + (int) LogitPreprocessing.RANGE + ")");
    return o;
  }

  /**
   * Rebuilds a mechanism from {@link #toJson()} with fresh (seed 0) weights, ready for
   * {@link #restore}.
   *
   * @throws InvalidModelException for a missing or bad field
   */
  public static VaeImageMechanism fromJson(JsonObject o, Variable variable, ParameterSet weights) {
    if (!o.has("architecture") || !o.get("architecture").isJsonObject()) {
      throw new InvalidModelException("image mechanism of '" + variable.name() + "' has no architecture");
    }
    if (o.has("log_variance") && o.get("log_variance").getAsDouble() != LOG_VARIANCE) {
      throw new InvalidModelException("image mechanism of '" + variable.name() + "' has log_variance "
          + o.get("log_variance") + "; this version supports only " + LOG_VARIANCE);
    }
    List<ContextEncoding> ctx = new ArrayList<>();
    if (o.has("context")) {
      for (var e : o.getAsJsonArray("context")) {
        JsonObject c = e.getAsJsonObject();
        ctx.add(new ContextEncoding(c.get("parent").getAsString(), c.has("log") && c.get("log").getAsBoolean(),
            c.get("shift").getAsDouble(), c.get("scale").getAsDouble()));
      }
    }
    VaeImageMechanism m = new VaeImageMechanism(variable, ctx,
        ImageArchitecture.fromJson(o.getAsJsonObject("architecture")), weights);
    // zeros of the right names and shapes: ModelFolder.load overwrites them with the weights file's values
    return m.initParameters(null);
  }
}
