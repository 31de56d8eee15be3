package org.deepscm.scm;

/** What values a variable takes; decides its flow's constraint and how the explorer shows it. */
public enum VariableKind {
  /** a real number > 0 (thickness, volumes, age) */
  POSITIVE,
  /** a real number inside (lower, upper) (intensity) */
  BOUNDED,
  /** one of two categories, coded 0 and 1 (sex) */
  BINARY,
  /** one of K categories, coded 0 .. K-1 */
  CATEGORICAL,
  /** an image */
  IMAGE;

  public boolean isDiscrete() {
    return this == BINARY || this == CATEGORICAL;
  }

  public boolean isScalar() {
    return this != IMAGE;
  }
}
