package org.deepscm;

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
    // JavaFX on the class path (what a plain jar and jpackage give) warns of an "unsupported configuration"
    // on every start; it is the configuration we ship and test
    JAVAFX_STARTUP.setLevel(java.util.logging.Level.SEVERE);
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
