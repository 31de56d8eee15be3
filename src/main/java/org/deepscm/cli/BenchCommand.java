package org.deepscm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.nio.file.Path;
import ai.djl.ndarray.types.Shape;
import org.deepscm.AppPaths;
import org.deepscm.app.ExplorerSession;
import org.deepscm.app.ExplorerView;
import org.deepscm.app.ImageRendering;
import org.deepscm.DeviceInfo;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTemplate;
import org.deepscm.data.brain.BrainTrueScm;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.image.ImageCounterfactual;
import org.deepscm.image.ImageData;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.VaeImageMechanism;
import org.deepscm.train.ImageTrainer;
import org.deepscm.scm.Intervention;
import org.deepscm.train.Adam;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.StructuralCausalModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Speed table: sampling, log-likelihood and counterfactuals on a batch (a benchmark, not a test).")
final class BenchCommand implements Callable<Integer> {
  @Mixin
  ModelOption model;

  @Option(names = "--batch", description = "units per call (default: ${DEFAULT-VALUE})")
  int batch = 10_000;

  @Option(names = "--repeats", description = "timed calls per operation after warm-up (default: ${DEFAULT-VALUE})")
  int repeats = 30;

  @Option(names = "--warmup", description = "untimed calls first (default: ${DEFAULT-VALUE})")
  int warmup = 5;

  @Option(names = "--train-batch", description = "image models: minibatch of the timed training steps, 2 or more "
      + "(default: ${DEFAULT-VALUE})")
  int trainBatch = 256;

  @Option(names = "--storm-seconds", description = "image models: after the table, open the explorer and drag a "
      + "slider at 1,000 events a second for this long, printing the widest gap between frames and the 99th "
      + "percentile (needs a display, e.g. xvfb-run; 0: skip; default: ${DEFAULT-VALUE})")
  int stormSeconds = 10;

  @Option(names = "--storm-rate", description = "slider events a second of the storm (default: ${DEFAULT-VALUE}, a "
      + "stress; a mouse sends 60-125)")
  int stormRate = 1000;

  @Option(names = "--storm-after", description = "seconds between the explorer's first answer and the storm "
      + "(default: ${DEFAULT-VALUE}, a settled window; 0: at once, while it still finishes starting)")
  double stormAfter = 3;

  @Option(names = "--startup-runs", description = "image models: times to start the explorer and wait for its "
      + "first counterfactual on screen; needs a display, e.g. xvfb-run (default: ${DEFAULT-VALUE}; 0 skips)")
  int startupRuns = 3;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    checkOptions();
    PrintWriter out = spec.commandLine().getOut();
    try (SavedModel m = model.load(); NDManager nd = NDManager.newBaseManager()) {
      if (m.scm().graph().variables().stream().anyMatch(v -> !v.kind().isScalar())) {
        imageBench(m, out);
        return 0;
      }
      StructuralCausalModel scm = m.scm();
      Engine.getInstance().setRandomSeed(1);
      Map<String, NDArray> units = scm.sample(nd, batch);
      String root = scm.variableNames().get(0);
      double target = Math.round(100 * units.get(root).toType(ai.djl.ndarray.types.DataType.FLOAT64, false).mean().getDouble()) / 100.0;
      Map<String, Intervention> dos = Map.of(root, Intervention.set(target));
      out.printf("model %s, device %s, batch %d, %d timed calls after %d warm-up%n", m.name(),
          org.deepscm.DeviceInfo.describe(), batch, repeats, warmup);
      out.println("allocator: " + org.deepscm.NativeAllocator.describe());
      out.println("JIT: " + jit() + "; class-data sharing " + org.deepscm.DeviceInfo.classSharing());
      Table t = new Table(List.of("operation", "median_ms", "p95_ms", "units_per_s"));
      time(t, "sample (association)", nd, sub -> scm.sample(sub, batch));
      time(t, "log-likelihood", nd, sub -> scm.logProb(copy(units, sub)));
      time(t, "counterfactual " + dos.get(root).describe(root), nd, sub -> scm.counterfactual(copy(units, sub), dos));
      t.print(out, false);
    }
    return 0;
  }

  /** Refuses a value no run can use before the model is read and minutes are spent on the first tables. */
  private void checkOptions() {
    if (batch < 1 || repeats < 1 || warmup < 0) {
      throw new IllegalArgumentException("--batch and --repeats must be at least 1 and --warmup 0 or more, got "
          + batch + ", " + repeats + " and " + warmup);
    }
    // batch norm in training mode normalises over the minibatch: one image has no spread to divide by
    if (trainBatch < 2) {
      throw new IllegalArgumentException("--train-batch must be at least 2 (batch normalisation needs two images "
          + "per training step), got " + trainBatch);
    }
    if (stormSeconds < 0 || startupRuns < 0) {
      throw new IllegalArgumentException("--storm-seconds and --startup-runs must be 0 (skip) or more, got "
          + stormSeconds + " and " + startupRuns);
    }
    // explore checks these too, but only after the table has taken its minutes
    if (stormSeconds > 0 && (stormRate < 1 || stormRate > 100_000)) {
      throw new IllegalArgumentException("--storm-rate must be 1 to 100000 events a second, got " + stormRate);
    }
    if (stormSeconds > 0 && !(stormAfter >= 0 && stormAfter <= 600)) {
      throw new IllegalArgumentException("--storm-after must be 0 to 600 seconds, got " + stormAfter);
    }
  }

  /** The case a benchmark times, and training images of the model's own kind. */
  private record BenchCase(String kind, Map<String, Double> values, double[] image, int height, int width,
      String swept, double[][] trainImages, Map<String, double[]> trainValues, int epochSize) {}

  /** The first test case of the model's dataset: a Morpho-MNIST digit, or a brain test subject. */
  private BenchCase benchCase(SavedModel m) {
    if (m.scm().graph().contains("ventricle_volume")) {
      try {
        BrainSliceRenderer renderer = new BrainSliceRenderer(BrainTemplate.shipped());
        int first = BrainDataset.Split.TEST.from(BrainDataset.DEFAULT_SIZE);
        int[] subjects = new int[trainBatch];
        for (int k = 0; k < subjects.length; k++) {
          subjects[k] = first + k;
        }
        BrainDataset d = BrainDataset.generate(renderer, BrainDataset.DEFAULT_SEED, subjects, null, () -> false);
        Map<String, double[]> cols = new java.util.LinkedHashMap<>();
        double[][] images = new double[subjects.length][];
        for (String v : BrainTrueScm.VARIABLES) {
          cols.put(v, new double[subjects.length]);
        }
        for (int k = 0; k < subjects.length; k++) {
          images[k] = d.image(k);
          for (String v : BrainTrueScm.VARIABLES) {
            cols.get(v)[k] = d.covariates(k).get(v);
          }
        }
        Map<String, Double> values = new java.util.LinkedHashMap<>();
        for (String v : BrainTrueScm.VARIABLES) {
          values.put(v, d.covariates(0).get(v));
        }
        return new BenchCase("brain test subject", values, images[0], BrainSliceRenderer.SIDE,
            BrainSliceRenderer.SIDE, "age", images, cols, 9800);
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("cannot make the brain test subjects: " + e.getMessage(), e);
      }
    }
    MorphoMnistDataset test;
    try {
      MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
      test = MorphoMnistDataset.load(digits, MorphoMnistDataset.Split.TEST, MorphoMnistDataset.DEFAULT_SEED,
          AppPaths.cache(), null, () -> false);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot load the Morpho-MNIST test digits: " + e.getMessage(), e);
    }
    double[][] images = new double[trainBatch][];
    Map<String, double[]> cols = new java.util.LinkedHashMap<>();
    cols.put("t", new double[trainBatch]);
    cols.put("i", new double[trainBatch]);
    for (int k = 0; k < trainBatch; k++) {
      int u = k % test.size();
      images[k] = test.image(u);
      cols.get("t")[k] = test.thickness(u);
      cols.get("i")[k] = test.intensity(u);
    }
    Map<String, Double> values = new java.util.LinkedHashMap<>();
    values.put("t", test.thickness(0));
    values.put("i", test.intensity(0));
    return new BenchCase("Morpho-MNIST test digit", values, test.image(0), MnistDigits.SIDE, MnistDigits.SIDE, "t",
        images, cols, 7000);
  }

  /** One test image's counterfactual (32 particles), latency; and training seconds per step and epoch. */
  private void imageBench(SavedModel m, PrintWriter out) {
    StructuralCausalModel scm = m.scm();
    String x = ImageCounterfactual.imageVariable(scm);
    ImageMechanism image = (ImageMechanism) scm.mechanism(x);
    BenchCase c = benchCase(m);
    out.printf("model %s, device %s, %d timed calls after %d warm-up, on a %s%n", m.name(), DeviceInfo.describe(),
        repeats, warmup, c.kind());
    out.println("allocator: " + org.deepscm.NativeAllocator.describe());
    out.println("JIT: " + jit() + "; class-data sharing " + org.deepscm.DeviceInfo.classSharing());
    out.printf(java.util.Locale.ROOT, "matmul rate of this machine: %.0f GFLOP/s (float32, 512 x 512 times 512 x 512, "
        + "libtorch)%n", matmulGflops());
    Table t = new Table(List.of("operation", "median_ms", "p95_ms", "MFLOP", "GFLOP_per_s"));
    try (NDManager nd = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(1);
      float[] px = new float[c.image().length];
      for (int k = 0; k < px.length; k++) {
        px[k] = (float) c.image()[k];
      }
      NDArray img = nd.create(px, new Shape(1, c.height(), c.width()));
      Map<String, NDArray> values = new java.util.LinkedHashMap<>();
      c.values().forEach((k, v) -> values.put(k, nd.create(new float[] {v.floatValue()})));
      double[] sweptRange = m.trainingRanges().get(c.swept());
      Map<String, Intervention> dos = Map.of(c.swept(), Intervention.set(c.values().get(c.swept())
          + 0.2 * (sweptRange[1] - sweptRange[0])));
      for (int particles : new int[] {4, ImageMechanism.DEFAULT_PARTICLES}) {
        double[] ms = new double[repeats];
        for (int k = -warmup; k < repeats; k++) {
          try (NDManager sub = nd.newSubManager()) {
            Map<String, NDArray> v = copy(values, sub);
            NDArray im = sub.zeros(img.getShape()).add(img);
            long start = System.nanoTime();
            ImageCounterfactual.compute(scm, v, im, dos, particles).image().toFloatArray();
            if (k >= 0) {
              ms[k] = (System.nanoTime() - start) / 1e6;
            }
          }
        }
        Arrays.sort(ms);
        long flops = image.counterfactualFlops(particles, false);
        t.row("slider to answer: one image's counterfactual, " + particles + " particles"
                + (particles == 4 ? " (preview)" : " (full)"), ms[repeats / 2],
            ms[Math.min(repeats - 1, (int) Math.ceil(0.95 * repeats) - 1)], flops / 1e6,
            flops / 1e6 / ms[repeats / 2]);
      }
    }
    sliderToPixels(m, c, t);
    t.print(out, false);
    startup(out);
    storm(out);

    // training: a few real steps on training images (weights change in memory only; nothing is saved)
    int steps = 3;
    Map<String, double[]> parents = new java.util.LinkedHashMap<>();
    for (String p : image.parents()) {
      parents.put(p, c.trainValues().get(p));
    }
    ImageData data = ImageData.of(c.trainImages(), parents);
    int[] rows = new int[c.trainImages().length];
    for (int k = 0; k < rows.length; k++) {
      rows[k] = k;
    }
    double[] sec = new double[steps];
    try (NDManager adamManager = image.weights().manager().newSubManager()) {
      Adam adam = new Adam(adamManager, 1e-4, 1e-5);
      trainingStep(image, adam, data, rows);
      for (int k = 0; k < steps; k++) {
        long start = System.nanoTime();
        trainingStep(image, adam, data, rows);
        sec[k] = (System.nanoTime() - start) / 1e9;
      }
    }
    Arrays.sort(sec);
    int perEpoch = c.epochSize() / rows.length;
    Table tr = new Table(List.of("training", "seconds"));
    tr.row("one step, batch " + rows.length + " x " + (image instanceof VaeImageMechanism ? ImageMechanism.ELBO_PARTICLES : 1) + " particles (median of "
        + steps + ")", sec[steps / 2]);
    tr.row(String.format(java.util.Locale.ROOT, "one epoch of %,d training images (%d steps, estimated)",
        c.epochSize(), perEpoch), sec[steps / 2] * perEpoch);
    tr.print(out, false);
  }

  /** One training step of the image mechanism's own trainer. */
  private static void trainingStep(ImageMechanism image, Adam adam, ImageData data, int[] rows) {
    if (image instanceof VaeImageMechanism vae) {
      ImageTrainer.step(vae, adam, data, rows, ImageMechanism.ELBO_PARTICLES);
    } else if (image instanceof org.deepscm.image.DeformationMechanism deformation) {
      // one particle and the bending prior, as deformation models train (the prior's weights and the learning
      // rate scale numbers, not work: the step costs the same)
      org.deepscm.train.DeformationTrainer.step(deformation, adam, data, rows,
          new org.deepscm.train.DeformationTrainer.Options(1, rows.length, 1e-3, 1, 1,
              org.deepscm.train.DeformationTrainer.Smoothness.BENDING, 1, 10, 1, 1, null, false));
    } else {
      throw new IllegalStateException("no training step for image mechanisms of kind " + image.kind());
    }
  }

  /**
   * What the explorer does for each slider step (its worker's session call, then the pixels of the
   * counterfactual and difference images), with one variable (t; age for brains) swept across its
   * training range as a drag would.
   */
  private void sliderToPixels(SavedModel m, BenchCase c, Table t) {
    ExplorerSession session = new ExplorerSession(m);
    session.setCase(c.values(), c.image());
    double[] range = m.trainingRanges().get(c.swept());
    for (int particles : new int[] {4, ImageMechanism.DEFAULT_PARTICLES}) {
      double[] ms = new double[repeats];
      for (int k = -warmup; k < repeats; k++) {
        double f = (k + warmup + 0.5) / (repeats + warmup);
        session.intervene(c.swept(), range[0] + f * (range[1] - range[0]));
        long start = System.nanoTime();
        ExplorerSession.Result r = session.counterfactual(particles);
        ImageRendering.greyArgb(r.image());
        ImageRendering.differenceArgb(r.difference(), ExplorerView.DIFFERENCE_RANGE);
        if (k >= 0) {
          ms[k] = (System.nanoTime() - start) / 1e6;
        }
      }
      Arrays.sort(ms);
      // the explorer keeps the case's abduction: each step decodes the particles under pa* only
      long flops = ((ImageMechanism) m.scm().mechanism(ImageCounterfactual.imageVariable(m.scm())))
          .counterfactualFlops(particles, true);
      t.row("explorer, slider to pixels (" + c.swept() + "): " + particles + " particles"
          + (particles == 4 ? " (preview)" : " (full)"), ms[repeats / 2],
          ms[Math.min(repeats - 1, (int) Math.ceil(0.95 * repeats) - 1)], flops / 1e6,
          flops / 1e6 / ms[repeats / 2]);
    }
  }

  /**
   * The machine's matrix-multiply rate through the same libtorch the models use: the median of 20
   * products of two 512 x 512 float32 matrices (after 5 to warm up), 2 x 512^3 FLOP each. A model's
   * GFLOP/s beside it says how far its small layers are from what the CPU can do.
   */
  static double matmulGflops() {
    int n = 512;
    double[] s = new double[20];
    try (NDManager nd = NDManager.newBaseManager()) {
      ai.djl.ndarray.NDArray a = nd.randomNormal(new Shape(n, n));
      ai.djl.ndarray.NDArray b = nd.randomNormal(new Shape(n, n));
      for (int k = -5; k < s.length; k++) {
        long start = System.nanoTime();
        try (ai.djl.ndarray.NDArray p = a.matMul(b)) {
          p.getFloat(0, 0);
        }
        if (k >= 0) {
          s[k] = (System.nanoTime() - start) / 1e9;
        }
      }
    }
    Arrays.sort(s);
    return 2.0 * n * n * n / s[s.length / 2] / 1e9;
  }

  /** The explorer in a fresh JVM under a slider storm: its frame gaps, as it prints them. */
  private void storm(PrintWriter out) {
    if (stormSeconds <= 0) {
      return;
    }
    if (!hasDisplay()) {
      out.println("slider storm: skipped, no display (run bench under xvfb-run)");
      return;
    }
    try {
      String text = runExplorer(stormSeconds + 180L, "--storm", String.valueOf(stormSeconds), "--storm-rate",
          String.valueOf(stormRate), "--storm-after", String.valueOf(stormAfter));
      java.util.regex.Matcher match = java.util.regex.Pattern.compile("storm: [^\n]*").matcher(text);
      out.println(match.find() ? "slider " + match.group() : "slider storm: the explorer printed no figures; its "
          + "output ends:\n" + ending(text));
    } catch (java.io.IOException e) {
      out.println("slider storm: cannot start the explorer: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Runs {@code explore --model MODEL ARGS} in a fresh JVM (this one's binary and class path) and returns
   * what it printed, stdout and stderr together; it is stopped after {@code timeoutSeconds}.
   */
  private String runExplorer(long timeoutSeconds, String... args) throws java.io.IOException, InterruptedException {
    // started as this JVM was (its options too: the JIT setting changes the start-up by a second)
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.deepscm.Launcher", "explore", "--model",
        model.model.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String text;
    try (var in = p.getInputStream()) {
      text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    if (!p.waitFor(timeoutSeconds, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    return text;
  }

  /**
   * The JIT setting in force, in words: on two cores the optimising compiler's threads take a core from
   * the explorer for its first minute, so the installed app runs the quick compiler only.
   */
  static String jit() {
    List<String> args = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
    return args.contains("-XX:TieredStopAtLevel=1")
        ? "quick compiler only (-XX:TieredStopAtLevel=1, as the installed app runs)"
        : "both compilers (the JVM's default; the installed app runs with -XX:TieredStopAtLevel=1)";
  }

  /** The last lines of an explorer's output, for a message that says why it gave no figures. */
  private static String ending(String text) {
    return text.substring(Math.max(0, text.length() - 600));
  }

  private static boolean hasDisplay() {
    return !System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")
        || System.getenv("DISPLAY") != null || System.getenv("WAYLAND_DISPLAY") != null;
  }

  /** Starts the explorer in a fresh JVM and reads how long its first counterfactual took to reach the screen. */
  private void startup(PrintWriter out) {
    if (startupRuns <= 0) {
      return;
    }
    if (!hasDisplay()) {
      out.println("start-up to first counterfactual on screen: skipped, no display (run bench under xvfb-run)");
      return;
    }
    double[] seconds = new double[startupRuns];
    for (int k = 0; k < startupRuns; k++) {
      try {
        String text = runExplorer(120, "--quit-after-first-answer");
        java.util.regex.Matcher match = java.util.regex.Pattern
            .compile("first counterfactual on screen ([0-9.]+) s").matcher(text);
        if (!match.find()) {
          out.println("start-up: the explorer did not report a first answer; its output ends:\n" + ending(text));
          return;
        }
        seconds[k] = Double.parseDouble(match.group(1));
      } catch (java.io.IOException e) {
        out.println("start-up: cannot start the explorer: " + e.getMessage());
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    Arrays.sort(seconds);
    out.printf(java.util.Locale.ROOT, "start-up to first counterfactual on screen (JVM start included): median %.1f s, "
        + "min %.1f s, max %.1f s over %d starts%n", seconds[startupRuns / 2], seconds[0], seconds[startupRuns - 1],
        startupRuns);
  }

  private static Map<String, NDArray> copy(Map<String, NDArray> units, NDManager sub) {
    Map<String, NDArray> out = new java.util.LinkedHashMap<>();
    units.forEach((k, v) -> out.put(k, sub.zeros(v.getShape(), v.getDataType()).add(v)));
    return out;
  }

  private void time(Table t, String name, NDManager nd, Consumer<NDManager> op) {
    double[] ms = new double[repeats];
    for (int k = -warmup; k < repeats; k++) {
      try (NDManager sub = nd.newSubManager()) {
        long start = System.nanoTime();
        op.accept(sub);
        if (k >= 0) {
          ms[k] = (System.nanoTime() - start) / 1e6;
        }
      }
    }
    Arrays.sort(ms);
    double median = ms[repeats / 2];
    double p95 = ms[Math.min(repeats - 1, (int) Math.ceil(0.95 * repeats) - 1)];
    t.row(name, median, p95, batch / (median / 1000));
  }
}
