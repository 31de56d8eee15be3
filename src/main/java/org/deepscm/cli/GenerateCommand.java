package org.deepscm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.deepscm.AppPaths;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true,
    description = {"Render a synthetic dataset from its true SCM and cache it (done on first use otherwise).",
        "Example: generate --dataset morphomnist"})
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--dataset", required = true, description = "morphomnist: the real digits of resources/mnist "
      + "with thickness and intensity from paper Eq. 7 (7,000 / 1,000 / 2,000 digits)")
  String dataset;

  @Option(names = "--seed", description = "noise seed (default: ${DEFAULT-VALUE})")
  long seed = MorphoMnistDataset.DEFAULT_SEED;

  @Option(names = "--cache", paramLabel = "DIR", description = "cache folder (default: ~/.cache/deepscm-explorer)")
  Path cache;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (!dataset.equals("morphomnist")) {
      throw new IllegalArgumentException("unknown dataset '" + dataset + "'; available: morphomnist");
    }
    PrintWriter err = spec.commandLine().getErr();
    MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
    Path dir = cache != null ? cache : AppPaths.cache();
    for (MorphoMnistDataset.Split split : MorphoMnistDataset.Split.values()) {
      long start = System.nanoTime();
      MorphoMnistDataset d = MorphoMnistDataset.load(digits, split, seed, dir, (done, total) -> {
        err.printf(Locale.ROOT, "\r%s: %d / %d digits", split.name().toLowerCase(Locale.ROOT), done, total);
        err.flush();
      }, () -> Thread.currentThread().isInterrupted());
      err.printf(Locale.ROOT, "\r%s: %d units ready in %s (%.1f s)%n", split.name().toLowerCase(Locale.ROOT),
          d.size(), dir, (System.nanoTime() - start) / 1e9);
    }
    return 0;
  }
}
