package org.deepscm.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.deepscm.app.ExplorerApp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "explore", mixinStandardHelpOptions = true,
    description = "Open the explorer window on a model (what `java -jar deepscm-explorer.jar` does with no arguments).")
final class ExploreCommand implements Callable<Integer> {
  @Option(names = {"-m", "--model"}, paramLabel = "DIR",
      description = "model folder (default: models/brain-deformation when it is there, else models/morphomnist-full-finetuned, "
          + "else models/morphomnist-covariates)")
  Path model;

  @Option(names = "--quit-after-first-answer", hidden = true,
      description = "close once the first counterfactual is on screen (bench measures start-up with it)")
  boolean quitAfterFirstAnswer;

  @Option(names = "--storm", hidden = true, paramLabel = "SECONDS",
      description = "after the first answer, drag the sweep variable's slider at 1,000 events a second for this "
          + "long, print the gaps between frames and close (bench measures smoothness with it)")
  int stormSeconds;

  @Option(names = "--storm-rate", hidden = true, paramLabel = "N",
      description = "slider events a second of --storm (default: ${DEFAULT-VALUE}; a mouse sends 60-125)")
  int stormRate = 1000;

  @Option(names = "--storm-after", hidden = true, paramLabel = "SECONDS",
      description = "seconds between the first answer and the storm (default: ${DEFAULT-VALUE}: a settled window, "
          + "as a user meets it; 0: at once, while the window still finishes starting)")
  double stormAfter = 3;

  @Option(names = "--self-test", paramLabel = "PNG", description = "check an installation: open the window on the "
      + "model, compute one counterfactual, write a screenshot of the window here, print the device and the time "
      + "to the first counterfactual, and close (exit 0; 1 with the reason when anything failed)")
  Path selfTest;

  @Override
  public Integer call() {
    String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
    if (os.contains("linux") && blank(System.getenv("DISPLAY")) && blank(System.getenv("WAYLAND_DISPLAY"))
        && !"Monocle".equals(System.getProperty("glass.platform"))) {
      // no screen to open a window on (a server, an SSH session): say so before JavaFX fails obscurely
      throw new IllegalArgumentException("cannot open the explorer window: there is no display (DISPLAY and "
          + "WAYLAND_DISPLAY are unset). Run it on a desktop, through `ssh -X`, or under `xvfb-run`; every CLI "
          + "command works without a display");
    }
    try {
      if (selfTest != null) {
        return ExplorerApp.selfTest(model, selfTest);
      }
      if (stormSeconds > 0) {
        if (stormRate < 1 || stormRate > 100_000) {
          throw new IllegalArgumentException("--storm-rate must be 1 to 100000 events a second, got " + stormRate);
        }
        if (!(stormAfter >= 0 && stormAfter <= 600)) {
          throw new IllegalArgumentException("--storm-after must be 0 to 600 seconds, got " + stormAfter);
        }
        ExplorerApp.storm(model, stormSeconds, stormRate, stormAfter);
        return 0;
      }
      ExplorerApp.open(model, quitAfterFirstAnswer);
    } catch (UnsupportedOperationException e) {
      // JavaFX on Linux draws through GTK 3; a server without it can still use every CLI command
      throw new IllegalArgumentException("cannot open the explorer window: " + e.getMessage()
          + " (on Linux install GTK 3, e.g. `apt-get install libgtk-3-0`; the CLI commands work without it)", e);
    }
    return 0;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
