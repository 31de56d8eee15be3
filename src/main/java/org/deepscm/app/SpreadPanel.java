package org.deepscm.app;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javafx.beans.binding.DoubleExpression;
import javafx.geometry.Pos;
import javafx.scene.Node;
import javafx.scene.canvas.Canvas;
import javafx.scene.canvas.GraphicsContext;
import javafx.scene.control.CheckBox;
import javafx.scene.control.Label;
import javafx.scene.control.Tooltip;
import javafx.scene.image.ImageView;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Pane;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;
import javafx.scene.paint.Color;
import javafx.scene.paint.CycleMethod;
import javafx.scene.paint.LinearGradient;
import javafx.scene.paint.Stop;
import javafx.scene.shape.Rectangle;
import javafx.scene.shape.StrokeLineCap;
import org.deepscm.data.SequentialColours;
import org.deepscm.image.ParticleSpread;

/**
 * How sure the model is of a counterfactual image: each pixel's spread (standard deviation) over the posterior
 * particles the answer is the mean of, shown as a map beside the difference map with its own colour bar in grey
 * levels; an optional outline on the counterfactual of where the change exceeds twice the spread ("changed beyond
 * the model's doubt"); and one line under the images with the mean spread over the brain (or the digit) and the
 * share of it changed beyond that doubt. A preview (a few particles, while a slider moves) says that its spread is
 * rough. No model work here: the session computes the spread beside the mean.
 */
final class SpreadPanel {
  /** A change counts as beyond the model's doubt above this many spreads. */
  static final double FACTOR = 2;
  /** The colour bar's top: the smallest of these at or above the answer's largest spread (grey levels). */
  static final double[] RANGES = {0.5, 1, 2, 4, 8, 16, 32, 64, 128};

  private final ImageView map = new ImageView();
  private final Canvas outline = new Canvas();
  private final List<Canvas> largeOutlines = new ArrayList<>();
  private final CheckBox toggle = new CheckBox("Outline beyond 2 \u00d7 spread");
  private final Label summary = new Label();
  private final Label help = new Label("?");
  private final Rectangle barFill = new Rectangle(12, 100);
  private final Label top = new Label();
  private final Label middle = new Label();
  private final boolean brain;
  private final int height;
  private final int width;
  private SequentialColours colours = SequentialColours.HEAT;
  private double range = RANGES[1];
  private double[] sd;
  private boolean[] beyond;

  /**
   * @param counterfactual the counterfactual's image view, which the outline covers
   * @param helpText what the spread is and how far it foretells the error on this model (beside the view)
   */
  SpreadPanel(boolean brain, int height, int width, ImageView counterfactual, String helpText) {
    this.brain = brain;
    this.height = height;
    this.width = width;
    map.setId("image-uncertainty");
    map.setSmooth(false);
    map.setPreserveRatio(true);
    outline.setId("outline");
    outline.setMouseTransparent(true);
    outline.widthProperty().bind(counterfactual.fitWidthProperty());
    outline.heightProperty().bind(counterfactual.fitWidthProperty().multiply((double) height / width));
    outline.widthProperty().addListener((o, a, b) -> drawOutlines());
    outline.scaleXProperty().bind(counterfactual.scaleXProperty());
    toggle.setId("outline-toggle");
    toggle.setMnemonicParsing(false);
    toggle.setMinWidth(Region.USE_PREF_SIZE);
    toggle.setTooltip(new Tooltip("Outline, on the counterfactual, the pixels whose change exceeds twice their "
        + "spread over the particles: changed beyond the model's doubt"));
    toggle.selectedProperty().addListener((o, a, b) -> drawOutlines());
    summary.setId("spread-summary");
    summary.setWrapText(true);
    summary.setMinHeight(Region.USE_PREF_SIZE);
    summary.setMinWidth(120);
    help.setId("spread-help");
    help.setMinWidth(Region.USE_PREF_SIZE);
    help.setStyle("-fx-border-color: grey; -fx-border-radius: 8; -fx-padding: 0 5 0 5;");
    Tooltip tip = new Tooltip(helpText);
    tip.setWrapText(true);
    tip.setMaxWidth(420);
    tip.setShowDuration(javafx.util.Duration.seconds(60));
    help.setTooltip(tip);
    Tooltip.install(map, tip);
    paintBar();
  }

  ImageView map() {
    return map;
  }

  /** The counterfactual's image view with the outline drawn over it. */
  Node overlay(ImageView counterfactual) {
    StackPane stack = new StackPane(counterfactual, outline);
    stack.setAlignment(Pos.TOP_LEFT);
    return stack;
  }

  /** The help text beside the view (what the spread is, how far it foretells the error). */
  String helpText() {
    return help.getTooltip().getText();
  }

  CheckBox outlineToggle() {
    return toggle;
  }

  Label summaryLabel() {
    return summary;
  }

  /** The colour bar's top, grey levels. */
  double range() {
    return range;
  }

  /** The help mark: its tooltip says what the spread is and how far it foretells the error. */
  Label helpMark() {
    return help;
  }

  /** The line under the images: the summary, then the outline toggle and the help mark unless they sit elsewhere. */
  Node summaryRow(boolean withToggleAndHelp) {
    HBox row = withToggleAndHelp ? new HBox(10, summary, toggle, help) : new HBox(10, summary);
    row.setAlignment(Pos.CENTER_LEFT);
    HBox.setHgrow(summary, Priority.ALWAYS);
    summary.setMaxWidth(Double.MAX_VALUE);
    row.setMinWidth(0);
    return row;
  }

  /** The map's colour bar, as tall as the images ({@code imageHeight}): 0 at the bottom, the range at the top. */
  Node colourBar(DoubleExpression imageHeight) {
    barFill.setStroke(Color.GREY);
    barFill.heightProperty().bind(imageHeight);
    Label zero = new Label("0");
    VBox labels = new VBox(top, spacer(), middle, spacer(), zero);
    labels.prefHeightProperty().bind(imageHeight);
    for (Label l : new Label[] {top, middle, zero}) {
      l.setMinWidth(Region.USE_PREF_SIZE);
    }
    HBox bar = new HBox(4, barFill, labels);
    bar.setId("spread-colour-bar");
    Label title = new Label("grey levels");
    title.setMinWidth(Region.USE_PREF_SIZE);
    Tooltip.install(bar, new Tooltip("the spread of each pixel over the particles: its standard deviation in grey "
        + "levels (0..255), " + colours.legend()));
    return new VBox(4, title, bar);
  }

  private static Node spacer() {
    Pane p = new Pane();
    VBox.setVgrow(p, Priority.ALWAYS);
    return p;
  }

  /** The map's colours (View > colour-blind safe uncertainty colours); the map and its bar are redrawn. */
  void setColours(SequentialColours c) {
    colours = c;
    paintBar();
    if (sd != null) {
      map.setImage(ImageRendering.spread(sd, height, width, range, colours));
    }
  }

  SequentialColours colours() {
    return colours;
  }

  private void paintBar() {
    List<Stop> stops = new ArrayList<>();
    for (int k = 0; k <= 10; k++) {
      int rgb = colours.at(1 - k / 10.0);
      stops.add(new Stop(k / 10.0, Color.rgb((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff)));
    }
    barFill.setFill(new LinearGradient(0, 0, 0, 1, true, CycleMethod.NO_CYCLE, stops));
    top.setText(number(range));
    middle.setText(number(range / 2));
  }

  private static String number(double v) {
    return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2g", v);
  }

  /**
   * Shows an answer's spread. A full answer sets the colour bar's range (the smallest of {@link #RANGES} at or
   * above its largest spread); a preview keeps the range so that colours keep their meaning while a slider moves,
   * and its line says the spread is rough.
   */
  void show(ExplorerSession.Result r, double[] original, boolean complete) {
    if (r.spread() == null) {
      return;
    }
    sd = r.spread();
    double most = 0;
    for (double v : sd) {
      most = Math.max(most, v);
    }
    if (complete) {
      double chosen = RANGES[RANGES.length - 1];
      for (double step : RANGES) {
        if (step >= most) {
          chosen = step;
          break;
        }
      }
      if (chosen != range) {
        range = chosen;
        paintBar();
      }
    }
    map.setImage(ImageRendering.spread(sd, height, width, range, colours));
    boolean[] region = ParticleSpread.region(original, r.image(), ParticleSpread.REGION_THRESHOLD);
    ParticleSpread.Summary s = ParticleSpread.summarise(r.difference(), sd, region, FACTOR);
    beyond = ParticleSpread.beyond(r.difference(), sd, region, FACTOR);
    summary.setText(describe(s, most, r.particles(), complete));
    drawOutlines();
  }

  /** The line under the images, in words. */
  String describe(ParticleSpread.Summary s, double most, int particles, boolean complete) {
    String what = brain ? "the brain" : "the digit";
    String head = complete ? "Spread over " + particles + " particles: "
        : "Rough spread, " + particles + " particles: ";
    if (s.regionPixels() == 0) {
      return head + "no pixel brighter than " + number(ParticleSpread.REGION_THRESHOLD) + " to judge it on";
    }
    if (most == 0) {
      return head + "none: every particle gives the same image";
    }
    return head + String.format(Locale.ROOT, "mean %.2f grey levels; %.0f %% of %s moved beyond 2 \u00d7 spread",
        s.meanSpread(), 100 * s.shareBeyond(), what);
  }

  /** Pixels changed beyond the model's doubt in the answer on screen (null before the first). */
  boolean[] beyond() {
    return beyond == null ? null : beyond.clone();
  }

  /** A large view's own outline (see {@link LargeImageView}), drawn with the panel's from now on. */
  Canvas addLargeOutline() {
    Canvas c = new Canvas();
    c.setMouseTransparent(true);
    largeOutlines.add(c);
    return c;
  }

  void removeLargeOutline(Canvas c) {
    largeOutlines.remove(c);
  }

  private void drawOutlines() {
    draw(outline);
    largeOutlines.forEach(this::draw);
  }

  /**
   * The edges between pixels changed beyond the doubt and the others, drawn twice (dark and wide, then bright and
   * narrow) so that the line shows on dark and bright tissue alike; nothing while the toggle is off.
   */
  void draw(Canvas canvas) {
    GraphicsContext g = canvas.getGraphicsContext2D();
    g.clearRect(0, 0, canvas.getWidth(), canvas.getHeight());
    if (!toggle.isSelected() || beyond == null || canvas.getWidth() <= 0) {
      return;
    }
    double zoom = canvas.getWidth() / width;
    g.setLineCap(StrokeLineCap.SQUARE);
    for (int pass = 0; pass < 2; pass++) {
      g.setStroke(pass == 0 ? Color.rgb(0, 0, 0, 0.8) : Color.rgb(0, 230, 255));
      g.setLineWidth(pass == 0 ? 3 : 1.5);
      g.beginPath();
      for (int row = 0; row < height; row++) {
        for (int col = 0; col < width; col++) {
          if (!beyond[row * width + col]) {
            continue;
          }
          double x0 = col * zoom;
          double y0 = row * zoom;
          if (row == 0 || !beyond[(row - 1) * width + col]) {
            g.moveTo(x0, y0);
            g.lineTo(x0 + zoom, y0);
          }
          if (row == height - 1 || !beyond[(row + 1) * width + col]) {
            g.moveTo(x0, y0 + zoom);
            g.lineTo(x0 + zoom, y0 + zoom);
          }
          if (col == 0 || !beyond[row * width + col - 1]) {
            g.moveTo(x0, y0);
            g.lineTo(x0, y0 + zoom);
          }
          if (col == width - 1 || !beyond[row * width + col + 1]) {
            g.moveTo(x0 + zoom, y0);
            g.lineTo(x0 + zoom, y0 + zoom);
          }
        }
      }
      g.stroke();
    }
  }

  /** The outline's edges in image pixels (for tests): how many unit edges separate the two sets. */
  int outlineEdges() {
    if (beyond == null) {
      return 0;
    }
    int edges = 0;
    for (int row = 0; row < height; row++) {
      for (int col = 0; col < width; col++) {
        if (beyond[row * width + col]) {
          edges += (row == 0 || !beyond[(row - 1) * width + col] ? 1 : 0)
              + (row == height - 1 || !beyond[(row + 1) * width + col] ? 1 : 0)
              + (col == 0 || !beyond[row * width + col - 1] ? 1 : 0)
              + (col == width - 1 || !beyond[row * width + col + 1] ? 1 : 0);
        }
      }
    }
    return edges;
  }
}
