package org.deepscm.scm;

/** A value given to the model (observed, intervened or read from a file) that it cannot take. */
public class InvalidValueException extends IllegalArgumentException {
  public InvalidValueException(String message) {
    super(message);
  }
}
