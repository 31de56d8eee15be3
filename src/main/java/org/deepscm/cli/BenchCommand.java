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
    t.print(out, false);

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
