package org.deepscm.cli;

import java.util.concurrent.Callable;
import org.deepscm.app.ExplorerApp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "explore", mixinStandardHelpOptions = true,
    description = "Open the explorer window on a model (what `java -jar deepscm-explorer.jar` does with no arguments).")
final class ExploreCommand implements Callable<Integer> {
  @Mixin
  ModelOption model;

  @Override
  public Integer call() {
    ExplorerApp.open(model.model);
    return 0;
  }
}
