package org.deepscm.data.brain;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not a NIfTI-1 volume we can read; the message names the file and the problem in plain words. */
public final class NiftiFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String problem;

  public NiftiFormatException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
    this.problem = problem;
  }

  public NiftiFormatException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
    this.problem = problem;
  }

  /** The file that could not be read. */
  public Path file() {
    return file;
  }

  /** The problem without the file name. */
  public String problem() {
    return problem;
  }
}
