package org.deepscm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deepscm.AppPaths;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "compact", mixinStandardHelpOptions = true,
    description = {"Rewrite a model folder's weights in half precision (half the size). Run `evaluate` before and "
        + "after to check that the measures do not change.",
        "Example: compact --model models/morphomnist-full --out models/morphomnist-full-f16"})
final class CompactCommand implements Callable<Integer> {
  @Mixin
  ModelOption model;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "folder for the compacted model "
      + "(a new one: compacting in place is refused)")
  Path out;

  @Option(names = "--check-units", description = "evaluate the model before and after on its built-in test split "
      + "(image models: this many test digits; the same seed) and add the comparison to the model card "
      + "(default: ${DEFAULT-VALUE}, no check)")
  int checkUnits;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    Path from = AppPaths.resolve(model.model);
    if (checkUnits < 0) {
      throw new IllegalArgumentException("--check-units takes 0 (no check) or a positive number of test units, got "
          + checkUnits);
    }
    if (from.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--out is the model folder itself: compacting in place would overwrite "
          + "its float32 weights; give another folder (e.g. " + from.getFileName() + "-f16) and replace the model "
          + "yourself once the check agrees");
    }
    long before = Files.size(from.resolve(ModelFolder.WEIGHTS_FILE));
    java.io.PrintWriter err = spec.commandLine().getErr();
    Map<String, Double> full = null;
    try (SavedModel m = model.load()) {
      if (checkUnits > 0) {
        err.println("measuring the float32 weights…");
        full = EvaluateCommand.builtIn(m, from, checkUnits, 1, err);
      }
      ModelFolder.save(m, out, true);
    }
    // the anticausal predictors travel with the model (float32; they are a few MB)
    for (String file : List.of(org.deepscm.image.ParentPredictor.JSON_FILE,
        org.deepscm.image.ParentPredictor.WEIGHTS_FILE)) {
      if (Files.isRegularFile(from.resolve(file))) {
        Files.copy(from.resolve(file), out.resolve(file), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    if (!from.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())
        && Files.isRegularFile(from.resolve(ModelFolder.CARD_FILE))) {
      Files.copy(from.resolve(ModelFolder.CARD_FILE), out.resolve(ModelFolder.CARD_FILE),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    if (full != null) {
      err.println("measuring the float16 weights…");
      Map<String, Double> half;
      try (SavedModel m = ModelFolder.load(out)) {
        half = EvaluateCommand.builtIn(m, out, checkUnits, 1, err);
      }
      StringBuilder b = new StringBuilder("\n## Half precision\n\nThe weights are stored as float16 (`compact`) "
          + "and computed in float32. The same measures, same seed, before and after"
          + (full.containsKey("test_units") ? " (" + EvaluateCommand.about(full, 1).get("unit_sample") + ")" : "")
          + ":\n\n"
          + "| measure | float32 weights | float16 weights |\n|---|---|---|\n");
      for (Map.Entry<String, Double> e : full.entrySet()) {
        b.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f |%n", e.getKey(), e.getValue(),
            half.getOrDefault(e.getKey(), Double.NaN)));
      }
      Path card = out.resolve(ModelFolder.CARD_FILE);
      Files.writeString(card, (Files.isRegularFile(card) ? Files.readString(card) : "") + b);
      Table t = new Table(List.of("measure", "float32", "float16"));
      full.forEach((k, v) -> t.row(k, v, half.getOrDefault(k, Double.NaN)));
      t.print(spec.commandLine().getOut(), false);
    }
    long after = Files.size(out.resolve(ModelFolder.WEIGHTS_FILE));
    spec.commandLine().getOut().printf("weights %.1f MB -> %.1f MB in %s%n", before / 1e6, after / 1e6, out);
    return 0;
  }
}
