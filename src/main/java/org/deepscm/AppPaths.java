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
    Path shipped = inApp(path);
    if (shipped != null) {
      return shipped;
    }
    Path mine = userHome().resolve(path);
    return Files.exists(mine) ? mine : path;
  }

  /**
   * A relative path beside the application's jar (or one level up, for target/ in a source checkout),
   * or null when it is in neither: what the install ships, whatever the working folder holds.
   */
  public static Path inApp(Path path) {
    try {
      Path code = Path.of(AppPaths.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path home = code.getParent();
      for (Path base : new Path[] {home, home == null ? null : home.getParent()}) {
        if (base != null && Files.exists(base.resolve(path))) {
          return base.resolve(path);
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // no code location: nothing is beside the application
    }
    return null;
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
