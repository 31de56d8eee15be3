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
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.image.ImageCounterfactual;
import org.deepscm.image.ImageData;
import org.deepscm.image.ImageMechanism;
import org.deepscm.image.ImageTrainer;
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

  @Option(names = "--train-batch", description = "image models: minibatch of the timed training steps "
      + "(default: ${DEFAULT-VALUE})")
  int trainBatch = 256;

  @Option(names = "--startup-runs", description = "image models: times to start the explorer and wait for its "
      + "first counterfactual on screen; needs a display, e.g. xvfb-run (default: ${DEFAULT-VALUE}; 0 skips)")
  int startupRuns = 3;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
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
      Table t = new Table(List.of("operation", "median_ms", "p95_ms", "units_per_s"));
      time(t, "sample (association)", nd, sub -> scm.sample(sub, batch));
      time(t, "log-likelihood", nd, sub -> scm.logProb(copy(units, sub)));
      time(t, "counterfactual " + dos.get(root).describe(root), nd, sub -> scm.counterfactual(copy(units, sub), dos));
      t.print(out, false);
    }
    return 0;
  }

  /** One test image's counterfactual (32 particles), latency; and training seconds per step and epoch. */
  private void imageBench(SavedModel m, PrintWriter out) {
    StructuralCausalModel scm = m.scm();
    String x = ImageCounterfactual.imageVariable(scm);
    ImageMechanism image = (ImageMechanism) scm.mechanism(x);
    MorphoMnistDataset test;
    MnistDigits digits;
    try {
      digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
      test = MorphoMnistDataset.load(digits, MorphoMnistDataset.Split.TEST, MorphoMnistDataset.DEFAULT_SEED,
          AppPaths.cache(), null, () -> false);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot load the Morpho-MNIST test digits: " + e.getMessage(), e);
    }
    out.printf("model %s, device %s, %d timed calls after %d warm-up%n", m.name(), DeviceInfo.describe(), repeats,
        warmup);
    Table t = new Table(List.of("operation", "median_ms", "p95_ms"));
    try (NDManager nd = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(1);
      float[] px = new float[784];
      double[] d = test.image(0);
      for (int k = 0; k < px.length; k++) {
        px[k] = (float) d[k];
      }
      NDArray img = nd.create(px, new Shape(1, 28, 28));
      Map<String, NDArray> values = new java.util.LinkedHashMap<>();
      values.put("t", nd.create(new float[] {(float) test.thickness(0)}));
      values.put("i", nd.create(new float[] {(float) test.intensity(0)}));
      Map<String, Intervention> dos = Map.of("t", Intervention.set(test.thickness(0) + 1));
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
        t.row("slider to answer: one image's counterfactual, " + particles + " particles"
                + (particles == 4 ? " (preview)" : " (full)"), ms[repeats / 2],
            ms[Math.min(repeats - 1, (int) Math.ceil(0.95 * repeats) - 1)]);
      }
    }
    sliderToPixels(m, test, t);
    t.print(out, false);
    startup(out);

    // training: a few real steps on training digits (weights change in memory only; nothing is saved)
    int steps = 3;
    double[][] images = new double[trainBatch][];
    double[] tt = new double[trainBatch];
    double[] ii = new double[trainBatch];
    for (int k = 0; k < trainBatch; k++) {
      int u = k % test.size();
      images[k] = test.image(u);
      tt[k] = test.thickness(u);
      ii[k] = test.intensity(u);
    }
    Map<String, double[]> parents = new java.util.LinkedHashMap<>();
    for (String p : image.parents()) {
      parents.put(p, p.equals("t") ? tt : ii);
    }
    ImageData data = ImageData.of(images, parents);
    int[] rows = new int[trainBatch];
    for (int k = 0; k < rows.length; k++) {
      rows[k] = k;
    }
    double[] sec = new double[steps];
    try (NDManager adamManager = image.weights().manager().newSubManager()) {
      Adam adam = new Adam(adamManager, 1e-4, 1e-5);
      ImageTrainer.step(image, adam, data, rows, ImageMechanism.ELBO_PARTICLES);
      for (int k = 0; k < steps; k++) {
        long start = System.nanoTime();
        ImageTrainer.step(image, adam, data, rows, ImageMechanism.ELBO_PARTICLES);
        sec[k] = (System.nanoTime() - start) / 1e9;
      }
    }
    Arrays.sort(sec);
    int perEpoch = 7000 / trainBatch;
    Table tr = new Table(List.of("training", "seconds"));
    tr.row("one step, batch " + trainBatch + " x " + ImageMechanism.ELBO_PARTICLES + " particles (median of "
        + steps + ")", sec[steps / 2]);
    tr.row("one epoch of 7,000 digits (" + perEpoch + " steps, estimated)", sec[steps / 2] * perEpoch);
    tr.print(out, false);
  }

  /**
   * What the explorer does for each slider step (its worker's session call, then the pixels of the
   * counterfactual and difference images), with t swept across its training range as a drag would.
   */
  private void sliderToPixels(SavedModel m, MorphoMnistDataset test, Table t) {
    ExplorerSession session = new ExplorerSession(m);
    session.setCase(Map.of("t", test.thickness(0), "i", test.intensity(0)), test.image(0));
    double[] range = m.trainingRanges().get("t");
    for (int particles : new int[] {4, ImageMechanism.DEFAULT_PARTICLES}) {
      double[] ms = new double[repeats];
      for (int k = -warmup; k < repeats; k++) {
        double f = (k + warmup + 0.5) / (repeats + warmup);
        session.intervene("t", range[0] + f * (range[1] - range[0]));
        long start = System.nanoTime();
        ExplorerSession.Result r = session.counterfactual(particles);
        ImageRendering.greyArgb(r.image());
        ImageRendering.differenceArgb(r.difference(), ExplorerView.DIFFERENCE_RANGE);
        if (k >= 0) {
          ms[k] = (System.nanoTime() - start) / 1e6;
        }
      }
      Arrays.sort(ms);
      t.row("explorer, slider to pixels: " + particles + " particles" + (particles == 4 ? " (preview)" : " (full)"),
          ms[repeats / 2], ms[Math.min(repeats - 1, (int) Math.ceil(0.95 * repeats) - 1)]);
    }
  }

  /** Starts the explorer in a fresh JVM and reads how long its first counterfactual took to reach the screen. */
  private void startup(PrintWriter out) {
    if (startupRuns <= 0) {
      return;
    }
    if (System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")
        && System.getenv("DISPLAY") == null && System.getenv("WAYLAND_DISPLAY") == null) {
      out.println("start-up to first counterfactual on screen: skipped, no display (run bench under xvfb-run)");
      return;
    }
    String javaBinary = ProcessHandle.current().info().command().orElse("java");
    double[] seconds = new double[startupRuns];
    for (int k = 0; k < startupRuns; k++) {
      List<String> cmd = List.of(javaBinary, "-cp", System.getProperty("java.class.path"), "org.deepscm.Launcher", "explore",
          "--model", model.model.toString(), "--quit-after-first-answer");
      try {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text;
        try (var in = p.getInputStream()) {
          text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
        java.util.regex.Matcher match = java.util.regex.Pattern
            .compile("first counterfactual on screen ([0-9.]+) s").matcher(text);
        if (!match.find()) {
          out.println("start-up: the explorer did not report a first answer; its output ends:\n"
              + text.substring(Math.max(0, text.length() - 600)));
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
