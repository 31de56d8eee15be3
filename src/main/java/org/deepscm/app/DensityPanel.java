package org.deepscm.app;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.awt.BasicStroke;
import java.awt.Color;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.fx.ChartViewer;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.data.xy.DefaultXYDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import org.deepscm.scm.Mechanism;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;

/**
 * The model's joint density of two variables (a cause and its effect, e.g. thickness and
 * intensity): observational density as filled highest-density regions, the interventional density
 * under the shift that the slider makes (do(x := f(eps) + delta), as the paper's Fig. 3) as contour
 * lines, and the case's counterfactual trajectory as the slider sweeps, with the observed point.
 */
final class DensityPanel {
  static final int GRID = 70;
  static final double[] MASSES = {0.25, 0.5, 0.75, 0.9, 0.99};

  private final StructuralCausalModel scm;
  private final String xName;
  private final String yName;
  private final double[] xs;
  private final double[] ys;
  private final ChartViewer viewer;
  private final DefaultXYDataset lines = new DefaultXYDataset();
  private final List<double[]> trajectory = new ArrayList<>();
  private double[] observedPoint;

  /** A panel for the first two continuous scalar variables (cause first), or null if there are none. */
  static DensityPanel forModel(StructuralCausalModel model, Map<String, double[]> ranges) {
    StructuralCausalModel scm = model.scalarPart();
    List<Variable> continuous = scm.graph().variables().stream()
        .filter(v -> !v.kind().isDiscrete() && ranges.containsKey(v.name())).toList();
    if (continuous.size() < 2) {
      return null;
    }
    List<String> order = scm.graph().topologicalOrder();
    String a = continuous.get(0).name();
    String b = continuous.get(1).name();
    if (order.indexOf(b) < order.indexOf(a)) {
      String t = a;
      a = b;
      b = t;
    }
    // every other scalar variable must be absent for a 2-D density of the pair
    if (scm.graph().variables().size() != 2) {
      return null;
    }
    return new DensityPanel(scm, a, b, ranges.get(a), ranges.get(b));
  }

  private DensityPanel(StructuralCausalModel scm, String xName, String yName, double[] xRange, double[] yRange) {
    this.scm = scm;
    this.xName = xName;
    this.yName = yName;
    this.xs = grid(xRange);
    this.ys = grid(yRange);
    double[][] density = density(0);
    double cell = (xs[1] - xs[0]) * (ys[1] - ys[0]);
    double[] levels = Contours.massLevels(density, cell, MASSES);

    DefaultXYZDataset filled = new DefaultXYZDataset();
    double[][] xyz = new double[3][xs.length * ys.length];
    int k = 0;
    for (int r = 0; r < ys.length; r++) {
      for (int c = 0; c < xs.length; c++) {
        xyz[0][k] = xs[c];
        xyz[1][k] = ys[r];
        xyz[2][k++] = density[r][c];
      }
    }
    filled.addSeries("p(" + xName + ", " + yName + ")", xyz);
    XYBlockRenderer blocks = new XYBlockRenderer();
    blocks.setBlockWidth(xs[1] - xs[0]);
    blocks.setBlockHeight(ys[1] - ys[0]);
    LookupPaintScale scale = new LookupPaintScale(0, Double.MAX_VALUE, Color.WHITE);
    // darker red for the denser regions (smaller enclosed mass)
    for (int j = levels.length - 1; j >= 0; j--) {
      float shade = 0.9f - 0.7f * (levels.length - 1 - j) / (levels.length - 1);
      scale.add(levels[j], new Color(1f, shade, shade));
    }
    blocks.setPaintScale(scale);

    Variable xv = scm.graph().variable(xName);
    Variable yv = scm.graph().variable(yName);
    NumberAxis xAxis = new NumberAxis(xName + (xv.unit().isEmpty() ? "" : " [" + xv.unit() + "]"));
    NumberAxis yAxis = new NumberAxis(yName + (yv.unit().isEmpty() ? "" : " [" + yv.unit() + "]"));
    xAxis.setRange(xs[0], xs[xs.length - 1]);
    yAxis.setRange(ys[0], ys[ys.length - 1]);
    XYPlot plot = new XYPlot(filled, xAxis, yAxis, blocks);
    XYLineAndShapeRenderer lineRenderer = new XYLineAndShapeRenderer(true, false);
    lineRenderer.setSeriesPaint(0, new Color(30, 70, 200));
    lineRenderer.setSeriesStroke(0, new BasicStroke(1.5f));
    lineRenderer.setSeriesPaint(1, Color.BLACK);
    lineRenderer.setSeriesStroke(1, new BasicStroke(2f));
    lineRenderer.setSeriesShapesVisible(1, true);
    lineRenderer.setSeriesShape(1, new java.awt.geom.Ellipse2D.Double(-2.5, -2.5, 5, 5));
    lineRenderer.setSeriesPaint(2, new Color(0, 140, 0));
    lineRenderer.setSeriesShapesVisible(2, true);
    lineRenderer.setSeriesLinesVisible(2, false);
    lineRenderer.setSeriesShape(2, new java.awt.geom.Ellipse2D.Double(-6, -6, 12, 12));
    plot.setDataset(1, lines);
    plot.setRenderer(1, lineRenderer);
    JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
    chart.addLegend(new LegendTitle(plot));
    viewer = new ChartViewer(chart);
    viewer.setId("density");
    viewer.setPrefSize(460, 340);
  }

  ChartViewer node() {
    return viewer;
  }

  double cellArea() {
    return (xs[1] - xs[0]) * (ys[1] - ys[0]);
  }

  int trajectoryLength() {
    return trajectory.size();
  }

  String xName() {
    return xName;
  }

  String yName() {
    return yName;
  }

  private static double[] grid(double[] range) {
    double pad = 0.08 * (range[1] - range[0]);
    double lo = range[0] - pad;
    double hi = range[1] + pad;
    double[] g = new double[GRID];
    for (int k = 0; k < GRID; k++) {
      g[k] = lo + (hi - lo) * (k + 0.5) / GRID;
    }
    return g;
  }

  /**
   * Density of (x, y) under the shift do(x := f_x(eps) + shift): p_x(x - shift) p(y | x); shift 0 is
   * the observational density. Points outside a variable's support get density 0.
   */
  double[][] density(double shift) {
    int n = xs.length * ys.length;
    float[] xv = new float[n];
    float[] xShifted = new float[n];
    float[] yv = new float[n];
    boolean[] valid = new boolean[n];
    Variable xVar = scm.graph().variable(xName);
    Variable yVar = scm.graph().variable(yName);
    int k = 0;
    for (int r = 0; r < ys.length; r++) {
      for (int c = 0; c < xs.length; c++) {
        xv[k] = (float) xs[c];
        xShifted[k] = (float) (xs[c] - shift);
        yv[k] = (float) ys[r];
        valid[k] = inside(xVar, xs[c] - shift) && inside(xVar, xs[c]) && inside(yVar, ys[r]);
        if (!valid[k]) {
          xv[k] = (float) xs[xs.length / 2];
          xShifted[k] = xv[k];
          yv[k] = (float) ys[ys.length / 2];
        }
        k++;
      }
    }
    double[][] out = new double[ys.length][xs.length];
    try (NDManager m = NDManager.newBaseManager()) {
      Mechanism mx = scm.mechanism(xName);
      Mechanism my = scm.mechanism(yName);
      Map<String, NDArray> shifted = new LinkedHashMap<>();
      shifted.put(xName, m.create(xShifted));
      Map<String, NDArray> at = new LinkedHashMap<>();
      at.put(xName, m.create(xv));
      at.put(yName, m.create(yv));
      float[] lx = mx.logProb(shifted.get(xName), shifted).toType(DataType.FLOAT32, false).toFloatArray();
      float[] ly = my.logProb(at.get(yName), at).toType(DataType.FLOAT32, false).toFloatArray();
      k = 0;
      for (int r = 0; r < ys.length; r++) {
        for (int c = 0; c < xs.length; c++) {
          out[r][c] = valid[k] ? Math.exp(lx[k] + ly[k]) : 0;
          k++;
        }
      }
    }
    return out;
  }

  private static boolean inside(Variable v, double value) {
    return v.kind() == org.deepscm.scm.VariableKind.POSITIVE ? value > 0 : value >= v.lower() && value <= v.upper();
  }

  /** Starts a new trajectory at the case's observed point. */
  void observe(double x, double y) {
    observedPoint = new double[] {x, y};
    trajectory.clear();
    redraw(Double.NaN);
  }

  /** Adds the counterfactual point of the current slider position and shows the shift's density. */
  void update(double xCf, double yCf, double shift) {
    trajectory.add(new double[] {xCf, yCf});
    redraw(shift);
  }

  private void redraw(double shift) {
    for (Object key : List.copyOf(keys())) {
      lines.removeSeries((Comparable<?>) key);
    }
    if (!Double.isNaN(shift) && Math.abs(shift) > 1e-9) {
      double[][] d = density(shift);
      double cell = (xs[1] - xs[0]) * (ys[1] - ys[0]);
      List<Double> px = new ArrayList<>();
      List<Double> py = new ArrayList<>();
      for (double level : Contours.massLevels(d, cell, new double[] {0.5, 0.9})) {
        for (Contours.Segment s : Contours.lines(xs, ys, d, level)) {
          px.add(s.x1());
          py.add(s.y1());
          px.add(s.x2());
          py.add(s.y2());
          px.add(Double.NaN);
          py.add(Double.NaN);
        }
      }
      lines.addSeries(String.format(java.util.Locale.ROOT, "p under do(%s := f(eps) %s %.2f)", xName,
          shift < 0 ? "-" : "+", Math.abs(shift)), toArray(px, py));
    } else {
      lines.addSeries("(no shift)", new double[][] {{Double.NaN}, {Double.NaN}});
    }
    List<Double> tx = new ArrayList<>();
    List<Double> ty = new ArrayList<>();
    for (double[] p : trajectory) {
      tx.add(p[0]);
      ty.add(p[1]);
    }
    if (tx.isEmpty()) {
      tx.add(Double.NaN);
      ty.add(Double.NaN);
    }
    lines.addSeries("counterfactual trajectory", toArray(tx, ty));
    if (observedPoint != null) {
      lines.addSeries("observed", new double[][] {{observedPoint[0]}, {observedPoint[1]}});
    }
  }

  private List<Comparable<?>> keys() {
    List<Comparable<?>> out = new ArrayList<>();
    for (int s = 0; s < lines.getSeriesCount(); s++) {
      out.add(lines.getSeriesKey(s));
    }
    return out;
  }

  private static double[][] toArray(List<Double> x, List<Double> y) {
    double[][] a = new double[2][x.size()];
    for (int k = 0; k < x.size(); k++) {
      a[0][k] = x.get(k);
      a[1][k] = y.get(k);
    }
    return a;
  }
}
