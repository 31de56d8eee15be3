package org.deepscm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deepscm.cli.DeepScmCommand;

/**
 * Entry point of the jar. With no arguments it opens the explorer on the shipped model; with
 * arguments it is the command-line tool. A plain class (not a JavaFX Application) so that JavaFX
 * on the class path starts without a module path.
 */
public final class Launcher {
  private Launcher() {}

  // held: java.util.logging forgets a logger nobody references, and its level with it
  private static final java.util.logging.Logger JAVAFX_STARTUP =
      java.util.logging.Logger.getLogger("javafx");

  /** Settings every entry point needs before DJL is touched: offline, quiet logging. */
  public static void configure() {
    // never download anything: libtorch comes from the native jar in lib/, models from models/
    System.setProperty("ai.djl.offline", "true");
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    // DJL probes for CUDA on every start and logs a warning on machines without a GPU driver
    System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
    useBundledLibtorch();
    // JNA (used by DJL) unpacks a helper library; into the temporary folder, not the user's ~/.cache
    if (System.getProperty("jna.tmpdir") == null) {
      System.setProperty("jna.tmpdir", System.getProperty("java.io.tmpdir"));
    }
    // before libtorch allocates anything: keep freed buffers for the next call
    NativeAllocator.configure();
    // JavaFX on the class path (what a plain jar and jpackage give) warns of an "unsupported configuration"
    // on every start; it is the configuration we ship and test
    JAVAFX_STARTUP.setLevel(java.util.logging.Level.SEVERE);
  }

  /**
   * An installed app carries libtorch as a folder, native/pytorch/VERSION-FLAVOR-CLASSIFIER beside its jar
   * (the installer profile lays it out): DJL is pointed at it, so it loads libtorch and its JNI library in
   * place and extracts nothing into the user's home. Without the folder (a source checkout) DJL keeps its
   * default: libtorch from the native jar, extracted once into ~/.djl.ai. A user's own PYTORCH_* or
   * ENGINE_CACHE_DIR environment variables win.
   */
  static void useBundledLibtorch() {
    // beside the jar only: a native/ folder in the working folder or the user's folder is not the install's
    Path engine = AppPaths.inApp(Path.of("native", "pytorch"));
    if (engine == null || !Files.isDirectory(engine) || System.getenv("PYTORCH_LIBRARY_PATH") != null
        || System.getenv("ENGINE_CACHE_DIR") != null) {
      return;
    }
    try (var folders = Files.list(engine)) {
      Path lib = folders.filter(f -> Files.isRegularFile(f.resolve("libtorch.so"))).findFirst().orElse(null);
      // named as DJL names its cache folders: 2.5.1-cpu-linux-x86_64, 2.5.1-cu124-linux-x86_64
      String[] parts = lib == null ? new String[0] : lib.getFileName().toString().split("-", 3);
      if (parts.length == 3) {
        System.setProperty("ENGINE_CACHE_DIR", engine.getParent().toAbsolutePath().toString());
        System.setProperty("PYTORCH_LIBRARY_PATH", lib.toAbsolutePath().toString());
        System.setProperty("PYTORCH_VERSION", parts[0]);
        // without it DJL assumes the pre-C++11 build, whose JNI library does not fit this libtorch
        System.setProperty("PYTORCH_FLAVOR", parts[1]);
      }
    } catch (IOException e) {
      // an unreadable folder: DJL's default applies, and says so if it fails
    }
  }

  public static void main(String[] args) {
    configure();
    String[] command = args.length == 0 ? new String[] {"explore"} : args;
    if (args.length > 0 && args[0].startsWith("--self-test")) {
      // the installed app's check (`deepscm-explorer --self-test shot.png`) is the explorer's
      command = new String[args.length + 1];
      command[0] = "explore";
      System.arraycopy(args, 0, command, 1, args.length);
    }
    int code = DeepScmCommand.run(command);
    if (args.length > 0 || code != 0) {
      System.exit(code);
    }
  }
}
