package org.deepscm.cli;

import java.nio.file.Path;
import org.deepscm.AppPaths;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import picocli.CommandLine.Option;

/** The --model option shared by the commands that use a trained model. */
public final class ModelOption {
  public static final Path DEFAULT = Path.of("models", "morphomnist-covariates");

  @Option(names = {"-m", "--model"}, paramLabel = "DIR",
      description = "model folder (default: ${DEFAULT-VALUE}, looked up from the working folder, then beside "
          + "the application)")
  Path model = DEFAULT;

  SavedModel load() {
    return ModelFolder.load(AppPaths.resolve(model));
  }
}
