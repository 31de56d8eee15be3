package org.deepscm.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    return ModelFolder.load(resolve(model));
  }

  /**
   * A relative model path that does not exist in the working folder is looked up beside the
   * application's jar (and one level up, for target/ in a source checkout), so an installed app
   * finds its shipped models wherever it is started from.
   */
  public static Path resolve(Path folder) {
    if (folder.isAbsolute() || Files.exists(folder)) {
      return folder;
    }
    try {
      Path jar = Path.of(ModelOption.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path home = Files.isDirectory(jar) ? jar.getParent() : jar.getParent();
      for (Path base : new Path[] {home, home.getParent()}) {
        if (base != null && Files.exists(base.resolve(folder))) {
          return base.resolve(folder);
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // no code location: keep the path as given, and let loading report it
    }
    return folder;
  }
}
