package org.deepscm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.image.ImageCounterfactual;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.Intervention;
import org.deepscm.scm.InvalidValueException;
import org.deepscm.scm.Mechanism;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "counterfactual", mixinStandardHelpOptions = true,
    description = {"Counterfactual: what would these units have been under do()? (abduction -> action -> prediction)",
        "Example: counterfactual --observed t=2.1,i=150 --do t=3.5",
        "         counterfactual --input cases.csv --do t+=1 --output answers.csv"})
final class CounterfactualCommand implements Callable<Integer> {
  @Mixin
  ModelOption model;

  static final class Cases {
    @Option(names = "--observed", paramLabel = "NAME=VALUE,...",
        description = "one fully observed unit, e.g. t=2.1,i=150")
    String observed;

    @Option(names = "--input", paramLabel = "CSV", description = "a CSV file with one unit per row and a column per variable")
    Path input;
  }

  @ArgGroup(multiplicity = "0..1")
  Cases cases;

  @Option(names = "--do", required = true, paramLabel = "NAME=VALUE",
      description = "an intervention: name=value, name+=delta or name-=delta; repeat or separate with commas")
  List<String> interventions;

  @Option(names = "--image", paramLabel = "PNG",
      description = "the unit's image, for a model with an image variable (e.g. a 28x28 grey PNG for Morpho-MNIST)")
  Path image;

  @Option(names = "--image-out", paramLabel = "PNG", description = "write the counterfactual image here")
  Path imageOut;

  @Option(names = "--diff-out", paramLabel = "PNG", description = "write the difference map (counterfactual minus "
      + "original; red brighter, blue darker, symmetric scale) here")
  Path diffOut;

  @Option(names = "--particles", description = "posterior draws averaged for non-invertible mechanisms "
      + "(default: ${DEFAULT-VALUE})")
  int particles = 32;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  int seed = 1;

  @Option(names = "--output", paramLabel = "CSV", description = "also write the answers to this CSV file")
  Path output;

  @Option(names = "--csv", description = "print CSV instead of a table")
  boolean csv;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (particles < 1) {
      throw new IllegalArgumentException("--particles must be at least 1, got " + particles);
    }
    try (SavedModel m = model.load(); NDManager nd = NDManager.newBaseManager()) {
      StructuralCausalModel scm = m.scm();
      CausalGraph graph = scm.graph();
      Map<String, Intervention> dos = Values.interventions(interventions, graph);
      Values.warnExtrapolation(m, dos, spec.commandLine().getErr());
      boolean hasImage = graph.variables().stream().anyMatch(v -> !v.kind().isScalar());
      if (hasImage) {
        return imageCounterfactual(m, dos);
      }
      if (cases == null) {
        throw new IllegalArgumentException("give the unit with --observed name=value,... or units with --input FILE.csv");
      }
      CovariateTable units = cases.input != null ? readCsv(cases.input, graph) : parseObserved(cases.observed, graph);
      List<String> names = scm.variableNames();
      Map<String, NDArray> observed = units.toArrays(nd, names);
      Engine.getInstance().setRandomSeed(seed);
      boolean stochastic = names.stream().map(scm::mechanism).anyMatch(mech -> !mech.isInvertible());
      Map<String, double[]> answer = counterfactual(scm, observed, dos, stochastic ? particles : 1);

      List<String> header = new ArrayList<>();
      for (String n : names) {
        header.add(n);
      }
      for (String n : names) {
        header.add(n + "_cf");
      }
      Table table = new Table(header);
      Map<String, double[]> csvColumns = new LinkedHashMap<>();
      for (int r = 0; r < units.rows(); r++) {
        List<Object> row = new ArrayList<>();
        for (String n : names) {
          row.add(Values.show(graph.variable(n), units.get(n, r), csv));
        }
        for (String n : names) {
          row.add(Values.show(graph.variable(n), answer.get(n)[r], csv));
        }
        table.row(row.toArray());
      }
      PrintWriter out = spec.commandLine().getOut();
      if (!csv) {
        out.println("counterfactuals under " + String.join(", ",
            dos.entrySet().stream().map(e -> e.getValue().describe(e.getKey())).toList())
            + (stochastic ? " (" + particles + " posterior draws: mean, or most frequent category)" : " (exact)"));
      }
      table.print(out, csv);
      if (output != null) {
        for (String n : names) {
          csvColumns.put(n, units.column(n));
        }
        for (String n : names) {
          csvColumns.put(n + "_cf", answer.get(n));
        }
        try (Writer w = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
          new CovariateTable(csvColumns).writeCsv(w);
        }
        spec.commandLine().getErr().println("wrote " + output);
      }
    }
    return 0;
  }

  /** One unit of an image model: its scalars from --observed (or measured), its image from --image. */
  private int imageCounterfactual(SavedModel m, Map<String, Intervention> dos) throws IOException {
    StructuralCausalModel scm = m.scm();
    String x = ImageCounterfactual.imageVariable(scm);
    Variable xv = scm.graph().variable(x);
    if (image == null || (cases != null && cases.input != null)) {
      throw new IllegalArgumentException("model " + m.name() + " has an image variable '" + x + "': give one unit with"
          + " --image FILE.png and its other values with --observed (a CSV of many units is for covariate models)");
    }
    int h = xv.shape().get(1);
    int w = xv.shape().get(2);
    ImageFiles.Grey grey = ImageFiles.read(image, h, w);
    PrintWriter err = spec.commandLine().getErr();
    if (grey.wasColour()) {
      err.println("warning: " + image + " is in colour; using its grey levels");
    }
    Map<String, Double> observed = new LinkedHashMap<>();
    if (cases != null && cases.observed != null && !cases.observed.isBlank()) {
      for (String part : cases.observed.split(",")) {
        String[] kv = part.split("=", 2);
        if (kv.length != 2) {
          throw new InvalidValueException("cannot read '" + part + "' in --observed: write name=value,name=value");
        }
        observed.put(kv[0].trim(), scm.graph().variable(kv[0].trim()).parse(kv[1]));
      }
    }
    // Morpho-MNIST covariates that were not given are measured on the image (Castro et al. 2019)
    if (!observed.containsKey("t") && scm.graph().contains("t")) {
      observed.put("t", Morphology.measureThickness(grey.pixels()));
      err.printf(java.util.Locale.ROOT, "t measured from the image: %.3f%n", observed.get("t"));
    }
    if (!observed.containsKey("i") && scm.graph().contains("i")) {
      observed.put("i", Morphology.measureIntensity(grey.pixels()));
      err.printf(java.util.Locale.ROOT, "i measured from the image: %.3f%n", observed.get("i"));
    }
    List<String> scalars = scm.scalarPart().variableNames();
    try (NDManager nd = NDManager.newBaseManager()) {
      Map<String, NDArray> values = new LinkedHashMap<>();
      for (String v : scalars) {
        Double value = observed.get(v);
        if (value == null) {
          throw new InvalidValueException("--observed gives no value for " + v);
        }
        values.put(v, nd.create(new float[] {value.floatValue()}));
      }
      float[] px = new float[grey.pixels().length];
      for (int k = 0; k < px.length; k++) {
        px[k] = (float) grey.pixels()[k];
      }
      NDArray img = nd.create(px, new ai.djl.ndarray.types.Shape(1, h, w));
      Engine.getInstance().setRandomSeed(seed);
      ImageCounterfactual.Result r = ImageCounterfactual.compute(scm, values, img, dos, particles);
      Table table = new Table(List.of("variable", "observed", "counterfactual"));
      for (String v : scalars) {
        table.row(v, observed.get(v), (double) r.scalars().get(v).getFloat(0));
      }
      float[] cf = r.image().toFloatArray();
      double[] cfPx = new double[cf.length];
      double[] diff = new double[cf.length];
      double maxAbs = 0;
      double meanAbs = 0;
      for (int k = 0; k < cf.length; k++) {
        cfPx[k] = cf[k];
        diff[k] = cf[k] - grey.pixels()[k];
        maxAbs = Math.max(maxAbs, Math.abs(diff[k]));
        meanAbs += Math.abs(diff[k]) / cf.length;
      }
      table.row(x + " (mean |change|, 0-255)", 0.0, meanAbs);
      PrintWriter out = spec.commandLine().getOut();
      if (!csv) {
        out.println("counterfactual under " + String.join(", ",
            dos.entrySet().stream().map(e -> e.getValue().describe(e.getKey())).toList()) + " (" + particles
            + " particles for the image)");
      }
      table.print(out, csv);
      if (imageOut != null) {
        ImageFiles.writeGrey(imageOut, cfPx, h, w);
        err.println("wrote " + imageOut);
      }
      if (diffOut != null) {
        ImageFiles.writeDifference(diffOut, diff, h, w, Math.max(1, maxAbs));
        err.printf(java.util.Locale.ROOT, "wrote %s (red: brighter, blue: darker, scale +-%.0f)%n", diffOut,
            Math.max(1, maxAbs));
      }
    }
    return 0;
  }

  /** Mean over posterior draws for continuous variables, most frequent category for discrete ones. */
  static Map<String, double[]> counterfactual(StructuralCausalModel scm, Map<String, NDArray> observed,
      Map<String, Intervention> dos, int draws) {
    Map<String, double[]> sum = new LinkedHashMap<>();
    Map<String, int[][]> votes = new LinkedHashMap<>();
    int rows = (int) observed.values().iterator().next().getShape().get(0);
    for (int d = 0; d < draws; d++) {
      Map<String, NDArray> cf = scm.counterfactual(observed, dos);
      for (String n : scm.variableNames()) {
        double[] v = Values.column(cf.get(n));
        Variable var = scm.graph().variable(n);
        if (var.kind().isDiscrete()) {
          int[][] count = votes.computeIfAbsent(n, k -> new int[rows][var.categories().size()]);
          for (int r = 0; r < rows; r++) {
            count[r][(int) Math.round(v[r])]++;
          }
        } else {
          double[] s = sum.computeIfAbsent(n, k -> new double[rows]);
          for (int r = 0; r < rows; r++) {
            s[r] += v[r] / draws;
          }
        }
      }
    }
    Map<String, double[]> out = new LinkedHashMap<>();
    for (String n : scm.variableNames()) {
      if (votes.containsKey(n)) {
        double[] mode = new double[rows];
        for (int r = 0; r < rows; r++) {
          int[] c = votes.get(n)[r];
          int best = 0;
          for (int k = 1; k < c.length; k++) {
            best = c[k] > c[best] ? k : best;
          }
          mode[r] = best;
        }
        out.put(n, mode);
      } else {
        out.put(n, sum.get(n));
      }
    }
    return out;
  }

  static CovariateTable parseObserved(String text, CausalGraph graph) {
    Map<String, double[]> cols = new LinkedHashMap<>();
    for (String part : text.split(",")) {
      String[] kv = part.split("=", 2);
      if (kv.length != 2 || kv[0].isBlank()) {
        throw new InvalidValueException("cannot read '" + part + "' in --observed: write name=value,name=value");
      }
      String name = kv[0].trim();
      Variable v = graph.variable(name);
      cols.put(name, new double[] {v.parse(kv[1])});
    }
    List<String> missing = new ArrayList<>(graph.topologicalOrder());
    missing.removeAll(cols.keySet());
    if (!missing.isEmpty()) {
      throw new InvalidValueException("--observed gives no value for " + String.join(", ", missing)
          + ": a counterfactual needs every variable of the unit observed");
    }
    return new CovariateTable(cols);
  }

  static CovariateTable readCsv(Path file, CausalGraph graph) throws IOException {
    return CovariateTable.readCsv(file, graph.topologicalOrder(),
        column -> graph.contains(column) ? text -> graph.variable(column).parse(text) : null);
  }
}
