package org.deepscm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
      + "(may be the same folder)")
  Path out;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    Path from = AppPaths.resolve(model.model);
    long before = Files.size(from.resolve(ModelFolder.WEIGHTS_FILE));
    try (SavedModel m = model.load()) {
      ModelFolder.save(m, out, true);
    }
    if (!from.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())
        && Files.isRegularFile(from.resolve(ModelFolder.CARD_FILE))) {
      Files.copy(from.resolve(ModelFolder.CARD_FILE), out.resolve(ModelFolder.CARD_FILE),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    long after = Files.size(out.resolve(ModelFolder.WEIGHTS_FILE));
    spec.commandLine().getOut().printf("weights %.1f MB -> %.1f MB in %s%n", before / 1e6, after / 1e6, out);
    return 0;
  }
}
