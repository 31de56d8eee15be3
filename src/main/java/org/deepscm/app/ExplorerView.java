package org.deepscm.app;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import javafx.application.Platform;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Group;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.ChoiceBox;
import javafx.scene.control.Label;
import javafx.scene.control.Slider;
import javafx.scene.control.ToggleButton;
import javafx.scene.image.ImageView;
import javafx.scene.control.ScrollPane;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Pane;
import javafx.scene.layout.VBox;
import javafx.scene.paint.Color;
import javafx.scene.paint.CycleMethod;
import javafx.scene.paint.LinearGradient;
import javafx.scene.paint.Stop;
import javafx.scene.shape.Polyline;
import javafx.scene.shape.Polygon;
import javafx.scene.shape.Rectangle;
import javafx.scene.text.Font;
import javafx.scene.text.Text;
import org.controlsfx.control.SegmentedButton;
import org.controlsfx.control.StatusBar;
import org.controlsfx.control.ToggleSwitch;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.Variable;

/**
 * The explorer's main view for one session: the causal graph, the ladder of causation, the
 * counterfactual images (or values), and a slider with a do() switch per variable. Model work runs
 * on the {@link LatestOnlyExecutor}; a 4-particle preview comes first, then the 32-particle answer.
 */
public final class ExplorerView {
  static final int PREVIEW_PARTICLES = 4;
  /** While a slider is held, the worker rests this many times as long as each preview took (at most 30 ms). */
  static final long REST_PER_PREVIEW = 2;
  static final int FULL_PARTICLES = 32;
  /** Half-range of the difference map's colour scale, fixed so colours mean the same as a slider moves. */
  public static final double DIFFERENCE_RANGE = 128;
  /** The tissue-motion map's scale: log 2, i.e. from half the area (blue) to twice it (red). */
  public static final double MOTION_RANGE = Math.log(2);
  private static final double NODE_W = 150;
  private static final double NODE_H = 48;

  static final String[] RUNGS = {"Association", "Intervention", "Counterfactual"};
  static final String[] RUNG_SENTENCES = {
      "Association: what we observe together. Which values go with which?",
      "Intervention: what happens if we set a variable by hand, cutting it from its causes?",
      "Counterfactual: for this very case, what would it have looked like had the variable been different?"};

  private final ExplorerSession session;
  private final LatestOnlyExecutor executor;
  private final Consumer<Runnable> ui;
  private final NewestOnlyHandOff answers;
  private final NewestOnlyHandOff graphRedraws;
  private final BorderPane root = new BorderPane();
  private final Pane graphPane = new Pane();
  private final Map<String, Slider> sliders = new LinkedHashMap<>();
  private final Map<String, ToggleSwitch> switches = new LinkedHashMap<>();
  private final Map<String, Label> valueLabels = new LinkedHashMap<>();
  private final Map<String, ChoiceBox<String>> choices = new LinkedHashMap<>();
  private final Map<String, Label> flags = new LinkedHashMap<>();
  private final ImageView original = new ImageView();
  private final ImageView counterfactual = new ImageView();
  private final ImageView difference = new ImageView();
  private final Label rungSentence = new Label(RUNG_SENTENCES[2]);
  // ControlsFX's status bar: the message on the left, an indeterminate progress bar while an answer is refined
  private final StatusBar status = new StatusBar();
  /** The observed and counterfactual values, two to a line (the plots below need the height). */
  private final javafx.scene.layout.FlowPane valuesBox = new javafx.scene.layout.FlowPane(24, 4);
  private final Map<String, Label> valueLines = new HashMap<>();
  private final VBox samplesPane = new VBox(8);
  private Node counterfactualPane;
  private final org.controlsfx.control.NotificationPane extrapolationNotice =
      new org.controlsfx.control.NotificationPane();
  private int rung = 2;
  private DensityPanel density;
  /** Draws the density chart off the UI thread. */
  private final LatestOnlyExecutor chartDrawer;
  private final BorderPane densityBox = new BorderPane();
  private final RungComparisonPanel comparison;
  private boolean updatingControls;
  private volatile ExplorerSession.Result last;
  private final List<Consumer<ExplorerSession.Result>> resultListeners = new java.util.ArrayList<>();

  /**
   * @param ui posts work to the UI thread (Platform::runLater in the app, Runnable::run in tests)
   */
  public ExplorerView(ExplorerSession session, LatestOnlyExecutor executor, Consumer<Runnable> ui) {
    this.session = session;
    this.executor = executor;
    this.ui = ui;
    this.answers = new NewestOnlyHandOff(ui);
    this.graphRedraws = new NewestOnlyHandOff(ui);
    this.chartDrawer = executor.sibling();
    this.density = DensityPanel.forModel(session.scm(), session.model().trainingRanges(), chartDrawer, ui);
    if (density != null) {
      Map<String, Double> obs = session.observed();
      density.observe(obs.get(density.xName()), obs.get(density.yName()));
    }
    this.comparison = RungComparisonPanel.forModel(session.scm(), session.model().trainingRanges(),
        executor.sibling(), ui);
    if (comparison != null) {
      comparison.bind(session::observed, this::currentValues);
    }
    root.setId("explorer");
    root.setTop(ladder());
    // a scroll pane only for windows smaller than any screen the explorer is made for (1366 x 768 needs none):
    // there the images scroll instead of pushing the controls off screen
    ScrollPane scrolled = new ScrollPane(centre());
    scrolled.setFitToHeight(true);
    scrolled.setFitToWidth(true);
    scrolled.setMinWidth(200);
    centreViewport = scrolled;
    // the images take the room the centre has (the scroll pane's viewport), at the zoom fitImages() picks
    scrolled.viewportBoundsProperty().addListener((o, was, now) -> fitImages());
    // extrapolation is said where the user looks, above the images (ControlsFX notification pane)
    extrapolationNotice.setContent(scrolled);
    extrapolationNotice.setId("extrapolation-notice");
    extrapolationNotice.setShowFromTop(true);
    extrapolationNotice.setCloseButtonVisible(false);
    counterfactualPane = extrapolationNotice;
    samplesPane.setPadding(new Insets(10));
    samplesPane.setId("samples");
    // the samples show as many columns as the width holds: laid out again when it changes
    samplesPane.widthProperty().addListener((o, was, now) -> fitSamples());
    centreHolder.setCenter(counterfactualPane);
    controlsContent = controls();
    ScrollPane controlsPane = new ScrollPane(controlsContent);
    controlsPane.setId("controls");
    controlsPane.setFitToWidth(true);
    controlsPane.setHbarPolicy(ScrollPane.ScrollBarPolicy.NEVER);
    controlsPane.setMinWidth(240);
    // graph | images | controls, each divider movable; a wider window widens the images, not the sides
    panes.getItems().setAll(graphPane, centreHolder, controlsPane);
    panes.setId("panes");
    javafx.scene.control.SplitPane.setResizableWithParent(graphPane, false);
    javafx.scene.control.SplitPane.setResizableWithParent(controlsPane, false);
    // divided again for every window width (a wider window widens the images)
    panes.widthProperty().addListener((o, was, now) -> fitPanes());
    // nothing in the centre may force the window wider than the screen
    for (javafx.scene.layout.Region r : new javafx.scene.layout.Region[] {panes, centreHolder, samplesPane}) {
      r.setMinWidth(0);
    }
    root.setCenter(panes);
    status.setId("status");
    status.setText("");
    root.setBottom(status);
    graphPane.setMinWidth(160);
    graphPane.setPadding(new Insets(10));
    // the graph is drawn to fit its pane
    graphPane.widthProperty().addListener((o, was, now) -> graphRedraws.post(() -> drawGraph(last)));
    graphPane.heightProperty().addListener((o, was, now) -> graphRedraws.post(() -> drawGraph(last)));
    drawGraph(null);
    refresh();
  }

  private final javafx.scene.control.SplitPane panes = new javafx.scene.control.SplitPane();
  /** The centre of the three panes: the counterfactual images or a rung's samples. */
  private final BorderPane centreHolder = new BorderPane();

  private Node controlsContent;

  /**
   * Places the dividers for the window's width and the text size (called again when presentation mode
   * changes it): the graph at most 300 px (a fifth of a narrow window), the controls what they ask for
   * (at most a third), the images the rest; the samples refit.
   */
  public void fitPanes() {
    double width = panes.getWidth();
    if (width <= 0) {
      return;
    }
    root.applyCss();
    // in presentation mode the graph gets a quarter of the window, and its drawing grows with the text
    double text = textScale();
    double graph = Math.min(300 * text, Math.max(180, (text > 1 ? 0.25 : 0.2) * width));
    // the controls' own width and room for a vertical scroll bar
    double controls = Math.min(Math.max(260, controlsContent.prefWidth(-1) + 18), 0.36 * width);
    panes.setDividerPositions(graph / width, 1 - controls / width);
    fitSamples();
    if (density != null) {
      density.setTextScale(textScale());
    }
  }

  /** The window's text size against the default one (1.5 in presentation mode): the chart's text follows it. */
  private double textScale() {
    return rungSentence.getFont().getSize() / Font.getDefault().getSize();
  }

  /** The status bar's progress: indeterminate while an answer is on its way, hidden when none is. */
  private void setBusy(boolean busy) {
    status.setProgress(busy ? -1 : 0);
  }

  /** The status bar (its text is the last answer's model, device and time). */
  StatusBar statusBar() {
    return status;
  }

  /** Says something in the status bar (until the next answer replaces it). */
  void setStatus(String text) {
    status.setText(text);
  }

  public BorderPane root() {
    return root;
  }

  public ExplorerSession session() {
    return session;
  }

  /** The latest answer on screen (null before the first). */
  public ExplorerSession.Result lastResult() {
    return last;
  }

  public void onResult(Consumer<ExplorerSession.Result> listener) {
    resultListeners.add(listener);
  }

  DensityPanel densityPanel() {
    return density;
  }

  private String densityTitle() {
    return "Joint density p(" + density.xName() + ", " + density.yName() + ")";
  }

  /** Switches the density panel to another pair; the trajectory starts again at the observed point. */
  void showPair(String x, String y) {
    density = DensityPanel.forPair(session.scm(), session.model().trainingRanges(), x, y, chartDrawer, ui);
    density.setTextScale(textScale());
    Map<String, Double> obs = session.observed();
    density.observe(obs.get(x), obs.get(y));
    densityBox.setCenter(density.node());
    density.node().setMinHeight(MIN_CHART_HEIGHT);
  }

  RungComparisonPanel comparisonPanel() {
    return comparison;
  }

  /** Each scalar variable's value now: its do() value, else its latest counterfactual, else observed. */
  Map<String, Double> currentValues() {
    Map<String, Double> out = new LinkedHashMap<>(session.observed());
    ExplorerSession.Result r = last;
    if (r != null) {
      r.values().forEach((k, v) -> {
        if (out.containsKey(k)) {
          out.put(k, v);
        }
      });
    }
    out.putAll(session.interventions());
    return out;
  }

  public Slider slider(String variable) {
    return sliders.get(variable);
  }

  public ToggleSwitch doSwitch(String variable) {
    return switches.get(variable);
  }

  // ------------------------------------------------------------------ ladder

  private final SegmentedButton rungButtons = new SegmentedButton();

  private Node ladder() {
    // one segmented button: the three rungs read as one ladder, exactly one of them chosen
    SegmentedButton buttons = rungButtons;
    buttons.setId("rungs");
    for (int k = 0; k < RUNGS.length; k++) {
      ToggleButton b = new ToggleButton((k + 1) + ". " + RUNGS[k]);
      b.setId("rung-" + RUNGS[k].toLowerCase(Locale.ROOT));
      int chosen = k;
      b.setOnAction(e -> {
        if (!b.isSelected()) {
          b.setSelected(true);
        }
        showRung(chosen);
      });
      b.setSelected(k == 2);
      buttons.getButtons().add(b);
    }
    rungSentence.setId("rung-sentence");
    rungSentence.setWrapText(true);
    VBox box = new VBox(4, buttons, rungSentence, lessonBar);
    box.setPadding(new Insets(8));
    lessonBar.setId("lesson");
    lessonBar.setVisible(false);
    lessonBar.setManaged(false);
    return box;
  }

  // ------------------------------------------------------------------ lesson

  private final HBox lessonBar = new HBox(8);
  private List<Lesson.Step> lesson = List.of();
  private int lessonStep;
  private Node lessonFocus;
  /** The user's do() settings when the lesson began, put back when it ends; null while no lesson runs. */
  private Map<String, Double> dosBeforeLesson;
  private int rungBeforeLesson;

  /**
   * View > Lesson: walks this case up the ladder, a sentence and one highlighted control at each step. It starts
   * from the case as observed (the user's do() settings are kept aside and come back when it ends).
   */
  public void startLesson() {
    if (dosBeforeLesson == null) {
      // started again while running: what the lesson itself set is not the user's
      dosBeforeLesson = session.interventions();
      rungBeforeLesson = rung;
    }
    lesson = Lesson.steps(session);
    Label text = new Label();
    text.setId("lesson-text");
    text.setWrapText(true);
    HBox.setHgrow(text, javafx.scene.layout.Priority.ALWAYS);
    // the sentence wraps in the room left; the buttons keep theirs, on any window width
    text.setMinWidth(120);
    text.setPrefWidth(480);
    text.setMaxWidth(Double.MAX_VALUE);
    Button back = new Button("Back");
    back.setId("lesson-back");
    Button next = new Button("Next");
    next.setId("lesson-next");
    Button close = new Button("Close");
    close.setId("lesson-close");
    back.setOnAction(e -> lessonAt(lessonStep - 1));
    next.setOnAction(e -> {
      if (lessonStep + 1 < lesson.size()) {
        lessonAt(lessonStep + 1);
      } else {
        endLesson();
      }
    });
    close.setOnAction(e -> endLesson());
    for (Button b : new Button[] {back, next, close}) {
      b.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
    }
    lessonBar.getChildren().setAll(text, back, next, close);
    lessonBar.setStyle("-fx-background-color: #fff4d6; -fx-padding: 6;");
    lessonBar.setVisible(true);
    lessonBar.setManaged(true);
    lessonAt(0);
  }

  /** The lesson's step on screen (0-based), or -1 when none is running. */
  public int lessonStep() {
    return lessonBar.isVisible() ? lessonStep : -1;
  }

  private void lessonAt(int k) {
    lessonStep = Math.max(0, Math.min(lesson.size() - 1, k));
    Lesson.Step step = lesson.get(lessonStep);
    if (step.rung() == 0 && !session.interventions().isEmpty()) {
      // association is seeing, not doing: no do() in the graph or on the sliders (also when come back to)
      session.setInterventions(Map.of());
      refresh();
    }
    showRung(step.rung());
    ((Label) lessonBar.getChildren().get(0)).setText((lessonStep + 1) + " / " + lesson.size() + "   " + step.text());
    lessonBar.getChildren().get(1).setDisable(lessonStep == 0);
    ((Button) lessonBar.getChildren().get(2)).setText(lessonStep + 1 == lesson.size() ? "Done" : "Next");
    ringControl(root.lookup("#" + step.control()));
  }

  private void endLesson() {
    ringControl(null);
    lessonBar.setVisible(false);
    lessonBar.setManaged(false);
    if (dosBeforeLesson != null) {
      // the user's own settings and rung, as they were before the lesson
      session.setInterventions(dosBeforeLesson);
      dosBeforeLesson = null;
      refresh();
      showRung(rungBeforeLesson);
    }
  }

  /** The one control to touch, ringed in orange (the previous one let go). */
  private void ringControl(Node node) {
    if (lessonFocus != null) {
      lessonFocus.setEffect(null);
    }
    lessonFocus = node;
    if (node != null) {
      node.setEffect(new javafx.scene.effect.DropShadow(14, Color.ORANGE));
    }
  }

  /** The control the lesson asks to touch now, or null. */
  Node lessonFocus() {
    return lessonFocus;
  }

  /** Switches the centre between the three rungs of the ladder. */
  public void showRung(int chosen) {
    rung = chosen;
    rungSentence.setText(RUNG_SENTENCES[chosen]);
    if (chosen < rungButtons.getButtons().size() && !rungButtons.getButtons().get(chosen).isSelected()) {
      rungButtons.getButtons().get(chosen).setSelected(true);
    }
    if (chosen == 2) {
      centreHolder.setCenter(counterfactualPane);
      return;
    }
    centreHolder.setCenter(samplesPane);
    samplesPane.getChildren().setAll(new Label("drawing samples..."));
    Map<String, Double> dos = chosen == 1 ? session.interventions() : Map.of();
    if (sampleDrawer == null) {
      sampleDrawer = executor.sibling();
    }
    sampleDrawer.submit(superseded -> {
      try {
        var observational = session.samples(SAMPLES, Map.of());
        var interventional = dos.isEmpty() ? null : session.samples(SAMPLES, dos);
        ui.accept(() -> {
          if (rung == chosen) {
            showSamples(chosen, observational, interventional, dos);
          }
        });
      } catch (RuntimeException e) {
        ui.accept(() -> samplesPane.getChildren().setAll(new Label("cannot draw samples: " + e.getMessage())));
      }
    });
  }

  static final int SAMPLES = 8;
  /**
   * Draws a rung's samples: on the counterfactual's executor a rung chosen right after a change of do() (the
   * lesson's steps) would replace the counterfactual job still waiting, and the sliders would keep the old do().
   */
  private LatestOnlyExecutor sampleDrawer;

  private void showSamples(int chosen, ExplorerSession.Samples observational, ExplorerSession.Samples interventional,
      Map<String, Double> dos) {
    samplesPane.getChildren().clear();
    if (chosen == 0) {
      samplesPane.getChildren().addAll(wrapped("Random units drawn from the model (a new seed each time):"),
          samplesRow(observational, "association"));
    } else if (interventional == null) {
      Label hint = wrapped("Switch a do() on (right) to compare the interventional distribution with the "
          + "observational one.");
      hint.setId("intervention-hint");
      samplesPane.getChildren().addAll(hint, wrapped("Observational samples:"), samplesRow(observational, "obs"));
    } else {
      String label = String.join(", ", dos.entrySet().stream()
          .map(e -> "do(" + e.getKey() + " := " + display(session.model().scm().graph().variable(e.getKey()),
              e.getValue()) + ")").toList());
      samplesPane.getChildren().addAll(wrapped("Observational samples p(v):"), samplesRow(observational, "obs"),
          wrapped("Interventional samples p(v | " + label + "), the same noise as the sample above each:"),
          samplesRow(interventional, "do"));
    }
    samplesPane.applyCss();
    fitSamples();
  }

  /** A sentence that wraps in the room it has instead of being cut to "...". */
  private static Label wrapped(String text) {
    Label l = new Label(text);
    l.setWrapText(true);
    l.setMinHeight(javafx.scene.layout.Region.USE_PREF_SIZE);
    return l;
  }

  private Node samplesRow(ExplorerSession.Samples s, String id) {
    if (s.images() == null) {
      // values only: they wrap onto more lines on a narrow window instead of widening it
      javafx.scene.layout.FlowPane row = new javafx.scene.layout.FlowPane(8, 8);
      row.setId("samples-" + id);
      for (int k = 0; k < s.count(); k++) {
        row.getChildren().add(new Label(sampleCaption(s, k)));
      }
      return row;
    }
    // images: one row, as many columns as the width holds (fitSamples), so that the observational and the
    // interventional sample of one column, drawn with the same noise, stand one above the other
    HBox row = new HBox(SAMPLE_GAP);
    row.setId("samples-" + id);
    row.setMinWidth(0);
    int zoom = session.imageWidth() <= 32 ? 4 : 2;
    for (int k = 0; k < s.count(); k++) {
      ImageView view = new ImageView(ImageRendering.grey(s.images()[k], session.imageHeight(), session.imageWidth()));
      view.setSmooth(false);
      view.setFitWidth(session.imageWidth() * zoom);
      view.setPreserveRatio(true);
      Label text = new Label(sampleCaption(s, k));
      text.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
      VBox unit = new VBox(2, view, text);
      unit.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
      row.getChildren().add(unit);
    }
    return row;
  }

  private static final double SAMPLE_GAP = 12;

  private String sampleCaption(ExplorerSession.Samples s, int k) {
    StringBuilder caption = new StringBuilder();
    for (Variable v : session.scalars()) {
      caption.append(v.name()).append(" = ").append(display(v, s.values().get(v.name())[k])).append('\n');
    }
    return caption.toString().strip();
  }

  /** Shows in every row of samples the columns that the samples pane's width holds (at least one). */
  private void fitSamples() {
    List<HBox> rows = samplesPane.getChildren().stream().filter(n -> n instanceof HBox).map(n -> (HBox) n).toList();
    if (rows.isEmpty()) {
      return;
    }
    double room = samplesPane.getWidth() - samplesPane.getInsets().getLeft() - samplesPane.getInsets().getRight();
    int columns = Integer.MAX_VALUE;
    for (HBox row : rows) {
      double used = 0;
      int fit = 0;
      for (Node unit : row.getChildren()) {
        used += (fit == 0 ? 0 : SAMPLE_GAP) + unit.prefWidth(-1);
        if (used > room) {
          break;
        }
        fit++;
      }
      columns = Math.min(columns, Math.max(1, fit));
    }
    for (HBox row : rows) {
      for (int k = 0; k < row.getChildren().size(); k++) {
        row.getChildren().get(k).setVisible(k < columns);
        row.getChildren().get(k).setManaged(k < columns);
      }
    }
  }

  // ------------------------------------------------------------------ centre: images or values

  private final VBox centreBox = new VBox(8);
  private ScrollPane centreViewport;
  private Node imageRow;
  private javafx.scene.control.TabPane plots;
  /** The density chart is unreadable below this height. */
  static final double MIN_CHART_HEIGHT = 160;
  /**
   * The images come first up to this width (1.5x a brain slice, where the panels' titles fit on one line): the chart
   * gives up height for them down to {@link #MIN_CHART_HEIGHT}; wider images only while it keeps {@link #CHART_HEIGHT}.
   */
  static final double PRIORITY_IMAGE_WIDTH = 96;
  /** The chart's height that images wider than {@link #PRIORITY_IMAGE_WIDTH} leave it. */
  static final double CHART_HEIGHT = 200;

  private Node centre() {
    VBox box = centreBox;
    box.setPadding(new Insets(10));
    if (session.imageVariable() != null) {
      spread = new SpreadPanel(session.isBrain(), session.imageHeight(), session.imageWidth(), counterfactual,
          UncertaintyHelp.text(session.model(), session.isBrain()));
      for (ImageView v : panels()) {
        v.setSmooth(false); // pixel-exact nearest-neighbour zoom
        v.setPreserveRatio(true);
        v.setFitWidth(session.imageWidth() * 2);
      }
      original.setId("image-original");
      counterfactual.setId("image-counterfactual");
      difference.setId("image-difference");
      double aspect = (double) session.imageHeight() / Math.max(1, session.imageWidth());
      differenceBar = colourBar();
      spreadBar = spread.colourBar(original.fitWidthProperty().multiply(aspect));
      HBox images = new HBox(IMAGE_GAP, titled("Original", original, original),
          titled("Counterfactual", spread.overlay(counterfactual), counterfactual),
          differencePanel = titled("Difference", difference, difference), differenceBar,
          titled("Uncertainty", spread.map(), spread.map()), spreadBar);
      javafx.scene.control.Tooltip.install(difference, new javafx.scene.control.Tooltip(
          "counterfactual - original, in grey levels (colour bar on the right); double-click to see it large"));
      for (ImageView v : new ImageView[] {original, counterfactual}) {
        javafx.scene.control.Tooltip.install(v, new javafx.scene.control.Tooltip("double-click to see it large"));
      }
      String[] titles = {"Original", "Counterfactual", "Difference", "Uncertainty"};
      for (int k = 0; k < titles.length; k++) {
        ImageView v = panels()[k];
        String title = titles[k];
        v.setOnMouseClicked(e -> {
          if (e.getClickCount() == 2) {
            showLarge(title, v);
          }
        });
      }
      if (session.isBrain()) {
        box.getChildren().add(orientationRow());
      }
      imageRow = images;
      // a brain's outline toggle sits in the orientation row; a digit's in the line under the images
      box.getChildren().addAll(images, spread.summaryRow(!session.isBrain()));
      // a line that wraps onto a second one takes height from the images, not from the plots
      spread.summaryLabel().heightProperty().addListener((o, was, now) -> fitImages());
    }
    valuesBox.setId("values");
    box.getChildren().add(valuesBox);
    javafx.scene.control.TabPane tabs = new javafx.scene.control.TabPane();
    plots = tabs;
    tabs.setId("plots");
    // the plots take the height left below the images, never less than a readable chart
    VBox.setVgrow(tabs, javafx.scene.layout.Priority.ALWAYS);
    tabs.setMinHeight(MIN_CHART_HEIGHT + 40); // the header (with the pair chooser) and the borders
    tabs.setTabClosingPolicy(javafx.scene.control.TabPane.TabClosingPolicy.UNAVAILABLE);
    if (density != null) {
      javafx.scene.control.Tab tab = new javafx.scene.control.Tab(densityTitle(), densityBox);
      tab.setId("tab-density");
      densityBox.setCenter(density.node());
      density.node().setMinHeight(MIN_CHART_HEIGHT);
      List<String[]> pairs = DensityPanel.pairs(session.scm(), session.model().trainingRanges());
      if (pairs.size() > 1) {
        ChoiceBox<String> choose = new ChoiceBox<>();
        choose.setId("density-pair");
        pairs.forEach(p -> choose.getItems().add(p[0] + " and " + p[1]));
        choose.setValue(choose.getItems().get(0));
        choose.setOnAction(e -> {
          String[] p = pairs.get(choose.getSelectionModel().getSelectedIndex());
          showPair(p[0], p[1]);
        });
        // the chooser sits in the tab's own header: a row of its own would take the chart's height on a laptop
        Label title = new Label("Joint density of");
        HBox header = new HBox(6, title, choose);
        header.setAlignment(Pos.CENTER_LEFT);
        tab.setText(null);
        tab.setGraphic(header);
      }
      tabs.getTabs().add(tab);
    }
    if (comparison != null) {
      javafx.scene.control.Tab t = new javafx.scene.control.Tab("Seeing, doing, imagining", comparison.node());
      t.setId("tab-compare");
      comparison.setVisible(tabs.getTabs().isEmpty());
      t.selectedProperty().addListener((o, was, now) -> comparison.setVisible(now));
      tabs.getTabs().add(t);
    }
    if (!tabs.getTabs().isEmpty()) {
      box.getChildren().add(tabs);
    }
    return box;
  }

  private static final double IMAGE_GAP = 8;

  /**
   * The largest zoom at which the four images and their colour bars fit the centre's width and leave the plots
   * below them a readable height: up to {@link #PRIORITY_IMAGE_WIDTH} the images come first, the chart down to
   * {@link #MIN_CHART_HEIGHT}; beyond it the chart keeps {@link #CHART_HEIGHT}.
   */
  private void fitImages() {
    if (imageRow == null || centreViewport == null || centreViewport.getViewportBounds().getWidth() <= 0) {
      return;
    }
    Insets in = centreBox.getInsets();
    double width = centreViewport.getViewportBounds().getWidth() - in.getLeft() - in.getRight();
    double height = centreViewport.getViewportBounds().getHeight() - in.getTop() - in.getBottom();
    int gaps = ((HBox) imageRow).getChildren().size() - 1;
    double forImages = width - differenceBar.prefWidth(-1) - spreadBar.prefWidth(-1) - gaps * IMAGE_GAP;
    // below the images: the other rows at their preferred heights and the plots at their least
    double other = 0;
    int rows = 0;
    for (Node n : centreBox.getChildren()) {
      if (n.isManaged()) {
        rows++;
        other += n == imageRow ? 0 : n == plots ? plots.getMinHeight() : n.prefHeight(width);
      }
    }
    other += centreBox.getSpacing() * Math.max(0, rows - 1);
    double byWidth = forImages / (panels().length * (double) session.imageWidth());
    double zoom = zoomFor(byWidth);
    // the image row at a zoom: its titles, wrapped to the images' width (narrower images may wrap them), and the
    // images; the largest step whose row fits the height the other rows leave, the chart at its least up to the
    // priority width and at its usual height beyond
    double beyondPriority = centreBox.getChildren().contains(plots) ? CHART_HEIGHT - MIN_CHART_HEIGHT : 0;
    while (zoom > 1) {
      double row = titleHeight(session.imageWidth() * zoom) + session.imageHeight() * zoom;
      boolean priority = session.imageWidth() * zoom <= PRIORITY_IMAGE_WIDTH;
      if (row <= height - other - (priority ? 0 : beyondPriority)) {
        break;
      }
      zoom = zoom > 2 ? zoom - 1 : zoom - 0.25;
    }
    if (original.getFitWidth() != session.imageWidth() * zoom) {
      for (ImageView v : panels()) {
        v.setFitWidth(session.imageWidth() * zoom);
        // a whole zoom shows the pixels exactly; a fractional one evenly (smoothed)
        v.setSmooth(zoom != Math.rint(zoom));
      }
    }
  }

  /**
   * The zoom of the image panels for the room they have ({@code fits}: the zoom that fills it): a whole zoom from
   * 2x up (pixel-exact), below that the quarter step under it, never below 1x. The four panels and their two colour
   * bars need about 650 px for 2x brain slices, more than a 1366 x 768 laptop leaves them; double-clicking a panel
   * shows it large.
   */
  static double zoomFor(double fits) {
    double z = Math.min(MAX_ZOOM, fits);
    return z >= 2 ? Math.floor(z) : Math.max(1, Math.floor(z * 4) / 4);
  }

  /** The four image panels: original, counterfactual, difference, uncertainty. */
  private ImageView[] panels() {
    return new ImageView[] {original, counterfactual, difference, spread.map()};
  }

  /** Shows one image panel large in a window of its own (double-click); the counterfactual keeps its outline. */
  LargeImageView showLarge(String title, ImageView panel) {
    javafx.scene.canvas.Canvas outline = panel == counterfactual ? spread.addLargeOutline() : null;
    javafx.stage.Window owner = root.getScene() == null ? null : root.getScene().getWindow();
    LargeImageView large = new LargeImageView(owner, title, panel, session.imageHeight(), session.imageWidth(),
        outline, () -> {
          if (outline != null) {
            spread.removeLargeOutline(outline);
          }
        });
    if (outline != null) {
      spread.draw(outline);
    }
    large.show();
    lastLarge = large;
    return large;
  }

  private LargeImageView lastLarge;

  /** The large view opened last (null before any). */
  LargeImageView lastLargeView() {
    return lastLarge;
  }

  /** The uncertainty view and its line (null for covariate models). */
  SpreadPanel spreadPanel() {
    return spread;
  }

  private static final int MAX_ZOOM = 12;
  private SpreadPanel spread;
  private Node differenceBar;
  private Node spreadBar;

  /** The height of the images' titles (one line of the label font, wrapped titles take two). */
  private double titleHeight(double imageWidth) {
    double most = 0;
    for (Node n : ((HBox) imageRow).getChildren()) {
      if (n instanceof VBox v && v.getChildren().get(0) instanceof Label l) {
        most = Math.max(most, l.prefHeight(imageWidth + IMAGE_GAP) + v.getSpacing());
      }
    }
    return most;
  }

  private final Label orientation = new Label();
  private final javafx.scene.control.ToggleButton neurological = new javafx.scene.control.ToggleButton(
      "Neurological view");

  /**
   * Brain slices are stored in radiological convention (the subject's right on the image's left); the
   * panel says so, with R and L, and a toggle mirrors all three images to neurological convention.
   */
  private Node orientationRow() {
    orientation.setId("orientation");
    neurological.setId("orientation-toggle");
    neurological.setTooltip(new javafx.scene.control.Tooltip(
        "Mirror the slices left to right: radiological (R | L) or neurological (L | R) convention"));
    neurological.selectedProperty().addListener((o, was, now) -> showOrientation());
    showOrientation();
    window.setId("window");
    level.setId("level");
    for (Slider s : new Slider[] {window, level}) {
      s.setPrefWidth(90);
      s.valueProperty().addListener((o, a, b) -> {
        if (last != null && last.image() != null) {
          show(last, true);
        }
      });
    }
    Button reset = new Button("Full range");
    reset.setId("window-reset");
    reset.setOnAction(e -> {
      window.setValue(255);
      level.setValue(127.5);
    });
    // the sentence wraps in the room left; the toggle keeps its words
    orientation.setWrapText(true);
    orientation.setMinHeight(javafx.scene.layout.Region.USE_PREF_SIZE);
    neurological.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
    // one row when it fits: the convention, the mirror toggle, then window and level
    HBox first = new HBox(10, orientation, neurological);
    first.setAlignment(Pos.CENTER_LEFT);
    HBox second = new HBox(8, new Label("window"), window, new Label("level"), level, reset);
    second.setAlignment(Pos.CENTER_LEFT);
    javafx.scene.layout.FlowPane row = new javafx.scene.layout.FlowPane(16, 4, first, second);
    // the outline toggle and the uncertainty's help flow beside window and level, where a laptop's row has room
    HBox outlineAndHelp = new HBox(8, spread.outlineToggle(), spread.helpMark());
    if (session.movesTissue()) {
      tissueMotion.setId("tissue-motion-toggle");
      tissueMotion.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
      tissueMotion.setTooltip(new javafx.scene.control.Tooltip("Show where tissue moves in the counterfactual "
          + "instead of how grey levels change: the log of each point's area change (red grows, blue shrinks), as "
          + "tensor-based morphometry shows a deformation"));
      tissueMotion.selectedProperty().addListener((o, was, now) -> paintDifference());
      outlineAndHelp.getChildren().add(0, tissueMotion);
    }
    outlineAndHelp.setAlignment(Pos.CENTER_LEFT);
    row.getChildren().add(outlineAndHelp);
    row.setMinWidth(0);
    return row;
  }

  /** Display window and level of the original and counterfactual slices (the difference map keeps its scale). */
  private final Slider window = new Slider(10, 255, 255);
  private final Slider level = new Slider(0, 255, 127.5);

  /** The display window and level, grey levels. */
  double[] windowLevel() {
    return new double[] {window.getValue(), level.getValue()};
  }

  private void showOrientation() {
    boolean neuro = neurological.isSelected();
    orientation.setText(neuro ? "Neurological (L | R)" : "Radiological (R | L)");
    orientation.setTooltip(new javafx.scene.control.Tooltip(neuro
        ? "Neurological convention: the subject's left on the image's left, anterior at the top"
        : "Radiological convention: the subject's right on the image's left, anterior at the top"));
    for (ImageView v : panels()) {
      v.setScaleX(neuro ? -1 : 1);
    }
  }

  /** Whether the slices are shown in neurological convention (mirrored from how they are stored). */
  boolean neurologicalView() {
    return neurological.isSelected();
  }

  /** An image panel under its title; the title wraps to the width of {@code sizing} instead of being cut. */
  private static Node titled(String title, Node content, ImageView sizing) {
    Label l = new Label(title);
    // a long title wraps above its image instead of being cut to "..."
    l.setWrapText(true);
    // as wide as the image and the gap beside it: "Counterfactual" stays one word above a 96 px slice
    l.maxWidthProperty().bind(sizing.fitWidthProperty().add(IMAGE_GAP));
    l.setMinHeight(javafx.scene.layout.Region.USE_PREF_SIZE);
    return new VBox(4, l, content);
  }

  /** The difference panel (its title first), whose map shows where tissue moves while {@link #tissueMotion} is on. */
  private Node differencePanel;
  /** Deformation models: the difference panel shows where tissue moves (log area change) instead of grey levels. */
  private final javafx.scene.control.ToggleButton tissueMotion = new javafx.scene.control.ToggleButton("Tissue motion");
  private final Label barTop = new Label();
  private final Label barMiddle = new Label();
  private final Label barBottom = new Label();
  private final Label barTitle = new Label();

  /** Whether the difference panel shows where tissue moves. */
  public boolean showsTissueMotion() {
    return tissueMotion.isSelected() && last != null && last.motion() != null;
  }

  /** Switches the difference panel between grey levels and tissue motion (deformation models). */
  public void setTissueMotion(boolean on) {
    tissueMotion.setSelected(on);
  }

  /** Draws the difference panel, its title and its colour bar for the last answer. */
  private void paintDifference() {
    if (differencePanel == null) {
      return; // a model without an image, or the panels not built yet
    }
    boolean motion = showsTissueMotion();
    Label title = (Label) ((VBox) differencePanel).getChildren().get(0);
    title.setText(motion ? "Tissue motion" : "Difference");
    barTitle.setText(motion ? "area change" : "cf - original");
    barTop.setText(motion ? "+100 %\ngrows" : String.format(Locale.ROOT, "+%.0f\nbrighter", DIFFERENCE_RANGE));
    barMiddle.setText("0");
    barBottom.setText(motion ? "-50 %\nshrinks" : String.format(Locale.ROOT, "-%.0f\ndarker", DIFFERENCE_RANGE));
    if (last == null || last.difference() == null) {
      return;
    }
    difference.setImage(motion
        ? ImageRendering.difference(last.motion(), session.imageHeight(), session.imageWidth(), MOTION_RANGE,
            differenceColours)
        : ImageRendering.difference(last.difference(), session.imageHeight(), session.imageWidth(), DIFFERENCE_RANGE,
            differenceColours));
  }

  private org.deepscm.data.ImageFiles.Diverging differenceColours = org.deepscm.data.ImageFiles.Diverging.RED_BLUE;
  private final Rectangle colourBarFill = new Rectangle(16, 180);

  /** The difference map's colours (View > colour-blind safe colours); the map and its bar are redrawn. */
  public void setDifferenceColours(org.deepscm.data.ImageFiles.Diverging colours) {
    differenceColours = colours;
    paintColourBar();
    paintDifference();
  }

  public org.deepscm.data.ImageFiles.Diverging differenceColours() {
    return differenceColours;
  }

  /** The uncertainty view's colours (View > colour-blind safe uncertainty colours); the map and its bar are redrawn. */
  public void setSpreadColours(org.deepscm.data.SequentialColours colours) {
    if (spread != null) {
      spread.setColours(colours);
    }
  }

  private void paintColourBar() {
    int up = differenceColours.brighter();
    int down = differenceColours.darker();
    colourBarFill.setFill(new LinearGradient(0, 0, 0, 1, true, CycleMethod.NO_CYCLE,
        new Stop(0, Color.rgb((up >> 16) & 0xff, (up >> 8) & 0xff, up & 0xff)), new Stop(0.5, Color.WHITE),
        new Stop(1, Color.rgb((down >> 16) & 0xff, (down >> 8) & 0xff, down & 0xff))));
  }

  private Node colourBar() {
    Rectangle bar = colourBarFill;
    paintColourBar();
    bar.setStroke(Color.GREY);
    // the number above the word: the bar's column stays narrow enough for four image panels on a laptop
    // the labels paintDifference() sets: grey levels, or the area change while the panel shows tissue motion
    barTop.setText(String.format(Locale.ROOT, "+%.0f\nbrighter", DIFFERENCE_RANGE));
    barMiddle.setText("0");
    barBottom.setText(String.format(Locale.ROOT, "-%.0f\ndarker", DIFFERENCE_RANGE));
    barTop.setId("colour-bar-top");
    barBottom.setId("colour-bar-bottom");
    VBox labels = new VBox(barTop, spacer(), barMiddle, spacer(), barBottom);
    // as tall as the images beside it
    double aspect = (double) session.imageHeight() / Math.max(1, session.imageWidth());
    bar.heightProperty().bind(original.fitWidthProperty().multiply(aspect));
    labels.prefHeightProperty().bind(original.fitWidthProperty().multiply(aspect));
    // the labels say which sign is which: never cut them short
    labels.getChildren().forEach(n -> {
      if (n instanceof Label l) {
        l.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
      }
    });
    HBox b = new HBox(4, bar, labels);
    b.setId("colour-bar");
    barTitle.setText("cf - original");
    barTitle.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
    return new VBox(4, barTitle, b);
  }

  private static Node spacer() {
    Pane p = new Pane();
    VBox.setVgrow(p, javafx.scene.layout.Priority.ALWAYS);
    return p;
  }

  // ------------------------------------------------------------------ controls

  /** Switches every do() off: the counterfactual is the case as observed (disabled while none is on). */
  private final Button resetButton = new Button("Reset: the case as observed");

  /** Every do() off, in one click (the model opens with one: see ExplorerSession.openingIntervention). */
  public void resetInterventions() {
    session.setInterventions(Map.of());
    if (density != null) {
      // the case as observed: the counterfactual trajectory starts again at its observed point
      Map<String, Double> obs = session.observed();
      density.observe(obs.get(density.xName()), obs.get(density.yName()));
    }
    refresh();
  }

  private Node controls() {
    GridPane grid = new GridPane();
    grid.setHgap(8);
    grid.setVgap(6);
    grid.setPadding(new Insets(10));
    int row = 0;
    resetButton.setId("reset-interventions");
    resetButton.setTooltip(new javafx.scene.control.Tooltip("Switch every do() off: the counterfactual is then "
        + "the case itself"));
    resetButton.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
    resetButton.setOnAction(e -> resetInterventions());
    grid.add(resetButton, 0, row++, 2, 1);
    Map<String, Double> obs = session.observed();
    for (Variable v : session.scalars()) {
      if (v.kind().isDiscrete()) {
        row = discreteControl(grid, row, v, obs);
        continue;
      }
      double[] range = session.model().trainingRange(v.name());
      double lo = range != null ? range[0] : obs.get(v.name()) - 1;
      double hi = range != null ? range[1] : obs.get(v.name()) + 1;
      double pad = 0.1 * (hi - lo);
      double min = Math.max(v.lower() + (v.kind() == org.deepscm.scm.VariableKind.POSITIVE ? 0.05 * lo : 0), lo - pad);
      double max = Math.min(v.upper(), hi + pad);
      Slider s = new Slider(min, max, obs.get(v.name()));
      s.setId("slider-" + v.name());
      // released: the chart catches up at once
      s.valueChangingProperty().addListener((o, was, now) -> {
        if (!now) {
          heavyRedraws.flush();
        }
      });
      s.setShowTickMarks(true);
      double step = niceStep(max - min);
      s.setMajorTickUnit(step);
      s.setShowTickLabels(true);
      // no labels at the range's own ends (e.g. 167.944 beside 151: they would run into their neighbours)
      s.setLabelFormatter(new javafx.util.StringConverter<Double>() {
        @Override
        public String toString(Double value) {
          double eps = 1e-9 * (max - min);
          return Math.abs(value - min) < eps || Math.abs(value - max) < eps ? "" : tickLabel(value);
        }

        @Override
        public Double fromString(String text) {
          return Double.valueOf(text);
        }
      });
      s.setBlockIncrement((max - min) / 50);
      s.setPrefWidth(260);
      ToggleSwitch sw = new ToggleSwitch("do(" + v.name() + ")");
      sw.setMnemonicParsing(false); // brain_volume: the underscore is part of the name
      sw.setId("do-" + v.name());
      Label name = new Label(v.name() + (v.unit().isEmpty() ? "" : " [" + v.unit() + "]"));
      name.setStyle("-fx-font-weight: bold;"); // bold at any text size (presentation mode)
      Label value = new Label();
      value.setId("value-" + v.name());
      value.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
      Label flag = new Label();
      flag.setId("flag-" + v.name());
      flag.setTextFill(Color.DARKORANGE);
      // two short lines, so the panel stays narrow enough for the images on a laptop
      Label info = new Label(String.format(Locale.ROOT, "observed %s\nseen in training %s",
          fmt(obs.get(v.name())), range == null ? "?" : fmt(range[0]) + " .. " + fmt(range[1])));
      info.setMinHeight(javafx.scene.layout.Region.USE_PREF_SIZE);
      info.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE);
      info.setTextFill(Color.DIMGREY);
      s.valueProperty().addListener((o, a, b) -> controlMoved(v.name(), sw, b.doubleValue()));
      wireDoSwitch(v.name(), sw, s::getValue);
      sliders.put(v.name(), s);
      switches.put(v.name(), sw);
      valueLabels.put(v.name(), value);
      flags.put(v.name(), flag);
      grid.add(name, 0, row);
      grid.add(sw, 1, row++);
      grid.add(s, 0, row, 2, 1);
      row++;
      grid.add(value, 0, row);
      grid.add(flag, 1, row++);
      grid.add(info, 0, row++, 2, 1);
    }
    return grid;
  }

  /**
   * A discrete variable (sex): its categories to choose from, and do() switched on by choosing one or
   * by the check box (which holds the observed category until another is chosen).
   */
  private int discreteControl(GridPane grid, int row, Variable v, Map<String, Double> obs) {
    ChoiceBox<String> choice = new ChoiceBox<>();
    choice.setId("choice-" + v.name());
    choice.getItems().setAll(v.categories());
    choice.getSelectionModel().select((int) Math.round(obs.get(v.name())));
    ToggleSwitch sw = new ToggleSwitch("do(" + v.name() + ")");
    sw.setMnemonicParsing(false);
    sw.setId("do-" + v.name());
    Label name = new Label(v.name());
    name.setStyle("-fx-font-weight: bold;");
    Label info = new Label("observed " + display(v, obs.get(v.name())));
    info.setTextFill(Color.DIMGREY);
    choice.getSelectionModel().selectedIndexProperty().addListener((o, a, b) -> {
      if (b.intValue() >= 0) {
        controlMoved(v.name(), sw, b.intValue());
      }
    });
    wireDoSwitch(v.name(), sw, () -> choice.getSelectionModel().getSelectedIndex());
    choices.put(v.name(), choice);
    switches.put(v.name(), sw);
    grid.add(name, 0, row);
    grid.add(sw, 1, row++);
    grid.add(choice, 0, row++, 2, 1);
    grid.add(info, 0, row++, 2, 1);
    return row;
  }

  /** A control moved by the user (not by refresh): do(variable := value), its switch ticked. */
  private void controlMoved(String variable, ToggleSwitch sw, double value) {
    if (updatingControls) {
      return;
    }
    session.intervene(variable, value);
    updatingControls = true;
    sw.setSelected(true);
    updatingControls = false;
    refresh();
  }

  /** The do() switch of a variable: on intervenes with the control's value, off releases it. */
  private void wireDoSwitch(String variable, ToggleSwitch sw, java.util.function.DoubleSupplier control) {
    sw.selectedProperty().addListener((o, a, b) -> {
      if (updatingControls) {
        return;
      }
      if (b) {
        session.intervene(variable, control.getAsDouble());
      } else {
        session.release(variable);
      }
      refresh();
    });
  }

  /** A value as the user reads it: a category's name for discrete variables, else a number. */
  static String display(Variable v, double value) {
    if (v.kind().isDiscrete() && !v.categories().isEmpty()) {
      int k = (int) Math.round(value);
      if (k >= 0 && k < v.categories().size()) {
        return v.categories().get(k);
      }
    }
    return fmt(value);
  }

  /** A tick label: whole numbers from 10 up, else two significant digits (0.38, 2.5). */
  private static String tickLabel(double v) {
    return Math.abs(v) >= 10 ? String.format(Locale.ROOT, "%.0f", v) : new java.math.BigDecimal(v)
        .round(new java.math.MathContext(2)).stripTrailingZeros().toPlainString();
  }

  private static double niceStep(double span) {
    double raw = span / 4;
    double p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (double m : new double[] {1, 2, 5, 10}) {
      if (m * p >= raw) {
        return m * p;
      }
    }
    return 10 * p;
  }

  /** A round number as it is said: 45, 2.5. */
  static String fmtShort(double v) {
    return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.valueOf(v);
  }

  static String fmt(double v) {
    double a = Math.abs(v);
    return String.format(Locale.ROOT, a >= 100 ? "%.1f" : a >= 10 ? "%.2f" : "%.3f", v);
  }

  // ------------------------------------------------------------------ live updates

  /**
   * Shows (or hides) the notice that a counterfactual value lies outside what the model saw in training:
   * the answer is then an extrapolation and the image deserves less trust.
   */
  private void warnExtrapolation(ExplorerSession.Result r) {
    StringBuilder text = new StringBuilder();
    for (Variable v : session.scalars()) {
      Double value = r.values().get(v.name());
      double[] range = session.model().trainingRanges().get(v.name());
      if (value != null && range != null && session.model().isExtrapolation(v.name(), value)) {
        text.append(text.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "%s = %s lies outside the "
            + "training range %s .. %s", v.name(), fmt(value), fmt(range[0]), fmt(range[1])));
      }
    }
    if (text.length() == 0) {
      if (extrapolationNotice.isShowing()) {
        extrapolationNotice.hide();
      }
      return;
    }
    String message = text + ": the model extrapolates here, trust this counterfactual less.";
    if (!extrapolationNotice.isShowing() || !message.equals(extrapolationNotice.getText())) {
      extrapolationNotice.show(message);
    }
  }

  /** The notice above the images that says when the model extrapolates. */
  org.controlsfx.control.NotificationPane extrapolationNotice() {
    return extrapolationNotice;
  }

  /** Asks for the counterfactual under the current interventions: a quick preview, then the full answer. */
  public void refresh() {
    setBusy(true);
    resetButton.setDisable(session.interventions().isEmpty());
    // the surgery is drawn at once, but once per burst of slider events, not once per event
    graphRedraws.post(() -> drawGraph(last));
    boolean held = dragging();
    executor.submit(superseded -> {
      try {
        boolean image = session.imageVariable() != null;
        if (image) {
          long started = System.nanoTime();
          ExplorerSession.Result preview = session.counterfactual(PREVIEW_PARTICLES);
          answers.post(() -> show(preview, false));
          if (held) {
            // while a slider is held, the worker rests twice as long as the preview took: on two cores the
            // window (its thread and its renderer) needs the CPU to draw that answer before the next one
            // comes (storm at 120 events/s, quick JIT: p99 between frames 40-43 -> 31-41 ms on the brain
            // model, 34-35 -> 21-26 ms on Morpho-MNIST, against resting once as long)
            java.util.concurrent.locks.LockSupport.parkNanos(
                Math.min(REST_PER_PREVIEW * (System.nanoTime() - started), 30_000_000L));
          }
          if (superseded.getAsBoolean()) {
            return;
          }
        }
        ExplorerSession.Result full = session.counterfactual(FULL_PARTICLES);
        answers.post(() -> show(full, true));
      } catch (RuntimeException e) {
        answers.post(() -> {
          setBusy(false);
          status.setText("cannot compute the counterfactual: " + e.getMessage());
        });
      }
    });
  }

  /** Redraws of the density chart and the comparison panels while a slider is dragged: at most every 100 ms. */
  private final ThrottledRedraw heavyRedraws = new ThrottledRedraw(100, System::nanoTime, (millis, task) -> {
    javafx.animation.PauseTransition wait = new javafx.animation.PauseTransition(javafx.util.Duration.millis(millis));
    wait.setOnFinished(e -> task.run());
    wait.play();
  });

  /** Whether the user holds a slider (read off the UI thread too: a flag, only ever a moment stale). */
  boolean dragging() {
    return sliders.values().stream().anyMatch(Slider::isValueChanging);
  }

  /** What the original image shows now: the case's pixels, window and level. */
  private double[] originalPixels;
  private List<Double> originalWindowLevel;

  private void show(ExplorerSession.Result r, boolean complete) {
    last = r;
    int h = session.imageHeight();
    int w = session.imageWidth();
    if (r.image() != null) {
      // the original changes only with the case or the window/level: redrawn then, not on every answer
      double[] pixels = session.observedImage();
      List<Double> windowLevel = List.of(window.getValue(), level.getValue());
      if (!java.util.Arrays.equals(pixels, originalPixels) || !windowLevel.equals(originalWindowLevel)) {
        original.setImage(ImageRendering.grey(pixels, h, w, window.getValue(), level.getValue()));
        originalPixels = pixels;
        originalWindowLevel = windowLevel;
      }
      counterfactual.setImage(ImageRendering.grey(r.image(), h, w, window.getValue(), level.getValue()));
      paintDifference();
      spread.show(r, pixels, complete);
    }
    Map<String, Double> obs = session.observed();
    Map<String, Double> dos = session.interventions();
    updatingControls = true;
    try {
      for (Variable v : session.scalars()) {
        double before = obs.get(v.name());
        double after = r.values().get(v.name());
        // one label per variable, kept: new nodes on every answer would cost a style and layout pass each
        Label line = valueLines.computeIfAbsent(v.name(), name -> {
          Label l = new Label();
          l.setId("cf-" + name);
          valuesBox.getChildren().add(l);
          return l;
        });
        // short enough for two to a line at 1366 x 768, which leaves the image panels their height
        line.setText(String.format(Locale.ROOT, "%s: %s -> counterfactual %s%s", v.name(),
            display(v, before), display(v, after), dos.containsKey(v.name()) ? " (intervened)" : ""));
        ChoiceBox<String> choice = choices.get(v.name());
        if (choice != null) {
          choice.getSelectionModel().select((int) Math.round(dos.containsKey(v.name()) ? dos.get(v.name()) : after));
          switches.get(v.name()).setSelected(dos.containsKey(v.name()));
        }
        Slider s = sliders.get(v.name());
        if (s != null) {
          // intervened variables sit at their do() value; the others follow their counterfactual values
          s.setValue(dos.containsKey(v.name()) ? dos.get(v.name()) : after);
          switches.get(v.name()).setSelected(dos.containsKey(v.name()));
          // a unit that is a scale (0-255) is said once, in the heading: "i = 137.4", not "i = 137.4 0-255"
          boolean scale = v.unit().isEmpty() || v.unit().matches("[0-9.]+-[0-9.]+");
          valueLabels.get(v.name()).setText(v.name() + " = " + fmt(after) + (scale ? "" : " " + v.unit()));
          flags.get(v.name()).setText(session.model().isExtrapolation(v.name(), after) ? "extrapolation" : "");
        }
      }
    } finally {
      updatingControls = false;
    }
    warnExtrapolation(r);
    drawGraph(r);
    setBusy(!complete);
    status.setText(String.format(Locale.ROOT, "model %s   device %s   last answer %.0f ms (%d particles)%s",
        session.model().name(), org.deepscm.DeviceInfo.describe(), r.millis(), r.particles(),
        complete ? "" : "   refining..."));
    if (complete) {
      // the chart and the comparison panels at most every 100 ms while a slider moves, at once otherwise
      heavyRedraws.request(() -> {
        if (density != null) {
          Double doX = dos.get(density.xName());
          density.update(r.values().get(density.xName()), r.values().get(density.yName()),
              doX == null ? Double.NaN : doX - obs.get(density.xName()));
        }
        if (comparison != null) {
          comparison.recompute();
        }
      }, dragging());
      resultListeners.forEach(l -> l.accept(r));
    }
  }

  // ------------------------------------------------------------------ graph

  // the graph never changes within a session: ELK lays it out once (per slider event it would starve the UI)
  private GraphLayout.Placement placement;

  /** The graph's nodes as drawn for one set of cut edges and one pane size; texts and strokes change in place. */
  private record GraphDrawing(java.util.Set<String> cut, double width, double height, Group group,
      Map<String, Rectangle> boxes, Map<String, Text> labels) {}

  private GraphDrawing graphDrawing;

  /** The causal graph: do() marks on intervened nodes with their incoming edges cut, changes downstream. */
  void drawGraph(ExplorerSession.Result r) {
    CausalGraph graph = session.scm().graph();
    Map<String, Double> dos = session.interventions();
    Map<String, Double> obs = session.observed();
    // new nodes only when the surgery or the pane changes: rebuilt on every answer, they cost a style and
    // layout pass each while a slider is dragged
    GraphDrawing d = graphDrawing;
    if (d == null || !d.cut().equals(dos.keySet()) || d.width() != graphPane.getWidth()
        || d.height() != graphPane.getHeight()) {
      d = buildGraph(graph, java.util.Set.copyOf(dos.keySet()));
      graphDrawing = d;
    }
    for (Variable v : graph.variables()) {
      Rectangle box = d.boxes().get(v.name());
      Text label = d.labels().get(v.name());
      boolean image = !v.kind().isScalar();
      boolean intervened = dos.containsKey(v.name());
      String text = (intervened ? "do(" + v.name() + ")" : v.name());
      if (!image && obs.containsKey(v.name())) {
        double before = obs.get(v.name());
        Double after = r == null ? null : r.values().get(v.name());
        if (after != null && Math.abs(after - before) > 1e-6 * Math.max(1, Math.abs(before))) {
          text += " = " + display(v, after) + "\n(was " + display(v, before)
              + (v.kind().isDiscrete() ? "" : ", " + (after > before ? "+" : "") + fmt(after - before)) + ")";
          box.setStroke(intervened ? Color.rgb(200, 60, 60) : Color.DARKORANGE);
        } else {
          text += " = " + display(v, before);
          box.setStroke(intervened ? Color.rgb(200, 60, 60) : Color.web("#3a4a5a"));
        }
      } else if (image) {
        double change = 0;
        if (r != null && r.difference() != null) {
          for (double x : r.difference()) {
            change += Math.abs(x) / r.difference().length;
          }
        }
        text += " (image)" + (change > 0.05 ? String.format(Locale.ROOT, "\nmean |change| %.1f", change) : "");
        box.setStroke(change > 0.05 ? Color.DARKORANGE : Color.web("#3a4a5a"));
      }
      box.setStrokeWidth(intervened ? 3 : 1.5);
      if (!text.equals(label.getText())) {
        label.setText(text);
        double cx = box.getX() + NODE_W / 2;
        double cy = box.getY() + NODE_H / 2;
        label.setX(cx - label.getLayoutBounds().getWidth() / 2);
        label.setY(cy - label.getLayoutBounds().getHeight() / 2 + 12);
      }
    }
    fitGraph(d.group());
  }

  /** The layout of a model's graph as this view draws it, started off the UI thread (see GraphLayout). */
  static java.util.concurrent.CompletableFuture<GraphLayout.Placement> laidOut(CausalGraph graph) {
    return GraphLayout.layoutInBackground(graph, NODE_W, NODE_H);
  }

  /** Edges (cut ones dashed, with a cut mark), boxes and empty labels, scaled to fit the graph pane. */
  private GraphDrawing buildGraph(CausalGraph graph, java.util.Set<String> cutTargets) {
    if (placement == null) {
      placement = laidOut(graph).join();
    }
    Map<String, double[]> centre = new HashMap<>();
    placement.topLeft().forEach((v, p) -> centre.put(v, new double[] {20 + p[0] + NODE_W / 2, 20 + p[1] + NODE_H / 2}));
    Group g = new Group();
    for (String[] e : graph.edges()) {
      boolean cut = cutTargets.contains(e[1]);
      // ELK's route: down from the cause, around any node in between, into the effect
      List<double[]> route = placement.routes().get(e[0] + "->" + e[1]);
      Polyline line = new Polyline();
      for (double[] p : route) {
        line.getPoints().addAll(20 + p[0], 20 + p[1]);
      }
      line.setStrokeWidth(2);
      line.setId("edge-" + e[0] + "-" + e[1]);
      double[] from = route.get(route.size() - 2);
      double[] to = route.get(route.size() - 1);
      double endX = 20 + to[0];
      double endY = 20 + to[1];
      if (cut) {
        // graph surgery: do() removes the edge; drawn faint and dashed, with a cut mark on its last leg
        line.getStrokeDashArray().addAll(6.0, 6.0);
        line.setStroke(Color.rgb(200, 60, 60, 0.6));
        Text scissors = new Text(20 + (from[0] + to[0]) / 2 - 5, 20 + (from[1] + to[1]) / 2 + 4, "\u2702");
        scissors.setFill(Color.rgb(200, 60, 60));
        scissors.setId("cut-" + e[0] + "-" + e[1]);
        g.getChildren().add(scissors);
      }
      double ang = Math.atan2(to[1] - from[1], to[0] - from[0]);
      Polygon head = new Polygon(endX, endY,
          endX - 10 * Math.cos(ang - 0.4), endY - 10 * Math.sin(ang - 0.4),
          endX - 10 * Math.cos(ang + 0.4), endY - 10 * Math.sin(ang + 0.4));
      head.setFill(cut ? Color.rgb(200, 60, 60, 0.6) : Color.BLACK);
      g.getChildren().addAll(line, head);
    }
    Map<String, Rectangle> boxes = new HashMap<>();
    Map<String, Text> labels = new HashMap<>();
    for (Variable v : graph.variables()) {
      double[] c = centre.get(v.name());
      Rectangle box = new Rectangle(c[0] - NODE_W / 2, c[1] - NODE_H / 2, NODE_W, NODE_H);
      box.setId("node-box-" + v.name());
      boolean image = !v.kind().isScalar();
      box.setArcWidth(v.kind().isDiscrete() || image ? 0 : 24);
      box.setArcHeight(v.kind().isDiscrete() || image ? 0 : 24);
      box.setFill(image ? Color.web("#e3e3e3") : v.kind().isDiscrete() ? Color.web("#fde2c8") : Color.web("#d6e8fa"));
      Text label = new Text();
      label.setId("node-" + v.name());
      label.setFont(Font.font(13));
      box.setOnMouseClicked(e -> focus(v.name()));
      label.setOnMouseClicked(e -> focus(v.name()));
      g.getChildren().addAll(box, label);
      boxes.put(v.name(), box);
      labels.put(v.name(), label);
    }
    g.getTransforms().add(new javafx.scene.transform.Scale(1, 1, 0, 0));
    graphPane.getChildren().setAll(g);
    return new GraphDrawing(cutTargets, graphPane.getWidth(), graphPane.getHeight(), g, boxes, labels);
  }

  /**
   * Scales the drawing to fit its pane, labels included: never larger than drawn, or than the text size
   * in presentation mode (so that a projector's audience can read the graph).
   */
  private void fitGraph(Group g) {
    javafx.geometry.Bounds b = g.getLayoutBounds();
    double roomW = graphPane.getWidth() - graphPane.getInsets().getLeft() - graphPane.getInsets().getRight();
    double roomH = graphPane.getHeight() - graphPane.getInsets().getTop() - graphPane.getInsets().getBottom();
    double scale = roomW <= 0 || roomH <= 0 ? 1
        : Math.min(textScale(), Math.min(roomW / b.getMaxX(), roomH / b.getMaxY()));
    javafx.scene.transform.Scale s = (javafx.scene.transform.Scale) g.getTransforms().get(0);
    s.setX(scale);
    s.setY(scale);
  }

  /** Clicking a node selects its control. */
  private void focus(String variable) {
    Slider s = sliders.get(variable);
    if (s != null) {
      s.requestFocus();
    }
  }

  /** Runs on the FX thread in the app. */
  static void fx(Runnable r) {
    if (Platform.isFxApplicationThread()) {
      r.run();
    } else {
      Platform.runLater(r);
    }
  }
}
