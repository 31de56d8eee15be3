package org.deepscm.eval;

/**
 * Least-squares slope of measured change on requested change: how far a counterfactual moved. Slope 1
 * means the image moved all the way, 0 that it did not move. Pairs with a non-finite value are skipped.
 */
public final class Regression {
  private long n;
  private double sx;
  private double sy;
  private double sxx;
  private double sxy;

  public void add(double requested, double measured) {
    if (!Double.isFinite(requested) || !Double.isFinite(measured)) {
      return;
    }
    n++;
    sx += requested;
    sy += measured;
    sxx += requested * requested;
    sxy += requested * measured;
  }

  public double slope() {
    double varX = sxx - sx * sx / n;
    return n < 2 || varX <= 0 ? Double.NaN : (sxy - sx * sy / n) / varX;
  }
}
