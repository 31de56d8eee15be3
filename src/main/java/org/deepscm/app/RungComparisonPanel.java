package org.deepscm.app;

import java.awt.BasicStroke;
import java.awt.Color;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Node;
import javafx.scene.control.ChoiceBox;
import javafx.scene.control.Label;
import javafx.scene.layout.HBox;
import javafx.scene.layout.VBox;
import org.deepscm.eval.RungComparison;
import org.deepscm.scm.StructuralCausalModel;
import org.deepscm.scm.Variable;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.fx.ChartViewer;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.data.xy.DefaultXYDataset;

/**
 * The three rungs at once for the current case (paper Fig. A.6): the distribution of a variable v
 * when we see another variable b at its current value, p(v | b), when we set it there, p(v | do(b)),
 * and this case's counterfactual v, with p(v) for reference. b's value follows its slider.
 */
final class RungComparisonPanel {
  static final int SAMPLES = 10_000;
  private static final int GRID = 160;

  private final StructuralCausalModel scm;
  private final Map<String, double[]> ranges;
  private final LatestOnlyExecutor executor;
  private final NewestOnlyHandOff answers;
  private final ChoiceBox<String> variable = new ChoiceBox<>();
  private final ChoiceBox<String> cause = new ChoiceBox<>();
  private final DefaultXYDataset curves = new DefaultXYDataset();
  private final XYPlot plot;
  private final Label caption = new Label();
  private final VBox box;
  private volatile RungComparison last;
  private String lastRequest;
  private boolean visible = true;
  private Supplier<Map<String, Double>> observed = Map::of;
  private Supplier<Map<String, Double>> causeValues = Map::of;

  /** A panel over the model's continuous scalar variables, or null when it has fewer than two. */
  static RungComparisonPanel forModel(StructuralCausalModel model, Map<String, double[]> ranges,
      LatestOnlyExecutor executor, Consumer<Runnable> ui) {
    StructuralCausalModel scm = model.scalarPart();
    List<String> names = scm.graph().topologicalOrder().stream()
        .filter(n -> !scm.graph().variable(n).kind().isDiscrete() && ranges.containsKey(n)).toList();
    return names.size() < 2 ? null : new RungComparisonPanel(scm, names, ranges, executor, ui);
  }

  private RungComparisonPanel(StructuralCausalModel scm, List<String> names, Map<String, double[]> ranges,
      LatestOnlyExecutor executor, Consumer<Runnable> ui) {
    this.scm = scm;
    this.ranges = ranges;
    this.executor = executor;
    this.answers = new NewestOnlyHandOff(ui);
    variable.getItems().setAll(names);
    cause.getItems().setAll(names);
    // a cause and its effect, the effect seen or set: seeing it moves the cause, setting it does not
    String v = names.get(0);
    String b = names.stream().filter(n -> scm.graph().parents(n).contains(v)).findFirst().orElse(names.get(1));
    variable.setValue(v);
    cause.setValue(b);
    variable.setId("compare-variable");
    cause.setId("compare-given");

    NumberAxis x = new NumberAxis();
    NumberAxis y = new NumberAxis("density");
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
    r.setSeriesPaint(0, new Color(150, 150, 150));
    r.setSeriesStroke(0, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {5, 4}, 0));
    r.setSeriesPaint(1, new Color(30, 90, 210));
    r.setSeriesStroke(1, new BasicStroke(2.5f));
    r.setSeriesPaint(2, new Color(210, 50, 40));
    r.setSeriesStroke(2, new BasicStroke(2.5f));
    plot = new XYPlot(curves, x, y, r);
    JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
    chart.addLegend(new LegendTitle(plot));
    ChartViewer viewer = new ChartViewer(chart);
    viewer.setId("rung-comparison");
    viewer.setPrefSize(460, 300);

    caption.setWrapText(true);
    caption.maxWidthProperty().bind(viewer.prefWidthProperty());
    caption.setMinHeight(javafx.scene.layout.Region.USE_PREF_SIZE);
    caption.setId("compare-caption");
    HBox choose = new HBox(8, new Label("Distribution of"), variable, new Label("given"), cause,
        new Label("at its current value"));
    choose.setAlignment(Pos.CENTER_LEFT);
    box = new VBox(6, choose, viewer, caption);
    box.setPadding(new Insets(6));
    variable.setOnAction(e -> recompute());
    cause.setOnAction(e -> recompute());
  }

  /** While hidden, nothing is computed; showing it catches up. */
  void setVisible(boolean shown) {
    visible = shown;
    if (shown) {
      recompute();
    }
  }

  /**
   * @param observedCase the case's observed scalar values
   * @param current the value each variable has now (do() value, or counterfactual value)
   */
  void bind(Supplier<Map<String, Double>> observedCase, Supplier<Map<String, Double>> current) {
    this.observed = observedCase;
    this.causeValues = current;
  }

  Node node() {
    return box;
  }

  RungComparison last() {
    return last;
  }

  ChoiceBox<String> variableChoice() {
    return variable;
  }

  ChoiceBox<String> causeChoice() {
    return cause;
  }

  /** Recomputes off the UI thread for the current choice and values. */
  void recompute() {
    String v = variable.getValue();
    String b = cause.getValue();
    if (v == null || b == null) {
      return;
    }
    if (v.equals(b)) {
      caption.setText("Choose two different variables.");
      curves.removeSeries("p(" + v + ")");
      return;
    }
    Map<String, Double> obs = Map.copyOf(observed.get());
    Double bValue = causeValues.get().get(b);
    if (bValue == null || !visible) {
      return;
    }
    String request = v + "|" + b + "|" + bValue + "|" + new java.util.TreeMap<>(obs);
    if (request.equals(lastRequest)) {
      return; // same question as on screen: the slider moved another variable
    }
    lastRequest = request;
    executor.submit(superseded -> {
      try {
        RungComparison c = RungComparison.compute(scm, obs, v, b, bValue, SAMPLES, 11);
        answers.post(() -> show(c));
      } catch (RuntimeException e) {
        answers.post(() -> caption.setText("cannot compare: " + e.getMessage()));
      }
    });
  }

  private void show(RungComparison c) {
    last = c;
    double[] range = ranges.get(c.variable());
    double pad = 0.15 * (range[1] - range[0]);
    double lo = range[0] - pad;
    double hi = range[1] + pad;
    Variable var = scm.graph().variable(c.variable());
    if (var.kind() == org.deepscm.scm.VariableKind.POSITIVE) {
      lo = Math.max(lo, 0);
    }
    double[] grid = new double[GRID];
    for (int k = 0; k < GRID; k++) {
      grid[k] = lo + (hi - lo) * k / (GRID - 1);
    }
    for (Object key : List.copyOf(keys())) {
      curves.removeSeries((Comparable<?>) key);
    }
    String b = c.cause();
    String bStar = ExplorerView.fmt(c.causeValue());
    curves.addSeries("p(" + c.variable() + ")", new double[][] {grid, RungComparison.density(c.marginal(), grid)});
    curves.addSeries("seeing: p(" + c.variable() + " | " + b + " = " + bStar + ")",
        new double[][] {grid, RungComparison.density(c.conditional(), grid)});
    curves.addSeries("doing: p(" + c.variable() + " | do(" + b + " = " + bStar + "))",
        new double[][] {grid, RungComparison.density(c.interventional(), grid)});
    plot.getDomainAxis().setLabel(c.variable() + (var.unit().isEmpty() ? "" : " [" + var.unit() + "]"));
    plot.getDomainAxis().setRange(lo, hi);
    plot.clearDomainMarkers();
    ValueMarker seen = new ValueMarker(c.observed(), new Color(120, 120, 120),
        new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {3, 3}, 0));
    seen.setLabel("observed");
    placeLabel(seen, 22);
    plot.addDomainMarker(seen);
    ValueMarker imagined = new ValueMarker(c.counterfactual(), Color.BLACK, new BasicStroke(2.5f));
    imagined.setLabel("imagining: this case");
    placeLabel(imagined, 4);
    plot.addDomainMarker(imagined);
    caption.setText(String.format(Locale.ROOT, "Seeing %s = %s: %s averages %s. Doing %s = %s: %s averages %s. "
            + "Imagining it for this case: %s would have been %s (observed %s).", b, bStar, c.variable(),
        ExplorerView.fmt(mean(c.conditional())), b, bStar, c.variable(), ExplorerView.fmt(mean(c.interventional())), c.variable(),
        ExplorerView.fmt(c.counterfactual()), ExplorerView.fmt(c.observed())));
  }

  /** Label to the right of the line, {@code down} pixels below the top: two markers at one x stay legible. */
  private static void placeLabel(ValueMarker m, double down) {
    m.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT);
    m.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.TOP_LEFT);
    m.setLabelOffset(new org.jfree.chart.ui.RectangleInsets(down, 4, 0, 0));
    m.setLabelFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12));
  }

  private List<Comparable<?>> keys() {
    List<Comparable<?>> out = new java.util.ArrayList<>();
    for (int s = 0; s < curves.getSeriesCount(); s++) {
      out.add(curves.getSeriesKey(s));
    }
    return out;
  }

  private static double mean(double[] a) {
    return java.util.Arrays.stream(a).average().orElse(Double.NaN);
  }
}
