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
   * finds its shipped models and data wherever it is started from.
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
      // no code location: keep the path as given, and let the caller report it
    }
    return path;
  }

  /** Folder for data the app generates and may regenerate (dataset caches). */
  public static Path cache() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("deepscm-explorer");
  }
}
