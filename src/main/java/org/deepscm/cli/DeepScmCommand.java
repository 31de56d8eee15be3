package org.deepscm.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.InvalidValueException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The root command: with no subcommand it opens the explorer. */
@Command(name = "deepscm", mixinStandardHelpOptions = true, version = "DeepSCM Explorer 0.1.0",
    description = "Deep structural causal models: train, query (association, intervention, counterfactual), "
        + "evaluate and explore them.",
    subcommands = {ExploreCommand.class, TrainCommand.class, SampleCommand.class, InterveneCommand.class,
        CounterfactualCommand.class, EvaluateCommand.class, BenchCommand.class, GenerateCommand.class, CompactCommand.class})
public final class DeepScmCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

  /** A command line whose errors from bad input print one clear line instead of a stack trace. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new DeepScmCommand());
    cl.setExecutionExceptionHandler((ex, line, parsed) -> {
      PrintWriter err = line.getErr();
      if (ex instanceof InvalidValueException || ex instanceof InvalidModelException
          || ex instanceof java.io.IOException || ex instanceof IllegalArgumentException) {
        err.println("error: " + ex.getMessage());
        err.flush();
        return 2;
      }
      err.println("error: " + ex);
      ex.printStackTrace(err);
      err.flush();
      return 1;
    });
    return cl;
  }

  public static int run(String... args) {
    return commandLine().execute(args);
  }
}
