package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.deepscm.flow.ParameterSet;
import org.deepscm.flow.Scalars;
import org.deepscm.scm.ContextEncoding;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.InvalidValueException;
import org.deepscm.scm.Variable;
import org.deepscm.scm.VariableKind;

/**
 * An image mechanism that moves tissue: a template's appearance warped by a diffeomorphism that the
 * parents drive, times a smooth intensity field,
 *
 * <pre>
 *   x := ((A(z) + u) o phi) * g,       phi = exp(v_pa(pa) + v_z(z)),   g = exp(gain(z, pa))
 *   z ~ N(0, I),  u ~ N(0, sigma^2) per pixel in the template's frame
 * </pre>
 *
 * (I o phi)(p) = I(p + d(p)), bilinear ({@link Warp}); exp by scaling and squaring, its inverse exp(-v).
 * The parents' velocity v_pa is one field per parent value (conditional templates, Dalca et al. 2019);
 * the subject's part v_z, the appearance A(z) and the gain carry what the parents do not.
 *
 * <p><b>Counterfactual</b> (abduction, action, prediction): z ~ q(z | x, pa) per particle; the residual in
 * the template's frame is u = (x / g) o phi^-1 - A(z); under pa* with z kept,
 * x* = ((A(z) + u) o phi*) g* = (x / g) o (phi^-1 o phi*) g*. The two fields are composed first and the
 * observed image is sampled once, so the case's own texture comes from the case; A(z) cancels. Where the
 * appearance sees the parents too (digits: a thicker stroke is more ink, which no warp makes), A(z, pa) does
 * not cancel: x* = ((x / g) o (phi^-1 o phi*) + (A(z, pa*) - A(z, pa)) o phi*) g*, the observed image still
 * sampled once. A unit whose parents are not changed gets its observed image back exactly. The result is the
 * mean over particles.
 *
 * <p>Trained on the ELBO with a Gaussian pixel likelihood of learned sigma in the image's frame
 * ({@link #elboTerms}); the noise u of {@link #generate} / {@link #abduct(NDArray, Map)} is that
 * residual pulled into the template's frame.
 */
public final class DeformationMechanism implements ImageMechanism {
  /** This member's name in model.json. */
  public static final String KIND = "deformation";
  private static final float LEAKY_SLOPE = 0.1f;
  private static final double LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
  /** Rows of particles x units computed at once at inference (bounded memory for large evaluations). */
  static final int ROWS = 512;

  private final Variable variable;
  private final List<ContextEncoding> context;
  private final DeformationArchitecture arch;
  private final ParameterSet weights;
  private final String prefix;

  public DeformationMechanism(Variable variable, List<ContextEncoding> context, DeformationArchitecture arch,
      ParameterSet weights) {
    if (variable.kind() != VariableKind.IMAGE) {
      throw new InvalidModelException(
          "an image mechanism models an image; '" + variable.name() + "' is " + variable.kind());
    }
    List<Integer> expected = List.of(arch.channels(), arch.height(), arch.width());
    if (!variable.shape().equals(expected)) {
      throw new InvalidModelException("image variable '" + variable.name() + "' has shape " + variable.shape()
          + " but the deformation networks are built for " + expected);
    }
    if (context.isEmpty()) {
      throw new InvalidModelException("a deformation mechanism needs at least one parent of '" + variable.name()
          + "' to drive its warp");
    }
    this.variable = variable;
    this.context = List.copyOf(context);
    this.arch = arch;
    this.weights = weights;
    this.prefix = variable.name() + ".";
  }

  /** Fresh seeded weights (null: zeros of the right names and shapes, for a weights file to overwrite). */
  public DeformationMechanism initParameters(Random random) {
    int c = arch.channels();
    int p = context.size();
    conv("enc.conv1", arch.enc1(), c, random);
    conv("enc.conv2", arch.enc2(), arch.enc1(), random);
    conv("enc.conv3", arch.enc3(), arch.enc2(), random);
    linear("enc.fc", arch.encHidden(), arch.encoderFlat() + p, random, he(arch.encoderFlat() + p));
    linear("enc.mean", arch.zDim(), arch.encHidden(), random, Math.sqrt(1.0 / arch.encHidden()));
    // a small log-variance head: q starts near N(mean, 1) and cannot blow up early
    linear("enc.logvar", arch.zDim(), arch.encHidden(), random, 0.001);
    linear("pa.fc1", arch.parentHidden(), p, random, he(p));
    linear("pa.fc2", arch.parentHidden(), arch.parentHidden(), random, he(arch.parentHidden()));
    // the warps start at the identity: the template is first fitted, then moved
    linear("pa.out", 2 * arch.parentGrid() * arch.parentGrid(), arch.parentHidden(), random, 0);
    if (arch.parentModes() > 0) {
      // the modes' sizes from the parents, their fields from z; the fields start at zero (the plain parents' warp)
      linear("pa.modes", arch.parentModes(), arch.parentHidden(), random, he(arch.parentHidden()));
      linear("pa.pattern", arch.parentModes() * 2 * arch.parentGrid() * arch.parentGrid(), arch.zDim(), random, 0);
    }
    linear("sub.out", 2 * arch.subjectGrid() * arch.subjectGrid(), arch.zDim(), random, 0.001);
    weights.create(prefix + "app.template", new Shape(c, arch.height(), arch.width()), 0, random);
    int appearanceIn = arch.zDim() + (arch.appearanceParents() ? p : 0);
    if (arch.appearanceHidden() > 0) {
      linear("app.fc", arch.appearanceHidden(), appearanceIn, random, he(appearanceIn));
      linear("app.out", c * arch.appearanceGrid() * arch.appearanceGrid(), arch.appearanceHidden(), random, 0.001);
    } else {
      linear("app.out", c * arch.appearanceGrid() * arch.appearanceGrid(), appearanceIn, random, 0.001);
    }
    linear("gain.out", arch.gainGrid() * arch.gainGrid(), (arch.gainFromZ() ? arch.zDim() : 0) + p, random, 0.001);
    weights.create(prefix + "log_sigma", new Shape(1), 0, random);
    if (random != null) {
      // the pixel noise starts at 20 grey levels (put, not set in place: the parameter is a leaf with gradients)
      weights.put(prefix + "log_sigma", weights.manager().create(new float[] {(float) Math.log(20)}));
    }
    return this;
  }

  /** Sets the template (pixels 0..255, C x H x W), e.g. to the training images' mean before training. */
  public void setTemplate(float[] pixels) {
    Shape shape = weights.get(prefix + "app.template").getShape();
    if (pixels.length != shape.size()) {
      throw new IllegalArgumentException("a template of " + shape + " needs " + shape.size() + " pixels, got "
          + pixels.length);
    }
    try (NDManager scope = weights.manager().newSubManager()) {
      weights.put(prefix + "app.template", scope.create(pixels, shape));
    }
  }

  private static double he(int in) {
    return Math.sqrt(2.0 / in);
  }

  private void conv(String name, int out, int in, Random random) {
    double std = random == null ? 0 : Math.sqrt(2.0 / (in * 16));
    weights.create(prefix + name + ".weight", new Shape(out, in, 4, 4), std, random);
    weights.create(prefix + name + ".bias", new Shape(out), 0, random);
  }

  /** A linear layer with weights N(0, std^2) (std 0: zeros, a layer that starts silent). */
  private void linear(String name, int out, int in, Random random, double std) {
    weights.create(prefix + name + ".weight", new Shape(out, in), std, random);
    weights.create(prefix + name + ".bias", new Shape(out), 0, random);
  }

  @Override
  public String kind() {
    return KIND;
  }

  public DeformationArchitecture architecture() {
    return arch;
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
  public List<ContextEncoding> context() {
    return context;
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
  public ParameterSet weights() {
    return weights;
  }

  @Override
  public NDList snapshot(NDManager target) {
    return weights.snapshot(target);
  }

  @Override
  public void restore(NDList list, String source) {
    NDList own = new NDList();
    for (NDArray a : list) {
      if (a.getName() != null && weights.contains(a.getName())) {
        own.add(a);
      }
    }
    weights.restore(own, source);
    for (Map.Entry<String, NDArray> e : weights.all().entrySet()) {
      if (!Float.isFinite(e.getValue().sum().getFloat())) {
        throw new IllegalArgumentException(source + ": weight '" + e.getKey() + "' holds a value that is not finite");
      }
    }
  }

  /** Where inference reads its weights (no gradients). */
  public Function<String, NDArray> inference() {
    return weights::get;
  }

  // ------------------------------------------------------------------ the networks

  private static NDArray lin(Function<String, NDArray> w, String name, NDArray x) {
    return x.matMul(w.apply(name + ".weight").transpose()).add(w.apply(name + ".bias"));
  }

  private static NDArray leaky(NDArray x) {
    return Activation.leakyRelu(x, LEAKY_SLOPE);
  }

  private NDArray convDown(Function<String, NDArray> w, String name, NDArray x) {
    return Conv2d.conv2d(x, w.apply(prefix + name + ".weight"), w.apply(prefix + name + ".bias"), new Shape(2, 2),
        new Shape(1, 1), new Shape(1, 1), 1).singletonOrThrow();
  }

  /** Mean and log-variance of q(z | x, pa) for images (N, C, H, W) in 0..255 and context (N, p). */
  NDList encode(Function<String, NDArray> w, NDArray x, NDArray c) {
    long n = x.getShape().get(0);
    NDArray h = Scalars.times(x, 1 / 127.5).sub(1);
    h = leaky(convDown(w, "enc.conv1", h));
    h = leaky(convDown(w, "enc.conv2", h));
    h = leaky(convDown(w, "enc.conv3", h));
    h = h.reshape(n, -1).concat(c, 1);
    h = leaky(lin(w, prefix + "enc.fc", h));
    return new NDList(lin(w, prefix + "enc.mean", h), lin(w, prefix + "enc.logvar", h));
  }

  /**
   * The parents' velocity on the field grid (N, 2, G, G), in the grid's pixels: a field of the parents, plus
   * (with modes) fields placed by the subject's z and sized by the parents. Rows of c and z go together.
   */
  NDArray parentVelocity(Function<String, NDArray> w, NDArray c, NDArray z) {
    long n = c.getShape().get(0);
    int g = arch.parentGrid();
    NDArray h = leaky(lin(w, prefix + "pa.fc1", c));
    h = leaky(lin(w, prefix + "pa.fc2", h));
    NDArray v = lin(w, prefix + "pa.out", h).reshape(n, 2, g, g);
    int k = arch.parentModes();
    if (k > 0) {
      NDArray sizes = lin(w, prefix + "pa.modes", h).reshape(n, k, 1, 1, 1);
      NDArray fields = lin(w, prefix + "pa.pattern", z).reshape(n, k, 2, g, g);
      v = v.add(fields.mul(sizes).sum(new int[] {1}));
    }
    return toFieldGrid(v);
  }

  /** The subject's velocity on the field grid (N, 2, G, G), in the grid's pixels. */
  NDArray subjectVelocity(Function<String, NDArray> w, NDArray z) {
    long n = z.getShape().get(0);
    return toFieldGrid(lin(w, prefix + "sub.out", z).reshape(n, 2, arch.subjectGrid(), arch.subjectGrid()));
  }

  private NDArray toFieldGrid(NDArray v) {
    int g = arch.fieldGrid();
    return v.getShape().get(2) == g ? v : Warp.upsampleVelocity(v, g, g);
  }

  /**
   * The map phi on the field grid for the parents' and the subject's velocities: exp(v_pa + v_z), or with
   * composed warps exp(v_pa) o exp(v_z) (the subject's warp first, then the parents', so the parents act in
   * the template's frame, where every subject's anatomy has been brought).
   */
  NDArray forwardMap(NDArray parentsVelocity, NDArray subjectVelocity) {
    if (arch.composeWarps()) {
      return Warp.compose(Warp.exp(parentsVelocity, arch.steps()), Warp.exp(subjectVelocity, arch.steps()));
    }
    return Warp.exp(parentsVelocity.add(subjectVelocity), arch.steps());
  }

  /** The inverse of {@link #forwardMap}: exp(-(v_pa + v_z)), or exp(-v_z) o exp(-v_pa). */
  NDArray inverseMap(NDArray parentsVelocity, NDArray subjectVelocity) {
    if (arch.composeWarps()) {
      return Warp.compose(Warp.exp(subjectVelocity.neg(), arch.steps()), Warp.exp(parentsVelocity.neg(),
          arch.steps()));
    }
    return Warp.exp(parentsVelocity.add(subjectVelocity).neg(), arch.steps());
  }

  /** A displacement of the field grid brought to the image's pixels (N, 2, H, W). */
  private NDArray toImage(NDArray d) {
    return Warp.upsampleVelocity(d, arch.height(), arch.width());
  }

  /**
   * The appearance in the template's frame (N, C, H, W), pixels 0..255 (not clipped), for latents z and (read
   * only when the architecture's appearance sees them) the parents c, rows alike.
   */
  NDArray appearance(Function<String, NDArray> w, NDArray z, NDArray c) {
    long n = z.getShape().get(0);
    int g = arch.appearanceGrid();
    NDArray h = arch.appearanceParents() ? z.concat(c, 1) : z;
    if (arch.appearanceHidden() > 0) {
      h = leaky(lin(w, prefix + "app.fc", h));
    }
    NDArray own = lin(w, prefix + "app.out", h).reshape(n, arch.channels(), g, g);
    if (g != arch.height() || g != arch.width()) {
      own = Warp.upsample(own, arch.height(), arch.width());
    }
    return own.mul(32).add(w.apply(prefix + "app.template").expandDims(0));
  }

  /** The log of the multiplicative intensity field (N, 1, H, W). */
  NDArray logGain(Function<String, NDArray> w, NDArray z, NDArray c) {
    long n = z.getShape().get(0);
    int g = arch.gainGrid();
    NDArray in = arch.gainFromZ() ? z.concat(c, 1) : c;
    return Warp.upsample(lin(w, prefix + "gain.out", in).reshape(n, 1, g, g), arch.height(),
        arch.width());
  }

  /** The noise-free image for latents z and context c (rows alike): ((A(z)) o exp(v)) * g. */
  NDArray meanImage(Function<String, NDArray> w, NDArray z, NDArray c) {
    NDArray d = toImage(forwardMap(parentVelocity(w, c, z), subjectVelocity(w, z)));
    return Warp.sample(appearance(w, z, c), d).mul(logGain(w, z, c).exp());
  }

  /**
   * The ELBO's parts for images x (N, C, H, W) and context c (N, p), {@code particles} draws each:
   * [0] the ELBO per image (N), [1] the parents' velocities (particles N, 2, G, G), [2] the subject's
   * velocities, [3] the model's noise-free images (particles N, C, H, W). With {@code w} from a gradient
   * collector's scope it trains.
   */
  public NDList elboTerms(Function<String, NDArray> w, NDArray x, NDArray c, int particles) {
    return elboTerms(w, x, c, null, particles);
  }

  /**
   * As {@link #elboTerms(Function, NDArray, NDArray, int)}, and with counterfactual parents {@code cStar}
   * (N, p; null: none) also [4] the counterfactual images under them (particles N, C, H, W, clipped to
   * 0..255) from the same particles, formed as {@link #counterfactual} forms them: what counterfactual
   * training judges.
   */
  public NDList elboTerms(Function<String, NDArray> w, NDArray x, NDArray c, NDArray cStar, int particles) {
    int n = Math.toIntExact(x.getShape().get(0));
    NDList q = encode(w, x, c);
    NDArray mean = q.get(0);
    NDArray logVar = q.get(1);
    NDArray eps = x.getManager().randomNormal(new Shape((long) particles * n, arch.zDim()));
    NDArray z = ImageNetworks.reparameterise(VaeImageMechanism.tileRows(mean, particles),
        VaeImageMechanism.tileRows(logVar, particles), eps);
    NDArray ct = VaeImageMechanism.tileRows(c, particles);
    NDArray vPa = parentVelocity(w, ct, z);
    NDArray vZ = subjectVelocity(w, z);
    NDArray velocity = vPa.add(vZ);
    NDArray d = toImage(forwardMap(vPa, vZ));
    NDArray logGain = logGain(w, z, ct);
    NDArray model = Warp.sample(appearance(w, z, ct), d).mul(logGain.exp());
    NDArray logSigma = w.apply(prefix + "log_sigma");
    NDArray r = VaeImageMechanism.tileRows(x, particles).sub(model).div(logSigma.exp());
    NDArray logLik = Scalars.times(r.square().reshape((long) particles * n, -1).sum(new int[] {1}), -0.5)
        .sub(logSigma.add(LOG_SQRT_2PI).mul(arch.pixels()))
        .reshape(particles, n).mean(new int[] {0});
    NDArray kl = Scalars.times(logVar.exp().add(mean.square()).sub(1).sub(logVar).sum(new int[] {1}), 0.5);
    NDList out = new NDList(logLik.sub(kl), vPa, vZ, model);
    if (cStar != null) {
      NDArray xt = VaeImageMechanism.tileRows(x, particles);
      NDArray xOverGain = xt.div(logGain.exp());
      NDList f = counterfactualField(w, z, velocity, vPa, inverseMap(vPa, vZ), ct,
          VaeImageMechanism.tileRows(cStar, particles));
      out.add(counterfactualImages(xOverGain, f));
    }
    return out;
  }

  // ------------------------------------------------------------------ Mechanism

  @Override
  public NDArray sampleNoise(NDManager manager, long n) {
    NDArray z = manager.randomNormal(0, 1, new Shape(n, arch.zDim()), DataType.FLOAT32);
    NDArray u = manager.randomNormal(0, 1, new Shape(n, arch.pixels()), DataType.FLOAT32)
        .mul(weights.get(prefix + "log_sigma").exp());
    return z.concat(u, 1);
  }

  /** Prediction: x = ((A(z) + u) o phi) * g, clipped to [0, 255]. */
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
      NDArray c = scope.create(ctx, new Shape(n, context.size()));
      Function<String, NDArray> w = inference();
      NDArray d = toImage(forwardMap(parentVelocity(w, c, z), subjectVelocity(w, z)));
      NDArray x = Warp.sample(appearance(w, z, c).add(u), d)
          .mul(logGain(w, z, c).exp());
      return handBack(caller, x.clip(0, 255).reshape(valueShape(n, s.dimension() == 2 ? 3 : 4)));
    }
  }

  /**
   * One draw z ~ q(z | x, pa) and the residual in the template's frame, u = (x / g) o phi^-1 - A(z).
   * generate(abduct(x)) gives x back up to two bilinear resamplings (this mechanism's counterfactuals do
   * not go through it: they sample the observed image once).
   */
  @Override
  public NDArray abduct(NDArray value, Map<String, NDArray> parents) {
    Images img = checkImages(value);
    float[] ctx = contextRows(parents, img.n(), "");
    NDManager caller = value.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray x = img.array(scope);
      NDArray c = scope.create(ctx, new Shape(img.n(), context.size()));
      Function<String, NDArray> w = inference();
      NDList q = encode(w, x, c);
      NDArray z = ImageNetworks.reparameterise(q.get(0), q.get(1), scope.randomNormal(q.get(0).getShape()));
      NDArray inverse = toImage(inverseMap(parentVelocity(w, c, z), subjectVelocity(w, z)));
      NDArray u = Warp.sample(x.div(logGain(w, z, c).exp()), inverse)
          .sub(appearance(w, z, c)).reshape(img.n(), arch.pixels());
      return handBack(caller, z.concat(u, 1));
    }
  }

  @Override
  public NDArray logProb(NDArray value, Map<String, NDArray> parents) {
    return elbo(value, parents, ELBO_PARTICLES);
  }

  /** A Monte-Carlo ELBO (a lower bound on log p(x | pa), nats, pixels in 0..255 units), random per call. */
  @Override
  public NDArray elbo(NDArray value, Map<String, NDArray> parents, int particles) {
    checkParticles(particles);
    Images img = checkImages(value);
    float[] ctx = contextRows(parents, img.n(), "");
    NDManager caller = value.getManager();
    try (NDManager scope = caller.newSubManager()) {
      NDArray c = scope.create(ctx, new Shape(img.n(), context.size()));
      return handBack(caller, elboTerms(inference(), img.array(scope), c, particles).get(0));
    }
  }

  @Override
  public boolean isInvertible() {
    return false;
  }

  // ------------------------------------------------------------------ counterfactuals

  /** What the observed units fix: their images, the particles z, the fields under pa. */
  public final class WarpAbduction implements ImageMechanism.Abduction {
    private final NDManager manager;
    private final NDArray x;          // (N, C, H, W)
    private final NDArray z;          // (P N, zDim)
    private final NDArray velocity;   // v_pa(pa) + v_z(z) on the field grid: (P N, 2, G, G)
    private final NDArray parentsVelocity;
    private final NDArray inverse;    // exp(-v) on the field grid
    private final NDArray xOverGain;  // x / g: (P N, C, H, W)
    private final float[] ctx;
    private final int n;
    private final int particles;
    private final Shape shape;

    private WarpAbduction(NDManager manager, NDArray x, NDArray z, NDArray velocity, NDArray parentsVelocity,
        NDArray inverse, NDArray xOverGain, float[] ctx, int n, int particles, Shape shape) {
      this.shape = shape;
      this.manager = manager;
      this.x = x;
      this.z = z;
      this.velocity = velocity;
      this.parentsVelocity = parentsVelocity;
      this.inverse = inverse;
      this.xOverGain = xOverGain;
      this.ctx = ctx;
      this.n = n;
      this.particles = particles;
    }

    @Override
    public int units() {
      return n;
    }

    @Override
    public int particles() {
      return particles;
    }

    DeformationMechanism mechanism() {
      return DeformationMechanism.this;
    }

    void visit(NDManager scope) {
      for (NDArray a : new NDArray[] {x, z, velocity, parentsVelocity, inverse, xOverGain}) {
        a.tempAttach(scope);
      }
    }

    @Override
    public void close() {
      manager.close();
    }
  }

  @Override
  public Abduction abduct(NDManager owner, NDArray value, Map<String, NDArray> parents, int particles) {
    checkParticles(particles);
    Images img = checkImages(value);
    return abduct(owner, img, contextRows(parents, img.n(), ""), particles);
  }

  private WarpAbduction abduct(NDManager owner, Images img, float[] ctx, int particles) {
    NDManager own = owner.newSubManager();
    try (NDManager scope = own.newSubManager()) {
      Function<String, NDArray> w = inference();
      NDArray x = img.array(scope);
      NDArray c = scope.create(ctx, new Shape(img.n(), context.size()));
      NDList q = encode(w, x, c);
      NDArray mean = VaeImageMechanism.tileRows(q.get(0), particles);
      NDArray logVar = VaeImageMechanism.tileRows(q.get(1), particles);
      NDArray z = ImageNetworks.reparameterise(mean, logVar, scope.randomNormal(mean.getShape()));
      NDArray ct = VaeImageMechanism.tileRows(c, particles);
      NDArray vPa = parentVelocity(w, ct, z);
      NDArray v = vPa.add(subjectVelocity(w, z));
      NDArray inverse = inverseMap(vPa, v.sub(vPa));
      NDArray xOverGain = VaeImageMechanism.tileRows(x, particles).div(logGain(w, z, ct).exp());
      for (NDArray a : new NDArray[] {x, z, v, vPa, inverse, xOverGain}) {
        a.attach(own);
      }
      return new WarpAbduction(own, x, z, v, vPa, inverse, xOverGain, ctx, img.n(), particles, img.shape());
    } catch (RuntimeException e) {
      own.close();
      throw e;
    }
  }

  private WarpAbduction own(Abduction a) {
    if (a instanceof WarpAbduction wa && wa.mechanism() == this) {
      return wa;
    }
    throw new IllegalArgumentException("an abduction of another image mechanism");
  }

  /**
   * The composed field psi = phi^-1 o phi* per particle (P N, 2, H, W; composed on the field grid, then
   * brought to the image's pixels), the gain under pa*, and (only where the appearance sees the parents) the
   * appearance's change warped to the counterfactual, (A(z, pa*) - A(z, pa)) o phi*: what maps the observed
   * image onto the counterfactual, x*(p) = ((x / g)(p + psi(p)) + dA*(p)) g*(p).
   */
  private NDList counterfactualField(WarpAbduction a, NDArray cStar) {
    NDArray c = cStar.getManager().create(a.ctx, new Shape(a.n, context.size()));
    return counterfactualField(inference(), a.z, a.velocity, a.parentsVelocity, a.inverse,
        VaeImageMechanism.tileRows(c, a.particles), VaeImageMechanism.tileRows(cStar, a.particles));
  }

  /** {@link #counterfactualField(WarpAbduction, NDArray)} from its parts (rows of particles x units). */
  private NDList counterfactualField(Function<String, NDArray> w, NDArray z, NDArray velocity,
      NDArray parentsVelocity, NDArray inverse, NDArray c, NDArray cStar) {
    NDArray forwardStar = forwardMap(parentVelocity(w, cStar, z), velocity.sub(parentsVelocity));
    NDArray psi = toImage(Warp.compose(inverse, forwardStar));
    NDList f = new NDList(psi, logGain(w, z, cStar).exp());
    if (arch.appearanceParents()) {
      f.add(Warp.sample(appearance(w, z, cStar).sub(appearance(w, z, c)), toImage(forwardStar)));
    }
    return f;
  }

  /** The particles' counterfactual images, unclipped units aside: ((x / g) o psi + dA*) g*, clipped to 0..255. */
  private static NDArray counterfactualImages(NDArray xOverGain, NDList field) {
    NDArray moved = Warp.sample(xOverGain, field.get(0));
    if (field.size() > 2) {
      moved = moved.add(field.get(2));
    }
    return moved.mul(field.get(1)).clip(0, 255);
  }

  @Override
  public NDArray counterfactual(Abduction abduction, Map<String, NDArray> counterfactualParents, NDManager target) {
    WarpAbduction a = own(abduction);
    float[] ctxStar = contextRows(counterfactualParents, a.n, "counterfactual ");
    try (NDManager scope = a.manager.newSubManager()) {
      a.visit(scope);
      if (Arrays.equals(ctxStar, a.ctx)) {
        return handBack(target, a.x.duplicate().reshape(a.shape));
      }
      NDArray mean = counterfactualParticles(a, ctxStar, scope)
          .reshape(a.particles, a.n, arch.channels(), arch.height(), arch.width()).mean(new int[] {0});
      return handBack(target, mean.reshape(a.shape));
    }
  }

  @Override
  public ParticleSpread.MeanAndSpread counterfactualWithSpread(Abduction abduction,
      Map<String, NDArray> counterfactualParents, NDManager target) {
    WarpAbduction a = own(abduction);
    float[] ctxStar = contextRows(counterfactualParents, a.n, "counterfactual ");
    try (NDManager scope = a.manager.newSubManager()) {
      a.visit(scope);
      return ParticleSpread.of(counterfactualParticles(a, ctxStar, scope), a.particles, a.shape, target);
    }
  }

  /** A counterfactual with its spread and where its tissue moved ({@link #tissueMotion}). */
  public record Moved(ParticleSpread.MeanAndSpread images, NDArray motion) {}

  /**
   * {@link #counterfactualWithSpread(Abduction, Map, NDManager)} and {@link #tissueMotion} from one composed field per
   * particle (what the explorer shows at each slider step), in {@code target}.
   */
  public Moved counterfactualWithMotion(Abduction abduction, Map<String, NDArray> counterfactualParents,
      NDManager target) {
    WarpAbduction a = own(abduction);
    float[] ctxStar = contextRows(counterfactualParents, a.n, "counterfactual ");
    try (NDManager scope = a.manager.newSubManager()) {
      a.visit(scope);
      NDArray observed = VaeImageMechanism.tileRows(a.x, a.particles);
      if (Arrays.equals(ctxStar, a.ctx)) {
        return new Moved(ParticleSpread.of(observed, a.particles, a.shape, target),
            handBack(target, scope.zeros(new Shape(a.n, arch.height(), arch.width()))));
      }
      NDList f = counterfactualField(a, scope.create(ctxStar, new Shape(a.n, context.size())));
      float[] tiledCtx = VaeImageMechanism.tileRows(a.ctx, context.size(), a.particles);
      float[] tiledStar = VaeImageMechanism.tileRows(ctxStar, context.size(), a.particles);
      NDArray perParticle = keepUnchangedUnits(counterfactualImages(a.xOverGain, f), observed, tiledCtx, tiledStar);
      NDArray logArea = keepUnchangedUnits(logAreaChange(f.get(0)).expandDims(1), scope.zeros(new Shape(
          (long) a.particles * a.n, 1, arch.height(), arch.width())), tiledCtx, tiledStar)
          .reshape(a.particles, a.n, arch.height(), arch.width()).mean(new int[] {0});
      return new Moved(ParticleSpread.of(perParticle, a.particles, a.shape, target), handBack(target, logArea));
    }
  }

  /** -log det J of a composed field (P N, 2, H, W) per pixel: the log of the local area change it makes. */
  private static NDArray logAreaChange(NDArray psi) {
    return Warp.jacobianDeterminant(psi).maximum(1e-6f).log().neg();
  }

  @Override
  public ParticleSpread.MeanAndSpread counterfactualWithSpread(NDArray value, Map<String, NDArray> parents,
      Map<String, NDArray> counterfactualParents, int particles) {
    checkParticles(particles);
    Images img = checkImages(value);
    float[] ctx = contextRows(parents, img.n(), "");
    contextRows(counterfactualParents, img.n(), "counterfactual ");
    try (WarpAbduction a = abduct(value.getManager(), img, ctx, particles)) {
      return counterfactualWithSpread(a, counterfactualParents, value.getManager());
    }
  }

  /**
   * The particles' counterfactual images (P N, C, H, W), particle-major, in {@code scope}: the observed image
   * resampled once through phi^-1 o phi* and scaled by g* / g, clipped to [0, 255]; a unit whose parents are
   * not changed gets its observed image in every particle, exactly.
   */
  private NDArray counterfactualParticles(WarpAbduction a, float[] ctxStar, NDManager scope) {
    NDArray observed = VaeImageMechanism.tileRows(a.x, a.particles);
    if (Arrays.equals(ctxStar, a.ctx)) {
      return observed;
    }
    NDList f = counterfactualField(a, scope.create(ctxStar, new Shape(a.n, context.size())));
    NDArray perParticle = counterfactualImages(a.xOverGain, f);
    if (!Float.isFinite(perParticle.sum().getFloat())) {
      // a diverged model (its gain or warp overflowed): say so instead of drawing NaN
      throw new InvalidModelException("image '" + variable.name() + "': the deformation model's counterfactual is not a "
          + "number (its warp or gain overflowed for these parents); the model's weights need retraining");
    }
    return keepUnchangedUnits(perParticle, observed, VaeImageMechanism.tileRows(a.ctx, context.size(), a.particles),
        VaeImageMechanism.tileRows(ctxStar, context.size(), a.particles));
  }

  /** Units whose parents are not changed get their observed image back, exactly. */
  private NDArray keepUnchangedUnits(NDArray counterfactual, NDArray observed, float[] ctx, float[] ctxStar) {
    int p = context.size();
    int n = ctx.length / p;
    float[] keep = new float[n];
    boolean any = false;
    for (int r = 0; r < n; r++) {
      if (Arrays.equals(ctx, r * p, (r + 1) * p, ctxStar, r * p, (r + 1) * p)) {
        keep[r] = 1;
        any = true;
      }
    }
    if (!any) {
      return counterfactual;
    }
    NDArray k = counterfactual.getManager().create(keep, new Shape(n, 1, 1, 1));
    return observed.mul(k).add(counterfactual.mul(k.neg().add(1)));
  }

  @Override
  public NDArray counterfactual(NDArray value, Map<String, NDArray> parents, Map<String, NDArray> counterfactualParents,
      int particles) {
    checkParticles(particles);
    Images img = checkImages(value);
    float[] ctx = contextRows(parents, img.n(), "");
    contextRows(counterfactualParents, img.n(), "counterfactual ");
    try (WarpAbduction a = abduct(value.getManager(), img, ctx, particles)) {
      return counterfactual(a, counterfactualParents, value.getManager());
    }
  }

  /**
   * Where tissue moves in the counterfactual: log of the local area change from the observed image to the
   * counterfactual, -log det J(phi^-1 o phi*), averaged over the particles, (N, H, W); > 0 where tissue
   * grows. A unit whose parents are not changed gets zeros. Its share of folded pixels (det <= 0) is
   * {@link #foldedShare}.
   */
  public NDArray tissueMotion(Abduction abduction, Map<String, NDArray> counterfactualParents, NDManager target) {
    WarpAbduction a = own(abduction);
    float[] ctxStar = contextRows(counterfactualParents, a.n, "counterfactual ");
    try (NDManager scope = a.manager.newSubManager()) {
      a.visit(scope);
      if (Arrays.equals(ctxStar, a.ctx)) {
        return handBack(target, scope.zeros(new Shape(a.n, arch.height(), arch.width())));
      }
      NDArray logArea = logAreaChange(counterfactualField(a, scope.create(ctxStar, new Shape(a.n,
          context.size()))).get(0)).reshape(a.particles, a.n, arch.height(), arch.width()).mean(new int[] {0});
      return handBack(target, logArea);
    }
  }

  /**
   * The warp's health for an abduction: [0] the share of pixels where phi = exp(v) folds (Jacobian
   * determinant <= 0), over every particle; [1] the mean and [2] the largest distance of phi^-1 o phi from
   * the identity, pixels.
   */
  public double[] warpHealth(Abduction abduction) {
    WarpAbduction a = own(abduction);
    try (NDManager scope = a.manager.newSubManager()) {
      a.visit(scope);
      NDArray forward = toImage(forwardMap(a.parentsVelocity, a.velocity.sub(a.parentsVelocity)));
      NDArray inverse = toImage(a.inverse);
      NDArray det = Warp.jacobianDeterminant(forward);
      double folded = det.lte(0).toType(DataType.FLOAT32, false).mean().getFloat();
      NDArray err = Warp.identityError(forward, inverse);
      return new double[] {folded, err.mean().getFloat(), err.max().getFloat()};
    }
  }

  @Override
  public NDArray reconstruct(Abduction abduction, NDManager target) {
    WarpAbduction a = own(abduction);
    try (NDManager scope = a.manager.newSubManager()) {
      a.visit(scope);
      Function<String, NDArray> w = inference();
      NDArray ct = VaeImageMechanism.tileRows(scope.create(a.ctx, new Shape(a.n, context.size())), a.particles);
      NDArray model = Warp.sample(appearance(w, a.z, ct), toImage(forwardMap(a.parentsVelocity,
          a.velocity.sub(a.parentsVelocity))))
          .mul(logGain(w, a.z, ct).exp()).clip(0, 255);
      return handBack(target, model.reshape(a.particles, a.n, arch.channels(), arch.height(), arch.width())
          .mean(new int[] {0}).reshape(a.shape));
    }
  }

  @Override
  public NDArray reconstruct(NDManager target, NDArray x, ImageData data, int[] rows, int particles) {
    checkParticles(particles);
    try (WarpAbduction a = abduct(target, checkImages(x), contextRows(data, rows), particles)) {
      return reconstruct(a, target);
    }
  }

  @Override
  public long counterfactualFlops(int particles, boolean cached) {
    long hw = (long) arch.height() * arch.width();
    long c = arch.channels();
    long h8 = hw / 64;
    long encoder = hw / 4 * 16 * c * arch.enc1() + hw / 16 * 16 * arch.enc1() * arch.enc2()
        + h8 * 16 * arch.enc2() * arch.enc3() + (long) (arch.encoderFlat() + context.size()) * arch.encHidden()
        + 2L * arch.encHidden() * arch.zDim();
    long parents = (long) context.size() * arch.parentHidden() + (long) arch.parentHidden() * arch.parentHidden()
        + 2L * arch.parentHidden() * arch.parentGrid() * arch.parentGrid();
    // a bilinear sample is about 8 multiply-adds per value; exp takes `steps` samples of a 2-channel field on
    // the field grid, which is then brought up to the image bilinearly
    long gg = (long) arch.fieldGrid() * arch.fieldGrid();
    long sample2 = 8 * 2 * gg;
    long perParticle = parents + 2 * gg * arch.parentGrid() + (arch.steps() + 1) * sample2 + 8 * 2 * hw
        + 8 * c * hw + (long) (arch.zDim() + context.size()) * arch.gainGrid() * arch.gainGrid()
        + hw * arch.gainGrid();
    long abduction = encoder + particles * ((arch.steps()) * sample2 + perParticle);
    long macs = cached ? particles * perParticle : abduction + particles * perParticle;
    return 2 * macs;
  }

  // ------------------------------------------------------------------ checks and helpers

  private static void checkParticles(int particles) {
    if (particles < 1) {
      throw new InvalidValueException("the number of particles must be at least 1, got " + particles);
    }
  }

  private record Images(float[] pixels, int n, Shape shape, DeformationArchitecture arch) {
    NDArray array(NDManager scope) {
      return scope.create(pixels, new Shape(n, arch.channels(), arch.height(), arch.width()));
    }
  }

  private Images checkImages(NDArray value) {
    if (value == null) {
      throw new InvalidValueException("no value given for image '" + variable.name() + "'");
    }
    Shape s = value.getShape();
    boolean ok = s.dimension() == 4
        ? s.get(1) == arch.channels() && s.get(2) == arch.height() && s.get(3) == arch.width()
        : s.dimension() == 3 && arch.channels() == 1 && s.get(1) == arch.height() && s.get(2) == arch.width();
    if (!ok || s.get(0) < 1) {
      throw new InvalidValueException("image '" + variable.name() + "' must have shape (N, " + arch.height() + ", "
          + arch.width() + ") or (N, " + arch.channels() + ", " + arch.height() + ", " + arch.width()
          + ") (pixels 0..255); got " + s);
    }
    int n = Math.toIntExact(s.get(0));
    float[] px = value.toType(DataType.FLOAT32, false).toFloatArray();
    int plane = arch.height() * arch.width();
    for (int k = 0; k < px.length; k++) {
      float v = px[k];
      if (!(v >= 0 && v <= 255)) {
        int within = k % arch.pixels();
        String where = "image '" + variable.name() + "': pixel (row " + (within % plane) / arch.width() + ", column "
            + within % arch.width() + ")" + (n > 1 ? " of image " + k / arch.pixels() : "");
        throw new InvalidValueException(where + (Float.isNaN(v) ? " is NaN (not a number)"
            : Float.isInfinite(v) ? " is infinite" : " = " + v + " is outside 0..255"));
      }
    }
    return new Images(px, n, s, arch);
  }

  /** The normalised parents, row by row, from parent arrays of n values each. */
  public float[] contextRows(Map<String, NDArray> parents, int n, String what) {
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
        out[r * p + j] = encode(e, v[r], what, n > 1 ? r : -1);
      }
    }
    return out;
  }

  @Override
  public float[] contextRows(ImageData data, int[] rows) {
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
        out[r * p + j] = encode(e, v[rows[r]], "", rows[r]);
      }
    }
    return out;
  }

  private float encode(ContextEncoding e, double x, String what, int row) {
    if (!Double.isFinite(x) || (e.log() && x <= 0)) {
      throw new InvalidValueException(what + "parent '" + e.parent() + "' of image '" + variable.name() + "' = " + x
          + (row >= 0 ? " (row " + (row + 1) + ")" : "")
          + (Double.isFinite(x) ? " must be positive" : " is not a finite number"));
    }
    return (float) e.encode(x);
  }

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

  @Override
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("variable", variable.name());
    o.addProperty("type", "image");
    o.addProperty("kind", KIND);
    o.add("context", ContextEncoding.toJson(context));
    o.add("architecture", arch.toJson());
    return o;
  }

  public static DeformationMechanism fromJson(JsonObject o, Variable variable, ParameterSet weights) {
    if (!o.has("architecture") || !o.get("architecture").isJsonObject()) {
      throw new InvalidModelException("image mechanism of '" + variable.name() + "' has no architecture");
    }
    List<ContextEncoding> ctx = new ArrayList<>();
    if (o.has("context")) {
      for (var e : o.getAsJsonArray("context")) {
        JsonObject c = e.getAsJsonObject();
        ctx.add(new ContextEncoding(c.get("parent").getAsString(), c.has("log") && c.get("log").getAsBoolean(),
            c.get("shift").getAsDouble(), c.get("scale").getAsDouble()));
      }
    }
    return new DeformationMechanism(variable, ctx, DeformationArchitecture.fromJson(o.getAsJsonObject("architecture")),
        weights).initParameters(null);
  }
}
