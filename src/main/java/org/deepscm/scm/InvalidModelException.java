package org.deepscm.scm;

/** A causal graph or model that is not well formed: a cycle, an unknown parent, a bad model folder. */
public class InvalidModelException extends IllegalArgumentException {
  public InvalidModelException(String message) {
    super(message);
  }

  public InvalidModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
