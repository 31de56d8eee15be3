package org.deepscm.train;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.data.CovariateTable;
import org.deepscm.flow.FlowStep;
import org.deepscm.flow.ParameterSet;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.VaeImageMechanism;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.ContextEncoding;
import org.deepscm.scm.FlowMechanism;
import org.deepscm.scm.GumbelMaxMechanism;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.Mechanism;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;
import org.deepscm.scm.VariableKind;

/**
 * Builds an untrained SCM for a graph over scalar variables, with the paper's mechanism for each
 * kind of variable (Appendix A.2 and B.2), normalisation constants taken from the training data:
 *
 * <ul>
 *   <li>positive root: Spline -> Normalise(mean, std of log x) -> Exp (thickness, age);
 *   <li>positive with parents: ConditionalAffine(parents) -> Normalise -> Exp (volumes);
 *   <li>bounded root: Affine -> Spline -> Sigmoid -> Normalise(range) (independent intensity);
 *   <li>bounded with parents: ConditionalAffine(parents) -> Sigmoid -> Normalise(range) (intensity | t);
 *   <li>binary or categorical: Gumbel-max with logits linear in the parents (sex);
 *   <li>image: the amortised explicit mechanism (encoder, decoder, fixed-variance low-level flow).
 * </ul>
 *
 * Parents enter context networks normalised: positive ones as standardised log values, bounded
 * ones standardised, discrete ones as their 0/1 code.
 */
public final class ScmBuilder {
  public static final int SPLINE_BINS = 8;
  public static final double SPLINE_BOUND = 3;
  /** Bounded variables are normalised on the training range widened by this fraction on each side. */
  public static final double RANGE_MARGIN = 0.01;

  private final List<Variable> variables = new ArrayList<>();
  private final Map<String, List<String>> parents = new LinkedHashMap<>();
  private final Map<String, List<Integer>> hidden = new LinkedHashMap<>();
  private ImageArchitecture imageArchitecture;
  private org.deepscm.image.DeformationArchitecture deformation;
  private List<ContextEncoding> imageContext;

  public ScmBuilder variable(Variable v, String... parentNames) {
    variables.add(v);
    parents.put(v.name(), List.of(parentNames));
    return this;
  }

  /** Hidden layer sizes of a variable's context network (default: linear). */
  public ScmBuilder hidden(String variable, Integer... sizes) {
    hidden.put(variable, List.of(sizes));
    return this;
  }

  /** The networks of image variables (default: the paper's Morpho-MNIST sizes for their shape). */
  /** The image is a {@link org.deepscm.image.DeformationMechanism} of these sizes instead of the paper's VAE. */
  public ScmBuilder deformation(org.deepscm.image.DeformationArchitecture architecture) {
    this.deformation = architecture;
    return this;
  }

  public ScmBuilder imageArchitecture(ImageArchitecture architecture) {
    this.imageArchitecture = architecture;
    return this;
  }

  /**
   * Fixed encodings of the image's parents instead of ones computed from the training data: a warm
   * start keeps those its networks learnt with (another draw of the data shifts them slightly).
   */
  public ScmBuilder imageContext(List<ContextEncoding> context) {
    this.imageContext = List.copyOf(context);
    return this;
  }

  public CausalGraph graph() {
    return new CausalGraph(variables, parents);
  }

  /** A fresh SCM with seeded initial parameters and constants from {@code train}. */
  public StructuralCausalModel build(CovariateTable train, long seed) {
    CausalGraph graph = graph();
    for (Variable v : variables) {
      if (v.kind() == VariableKind.IMAGE) {
        continue;
      }
      if (!train.has(v.name())) {
        throw new InvalidModelException("training data has no column for variable '" + v.name() + "'");
      }
      double[] column = train.column(v.name());
      for (int r = 0; r < column.length; r++) {
        v.check(column[r]);
      }
    }
    NDManager manager = NDManager.newBaseManager();
    ParameterSet params = new ParameterSet(manager);
    Random random = new Random(seed);
    Map<String, Mechanism> mechanisms = new LinkedHashMap<>();
    for (String name : graph.topologicalOrder()) {
      Variable v = graph.variable(name);
      List<ContextEncoding> context = new ArrayList<>();
      for (String p : graph.parents(name)) {
        context.add(encoding(graph.variable(p), train.column(p)));
      }
      List<Integer> h = hidden.getOrDefault(name, List.of());
      if (v.kind() == VariableKind.IMAGE) {
        if (imageContext != null) {
          List<String> names = imageContext.stream().map(ContextEncoding::parent).toList();
          if (!names.equals(graph.parents(name))) {
            throw new InvalidModelException("image context " + names + " does not match the parents "
                + graph.parents(name) + " of '" + name + "'");
          }
          context = imageContext;
        }
        if (deformation != null) {
          mechanisms.put(name, new org.deepscm.image.DeformationMechanism(v, context, deformation,
              new ParameterSet(manager)).initParameters(random));
          continue;
        }
        ImageArchitecture arch = imageArchitecture != null ? imageArchitecture : ImageArchitecture.morphoMnist();
        mechanisms.put(name, new VaeImageMechanism(v, context, arch, new ParameterSet(manager)).initParameters(random));
        continue;
      }
      if (v.kind().isDiscrete()) {
        mechanisms.put(name, new GumbelMaxMechanism(v, context, h, params).initParameters(random));
        continue;
      }
      List<FlowStep> steps = new ArrayList<>();
      double[] x = train.column(name);
      boolean root = context.isEmpty();
      if (v.kind() == VariableKind.POSITIVE) {
        double[] logs = new double[x.length];
        for (int k = 0; k < x.length; k++) {
          logs[k] = Math.log(x[k]);
        }
        steps.add(root ? new FlowStep.Spline(SPLINE_BINS, SPLINE_BOUND) : new FlowStep.ConditionalAffine(h));
        steps.add(new FlowStep.Normalise(mean(logs), std(logs)));
        steps.add(new FlowStep.Exp());
      } else if (v.kind() == VariableKind.BOUNDED) {
        double lo = min(x);
        double hi = max(x);
        double margin = RANGE_MARGIN * (hi - lo);
        lo = Math.max(v.lower(), lo - margin);
        hi = Math.min(v.upper(), hi + margin);
        if (root) {
          steps.add(new FlowStep.Affine());
          steps.add(new FlowStep.Spline(SPLINE_BINS, SPLINE_BOUND));
        } else {
          steps.add(new FlowStep.ConditionalAffine(h));
        }
        steps.add(new FlowStep.Sigmoid());
        steps.add(new FlowStep.Normalise(lo, hi - lo));
      } else {
        throw new InvalidModelException("no covariate mechanism for variable '" + name + "' of kind " + v.kind());
      }
      mechanisms.put(name, new FlowMechanism(v, context, steps, params).initParameters(random));
    }
    return new StructuralCausalModel(graph, mechanisms, params);
  }

  /** The training range of every scalar variable. */
  public Map<String, double[]> trainingRanges(CovariateTable train) {
    Map<String, double[]> ranges = new LinkedHashMap<>();
    for (Variable v : variables) {
      if (v.kind().isScalar()) {
        ranges.put(v.name(), new double[] {min(train.column(v.name())), max(train.column(v.name()))});
      }
    }
    return ranges;
  }

  public SavedModel buildSaved(String name, CovariateTable train, long seed) {
    return new SavedModel(name, build(train, seed), trainingRanges(train), new com.google.gson.JsonObject(), null);
  }

  public static ContextEncoding encoding(Variable parent, double[] values) {
    if (parent.kind().isDiscrete()) {
      return new ContextEncoding(parent.name(), false, 0, 1);
    }
    if (parent.kind() == VariableKind.POSITIVE) {
      return logEncoding(parent.name(), values);
    }
    double sd = std(values);
    return new ContextEncoding(parent.name(), false, mean(values), sd > 0 ? sd : 1);
  }

  /** A positive parent encoded by its log, normalised by the mean and standard deviation of the logs. */
  public static ContextEncoding logEncoding(String parent, double[] values) {
    double[] v = new double[values.length];
    for (int k = 0; k < v.length; k++) {
      v[k] = Math.log(values[k]);
    }
    double sd = std(v);
    return new ContextEncoding(parent, true, mean(v), sd > 0 ? sd : 1);
  }

  static double mean(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return s / x.length;
  }

  static double std(double[] x) {
    return new org.apache.commons.math3.stat.descriptive.moment.StandardDeviation(false).evaluate(x);
  }

  static double min(double[] x) {
    double m = Double.POSITIVE_INFINITY;
    for (double v : x) {
      m = Math.min(m, v);
    }
    return m;
  }

  static double max(double[] x) {
    double m = Double.NEGATIVE_INFINITY;
    for (double v : x) {
      m = Math.max(m, v);
    }
    return m;
  }
}
