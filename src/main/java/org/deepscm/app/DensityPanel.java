package org.deepscm.app;

import java.awt.BasicStroke;
import java.awt.Color;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.data.xy.DefaultXYDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import org.deepscm.eval.PairDensity;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;

/**
 * The model's joint density of two variables (a cause and its effect, e.g. thickness and
 * intensity): observational density as filled highest-density regions, the interventional density
 * under the shift that the slider makes (do(x := f(eps) + delta), as the paper's Fig. 3) as contour
 * lines, and the case's counterfactual trajectory as the slider sweeps, with the observed point.
 *
 * <p>The chart is drawn off the UI thread, into an image the window only shows: a redraw (40-50 ms in
 * software rendering) would otherwise hold up every frame while a slider is dragged. The chart and its
 * datasets belong to the drawing thread; the UI thread keeps the trajectory and asks for drawings.
 */
final class DensityPanel {
  static final int GRID = 70;
  static final double[] MASSES = {0.25, 0.5, 0.75, 0.9, 0.99};

  private final StructuralCausalModel scm;
  private final String xName;
  private final String yName;
  private final double[] xs;
  private final double[] ys;
  private final javafx.scene.layout.Pane node = new javafx.scene.layout.Pane();
  private final javafx.scene.image.ImageView view = new javafx.scene.image.ImageView();
  private final LatestOnlyExecutor drawer;
  private final NewestOnlyHandOff drawings;
  /** Built and then used on the drawing thread only. */
  private JFreeChart chart;
  private double shown = Double.NaN;
  private double textScale = 1;
  private int drawingsDone;
  private String problem;
  private final DefaultXYDataset lines = new DefaultXYDataset();
  private final List<double[]> trajectory = new ArrayList<>();
  private double[] observedPoint;

  /**
   * The pairs of continuous scalar variables with a training range, each as {cause, effect} in
   * topological order; a cause with its child first.
   */
  static List<String[]> pairs(StructuralCausalModel model, Map<String, double[]> ranges) {
    StructuralCausalModel scm = model.scalarPart();
    List<String> names = scm.graph().topologicalOrder().stream()
        .filter(n -> !scm.graph().variable(n).kind().isDiscrete() && ranges.containsKey(n)).toList();
    List<String[]> out = new ArrayList<>();
    for (int a = 0; a < names.size(); a++) {
      for (int b = a + 1; b < names.size(); b++) {
        out.add(new String[] {names.get(a), names.get(b)});
      }
    }
    // causes with their children first, each group in topological order (the sort is stable)
    out.sort(java.util.Comparator.comparing((String[] p) -> !scm.graph().parents(p[1]).contains(p[0])));
    return out;
  }

  /**
   * A panel for the model's first pair (see {@link #pairs}), or null if it has none.
   *
   * @param drawer draws the chart (a background thread in the app, inline in tests)
   * @param ui posts to the UI thread
   */
  static DensityPanel forModel(StructuralCausalModel model, Map<String, double[]> ranges, LatestOnlyExecutor drawer,
      java.util.function.Consumer<Runnable> ui) {
    List<String[]> pairs = pairs(model, ranges);
    return pairs.isEmpty() ? null : forPair(model, ranges, pairs.get(0)[0], pairs.get(0)[1], drawer, ui);
  }

  static DensityPanel forPair(StructuralCausalModel model, Map<String, double[]> ranges, String x, String y,
      LatestOnlyExecutor drawer, java.util.function.Consumer<Runnable> ui) {
    return new DensityPanel(model.scalarPart(), x, y, ranges.get(x), ranges.get(y), drawer, ui);
  }

  private DensityPanel(StructuralCausalModel scm, String xName, String yName, double[] xRange, double[] yRange,
      LatestOnlyExecutor drawer, java.util.function.Consumer<Runnable> ui) {
    this.drawer = drawer;
    this.drawings = new NewestOnlyHandOff(ui);
    this.scm = scm;
    this.xName = xName;
    this.yName = yName;
    this.xs = PairDensity.grid(xRange, GRID);
    this.ys = PairDensity.grid(yRange, GRID);
    node.setId("density");
    node.setPrefSize(460, 340);
    node.setMinSize(0, 0);
    view.setManaged(false); // the pane's size makes the drawing, not the other way round
    view.setId("density-drawing");
    node.getChildren().add(view);
    node.widthProperty().addListener((o, was, now) -> draw());
    node.heightProperty().addListener((o, was, now) -> draw());
  }

  /**
   * The chart with the observational density filled in; built by the first drawing, on the drawing thread
   * (for a model of more than two variables the density is estimated from samples: half a second of the
   * explorer's start, on the UI thread, when it was built with the panel).
   */
  private JFreeChart chart() {
    if (chart == null) {
      chart = buildChart();
    }
    return chart;
  }

  private JFreeChart buildChart() {
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
    // JFreeChart draws dataset 0 last by default, which would paint the filled density over the lines
    plot.setDatasetRenderingOrder(org.jfree.chart.plot.DatasetRenderingOrder.FORWARD);
    JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
    LegendTitle legend = new LegendTitle(plot);
    // a line item's graphic is as wide as its line, not its (hidden) shape: room on both sides, or the line
    // runs into the neighbouring item's text ("counterfactual trajector" under the observed dot)
    legend.setLegendItemGraphicPadding(new org.jfree.chart.ui.RectangleInsets(2, 14, 2, 14));
    chart.addLegend(legend);
    return chart;
  }

  /** The chart's place in the window: a pane that shows the latest drawing at its own size. */
  javafx.scene.layout.Region node() {
    return node;
  }

  /** Drawings shown so far (each redraw asked for, unless a newer one replaced it first). */
  int drawingsDone() {
    return drawingsDone;
  }

  /** Draws the chart's text (and lines) k times larger: presentation mode's larger text on a projector. */
  void setTextScale(double k) {
    if (k > 0 && k != textScale) {
      textScale = k;
      draw();
    }
  }

  /** Asks for a drawing of the current state at the pane's size; a newer request replaces a waiting one. */
  private void draw() {
    int w = (int) Math.ceil(node.getWidth());
    int h = (int) Math.ceil(node.getHeight());
    if (w <= 0 || h <= 0) {
      return;
    }
    double scale = node.getScene() != null && node.getScene().getWindow() != null
        ? node.getScene().getWindow().getOutputScaleX() : 1;
    double k = textScale;
    double shift = shown;
    List<double[]> path = List.copyOf(trajectory);
    double[] observed = observedPoint;
    drawer.submit(superseded -> {
      try {
        java.awt.image.BufferedImage image = render(shift, path, observed, w, h, scale, k);
        drawings.post(() -> {
          view.setImage(toFx(image));
          view.setFitWidth(w);
          view.setFitHeight(h);
          drawingsDone++;
        });
      } catch (RuntimeException | LinkageError e) {
        // said where the chart should be, not only on the console
        String why = e.getMessage() == null ? e.toString() : e.getMessage();
        drawings.post(() -> {
          problem = why;
          javafx.scene.control.Label said = new javafx.scene.control.Label("cannot draw the density chart: " + why);
          said.setWrapText(true);
          said.setMaxWidth(Math.max(200, node.getWidth() - 20));
          node.getChildren().setAll(view, said);
        });
      }
    });
  }

  /** Why the last drawing failed, or null. */
  String problem() {
    return problem;
  }

  /**
   * The chart drawn into an image of w x h points (times the screen's scale), its text k times its usual size;
   * on the drawing thread.
   */
  private java.awt.image.BufferedImage render(double shift, List<double[]> path, double[] observed, int w, int h,
      double scale, double k) {
    // one chart change for the whole update, not one per series removed and added
    JFreeChart chart = chart();
    chart.setNotify(false);
    try {
      replaceSeries(shift, path, observed);
    } finally {
      chart.setNotify(true);
    }
    int pw = (int) Math.ceil(w * scale);
    int ph = (int) Math.ceil(h * scale);
    java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(pw, ph,
        java.awt.image.BufferedImage.TYPE_INT_ARGB_PRE);
    java.awt.Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(java.awt.RenderingHints.KEY_ANTIALIASING, java.awt.RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING,
          java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.scale(scale * k, scale * k);
      chart.draw(g, new java.awt.geom.Rectangle2D.Double(0, 0, w / k, h / k));
    } finally {
      g.dispose();
    }
    return image;
  }

  private static javafx.scene.image.Image toFx(java.awt.image.BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[] pixels = ((java.awt.image.DataBufferInt) image.getRaster().getDataBuffer()).getData();
    javafx.scene.image.WritableImage out = new javafx.scene.image.WritableImage(w, h);
    out.getPixelWriter().setPixels(0, 0, w, h, javafx.scene.image.PixelFormat.getIntArgbPreInstance(), pixels, 0, w);
    return out;
  }

  double cellArea() {
    return (xs[1] - xs[0]) * (ys[1] - ys[0]);
  }

  int trajectoryLength() {
    return trajectory.size();
  }

  /** The trajectory's points (x, y), oldest first: a copy. */
  List<double[]> trajectoryPoints() {
    return trajectory.stream().map(double[]::clone).toList();
  }

  String xName() {
    return xName;
  }

  String yName() {
    return yName;
  }

  /**
   * Density of (x, y) under the shift do(x := f_x(eps) + shift); shift 0 is the observational
   * density. Exact for a two-variable model, else estimated from model samples.
   */
  double[][] density(double shift) {
    return PairDensity.of(scm, xName, yName, xs, ys, shift, 17).density();
  }

  /** Starts a new trajectory at the case's observed point. */
  void observe(double x, double y) {
    observedPoint = new double[] {x, y};
    trajectory.clear();
    shown = Double.NaN;
    draw();
  }

  /** Adds the counterfactual point of the current slider position and shows the shift's density. */
  void update(double xCf, double yCf, double shift) {
    trajectory.add(new double[] {xCf, yCf});
    shown = shift;
    draw();
  }

  private void replaceSeries(double shift, List<double[]> trajectory, double[] observedPoint) {
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
