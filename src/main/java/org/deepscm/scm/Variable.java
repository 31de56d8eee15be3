package org.deepscm.scm;

import java.util.List;

/**
 * A node of the causal graph: its name, kind, unit and support. Continuous supports are open
 * intervals (lower, upper); discrete variables are coded 0 .. K-1 with {@code categories} naming
 * the codes. An image variable has a {@code shape} (channels, height, width) and its support is
 * the range of one pixel; scalar variables have an empty shape.
 */
public record Variable(
    String name, VariableKind kind, String unit, double lower, double upper, List<String> categories,
    List<Integer> shape) {

  /** A scalar variable (empty shape). */
  public Variable(
      String name, VariableKind kind, String unit, double lower, double upper, List<String> categories) {
    this(name, kind, unit, lower, upper, categories, List.of());
  }

  public Variable {
    if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new InvalidModelException(
          "variable name '" + name + "' must start with a letter or '_' and hold only letters, digits and '_'");
    }
    categories = categories == null ? List.of() : List.copyOf(categories);
    unit = unit == null ? "" : unit;
    if (kind.isDiscrete() && categories.size() < 2) {
      throw new InvalidModelException("discrete variable '" + name + "' needs at least two categories");
    }
    if (kind == VariableKind.BINARY && categories.size() != 2) {
      throw new InvalidModelException("binary variable '" + name + "' needs exactly two categories");
    }
    shape = shape == null ? List.of() : List.copyOf(shape);
    if (kind == VariableKind.IMAGE
        && (shape.size() != 3 || shape.stream().anyMatch(d -> d == null || d < 1))) {
      throw new InvalidModelException(
          "image variable '" + name + "' needs a shape (channels, height, width) of positive sizes, got " + shape);
    }
    if (kind != VariableKind.IMAGE && !shape.isEmpty()) {
      throw new InvalidModelException("scalar variable '" + name + "' cannot have a shape " + shape);
    }
    if (!(lower < upper)) {
      throw new InvalidModelException(
          "variable '" + name + "' has an empty support (" + lower + ", " + upper + ")");
    }
  }

  public static Variable positive(String name, String unit) {
    return new Variable(name, VariableKind.POSITIVE, unit, 0, Double.POSITIVE_INFINITY, List.of());
  }

  public static Variable bounded(String name, String unit, double lower, double upper) {
    return new Variable(name, VariableKind.BOUNDED, unit, lower, upper, List.of());
  }

  public static Variable real(String name, String unit) {
    return new Variable(
        name, VariableKind.BOUNDED, unit, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, List.of());
  }

  public static Variable binary(String name, String zero, String one) {
    return new Variable(name, VariableKind.BINARY, "", 0, 1, List.of(zero, one));
  }

  /** A grey-level image of height x width pixels, each 0..255. */
  public static Variable image(String name, int height, int width) {
    return image(name, 1, height, width);
  }

  /** An image of channels x height x width pixels, each 0..255. */
  public static Variable image(String name, int channels, int height, int width) {
    return new Variable(name, VariableKind.IMAGE, "0-255", 0, 255, List.of(), List.of(channels, height, width));
  }

  public static Variable categorical(String name, List<String> categories) {
    return new Variable(name, VariableKind.CATEGORICAL, "", 0, categories.size() - 1, categories);
  }

  /**
   * Checks one value against the support; the message names the variable, the value and why it
   * is refused.
   */
  public void check(double value) {
    String what = name + (unit.isEmpty() ? "" : " [" + unit + "]");
    if (Double.isNaN(value)) {
      throw new InvalidValueException(what + " is NaN (not a number)");
    }
    if (Double.isInfinite(value)) {
      throw new InvalidValueException(what + " is infinite");
    }
    if (kind.isDiscrete()) {
      if (value != Math.rint(value) || value < 0 || value >= categories.size()) {
        throw new InvalidValueException(
            what + " = " + value + " is not a category code 0.." + (categories.size() - 1) + " " + categories);
      }
      return;
    }
    boolean aboveLower = kind == VariableKind.POSITIVE ? value > lower : value >= lower;
    if (!aboveLower || value > upper) {
      throw new InvalidValueException(
          what + " = " + value + " is outside its support " + supportText());
    }
  }

  public String supportText() {
    if (kind.isDiscrete()) {
      return categories.toString();
    }
    if (kind == VariableKind.POSITIVE) {
      return "(0, inf)";
    }
    return "[" + lower + ", " + upper + "]";
  }

  /**
   * Parses a category name (any case, or its initial where no other category shares it: F and M for
   * female and male) or a number into the variable's coded value.
   */
  public double parse(String text) {
    String t = text.trim();
    int code = categoryCode(t);
    if (code >= 0) {
      return code;
    }
    try {
      return Double.parseDouble(t);
    } catch (NumberFormatException e) {
      throw new InvalidValueException(
          "value '" + text + "' for " + name + " is not a number"
              + (kind.isDiscrete() ? " or one of " + categories : ""));
    }
  }

  private int categoryCode(String t) {
    for (int k = 0; k < categories.size(); k++) {
      if (categories.get(k).equalsIgnoreCase(t)) {
        return k;
      }
    }
    if (t.length() == 1 && Character.isLetter(t.charAt(0))) {
      int found = -1;
      for (int k = 0; k < categories.size(); k++) {
        String c = categories.get(k);
        if (!c.isEmpty() && Character.toLowerCase(c.charAt(0)) == Character.toLowerCase(t.charAt(0))) {
          if (found >= 0) {
            return -1;
          }
          found = k;
        }
      }
      return found;
    }
    return -1;
  }
}
