package org.deepscm;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the application's own files (models/, resources/) are, wherever it is started from. */
public final class AppPaths {
  private AppPaths() {}

  /**
   * A relative path that does not exist in the working folder is looked up beside the
   * application's jar (and one level up, for target/ in a source checkout), so an installed app
   * finds its shipped models and data wherever it is started from; then in the user's own folder
   * ({@link #userHome()}, e.g. models/brain-mine there).
   */
  public static Path resolve(Path path) {
    if (path.isAbsolute() || Files.exists(path)) {
      return path;
    }
    try {
      Path code = Path.of(AppPaths.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path home = code.getParent();
      for (Path base : new Path[] {home, home == null ? null : home.getParent()}) {
        if (base != null && Files.exists(base.resolve(path))) {
          return base.resolve(path);
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // no code location: look in the user's folder, else keep the path as given for the caller to report
    }
    Path mine = userHome().resolve(path);
    return Files.exists(mine) ? mine : path;
  }

  /**
   * The user's own folder: saved cases and exports go here by default, and models/ here holds the
   * user's models beside the shipped ones. ~/DeepSCM, or $DEEPSCM_HOME (or -Ddeepscm.home) when set.
   */
  public static Path userHome() {
    String env = System.getProperty("deepscm.home", System.getenv("DEEPSCM_HOME"));
    return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), "DeepSCM");
  }

  /** The user's models: {@code userHome()/models}. */
  public static Path userModels() {
    return userHome().resolve("models");
  }

  /** Folder for data the app generates and may regenerate (dataset caches). */
  public static Path cache() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("deepscm-explorer");
  }
}
