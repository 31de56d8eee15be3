package org.deepscm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.Csv;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.brain.BrainCases;
import org.deepscm.data.brain.BrainTrueScm;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.NiftiVolume;
import org.deepscm.data.brain.NiftiWriter;
import org.deepscm.image.ParticleSpread;
import org.deepscm.data.morphomnist.MeasuredCovariates;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.data.morphomnist.TypicalIntensity;
import org.deepscm.eval.Typicality;
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
        "         counterfactual --input cases.csv --do t+=1 --output answers.csv",
        "         counterfactual --model models/morphomnist-full --input digits.csv --do t+=1 --image-out cfs/"})
final class CounterfactualCommand implements Callable<Integer> {
  @Mixin
  ModelOption model;

  static final class Cases {
    @Option(names = "--observed", paramLabel = "NAME=VALUE,...",
        description = "one fully observed unit, e.g. t=2.1,i=150")
    String observed;

    @Option(names = "--input", paramLabel = "CSV", description = {
        "a CSV file with one unit per row and a column per variable;",
        "for an image model a column 'image' of image files (relative to the CSV's folder) and optional columns t,"
            + " i (measured on the image where absent or empty)"})
    Path input;
  }

  @ArgGroup(multiplicity = "0..1")
  Cases cases;

  @Option(names = "--do", required = true, paramLabel = "NAME=VALUE",
      description = "an intervention: name=value, name+=delta or name-=delta (a shift), name*=factor (a scale, "
          + "e.g. ventricle_volume*=2); repeat or separate with commas")
  List<String> interventions;

  @Option(names = "--image", paramLabel = "PNG|NII",
      description = "the unit's image, for a model with an image variable (e.g. a 28x28 grey PNG for Morpho-MNIST; "
          + "for a brain model a 64x64 PNG or a NIfTI volume with --slice-mm)")
  Path image;

  @Option(names = "--slice-mm", paramLabel = "Z", description = "brain models: the world z (mm) of the axial slice "
      + "taken from NIfTI volumes (--image, or the CSV's image column); 18 in MNI space shows the lateral ventricles")
  Double sliceMm;

  @Option(names = "--image-out", paramLabel = "PNG|DIR", description = "write the counterfactual image here;"
      + " with --input, a folder for NAME-cf.png per row")
  Path imageOut;

  @Option(names = "--diff-out", paramLabel = "PNG|DIR", description = "write the difference map (counterfactual minus "
      + "original; red brighter, blue darker, symmetric scale) here; with --input, a folder for NAME-diff.png per row")
  Path diffOut;

  @Option(names = "--jacobian-out", paramLabel = "PNG", description = "models whose image mechanism moves tissue "
      + "(kind deformation), one --image: write where tissue moves, the log of the local area change from the "
      + "original to the counterfactual (red grows, blue shrinks, symmetric scale; the scale in %% is printed)")
  Path jacobianOut;

  @Option(names = "--sd-out", paramLabel = "PNG|DIR", description = {"write the counterfactual's spread over its "
      + "particles (each pixel's standard deviation, grey levels) here as a grey PNG scaled so that the image's "
      + "largest spread is level 255; that largest spread (x_sd_max) and the mean spread over the brain or digit "
      + "(x_mean_sd) go into the answers. For a brain image given as a NIfTI volume also NAME.nii.gz beside it: the "
      + "spread in grey levels as float32, in the volume's world space. With --input, a folder for NAME-sd.png per "
      + "row."})
  Path sdOut;

  /** More posterior draws than this add nothing to the mean and would only exhaust memory. */
  static final int MAX_PARTICLES = 4096;

  @Option(names = "--particles", description = "posterior draws averaged for non-invertible mechanisms "
      + "(default: ${DEFAULT-VALUE})")
  int particles = 32;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  int seed = 1;

  @Option(names = "--output", paramLabel = "CSV", description = "also write the answers to this CSV file")
  Path output;

  @Option(names = "--csv", description = "print CSV instead of a table")
  boolean csv;

  @Option(names = "--typical-intensity", description = {"Morpho-MNIST image models: first bring each digit into "
      + "the model's world: keep its shape and thickness, set its intensity to the model's median for that "
      + "thickness (SetIntensity). A real MNIST digit is bright at every thickness, far in the tail of the model's "
      + "p(i | t), and its counterfactual under do(i) barely moves; this makes it a case like the training data."})
  boolean typicalIntensity;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (output != null) {
      OutputNames.refuseImageName(output, "--output", "the answers as CSV (e.g. answers.csv)",
          "the counterfactual image goes to --image-out, the difference map to --diff-out");
      Path parent = output.toAbsolutePath().getParent();
      if (Files.isDirectory(output)) {
        throw new IllegalArgumentException("--output " + output + " is a folder; give a file name, e.g. answers.csv");
      }
      if (parent != null && !Files.isDirectory(parent)) {
        throw new IllegalArgumentException("--output " + output + ": the folder " + parent + " does not exist; "
            + "create it first (nothing was computed)");
      }
    }
    if (imageOut != null) {
      OutputNames.refuseDataName(imageOut, "--image-out", "the answers' CSV goes to --output");
    }
    if (diffOut != null) {
      OutputNames.refuseDataName(diffOut, "--diff-out", "the answers' CSV goes to --output");
    }
    if (jacobianOut != null) {
      OutputNames.refuseDataName(jacobianOut, "--jacobian-out", "the answers' CSV goes to --output");
    }
    if (particles < 1 || particles > MAX_PARTICLES) {
      throw new IllegalArgumentException("--particles takes 1 .. " + MAX_PARTICLES + " posterior draws (the paper "
          + "uses 32), got " + particles);
    }
    try (SavedModel m = model.load(); NDManager nd = NDManager.newBaseManager()) {
      StructuralCausalModel scm = m.scm();
      CausalGraph graph = scm.graph();
      Map<String, Intervention> dos = Values.interventions(interventions, graph);
      Values.refuseImpossibleBrain(m, dos);
      Values.warnExtrapolation(m, dos, spec.commandLine().getErr());
      boolean hasImage = graph.variables().stream().anyMatch(v -> !v.kind().isScalar());
      if (hasImage) {
        return imageCounterfactual(m, dos);
      }
      if (image != null || imageOut != null || sdOut != null) {
        throw new IllegalArgumentException("model " + model.model + " has no image variable: --image, --image-out "
            + "and --sd-out are for image models (e.g. models/morphomnist-full); give this model's unit with "
            + "--observed");
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
      // never a non-finite number as an answer: an intervention far outside the model's range overflows
      for (String n : names) {
        double[] col = answer.get(n);
        for (int r = 0; r < col.length; r++) {
          if (!Double.isFinite(col[r])) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                "the counterfactual %s of %s overflows the model (it comes out as %s) under %s: the intervention "
                    + "is too far outside the range seen in training", n, units.rows() > 1 ? "row " + (r + 1)
                    : "this unit", col[r], describe(dos)));
          }
        }
      }

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
          row.add(Values.show(graph.variable(n), units.get(n, r)));
        }
        for (String n : names) {
          row.add(Values.show(graph.variable(n), answer.get(n)[r]));
        }
        table.row(row.toArray());
      }
      PrintWriter out = spec.commandLine().getOut();
      if (!csv) {
        out.println("counterfactuals under " + describe(dos)
            + (stochastic ? " (" + particles + " posterior draws: mean, or most frequent category)" : " (exact)"));
      }
      printRows(table, out);
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

  /** Units of an image model per forward pass: bounds memory (each pass decodes particles x units images). */
  static final int IMAGE_BATCH = 64;

  /** The optional column of a cases CSV that names each unit in the answers and the output files. */
  static final String ID_COLUMN = "id";

  /** The column of a cases CSV that names each unit's image file. */
  static final String IMAGE_COLUMN = "image";

  /** One unit of an image model: its image file and pixels, its scalar values (given or measured). */
  private record ImageCase(Path file, double[] pixels, Map<String, Double> observed, List<String> measured) {}

  /** How a counterfactual image differs from the observed one, in grey levels. */
  private record ImageChange(double[] difference, double maxAbs, double meanAbs) {
    static ImageChange between(double[] observed, double[] counterfactual) {
      double[] diff = new double[observed.length];
      double maxAbs = 0;
      double meanAbs = 0;
      for (int k = 0; k < diff.length; k++) {
        diff[k] = counterfactual[k] - observed[k];
        maxAbs = Math.max(maxAbs, Math.abs(diff[k]));
        meanAbs += Math.abs(diff[k]) / diff.length;
      }
      return new ImageChange(diff, maxAbs, meanAbs);
    }

    /** The difference map's colour scale: symmetric, at least one grey level so that no change stays white. */
    double scale() {
      return Math.max(1, maxAbs);
    }
  }

  private int imageCounterfactual(SavedModel m, Map<String, Intervention> dos) throws IOException {
    String x = ImageCounterfactual.imageVariable(m.scm());
    if (cases != null && cases.input != null) {
      if (image != null) {
        throw new IllegalArgumentException("give one unit's image with --image or a CSV of units with --input,"
            + " not both");
      }
      return isBrain(m.scm()) ? brainCases(m, dos) : imageCases(m, dos);
    }
    if (image == null) {
      throw new IllegalArgumentException("model " + m.name() + " has an image variable '" + x + "': give one unit with"
          + " --image FILE.png and its other values with --observed, or many with --input cases.csv (a column '"
          + IMAGE_COLUMN + "' of PNG files)");
    }
    return oneImage(m, dos);
  }

  /** One unit of an image model: its scalars from --observed (or measured), its image from --image. */
  private int oneImage(SavedModel m, Map<String, Intervention> dos) throws IOException {
    StructuralCausalModel scm = m.scm();
    String x = ImageCounterfactual.imageVariable(scm);
    PrintWriter err = spec.commandLine().getErr();
    Map<String, Double> given = new LinkedHashMap<>();
    if (cases != null && cases.observed != null && !cases.observed.isBlank()) {
      for (String part : cases.observed.split(",")) {
        String[] kv = part.split("=", 2);
        if (kv.length != 2) {
          throw new InvalidValueException("cannot read '" + part + "' in --observed: write name=value,name=value");
        }
        given.put(kv[0].trim(), scm.graph().variable(kv[0].trim()).parse(kv[1]));
      }
    }
    if (sdOut != null && BrainCases.isNifti(sdOut)) {
      throw new IllegalArgumentException("--sd-out " + sdOut + ": give a .png name; for a NIfTI input the NIfTI "
          + "slice is written beside it (" + niftiBeside(sdOut.resolveSibling("NAME.png")).getFileName() + ")");
    }
    ImageCase read = readImageCase(scm, image, given, "--observed", "");
    for (String v : read.measured()) {
      err.printf(Locale.ROOT, "%s measured from the image: %.3f%n", v, read.observed().get(v));
    }
    ImageCase unit = intoModelWorld(scm, read, "");
    warnIfAtypical(m, unit, "");
    List<String> scalars = scm.scalarPart().variableNames();
    Map<String, double[]> values = new LinkedHashMap<>();
    scalars.forEach(v -> values.put(v, new double[] {unit.observed().get(v)}));
    refuseImpossible(scm, values, dos, List.of(image.toString()));
    Engine.getInstance().setRandomSeed(seed);
    ImageCounterfactual.Answers answer = ImageCounterfactual.computeInBatches(scm, values,
        new double[][] {unit.pixels()}, dos, particles, 1);
    double[] cf = answer.images()[0];
    ImageChange change = ImageChange.between(unit.pixels(), cf);
    Table table = new Table(List.of("variable", "observed", "counterfactual"));
    for (String v : scalars) {
      Variable variable = scm.graph().variable(v);
      table.row(v, Values.show(variable, unit.observed().get(v)), Values.show(variable,
          answer.scalars().get(v)[0]));
    }
    table.row(x + " (mean |change|, 0-255)", 0.0, change.meanAbs());
    Spread spread = Spread.of(unit.pixels(), cf, answer.spreads()[0]);
    if (sdOut != null) {
      table.row(x + " (mean spread over the particles, 0-255)", 0.0, spread.meanOverRegion());
      table.row(x + " (largest spread: PNG level 255)", 0.0, spread.max());
    }
    PrintWriter out = spec.commandLine().getOut();
    if (!csv) {
      out.println("counterfactual under " + describe(dos) + " (" + particles + " particles for the image)");
    }
    table.print(out, csv);
    int[] hw = imageSize(scm);
    if (imageOut != null) {
      sayNewFolder(imageOut, err);
      ImageFiles.writeGrey(imageOut, cf, hw[0], hw[1]);
      err.println("wrote " + imageOut);
    }
    if (diffOut != null) {
      sayNewFolder(diffOut, err);
      ImageFiles.writeDifference(diffOut, change.difference(), hw[0], hw[1], change.scale());
      err.printf(Locale.ROOT, "wrote %s (red: brighter, blue: darker, scale +-%.0f)%n", diffOut, change.scale());
    }
    if (jacobianOut != null) {
      // the same seed: the same posterior draws as the counterfactual above
      Engine.getInstance().setRandomSeed(seed);
      double[] motion = ImageCounterfactual.tissueMotion(scm, values, unit.pixels(), dos, particles);
      double range = 0;
      for (double v : motion) {
        range = Math.max(range, Math.abs(v));
      }
      range = Math.max(range, 1e-3);
      sayNewFolder(jacobianOut, err);
      ImageFiles.writeDifference(jacobianOut, motion, hw[0], hw[1], range);
      err.printf(Locale.ROOT, "wrote %s (where tissue moves: red grows, blue shrinks; scale +%.0f %% / -%.0f %% area)%n",
          jacobianOut, 100 * (Math.exp(range) - 1), 100 * (1 - Math.exp(-range)));
    }
    if (sdOut != null) {
      sayNewFolder(sdOut, err);
      spread.writePng(sdOut, hw);
      err.printf(Locale.ROOT, "wrote %s (the spread over %d particles; level 255 = %s grey levels)%n", sdOut,
          particles, Table.number(spread.max()));
      if (BrainCases.isNifti(image)) {
        Path nifti = niftiBeside(sdOut);
        spread.writeNifti(nifti, BrainCases.axialImage(NiftiVolume.read(image), sliceMm), sliceMm);
        err.println("wrote " + nifti + " (the spread in grey levels, float32, in " + image.getFileName()
            + "'s world space)");
      }
    }
    writeOutput(table);
    return 0;
  }

  /** The spread of one counterfactual image over its particles, as the answers and the files give it. */
  private record Spread(double[] sd, double max, double meanOverRegion) {
    static Spread of(double[] observed, double[] counterfactual, double[] sd) {
      double max = 0;
      for (double v : sd) {
        max = Math.max(max, v);
      }
      double[] change = new double[sd.length];
      for (int k = 0; k < sd.length; k++) {
        change[k] = counterfactual[k] - observed[k];
      }
      ParticleSpread.Summary s = ParticleSpread.summarise(change, sd,
          ParticleSpread.region(observed, counterfactual, ParticleSpread.REGION_THRESHOLD), 2);
      return new Spread(sd, max, s.regionPixels() == 0 ? 0 : s.meanSpread());
    }

    /** A grey PNG, the largest spread at level 255 (all black when there is none). */
    void writePng(Path file, int[] hw) throws IOException {
      double[] levels = new double[sd.length];
      for (int k = 0; k < sd.length; k++) {
        levels[k] = max > 0 ? sd[k] / max * 255 : 0;
      }
      ImageFiles.writeGrey(file, levels, hw[0], hw[1]);
    }

    /** The spread as a float32 NIfTI slice at world z = {@code zMm} of the volume the slice was cut from. */
    void writeNifti(Path file, BrainCases.NiftiSlice slice, double zMm) throws IOException {
      float[] values = new float[sd.length];
      for (int k = 0; k < sd.length; k++) {
        values[k] = (float) sd[k];
      }
      int side = BrainSliceRenderer.SIDE;
      double mm = BrainSliceRenderer.PIXEL_MM;
      NiftiWriter.writeFloat32(file, side, side, 1, new double[] {mm, mm, mm}, BrainCases.sliceAffine(slice, zMm),
          values, NiftiWriter.SFORM_ALIGNED);
    }
  }

  /** The NIfTI file written beside a spread PNG: its name with .nii.gz for .png. */
  static Path niftiBeside(Path png) {
    String name = png.getFileName().toString();
    String stem = name.toLowerCase(Locale.ROOT).endsWith(".png") ? name.substring(0, name.length() - 4) : name;
    return png.resolveSibling(stem + ".nii.gz");
  }

  /**
   * Many units of an image model from a CSV: a column {@value #IMAGE_COLUMN} of image files
   * (relative to the CSV's folder) and optional columns of scalar values; t and i are measured on
   * the image where a column or a cell is missing, as for --image. Every row is read and checked
   * before any is computed, then all are answered in batches of {@link #IMAGE_BATCH}.
   */
  private int imageCases(SavedModel m, Map<String, Intervention> dos) throws IOException {
    StructuralCausalModel scm = m.scm();
    String x = ImageCounterfactual.imageVariable(scm);
    PrintWriter err = spec.commandLine().getErr();
    Path csvFile = cases.input;
    if (!Files.isRegularFile(csvFile)) {
      throw new IOException("CSV file " + csvFile + " does not exist");
    }
    List<Csv.Row> records;
    try (Reader in = Files.newBufferedReader(csvFile, StandardCharsets.UTF_8)) {
      records = Csv.read(in, csvFile.toString());
    }
    if (records.isEmpty()) {
      throw new IOException(csvFile + " is empty: expected a header row with column names");
    }
    List<String> header = records.get(0).fields().stream().map(String::trim).toList();
    int imageColumn = header.indexOf(IMAGE_COLUMN);
    if (imageColumn < 0) {
      throw new IOException(csvFile + " has no column " + IMAGE_COLUMN + ": for image model " + m.name()
          + " give each unit's image file (relative to the CSV's folder) in a column '" + IMAGE_COLUMN
          + "'; its columns are " + header);
    }
    List<String> scalars = scm.scalarPart().variableNames();
    for (String column : header) {
      if (!column.equals(IMAGE_COLUMN) && !column.equals(ID_COLUMN) && !scalars.contains(column)) {
        err.println("warning: column '" + column + "' of " + csvFile + " is not a variable of the model; ignored");
      }
    }
    if (records.size() < 2) {
      throw new IOException(csvFile + " has a header but no rows");
    }
    Path folder = csvFile.toAbsolutePath().getParent();
    int idColumn = header.indexOf(ID_COLUMN);
    List<String> ids = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<ImageCase> units = new ArrayList<>();
    for (int r = 1; r < records.size(); r++) {
      Csv.Row record = records.get(r);
      String where = csvFile + " row " + r + " (line " + record.line() + ")";
      if (record.fields().size() != header.size()) {
        throw new IOException(where + ": " + record.fields().size() + " cells but the header has " + header.size()
            + " columns");
      }
      String name = record.fields().get(imageColumn).trim();
      if (name.isEmpty()) {
        throw new IOException(where + ": column '" + IMAGE_COLUMN + "' is empty: give the unit's image file");
      }
      try {
        Map<String, Double> given = new LinkedHashMap<>();
        for (int c = 0; c < header.size(); c++) {
          String cell = record.fields().get(c).trim();
          // an empty cell is a value to measure, as an absent column is
          if (scalars.contains(header.get(c)) && !cell.isEmpty()) {
            given.put(header.get(c), scm.graph().variable(header.get(c)).parse(cell));
          }
        }
        units.add(intoModelWorld(scm, readImageCase(scm, folder.resolve(name), given, "the row", "row " + r + ": "),
            "row " + r + ": "));
      } catch (IOException | IllegalArgumentException e) {
        throw new IOException(where + ", image " + name + ": " + e.getMessage(), e);
      }
      names.add(name);
      String id = idColumn < 0 ? "" : record.fields().get(idColumn).trim();
      if (idColumn >= 0 && id.isEmpty()) {
        throw new IOException(where + ": column '" + ID_COLUMN + "' is empty: give the unit's id, or drop the column");
      }
      if (ids.contains(id) && idColumn >= 0) {
        throw new IOException(where + ": id '" + id + "' is already used by row " + (ids.indexOf(id) + 1)
            + "; ids must be unique");
      }
      ids.add(id);
    }
    for (String v : scalars) {
      long count = units.stream().filter(u -> u.measured().contains(v)).count();
      if (count > 0) {
        err.printf(Locale.ROOT, "%s measured from the image in %d of %d rows%n", v, count, units.size());
      }
    }
    int atypical = 0;
    for (int u = 0; u < units.size(); u++) {
      atypical += warnIfAtypical(m, units.get(u), "row " + (u + 1) + " (" + names.get(u) + "): ") ? 1 : 0;
    }
    if (atypical > 0) {
      err.printf(Locale.ROOT, "warning: %d of %d cases are unlike the model's training data; their counterfactuals "
          + "may not show the requested change%s%n", atypical, units.size(), typicalIntensity ? ""
          : " (--typical-intensity brings Morpho-MNIST digits into the model's world first)");
    }

    Map<String, double[]> values = new LinkedHashMap<>();
    for (String v : scalars) {
      values.put(v, units.stream().mapToDouble(u -> u.observed().get(v)).toArray());
    }
    double[][] pixels = units.stream().map(ImageCase::pixels).toArray(double[][]::new);
    List<Path> files = units.stream().map(ImageCase::file).toList();
    return idColumn >= 0 ? answerCases(m, dos, ID_COLUMN, ids, fileNames(ids), values, pixels, files)
        : answerCases(m, dos, IMAGE_COLUMN, names, outputNames(units), values, pixels, files);
  }

  /**
   * Answers many units of an image model in batches of {@link #IMAGE_BATCH}, prints them, and writes the
   * answers (--output), counterfactual images (--image-out, FILE-cf.png) and difference maps (--diff-out).
   */
  private int answerCases(SavedModel m, Map<String, Intervention> dos, String nameColumn, List<String> names,
      List<String> fileNames, Map<String, double[]> values, double[][] pixels, List<Path> files)
      throws IOException {
    StructuralCausalModel scm = m.scm();
    PrintWriter err = spec.commandLine().getErr();
    refuseImpossible(scm, values, dos, names);
    Engine.getInstance().setRandomSeed(seed);
    ImageCounterfactual.Answers answer = ImageCounterfactual.computeInBatches(scm, values, pixels, dos, particles,
        IMAGE_BATCH);

    int n = names.size();
    List<ImageChange> changes = new ArrayList<>();
    List<Spread> spreads = sdOut == null ? null : new ArrayList<>();
    for (int u = 0; u < n; u++) {
      changes.add(ImageChange.between(pixels[u], answer.images()[u]));
      if (spreads != null) {
        spreads.add(Spread.of(pixels[u], answer.images()[u], answer.spreads()[u]));
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    if (!csv) {
      out.println("counterfactuals of " + n + " images under " + describe(dos) + " (" + particles
          + " particles for each image)");
    }
    Table table = imageCasesTable(scm, nameColumn, names, values, answer, changes, spreads, csv);
    printRows(table, out);
    if (output != null) {
      writeOutput(csv ? table : imageCasesTable(scm, nameColumn, names, values, answer, changes, spreads, true));
    }
    int[] hw = imageSize(scm);
    if (imageOut != null) {
      Path dir = outputFolder(imageOut, "--image-out");
      for (int u = 0; u < n; u++) {
        ImageFiles.writeGrey(dir.resolve(fileNames.get(u) + "-cf.png"), answer.images()[u], hw[0], hw[1]);
      }
      err.println("wrote " + n + " counterfactual images (NAME-cf.png) to " + imageOut);
    }
    if (diffOut != null) {
      Path dir = outputFolder(diffOut, "--diff-out");
      for (int u = 0; u < n; u++) {
        ImageFiles.writeDifference(dir.resolve(fileNames.get(u) + "-diff.png"), changes.get(u).difference(),
            hw[0], hw[1], changes.get(u).scale());
      }
      err.println("wrote " + n + " difference maps (NAME-diff.png) to " + diffOut
          + " (red: brighter, blue: darker, each on its own symmetric scale)");
    }
    if (sdOut != null) {
      Path dir = outputFolder(sdOut, "--sd-out");
      int niftis = 0;
      for (int u = 0; u < n; u++) {
        spreads.get(u).writePng(dir.resolve(fileNames.get(u) + "-sd.png"), hw);
        if (BrainCases.isNifti(files.get(u))) {
          spreads.get(u).writeNifti(dir.resolve(fileNames.get(u) + "-sd.nii.gz"),
              BrainCases.axialImage(NiftiVolume.read(files.get(u)), sliceMm), sliceMm);
          niftis++;
        }
      }
      err.println("wrote " + n + " spread maps (NAME-sd.png, level 255 = the row's x_sd_max grey levels)"
          + (niftis > 0 ? " and " + niftis + " NIfTI slices of them (NAME-sd.nii.gz)" : "") + " to " + sdOut);
    }
    return 0;
  }

  /**
   * With --typical-intensity, the case's digit at the model's median intensity for its thickness, and
   * its i measured again on the new image; otherwise the case as it is.
   */
  private ImageCase intoModelWorld(StructuralCausalModel scm, ImageCase c, String prefix) {
    if (!typicalIntensity) {
      return c;
    }
    if (!scm.variableNames().contains("t") || !scm.variableNames().contains("i")) {
      throw new IllegalArgumentException("--typical-intensity is for Morpho-MNIST image models (variables t and i);"
          + " model has " + scm.variableNames());
    }
    double[] px = TypicalIntensity.apply(scm, c.pixels(), c.observed().get("t")).image();
    Map<String, Double> observed = new LinkedHashMap<>(c.observed());
    observed.put("i", Morphology.measureIntensity(px));
    spec.commandLine().getErr().printf(Locale.ROOT, "%sintensity set to the model's typical %.1f for t = %.3f "
        + "(was %.1f)%n", prefix, observed.get("i"), observed.get("t"), c.observed().get("i"));
    return new ImageCase(c.file(), px, observed, c.measured());
  }

  /** Prints why a case's counterfactual may not be trusted, when the model finds it atypical. */
  private boolean warnIfAtypical(SavedModel m, ImageCase c, String prefix) {
    Typicality.Assessment a = Typicality.assess(m, c.observed(), c.pixels());
    if (!a.typical()) {
      spec.commandLine().getErr().println("warning: " + prefix + a.explain()
          + (typicalIntensity || prefix.startsWith("row") ? "" : " --typical-intensity brings a Morpho-MNIST digit "
              + "into the model's world first."));
    }
    return !a.typical();
  }

  /** One row per unit: its image, observed and counterfactual scalars, and how much its image changed. */
  private static Table imageCasesTable(StructuralCausalModel scm, String nameColumn, List<String> names,
      Map<String, double[]> observed, ImageCounterfactual.Answers answer, List<ImageChange> changes,
      List<Spread> spreads, boolean csv) {
    List<String> scalars = scm.scalarPart().variableNames();
    List<String> header = new ArrayList<>();
    header.add(nameColumn);
    header.addAll(scalars);
    scalars.forEach(v -> header.add(v + "_cf"));
    header.add(ImageCounterfactual.imageVariable(scm) + "_mean_abs_change");
    if (spreads != null) {
      header.add(ImageCounterfactual.imageVariable(scm) + "_mean_sd");
      header.add(ImageCounterfactual.imageVariable(scm) + "_sd_max");
    }
    Table table = new Table(header);
    for (int u = 0; u < names.size(); u++) {
      List<Object> row = new ArrayList<>();
      row.add(names.get(u));
      for (String v : scalars) {
        row.add(Values.show(scm.graph().variable(v), observed.get(v)[u]));
      }
      for (String v : scalars) {
        row.add(Values.show(scm.graph().variable(v), answer.scalars().get(v)[u]));
      }
      row.add(changes.get(u).meanAbs());
      if (spreads != null) {
        row.add(spreads.get(u).meanOverRegion());
        row.add(spreads.get(u).max());
      }
      table.row(row.toArray());
    }
    return table;
  }

  /**
   * Reads one unit's image and completes its scalar values: t and i measured on the image where not
   * given, every value checked against its support.
   *
   * @param giver what should have given a missing value, for the error message
   * @param warningPrefix put before warnings about this unit (which row it is)
   */
  private ImageCase readImageCase(StructuralCausalModel scm, Path file, Map<String, Double> given, String giver,
      String warningPrefix) throws IOException {
    double[] pixels = readPixels(scm, file, warningPrefix);
    boolean blank = true;
    for (double p : pixels) {
      blank &= p == pixels[0];
    }
    if (blank) {
      // a counterfactual moves a stroke; an image without one has nothing to change (and t, i are undefined)
      throw new InvalidValueException(file + " has no foreground: all its pixels are " + Table.number(pixels[0]));
    }
    Map<String, Double> observed = new LinkedHashMap<>(given);
    List<String> measured = MeasuredCovariates.measureMissing(observed, scm.variableNames(), pixels);
    for (String v : scm.scalarPart().variableNames()) {
      Double value = observed.get(v);
      if (value == null) {
        throw new InvalidValueException(giver + " gives no value for " + v);
      }
      scm.graph().variable(v).check(value);
    }
    if (isBrain(scm)) {
      String problem = BrainCases.ageProblem(observed.get("age"));
      if (problem == null) {
        problem = BrainCases.volumeProblem(observed.get("brain_volume"), observed.get("ventricle_volume"));
      }
      if (problem != null) {
        throw new InvalidValueException(problem);
      }
    }
    return new ImageCase(file, pixels, observed, measured);
  }

  /**
   * An image file's grey levels: a PNG of the model's size, or for a brain model a NIfTI volume's axial slice
   * at --slice-mm (as the explorer and `train --data` take it).
   */
  private double[] readPixels(StructuralCausalModel scm, Path file, String warningPrefix) throws IOException {
    int[] hw = imageSize(scm);
    if (BrainCases.isNifti(file)) {
      if (!isBrain(scm)) {
        throw new IOException(file + " is a NIfTI volume; this model's images are " + hw[0] + "x" + hw[1]
            + " PNGs (NIfTI volumes are read for brain models)");
      }
      if (sliceMm == null) {
        throw new IllegalArgumentException(file + " is a NIfTI volume: give the height of its axial slice with "
            + "--slice-mm Z (mm in the volume's world space; 18 in MNI space shows the lateral ventricles)");
      }
      if (!Files.isRegularFile(file)) {
        throw new IOException("image file " + file + " does not exist");
      }
      return BrainCases.axialImage(NiftiVolume.read(file), sliceMm).pixels();
    }
    ImageFiles.Grey grey = ImageFiles.read(file, hw[0], hw[1]);
    if (grey.wasColour()) {
      spec.commandLine().getErr().println("warning: " + warningPrefix + file
          + " is in colour; using its grey levels");
    }
    return grey.pixels();
  }

  /** A brain model: its scalar variables are the brain world's (sex, age, brain and ventricle volume). */
  static boolean isBrain(StructuralCausalModel scm) {
    return scm.scalarPart().variableNames().containsAll(List.of(BrainTrueScm.VARIABLES));
  }

  /**
   * Brain subjects from a CSV, read and checked in full as `train --data` and the explorer read them
   * ({@link BrainCases}: id, age, sex as 0 / F / female or 1 / M / male, volumes in ml, PNG or NIfTI images);
   * each row is named by its id, in the answers and in ID-cf.png; without an id column by its image file's name
   * or its row, as the note printed says.
   */
  private int brainCases(SavedModel m, Map<String, Intervention> dos) throws IOException {
    StructuralCausalModel scm = m.scm();
    PrintWriter err = spec.commandLine().getErr();
    double[] ages = m.trainingRange("age");
    BrainCases.Cases read = BrainCases.read(cases.input, sliceMm, ages[0], ages[1]);
    if (read.naming() != null) {
      err.println("note: " + read.naming());
    }
    read.warnings().forEach(w -> err.println("warning: " + w));
    List<String> names = List.of(read.ids());
    Map<String, double[]> values = new LinkedHashMap<>();
    for (String v : scm.scalarPart().variableNames()) {
      values.put(v, java.util.Arrays.stream(read.covariates()).mapToDouble(c -> c.get(v)).toArray());
    }
    int atypical = 0;
    for (int u = 0; u < read.size(); u++) {
      Map<String, Double> observed = new LinkedHashMap<>();
      for (var e : values.entrySet()) {
        observed.put(e.getKey(), e.getValue()[u]);
      }
      ImageCase c = new ImageCase(read.imageFiles()[u], read.images()[u], observed, List.of());
      atypical += warnIfAtypical(m, c, "row " + read.rows()[u] + " (" + names.get(u) + "): ") ? 1 : 0;
    }
    if (atypical > 0) {
      err.printf(Locale.ROOT, "warning: %d of %d cases are unlike the model's training data; their counterfactuals "
          + "may not show the requested change%n", atypical, read.size());
    }
    return answerCases(m, dos, ID_COLUMN, names, fileNames(names), values, read.images(),
        List.of(read.imageFiles()));
  }

  /** The image variable's height and width. */
  private static int[] imageSize(StructuralCausalModel scm) {
    List<Integer> shape = scm.graph().variable(ImageCounterfactual.imageVariable(scm)).shape();
    return new int[] {shape.get(1), shape.get(2)};
  }

  /** Output file names after the input files; a name that two rows share gets the row number too. */
  private static List<String> outputNames(List<ImageCase> units) {
    List<String> stems = units.stream().map(u -> {
      String name = u.file().getFileName().toString();
      int dot = name.lastIndexOf('.');
      return dot > 0 ? name.substring(0, dot) : name;
    }).toList();
    return unique(stems);
  }

  /** File names from ids: characters a file name cannot hold become '_'; an id two rows share gets the row. */
  static List<String> fileNames(List<String> ids) {
    return unique(ids.stream().map(id -> id.replaceAll("[^A-Za-z0-9._-]", "_")).toList());
  }

  /** The stems as they are, but a stem two rows share gets the row number too. */
  private static List<String> unique(List<String> stems) {
    List<String> out = new ArrayList<>();
    for (int u = 0; u < stems.size(); u++) {
      String stem = stems.get(u);
      boolean shared = stems.stream().filter(stem::equals).count() > 1;
      out.add(shared ? stem + "-row" + (u + 1) : stem);
    }
    return out;
  }

  /**
   * A brain model's counterfactual must be a person's: the scalar part's answer is computed first (cheap), and a
   * do() that leaves any unit with an age outside a human life (age+=200) or volumes no brain has (ventricles
   * larger than the brain, a brain of 1e9 ml) is refused with the reason and the rows, before any image is computed.
   */
  private void refuseImpossible(StructuralCausalModel scm, Map<String, double[]> values,
      Map<String, Intervention> dos, List<String> names) {
    if (!isBrain(scm)) {
      return;
    }
    Map<String, double[]> star;
    try (NDManager nd = NDManager.newBaseManager()) {
      Map<String, NDArray> observed = new LinkedHashMap<>();
      values.forEach((k, v) -> observed.put(k, nd.create(v)));
      Engine.getInstance().setRandomSeed(seed);
      star = counterfactual(scm.scalarPart(), observed, dos, particles);
    }
    List<String> refused = new ArrayList<>();
    for (int u = 0; u < names.size(); u++) {
      String problem = BrainCases.ageProblem(star.get("age")[u]);
      if (problem == null) {
        problem = BrainCases.volumeProblem(star.get("brain_volume")[u], star.get("ventricle_volume")[u]);
      }
      if (problem != null) {
        refused.add((names.size() > 1 ? names.get(u) + ": " : "") + problem);
      }
    }
    if (!refused.isEmpty()) {
      throw new InvalidValueException(describe(dos) + " asks for a brain no subject can have, so nothing was "
          + "computed: " + String.join("; ", refused.subList(0, Math.min(5, refused.size())))
          + (refused.size() > 5 ? "; and " + (refused.size() - 5) + " more" : ""));
    }
  }

  /** With --input, --image-out and --diff-out name folders (made if absent). */
  private static Path outputFolder(Path dir, String option) throws IOException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new IOException(option + " " + dir + " is a file: with --input it names a folder for one image per row");
    }
    return Files.createDirectories(dir);
  }

  /** An image written into a folder that does not exist yet: the folder is made, and the user told. */
  private static void sayNewFolder(Path file, PrintWriter err) {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      err.println("note: made the folder " + parent + " for " + file.getFileName());
    }
  }

  /** Rows shown on screen when --output also gets them all. */
  static final int SCREEN_ROWS = 20;

  /** The answers on screen: all of them, or the first {@link #SCREEN_ROWS} when --output holds them all. */
  private void printRows(Table table, PrintWriter out) {
    if (output == null || table.size() <= SCREEN_ROWS) {
      table.print(out, csv);
      return;
    }
    table.head(SCREEN_ROWS).print(out, csv);
    spec.commandLine().getErr().printf(java.util.Locale.ROOT, "... and %,d more rows: all %,d are in %s%n",
        table.size() - SCREEN_ROWS, table.size(), output);
  }

  /** --output: the printed table as a CSV file. */
  private void writeOutput(Table table) throws IOException {
    if (output == null) {
      return;
    }
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(output, StandardCharsets.UTF_8))) {
      table.print(w, true);
    }
    spec.commandLine().getErr().println("wrote " + output);
  }

  private static String describe(Map<String, Intervention> dos) {
    return String.join(", ", dos.entrySet().stream().map(e -> e.getValue().describe(e.getKey())).toList());
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
