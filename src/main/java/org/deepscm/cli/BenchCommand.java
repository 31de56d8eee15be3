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
import org.deepscm.scm.Intervention;
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

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (SavedModel m = model.load(); NDManager nd = NDManager.newBaseManager()) {
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
