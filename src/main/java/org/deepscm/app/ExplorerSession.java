package org.deepscm.app;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.data.morphomnist.TypicalIntensity;
import org.deepscm.eval.Typicality;
import org.deepscm.image.ImageCounterfactual;
import org.deepscm.image.ImageMechanism;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;
import org.deepscm.scm.VariableKind;

/**
 * What the explorer is looking at: a model, one observed case (its scalar values and, for image
 * models, its image) and the atomic interventions switched on. {@link #counterfactual} answers
 * the case's counterfactual under them; it is called off the UI thread. No UI types here.
 */
public final class ExplorerSession {
  private final SavedModel model;
  private final Map<String, Double> observed = new LinkedHashMap<>();
  private final Map<String, Double> interventions = new LinkedHashMap<>();
  private final String imageVariable;
  private double[] observedImage;
  // the user's own case while the case in use is it brought into the model's world; else null
  private Case ownCase;
  /** Bumped by every new case: the worker's cached abductions belong to one case. */
  private long caseVersion;
  // the worker's cache (only counterfactual() touches it): the case's abduction per particle count
  private final Object cacheLock = new Object();
  private final Map<Integer, ImageMechanism.Abduction> abductions = new LinkedHashMap<>();
  private long cachedVersion = -1;
  private NDManager cacheManager;

  /** A case: its scalar values and, for image models, its image (pixels 0..255, row-major). */
  public record Case(Map<String, Double> values, double[] image) {}

  /**
   * A counterfactual answer; {@code image} (the mean over the particles), {@code difference} (image - observed) and
   * {@code spread} (each pixel's standard deviation over the particles, grey levels) are null for covariate models;
   * {@code motion} (where tissue moved: the log of the local area change per pixel) only for image mechanisms that
   * move tissue.
   */
  public record Result(Map<String, Double> values, double[] image, double[] difference, double[] spread,
      int particles, double millis, double[] motion) {
    public Result(Map<String, Double> values, double[] image, double[] difference, double[] spread, int particles,
        double millis) {
      this(values, image, difference, spread, particles, millis, null);
    }
  }

  public ExplorerSession(SavedModel model) {
    this.model = model;
    String image = null;
    for (Variable v : model.scm().graph().variables()) {
      if (v.kind() == VariableKind.IMAGE) {
        image = v.name();
      }
    }
    this.imageVariable = image;
  }

  public SavedModel model() {
    return model;
  }

  public StructuralCausalModel scm() {
    return model.scm();
  }

  /** The image variable's name, or null for a covariate model. */
  public String imageVariable() {
    return imageVariable;
  }

  /**
   * Whether this is a brain model (an image of brain and ventricle volume): its slices are stored in
   * radiological convention and its test cases are brain subjects.
   */
  public boolean isBrain() {
    var graph = scm().graph();
    return imageVariable != null && graph.contains("brain_volume") && graph.contains("ventricle_volume");
  }

  /** Whether the model's image mechanism moves tissue, so that its answers say where ({@link Result#motion}). */
  public boolean movesTissue() {
    return imageVariable != null && scm().mechanism(imageVariable) instanceof org.deepscm.image.DeformationMechanism;
  }

  public int imageHeight() {
    return imageVariable == null ? 0 : scm().graph().variable(imageVariable).shape().get(1);
  }

  public int imageWidth() {
    return imageVariable == null ? 0 : scm().graph().variable(imageVariable).shape().get(2);
  }

  /** The scalar variables, parents before children. */
  public List<Variable> scalars() {
    return scm().scalarPart().graph().topologicalOrder().stream().map(scm().graph()::variable).toList();
  }

  /** Sets the observed case; every scalar variable must be given, and the image for image models. */
  public synchronized void setCase(Map<String, Double> values, double[] image) {
    setCase(values, image, null);
  }

  /**
   * As {@link #setCase(Map, double[])}; {@code own} is the user's own case that this one was brought
   * into the model's world from (null when this case is their own), as a saved case records it.
   */
  public synchronized void setCase(Map<String, Double> values, double[] image, Case own) {
    replaceCase(values, image, own);
    interventions.clear();
  }

  /** A new observed case that keeps the interventions (the user compares two versions of one case). */
  private void replaceCase(Map<String, Double> values, double[] image, Case own) {
    check(values, image);
    if (own != null) {
      check(own.values(), own.image());
    }
    observed.clear();
    observed.putAll(values);
    observedImage = image == null ? null : image.clone();
    ownCase = own == null ? null : copy(own);
    caseVersion++;
  }

  private void check(Map<String, Double> values, double[] image) {
    for (Variable v : scalars()) {
      Double x = values.get(v.name());
      if (x == null) {
        throw new org.deepscm.scm.InvalidValueException("the case gives no value for " + v.name());
      }
      v.check(x);
    }
    if (imageVariable != null && (image == null || image.length != imageHeight() * imageWidth())) {
      throw new org.deepscm.scm.InvalidValueException("the case needs a " + imageWidth() + "x" + imageHeight()
          + " image");
    }
  }

  private static Case copy(Case c) {
    return new Case(new LinkedHashMap<>(c.values()), c.image() == null ? null : c.image().clone());
  }

  /** The user's own case when the case in use is it brought into the model's world, else null. */
  public synchronized Case ownCase() {
    return ownCase == null ? null : copy(ownCase);
  }

  /**
   * How typical the observed case is of the model's training data (for image models one small ELBO:
   * call it off the UI thread).
   */
  public Typicality.Assessment assess() {
    Case c;
    synchronized (this) {
      c = copy(new Case(observed, observedImage));
    }
    return Typicality.assess(model, c.values(), c.image());
  }

  /** Whether a case can be brought into the model's world: a Morpho-MNIST image model (t, i, a 28x28 digit). */
  public boolean canBringIntoModelsWorld() {
    var graph = scm().graph();
    return imageVariable != null && graph.contains("t") && graph.contains("i")
        && imageHeight() == Morphology.SIDE && imageWidth() == Morphology.SIDE;
  }

  /**
   * Replaces the user's case by the same digit (shape and thickness kept) at the model's median
   * intensity for its thickness, with i measured on the new image; the user's own case is kept to go
   * back to, and so are the interventions. Call it off the UI thread.
   *
   * @return false when the case changed meanwhile (then nothing is replaced)
   */
  public boolean bringIntoModelsWorld() {
    Case own;
    long version;
    synchronized (this) {
      own = copy(ownCase != null ? ownCase : new Case(observed, observedImage));
      version = caseVersion;
    }
    TypicalIntensity.Result typical = TypicalIntensity.apply(scm(), own.image(), own.values().get("t"));
    Map<String, Double> values = new LinkedHashMap<>(own.values());
    values.put("i", Morphology.measureIntensity(typical.image()));
    synchronized (this) {
      if (version != caseVersion) {
        return false;
      }
      replaceCase(values, typical.image(), own);
      return true;
    }
  }

  /** Goes back to the user's own case, keeping the interventions (nothing to do when it is in use). */
  public synchronized void useOwnCase() {
    if (ownCase != null) {
      Case own = ownCase;
      replaceCase(own.values(), own.image(), null);
    }
  }

  public synchronized Map<String, Double> observed() {
    return new LinkedHashMap<>(observed);
  }

  public synchronized double[] observedImage() {
    return observedImage == null ? null : observedImage.clone();
  }

  /** do(variable := value); a non-finite value is refused. */
  public synchronized void intervene(String variable, double value) {
    Intervention.set(value);
    scm().graph().variable(variable);
    interventions.put(variable, value);
  }

  public synchronized void release(String variable) {
    interventions.remove(variable);
  }

  public synchronized Map<String, Double> interventions() {
    return new LinkedHashMap<>(interventions);
  }

  /** Years a brain case is made older when a model opens: the ventricles grow visibly, the brain shrinks. */
  static final double OPENING_YEARS = 20;
  /** Pixels a digit is made thicker when a model opens (its intensity follows t on the full graph). */
  static final double OPENING_THICKNESS = 1;

  /**
   * The do() a model opens with, so that a first-time user sees a counterfactual that differs from the case: a
   * brain {@value #OPENING_YEARS} years older, a digit {@value #OPENING_THICKNESS} px thicker, within the range seen
   * in training (the other way when the case sits so near its end that less than half the change is left). Empty
   * for a model without an image, or without age or t. Nothing is changed here: the caller applies it.
   */
  public synchronized Map<String, Double> openingIntervention() {
    String variable = imageVariable == null ? null : isBrain() && scm().graph().contains("age") ? "age"
        : scm().graph().contains("t") ? "t" : null;
    if (variable == null || !observed.containsKey(variable)) {
      return Map.of();
    }
    double change = variable.equals("age") ? OPENING_YEARS : OPENING_THICKNESS;
    double now = observed.get(variable);
    double[] range = model.trainingRange(variable);
    double lo = range != null ? range[0] : Double.NEGATIVE_INFINITY;
    double hi = range != null ? range[1] : Double.POSITIVE_INFINITY;
    double value = Math.min(now + change, hi);
    if (value - now < change / 2) {
      value = Math.max(now - change, lo);
    }
    return Map.of(variable, value);
  }

  /** Replaces every do() at once (empty: the case as observed); a non-finite value is refused, nothing changed. */
  public synchronized void setInterventions(Map<String, Double> dos) {
    dos.forEach((variable, value) -> {
      Intervention.set(value);
      scm().graph().variable(variable);
    });
    interventions.clear();
    interventions.putAll(dos);
  }

  /** Units drawn from the model: scalar values by name, and images (null for covariate models). */
  public record Samples(int count, Map<String, double[]> values, double[][] images) {}

  private int draws;

  /**
   * n units from the observational distribution (no interventions) or the interventional one; the
   * same call number draws the same noise, so observational and interventional rows differ only by do().
   */
  public Samples samples(int n, Map<String, Double> dos) {
    Map<String, Intervention> actions = new LinkedHashMap<>();
    dos.forEach((k, v) -> actions.put(k, Intervention.set(v)));
    int seed;
    synchronized (this) {
      seed = dos.isEmpty() ? ++draws : draws;
    }
    try (NDManager nd = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(1000 + seed);
      Map<String, NDArray> s = scm().sample(nd, n, actions);
      Map<String, double[]> values = new LinkedHashMap<>();
      for (Variable v : scalars()) {
        values.put(v.name(), s.get(v.name()).toType(DataType.FLOAT64, false).toDoubleArray());
      }
      double[][] images = null;
      if (imageVariable != null) {
        float[] px = s.get(imageVariable).toFloatArray();
        int per = imageHeight() * imageWidth();
        images = new double[n][per];
        for (int k = 0; k < n; k++) {
          for (int p = 0; p < per; p++) {
            images[k][p] = px[k * per + p];
          }
        }
      }
      return new Samples(n, values, images);
    }
  }

  /** The case's counterfactual under the current interventions (particles for the image). */
  public Result counterfactual(int particles) {
    Map<String, Double> obs;
    Map<String, Double> dos;
    double[] img;
    long version;
    synchronized (this) {
      obs = new LinkedHashMap<>(observed);
      dos = new LinkedHashMap<>(interventions);
      img = observedImage == null ? null : observedImage.clone();
      version = caseVersion;
    }
    long start = System.nanoTime();
    Map<String, Intervention> actions = new LinkedHashMap<>();
    dos.forEach((k, v) -> actions.put(k, Intervention.set(v)));
    try (NDManager nd = NDManager.newBaseManager()) {
      Map<String, NDArray> values = new LinkedHashMap<>();
      for (Variable v : scalars()) {
        values.put(v.name(), nd.create(new float[] {obs.get(v.name()).floatValue()}));
      }
      Map<String, Double> out = new LinkedHashMap<>();
      double[] cfImage = null;
      double[] diff = null;
      double[] spread = null;
      double[] motion = null;
      // the same posterior draws for every request: the image changes only with the sliders
      Engine.getInstance().setRandomSeed(7);
      if (imageVariable == null) {
        Map<String, NDArray> cf = scm().counterfactual(values, actions);
        cf.forEach((k, v) -> out.put(k, (double) v.toType(DataType.FLOAT32, false).getFloat(0)));
      } else {
        float[] px = new float[img.length];
        for (int k = 0; k < px.length; k++) {
          px[k] = (float) img[k];
        }
        NDArray x = nd.create(px, new Shape(1, imageHeight(), imageWidth()));
        ImageCounterfactual.Result r;
        synchronized (cacheLock) {
          // the case's posterior particles and their decoded means are reused while sliders move:
          // a step then decodes only the particles under the new parents (same answer: same seed)
          if (cachedVersion != version) {
            clearCache();
            cachedVersion = version;
          }
          if (cacheManager == null) {
            cacheManager = NDManager.newBaseManager();
          }
          ImageMechanism.Abduction a = abductions.get(particles);
          if (a == null) {
            a = ImageCounterfactual.abduct(scm(), values, x, particles, cacheManager);
            abductions.put(particles, a);
          }
          r = ImageCounterfactual.compute(scm(), values, a, actions, nd);
        }
        r.scalars().forEach((k, v) -> out.put(k, (double) v.getFloat(0)));
        float[] c = r.image().toFloatArray();
        float[] sd = r.spread().toFloatArray();
        cfImage = new double[c.length];
        diff = new double[c.length];
        spread = new double[c.length];
        for (int k = 0; k < c.length; k++) {
          cfImage[k] = c[k];
          diff[k] = c[k] - img[k];
          spread[k] = sd[k];
        }
        if (r.motion() != null) {
          float[] m = r.motion().toFloatArray();
          motion = new double[m.length];
          for (int k = 0; k < m.length; k++) {
            motion[k] = m[k];
          }
        }
      }
      return new Result(out, cfImage, diff, spread, particles, (System.nanoTime() - start) / 1e6, motion);
    }
  }

  private void clearCache() {
    abductions.values().forEach(ImageMechanism.Abduction::close);
    abductions.clear();
  }

  /** Frees the cached abductions (the model itself belongs to the caller). */
  public void release() {
    synchronized (cacheLock) {
      clearCache();
      if (cacheManager != null) {
        cacheManager.close();
        cacheManager = null;
      }
    }
  }
}
