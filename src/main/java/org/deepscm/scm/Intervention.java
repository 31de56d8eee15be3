package org.deepscm.scm;

import ai.djl.ndarray.NDArray;

/**
 * The replacement of one structural assignment. An atomic intervention do(x := a) sets a
 * constant; a shift intervention do(x := f(eps; pa) + delta) keeps the variable's own mechanism
 * and noise and adds delta to what it produces (the paper's do(t := f_T(eps_T) + 1)). Both cut the
 * variable from its parents' influence only as far as their formula says: a shift keeps the
 * natural value, so it is applied to the value the mechanism generates.
 */
public final class Intervention {
  private final boolean atomic;
  private final double amount;

  private Intervention(boolean atomic, double amount) {
    if (!Double.isFinite(amount)) {
      throw new InvalidValueException("an intervention needs a finite value, got " + amount);
    }
    this.atomic = atomic;
    this.amount = amount;
  }

  /** do(x := value) */
  public static Intervention set(double value) {
    return new Intervention(true, value);
  }

  /** do(x := f(eps; pa) + delta) */
  public static Intervention shift(double delta) {
    return new Intervention(false, delta);
  }

  /**
   * Parses "x=2.5" (atomic), "x+=1" or "x-=0.5" (shift). Category names are accepted for discrete
   * variables, e.g. "sex=male".
   */
  public static Intervention parse(String text, CausalGraph graph) {
    Parsed p = split(text);
    Variable v = graph.variable(p.name);
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
    var m = java.util.regex.Pattern.compile("\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*(\\+=|-=|=)\\s*(\\S.*)").matcher(text);
    if (!m.matches()) {
      throw new InvalidValueException(
          "cannot read intervention '" + text + "': write name=value (do(name := value)) or name+=delta / name-=delta");
    }
    return new Parsed(m.group(1), m.group(2), m.group(3).trim());
  }

  public boolean isAtomic() {
    return atomic;
  }

  /** The set value of an atomic intervention, or the shift's delta. */
  public double amount() {
    return amount;
  }

  /** The intervened value, given the value the variable's mechanism would produce. */
  public NDArray apply(NDArray natural) {
    return atomic ? natural.zerosLike().add(amount) : natural.add(amount);
  }

  public String describe(String variable) {
    if (atomic) {
      return "do(" + variable + " := " + format(amount) + ")";
    }
    return "do(" + variable + " := f_" + variable + "(eps) " + (amount < 0 ? "- " : "+ ")
        + format(Math.abs(amount)) + ")";
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
