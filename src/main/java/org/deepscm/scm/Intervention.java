package org.deepscm.scm;

import ai.djl.ndarray.NDArray;

/**
 * The replacement of one structural assignment. An atomic intervention do(x := a) sets a
 * constant; a shift intervention do(x := f(eps; pa) + delta) keeps the variable's own mechanism
 * and noise and adds delta to what it produces (the paper's do(t := f_T(eps_T) + 1)); a scale
 * intervention do(x := f(eps; pa) * c) multiplies it (a clinician's "twice her ventricle volume").
 * A shift and a scale cut the variable from its parents' influence only as far as their formula
 * says: they keep the natural value, so they are applied to the value the mechanism generates.
 */
public final class Intervention {
  private enum Kind { SET, SHIFT, SCALE }

  private final Kind kind;
  private final double amount;

  private Intervention(Kind kind, double amount) {
    if (!Double.isFinite(amount)) {
      throw new InvalidValueException("an intervention needs a finite value, got " + amount);
    }
    if (kind == Kind.SCALE && amount <= 0) {
      throw new InvalidValueException("a scale intervention needs a factor above 0, got " + amount);
    }
    this.kind = kind;
    this.amount = amount;
  }

  /** do(x := value) */
  public static Intervention set(double value) {
    return new Intervention(Kind.SET, value);
  }

  /** do(x := f(eps; pa) + delta) */
  public static Intervention shift(double delta) {
    return new Intervention(Kind.SHIFT, delta);
  }

  /** do(x := f(eps; pa) * factor), factor above 0 */
  public static Intervention scale(double factor) {
    return new Intervention(Kind.SCALE, factor);
  }

  /**
   * Parses "x=2.5" (atomic), "x+=1" or "x-=0.5" (shift), "x*=2" (scale). Category names are accepted
   * for discrete variables, e.g. "sex=male".
   */
  public static Intervention parse(String text, CausalGraph graph) {
    Parsed p = split(text);
    Variable v = graph.variable(p.name);
    if (p.op.equals("*=")) {
      double factor;
      try {
        factor = Double.parseDouble(p.value);
      } catch (NumberFormatException e) {
        throw new InvalidValueException("cannot read '" + p.value + "' as the factor of " + p.name + " (write "
            + p.name + "*=2 for twice its own value)");
      }
      return scale(factor);
    }
    double value = v.parse(p.value);
    return switch (p.op) {
      case "=" -> set(value);
      case "+=" -> shift(value);
      default -> shift(-value);
    };
  }

  /** The variable an intervention text names. */
  public static String target(String text) {
    return split(text).name;
  }

  private record Parsed(String name, String op, String value) {}

  private static Parsed split(String text) {
    var m = java.util.regex.Pattern.compile("\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*(\\+=|-=|\\*=|=)\\s*(\\S.*)")
        .matcher(text);
    if (!m.matches()) {
      throw new InvalidValueException("cannot read intervention '" + text + "': write name=value (do(name := value)), "
          + "name+=delta / name-=delta (a shift) or name*=factor (a scale)");
    }
    return new Parsed(m.group(1), m.group(2), m.group(3).trim());
  }

  public boolean isAtomic() {
    return kind == Kind.SET;
  }

  public boolean isScale() {
    return kind == Kind.SCALE;
  }

  /** The set value of an atomic intervention, the shift's delta or the scale's factor. */
  public double amount() {
    return amount;
  }

  /** The intervened value, given the value the variable's mechanism would produce. */
  public NDArray apply(NDArray natural) {
    return switch (kind) {
      case SET -> natural.zerosLike().add(amount);
      case SHIFT -> natural.add(amount);
      case SCALE -> natural.mul(amount);
    };
  }

  /** The same for one value (the true SCMs' counterfactuals). */
  public double apply(double natural) {
    return switch (kind) {
      case SET -> amount;
      case SHIFT -> natural + amount;
      case SCALE -> natural * amount;
    };
  }

  public String describe(String variable) {
    return switch (kind) {
      case SET -> "do(" + variable + " := " + format(amount) + ")";
      case SHIFT -> "do(" + variable + " := f_" + variable + "(eps) " + (amount < 0 ? "- " : "+ ")
          + format(Math.abs(amount)) + ")";
      case SCALE -> "do(" + variable + " := f_" + variable + "(eps) x " + format(amount) + ")";
    };
  }

  private static String format(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return String.valueOf((long) v);
    }
    java.math.BigDecimal d = new java.math.BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros();
    // 1e300 stays 1e300, not three hundred digits; ordinary values keep their plain form
    double a = Math.abs(v);
    return a >= 1e9 || (a > 0 && a < 1e-6) ? d.toString().replace("E+", "e").replace("E", "e") : d.toPlainString();
  }

  @Override
  public String toString() {
    return describe("x");
  }
}
