package org.deepscm.cli;

import java.util.concurrent.Callable;
import org.deepscm.scm.SavedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "sample", mixinStandardHelpOptions = true,
    description = "Association: draw units from the model's observational distribution.")
final class SampleCommand implements Callable<Integer> {
  @Mixin
  ModelOption model;

  @Option(names = {"-n", "--count"}, description = "number of units (default: ${DEFAULT-VALUE}); more than 100,000 "
      + "(1,000 for image models) need --csv and are streamed a chunk at a time")
  int count = 10;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  int seed = 1;

  @Option(names = "--csv", description = "print CSV instead of a table")
  boolean csv;

  @Spec
  CommandSpec spec;

  /** Why an unintervened sample can overflow: the model itself (a trained model never does). */
  static final String DAMAGED = "the model's weights give values it was never trained to give (a damaged weights "
      + "file or a diverged training run); retrain it or copy the model folder again";

  @Override
  public Integer call() {
    if (count < 1) {
      throw new IllegalArgumentException("--count must be at least 1, got " + count);
    }
    try (SavedModel m = model.load()) {
      boolean images = m.scm().graph().variables().stream().anyMatch(v -> !v.kind().isScalar());
      // units are drawn and written a chunk at a time, so memory stays bounded whatever -n is
      int chunk = images ? 1_000 : 100_000;
      Values.streamSamples(spec.commandLine().getOut(), m.scm().graph().variables(), count, chunk, seed, csv,
          "units", "sampling " + count + " units", DAMAGED, (nd, n) -> m.scm().sample(nd, n));
    }
    return 0;
  }
}
