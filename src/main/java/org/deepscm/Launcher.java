package org.deepscm;

import org.deepscm.cli.DeepScmCommand;

/**
 * Entry point of the jar. With no arguments it opens the explorer on the shipped model; with
 * arguments it is the command-line tool. A plain class (not a JavaFX Application) so that JavaFX
 * on the class path starts without a module path.
 */
public final class Launcher {
  private Launcher() {}

  /** Settings every entry point needs before DJL is touched: offline, quiet logging. */
  public static void configure() {
    // never download anything: libtorch comes from the native jar in lib/, models from models/
    System.setProperty("ai.djl.offline", "true");
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    // DJL probes for CUDA on every start and logs a warning on machines without a GPU driver
    System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
  }

  public static void main(String[] args) {
    configure();
    String[] command = args.length == 0 ? new String[] {"explore"} : args;
    int code = DeepScmCommand.run(command);
    if (args.length > 0 || code != 0) {
      System.exit(code);
    }
  }
}
