package org.deepscm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
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

  @Option(names = {"-n", "--count"}, description = "number of units (default: ${DEFAULT-VALUE})")
  int count = 10;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  int seed = 1;

  @Option(names = "--csv", description = "print CSV instead of a table")
  boolean csv;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    if (count < 1) {
      throw new IllegalArgumentException("--count must be at least 1, got " + count);
    }
    try (SavedModel m = model.load(); NDManager nd = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(seed);
      Map<String, NDArray> s = m.scm().sample(nd, count);
      Values.samples(m.scm().graph().variables(), s, csv).print(spec.commandLine().getOut(), csv);
    }
    return 0;
  }
}
