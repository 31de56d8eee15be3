package org.deepscm.app;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javafx.application.Application;
import javafx.application.Platform;
import javafx.embed.swing.SwingFXUtils;
import javafx.scene.Scene;
import javafx.scene.control.Alert;
import javafx.scene.control.ButtonType;
import javafx.scene.control.CheckMenuItem;
import javafx.scene.control.Dialog;
import javafx.scene.control.Label;
import javafx.scene.control.Menu;
import javafx.scene.control.MenuBar;
import javafx.scene.control.MenuItem;
import java.util.List;
import java.util.ArrayList;
import javafx.scene.control.ToggleGroup;
import javafx.scene.control.SeparatorMenuItem;
import javafx.scene.control.RadioMenuItem;
import javafx.scene.control.TextField;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.VBox;
import javafx.stage.DirectoryChooser;
import javafx.stage.FileChooser;
import javafx.stage.Stage;
import javax.imageio.ImageIO;
import org.deepscm.AppPaths;
import org.deepscm.Launcher;
import org.deepscm.data.Csv;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.SequentialColours;
import org.deepscm.data.brain.BrainCases;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.NiftiVolume;
import org.deepscm.data.brain.BrainTemplate;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.image.ImageMechanism;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.Variable;

/**
 * The explorer window: menus (models, images, cases, export), the {@link ExplorerView} of the
 * current model and case, and a strip of test cases to pick from. Opens on the shipped
 * Morpho-MNIST image model when there is one, else on the covariate model.
 */
public final class ExplorerApp extends Application {
  static final Path BRAIN_MODEL = Path.of("models", "brain-deformation");
  static final Path IMAGE_MODEL = Path.of("models", "morphomnist-full-finetuned");
  static final Path COVARIATE_MODEL = Path.of("models", "morphomnist-covariates");
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();
  private static volatile Path initialModel;
  private static volatile boolean quitAfterFirstAnswer;
  // explore --storm: seconds of a slider storm after the first answer (0: none), then its figures and close
  private static volatile int stormSeconds;
  private static volatile int stormRate = 1000;
  // seconds from the first answer to the storm: a window that has finished starting (the density chart's
  // first drawing, the case strip) is what a user drags; 0 measures the drag and the end of the start together
  private static volatile double stormAfter;
  // --self-test: where the screenshot goes (null: not a self-test), and how the test ended (0: passed)
  private static volatile Path selfTestShot;
  private static volatile int selfTestExit = 1;
  private static volatile String selfTestFailure = "the window closed before the first counterfactual";
  /** A self-test that has no counterfactual on screen by then fails (a freeze, a missing library...). */
  static final int SELF_TEST_SECONDS = 180;

  private final BorderPane frame = new BorderPane();
  private final CheckMenuItem presentation = new CheckMenuItem("Presentation mode (larger text)");
  private final LatestOnlyExecutor executor;
  private final java.util.function.Consumer<Runnable> ui;
  private final Path startModel;
  private Stage stage;
  private SavedModel model;
  private volatile ExplorerView view;
  // made with the first image model, kept across models
  private CaseStrip caseStrip;
  private boolean caseStripIsBrain;
  private LatestOnlyExecutor caseRenderer;
  private final TypicalityBanner typicality;

  public ExplorerApp() {
    this(LatestOnlyExecutor.background(), ExplorerView::fx, null);
  }

  /**
   * For tests: a same-thread executor makes every answer appear before the call returns.
   *
   * @param model the model to open (null: the default)
   */
  ExplorerApp(LatestOnlyExecutor executor, java.util.function.Consumer<Runnable> ui, Path model) {
    this.executor = executor;
    this.ui = ui;
    this.startModel = model;
    // its own worker: an assessment must not replace a pending counterfactual
    this.typicality = new TypicalityBanner(executor.sibling(), ui, this::show);
  }

  /** Opens the window (blocks until it is closed); null opens the default model. */
  public static void open(Path modelFolder) {
    open(modelFolder, false);
  }

  /** As {@link #open(Path)}; with {@code quitAfterFirst} it closes once the first answer is on screen (bench). */
  public static void open(Path modelFolder, boolean quitAfterFirst) {
    Launcher.configure();
    initialModel = modelFolder;
    quitAfterFirstAnswer = quitAfterFirst;
    // libtorch loads (a second or so) while JavaFX starts, instead of after it on the UI thread
    Thread engine = new Thread(() -> {
      try {
        ai.djl.engine.Engine.getInstance();
      } catch (RuntimeException | Error e) {
        // the UI thread meets the same failure when it opens the model, and says so there
      }
    }, "engine-start");
    engine.setDaemon(true);
    engine.start();
    Application.launch(ExplorerApp.class);
  }

  /**
   * Opens the window on {@code modelFolder}, and {@code afterSeconds} after the first counterfactual is on
   * screen drags the model's sweep variable (age; a digit's thickness) at {@code eventsPerSecond} for {@code seconds},
   * prints the frame gaps ({@link SliderStorm}) and closes: how smooth a drag is on this machine.
   */
  public static void storm(Path modelFolder, int seconds, int eventsPerSecond, double afterSeconds) {
    stormSeconds = seconds;
    stormRate = eventsPerSecond;
    stormAfter = afterSeconds;
    open(modelFolder, false);
  }

  /** Runs the storm off the UI thread, prints its figures, closes the window. */
  private void runStorm() {
    ExplorerView v = view;
    Sweep.Spec spec = Sweep.Spec.of(v.session());
    String name = spec != null ? spec.variable() : v.session().scalars().stream().map(Variable::name)
        .filter(n -> v.slider(n) != null).findFirst().orElse(null);
    Thread storm = new Thread(() -> {
      try {
        if (name == null) {
          System.out.println("storm: this model has no slider to drag");
        } else {
          int jobsBefore = executor.jobsRun();
          SliderStorm.Stats stats = SliderStorm.run(v.slider(name), stormRate, stormSeconds,
              () -> executor.waiting() == 0 && !executor.busy());
          // how often the image followed the slider: one model job per answer shown (its preview at least)
          int answers = executor.jobsRun() - jobsBefore;
          System.out.println(stats.describe() + "; " + answers + " model answers ("
              + Math.round(answers / (double) stormSeconds) + " a second) (slider " + name + ", model "
              + model.name() + ", began " + stormAfter + " s after the first answer)");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        Platform.runLater(Platform::exit);
      }
    }, "slider-storm");
    storm.setDaemon(true);
    storm.start();
  }

  /**
   * The self-test of an installed app: opens the window on {@code modelFolder} (null: the default),
   * computes one counterfactual, writes a screenshot of the window to {@code shot}, prints the device
   * and the time to the first counterfactual, and closes.
   *
   * @return 0 when all of it worked; else 1, with the reason printed
   */
  public static int selfTest(Path modelFolder, Path shot) {
    selfTestShot = shot.toAbsolutePath();
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(SELF_TEST_SECONDS * 1000L);
        selfTestFailure = "no counterfactual on screen within " + SELF_TEST_SECONDS + " s";
        Platform.exit();
      } catch (InterruptedException e) {
        // the test ended in time
      }
    }, "self-test-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    open(modelFolder, false);
    watchdog.interrupt();
    if (selfTestExit != 0) {
      System.err.println("self-test FAILED: " + selfTestFailure);
    }
    return selfTestExit;
  }

  /** Ends a self-test as failed, with the reason (instead of a dialog nobody will click). */
  private static void failSelfTest(String reason) {
    selfTestFailure = reason;
    selfTestExit = 1;
    Platform.exit();
  }

  /** Seconds since the JVM started: start-up as a user feels it. */
  private static double secondsSinceStart() {
    return (System.currentTimeMillis() - java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime())
        / 1000.0;
  }

  /** Checks every 50 ms for the density chart's first drawing, then passes; fails after 30 s without one. */
  private void waitForChart(double seconds, long since) {
    DensityPanel chart = view.densityPanel();
    if (chart == null || chart.drawingsDone() > 0) {
      if (chart != null) {
        System.err.printf(Locale.ROOT, "density chart on screen %.1f s after start%n", secondsSinceStart());
      }
      // after this pulse, so that what was just shown is drawn in the screenshot
      Platform.runLater(() -> passSelfTest(seconds));
      return;
    }
    if (System.nanoTime() - since > 30_000_000_000L) {
      failSelfTest("the density chart was not drawn within 30 s of the first counterfactual"
          + (chart.problem() == null ? "" : ": " + chart.problem()));
      return;
    }
    javafx.animation.PauseTransition wait = new javafx.animation.PauseTransition(javafx.util.Duration.millis(50));
    wait.setOnFinished(e -> waitForChart(seconds, since));
    wait.play();
  }

  /** The self-test's end: the screenshot written, the device and the time said. */
  private void passSelfTest(double seconds) {
    try {
      Path parent = selfTestShot.getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      writeScreenshot(selfTestShot);
      System.out.printf(Locale.ROOT, "self-test passed: model %s, device %s, first counterfactual on screen %.1f s "
          + "after start; class-data sharing %s; screenshot %s%n", model.name(), org.deepscm.DeviceInfo.describe(),
          seconds, org.deepscm.DeviceInfo.classSharing(), selfTestShot);
      selfTestExit = 0;
      Platform.exit();
    } catch (IOException | RuntimeException e) {
      failSelfTest("cannot write the screenshot " + selfTestShot + ": " + e.getMessage());
    }
  }

  /** The brain model once it is shipped (the case study clinicians come for), else Morpho-MNIST's. */
  static Path defaultModel() {
    Path brain = AppPaths.resolve(BRAIN_MODEL);
    if (Files.isRegularFile(brain.resolve(ModelFolder.MODEL_FILE))) {
      return brain;
    }
    Path image = AppPaths.resolve(IMAGE_MODEL);
    return Files.isDirectory(image) ? image : COVARIATE_MODEL;
  }

  @Override
  public void start(Stage stage) {
    this.stage = stage;
    // the first case is drawn on this thread: inference, no autograd graph
    org.deepscm.flow.ParameterSet.stopRecordingGradients();
    frame.setTop(menus());
    stage.setTitle("DeepSCM Explorer");
    // no larger than the screen (laptops, projectors)
    var screen = javafx.stage.Screen.getPrimary().getVisualBounds();
    // the scene before the model: a model that cannot be opened is reported in a dialog owned by this window
    stage.setScene(new Scene(frame, Math.min(1400, screen.getWidth()), Math.min(820, screen.getHeight())));
    load(startModel != null ? startModel : initialModel != null ? initialModel : defaultModel());
    stage.show();
  }

  /** View > Presentation mode: larger text for a projector. */
  void setPresentationMode(boolean on) {
    presentation.setSelected(on);
    frame.setStyle(on ? "-fx-font-size: 20px;" : "");
    if (view != null) {
      // larger text needs wider controls: the panes are divided again
      view.fitPanes();
    }
  }

  public ExplorerView view() {
    return view;
  }

  private MenuBar menus() {
    MenuItem openModel = new MenuItem("Open model…");
    openModel.setOnAction(e -> chooseModel());
    MenuItem openImage = new MenuItem("Open image…");
    openImage.setOnAction(e -> chooseImage());
    MenuItem openCase = new MenuItem("Open case…");
    openCase.setOnAction(e -> choose("Open a saved case", "*.json", false).ifPresent(this::openCase));
    MenuItem saveCase = new MenuItem("Save case…");
    saveCase.setOnAction(e -> choose("Save this case", "*.json", true).ifPresent(this::saveCase));
    MenuItem exportPng = new MenuItem("Export figure as PNG…");
    exportPng.setOnAction(e -> choose("Export the figure", "*.png", true).ifPresent(this::exportPng));
    MenuItem exportCsv = new MenuItem("Export values as CSV…");
    exportCsv.setOnAction(e -> choose("Export the values", "*.csv", true).ifPresent(this::exportCsv));
    MenuItem exportSweep = new MenuItem("Export sweep…");
    exportSweep.setId("menu-export-sweep");
    exportSweep.setOnAction(e -> choose("Export the " + Sweep.Spec.of(view.session()).title() + " (a PNG strip or "
        + "an animated GIF; values beside it as CSV)", "*.png;*.gif", true).ifPresent(this::exportSweep));
    Menu file = new Menu("File", null, openModel, openImage, openCase, saveCase, exportPng, exportCsv, exportSweep);
    // a brain model sweeps age, a digit model thickness; named for the model on screen
    file.setOnShowing(e -> {
      Sweep.Spec spec = view == null ? null : Sweep.Spec.of(view.session());
      exportSweep.setDisable(spec == null);
      exportSweep.setText(spec == null ? "Export sweep…" : "Export " + spec.title() + "…");
    });
    presentation.setOnAction(e -> setPresentationMode(presentation.isSelected()));
    MenuItem lesson = new MenuItem("Lesson: the ladder of causation, step by step");
    lesson.setId("menu-lesson");
    lesson.setOnAction(e -> view.startLesson());
    CheckMenuItem safeColours = new CheckMenuItem("Colour-blind safe difference colours (orange / purple)");
    safeColours.setId("menu-safe-colours");
    safeColours.setOnAction(e -> {
      differenceColours = safeColours.isSelected() ? ImageFiles.Diverging.ORANGE_PURPLE
          : ImageFiles.Diverging.RED_BLUE;
      if (view != null) {
        view.setDifferenceColours(differenceColours);
      }
    });
    CheckMenuItem safeSpread = new CheckMenuItem("Colour-blind safe uncertainty colours (viridis)");
    safeSpread.setId("menu-safe-spread-colours");
    safeSpread.setOnAction(e -> {
      spreadColours = safeSpread.isSelected() ? SequentialColours.VIRIDIS : SequentialColours.HEAT;
      if (view != null) {
        view.setSpreadColours(spreadColours);
      }
    });
    Menu viewMenu = new Menu("View", null, presentation, safeColours, safeSpread, lesson);
    return new MenuBar(file, modelMenu(), viewMenu);
  }

  /** Model folders in {@code dir} (those with a model.json), by name; none when it is missing or unreadable. */
  static List<Path> modelFolders(Path dir) {
    List<Path> folders = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (var list = Files.list(dir)) {
        list.filter(f -> Files.isRegularFile(f.resolve(ModelFolder.MODEL_FILE))).sorted().forEach(folders::add);
      } catch (java.io.IOException e) {
        // an unreadable folder lists nothing; "Open model…" still works
      }
    }
    return folders;
  }

  /**
   * The shipped model folders (models/*) and then the user's own (~/DeepSCM/models/*), one click each,
   * the one on screen ticked.
   */
  private Menu modelMenu() {
    Menu menu = new Menu("Model");
    menu.setId("menu-model");
    ToggleGroup group = new ToggleGroup();
    Path shipped = AppPaths.resolve(Path.of("models"));
    Path mine = AppPaths.userModels();
    List<List<Path>> sections = List.of(modelFolders(shipped),
        mine.toAbsolutePath().equals(shipped.toAbsolutePath()) ? List.of() : modelFolders(mine));
    for (List<Path> section : sections) {
      for (Path f : section) {
        RadioMenuItem item = new RadioMenuItem(f.getFileName().toString());
        item.setMnemonicParsing(false);
        item.setToggleGroup(group);
        item.setOnAction(e -> load(f));
        menu.getItems().add(item);
      }
      if (!section.isEmpty()) {
        menu.getItems().add(new SeparatorMenuItem());
      }
    }
    MenuItem other = new MenuItem("Open model…");
    other.setOnAction(e -> chooseModel());
    menu.getItems().add(other);
    // tick the model on screen whenever the menu opens
    menu.setOnShowing(e -> menu.getItems().forEach(i -> {
      if (i instanceof RadioMenuItem r) {
        r.setSelected(model != null && model.name().equals(r.getText()));
      }
    }));
    return menu;
  }

  private Optional<Path> choose(String title, String pattern, boolean save) {
    FileChooser chooser = new FileChooser();
    chooser.setTitle(title);
    chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter(pattern, pattern.split(";")));
    // cases and exports live in the user's folder (~/DeepSCM), made on the first save
    Path home = AppPaths.userHome();
    try {
      if (save) {
        Files.createDirectories(home);
      }
    } catch (IOException | RuntimeException e) {
      // no folder of our own: the dialog opens wherever the platform chooses
    }
    if (Files.isDirectory(home)) {
      chooser.setInitialDirectory(home.toFile());
    }
    File f = save ? chooser.showSaveDialog(stage) : chooser.showOpenDialog(stage);
    return Optional.ofNullable(f).map(File::toPath);
  }

  private void chooseModel() {
    DirectoryChooser chooser = new DirectoryChooser();
    chooser.setTitle("Choose a model folder");
    Path models = AppPaths.resolve(Path.of("models"));
    if (Files.isDirectory(models)) {
      chooser.setInitialDirectory(models.toFile());
    }
    File dir = chooser.showDialog(stage);
    if (dir != null) {
      load(dir.toPath());
    }
  }

  /** An error the user can act on; the current model and case stay as they are. */
  void error(String header, String message) {
    if (selfTestShot != null) {
      failSelfTest(header + ": " + message);
      return;
    }
    Alert alert = new Alert(Alert.AlertType.ERROR, message);
    alert.setHeaderText(header);
    alert.initOwner(stage);
    if (stage.isShowing()) {
      alert.show();
    } else {
      // the model named at start cannot be opened: the window first, then the reason in front of it
      Platform.runLater(alert::show);
    }
  }

  /** Loads a model folder; a bad one gives a dialog that names the problem and keeps the current model. */
  void load(Path folder) {
    SavedModel loaded;
    try {
      loaded = ModelFolder.load(AppPaths.resolve(folder));
    } catch (RuntimeException e) {
      error("Cannot open model " + folder, e.getMessage());
      if (model == null) {
        frame.setCenter(new Label("No model loaded: " + e.getMessage()));
      }
      return;
    }
    // its graph is laid out while the first case is drawn and the view built
    ExplorerView.laidOut(loaded.scm().graph());
    ExplorerSession session = new ExplorerSession(loaded);
    try {
      defaultCase(session);
    } catch (RuntimeException e) {
      loaded.close();
      error("Cannot open model " + folder, "no case to show: " + e.getMessage());
      return;
    }
    if (model != null) {
      model.close();
    }
    if (view != null) {
      // frees the old case's cached particles once the worker is done with them, off the UI thread
      Thread release = new Thread(view.session()::release, "release-cache");
      release.setDaemon(true);
      release.start();
    }
    model = loaded;
    // a model opens on a change worth seeing (the Reset button goes back to the case as observed); a case
    // picked later starts as observed, as before
    session.setInterventions(session.openingIntervention());
    show(session);
  }

  private boolean firstAnswerReported;

  /** The difference map's colours, kept when another model or case is opened. */
  private ImageFiles.Diverging differenceColours = ImageFiles.Diverging.RED_BLUE;
  /** The uncertainty view's colours, kept likewise. */
  private SequentialColours spreadColours = SequentialColours.HEAT;

  private void show(ExplorerSession session) {
    view = new ExplorerView(session, executor, ui);
    view.setDifferenceColours(differenceColours);
    view.setSpreadColours(spreadColours);
    view.onResult(r -> {
      if (!firstAnswerReported) {
        firstAnswerReported = true;
        // start-up time as a user feels it: JVM start to the first full counterfactual on screen
        double since = secondsSinceStart();
        System.err.printf(Locale.ROOT, "first counterfactual on screen %.1f s after start%n", since);
        if (selfTestShot != null) {
          // once the density chart (drawn on its own thread) is there too, so that the screenshot shows the
          // whole window and a chart that cannot be drawn fails the check
          waitForChart(since, System.nanoTime());
        } else if (quitAfterFirstAnswer) {
          // after this pulse, so that the answer has really been drawn
          Platform.runLater(Platform::exit);
        } else if (stormSeconds > 0) {
          javafx.animation.PauseTransition settle =
              new javafx.animation.PauseTransition(javafx.util.Duration.seconds(stormAfter));
          settle.setOnFinished(e -> runStorm());
          settle.play();
        }
      }
      showCases();
    });
    if (view.lastResult() != null) {
      // answered while the view was built (an executor that runs on the calling thread)
      showCases();
    }
    // every new case comes through here (never a slider move): the banner assesses it once
    typicality.assess(session);
    VBox centre = new VBox(typicality.root(), view.root());
    // the view takes the height the banner and the case strip leave, so the strip stays on screen
    VBox.setVgrow(view.root(), javafx.scene.layout.Priority.ALWAYS);
    view.root().setMinHeight(0);
    if (session.imageVariable() != null && caseStrip != null) {
      centre.getChildren().add(caseStrip.root());
    }
    frame.setCenter(centre);
  }

  /** True while the user drags a slider or the model is answering: the case strip's rendering waits. */
  private boolean interacting() {
    ExplorerView v = view;
    return v != null && (v.dragging() || executor.busy() || executor.waiting() > 0);
  }

  /** The test cases' thumbnails, once an answer is on screen (they would delay the first one). */
  private void showCases() {
    if (caseStrip != null) {
      caseStrip.showFirstPage();
    }
  }

  /**
   * The first test case of image models (Morpho-MNIST digits, or brain subjects for a brain model);
   * for covariate models, a Morpho-MNIST test draw or one unit drawn from the model.
   */
  private void defaultCase(ExplorerSession session) {
    if (session.imageVariable() != null) {
      boolean brain = session.isBrain();
      if (caseStrip == null || caseStripIsBrain != brain) {
        CaseSource source;
        try {
          source = brain ? CaseSource.brain(new BrainSliceRenderer(BrainTemplate.shipped()))
              : CaseSource.morphoMnist(MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist"))));
        } catch (IOException e) {
          throw new IllegalStateException((brain ? "the brain template" : "the Morpho-MNIST digits")
              + " cannot be read: " + e.getMessage(), e);
        }
        if (caseRenderer == null) {
          caseRenderer = executor.sibling();
        }
        caseStrip = new CaseStrip(source, caseRenderer, ui, picked -> {
          pickCase(view.session(), picked);
          show(view.session());
        }, this::interacting);
        caseStripIsBrain = brain;
      }
      // one case rendered here; the strip's page follows off this thread (a start no slower than before)
      pickCase(session, caseStrip.firstCase());
      return;
    }
    Map<String, Double> values = new LinkedHashMap<>();
    if (session.scm().graph().contains("t") && session.scm().graph().contains("i")
        && session.scalars().size() == 2) {
      var test = MorphoMnistTrueScm.draw(1, MorphoMnistTrueScm.TEST_SEED);
      values.put("t", test.get("t", 0));
      values.put("i", test.get("i", 0));
    } else {
      try (var nd = ai.djl.ndarray.NDManager.newBaseManager()) {
        ai.djl.engine.Engine.getInstance().setRandomSeed(1);
        session.scm().scalarPart().sample(nd, 1).forEach((k, v) ->
            values.put(k, (double) v.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).getFloat(0)));
      }
    }
    session.setCase(values, null);
  }

  private void pickCase(ExplorerSession session, CaseSource.Case picked) {
    session.setCase(new LinkedHashMap<>(picked.values()), picked.image());
  }

  /** The strip of test cases (null until an image model is open). */
  CaseStrip caseStrip() {
    return caseStrip;
  }

  // ------------------------------------------------------------------ your own image

  private void chooseImage() {
    if (view.session().isBrain()) {
      choose("Open a slice (PNG, 64 x 64) or a NIfTI volume", "*.png;*.nii;*.nii.gz", false).ifPresent(this::openImage);
    } else {
      choose("Open an image (PNG)", "*.png", false).ifPresent(this::openImage);
    }
  }

  /** The axial slice (world z, mm) taken from NIfTI volumes; 18 mm in MNI space shows the lateral ventricles. */
  private double niftiSliceMm = 18;

  /** Opens a user's image; its covariates are measured where possible and can be typed in. */
  void openImage(Path file) {
    openImage(file, guess -> askCovariates(view.session(), guess));
  }

  /**
   * Opens a user's image with the covariates {@code confirm} gives for the measured ones (the dialog in
   * the app; tests take the measurements as they are); an empty answer cancels.
   */
  void openImage(Path file, java.util.function.Function<Map<String, Double>, Optional<Map<String, Double>>> confirm) {
    ExplorerSession session = view.session();
    if (session.imageVariable() == null) {
      error("This model has no image", "Open an image model first (File > Open model…).");
      return;
    }
    String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean nifti = lower.endsWith(".nii") || lower.endsWith(".nii.gz");
    double[] pixels;
    Map<String, Double> guess = new LinkedHashMap<>();
    if (nifti) {
      if (!session.isBrain()) {
        error("Cannot open " + file.getFileName(), "A NIfTI volume needs a brain model; this model's images are "
            + session.imageHeight() + "x" + session.imageWidth() + " PNGs.");
        return;
      }
      try {
        NiftiVolume volume = NiftiVolume.read(file);
        BrainCases.NiftiSlice slice = BrainCases.axialImage(volume, niftiSliceMm);
        pixels = slice.pixels();
      } catch (IOException | RuntimeException e) {
        error("Cannot open volume " + file.getFileName(), e.getMessage());
        return;
      }
    } else {
      ImageFiles.Grey grey;
      try {
        grey = ImageFiles.read(file, session.imageHeight(), session.imageWidth());
      } catch (IOException e) {
        error("Cannot open image " + file.getFileName(), e.getMessage());
        return;
      }
      pixels = grey.pixels();
    }
    if (session.canBringIntoModelsWorld()) {
      // a Morpho-MNIST digit: thickness and intensity are measured on it
      try {
        guess.put("t", Morphology.measureThickness(pixels));
        guess.put("i", Morphology.measureIntensity(pixels));
      } catch (IllegalArgumentException e) {
        error("Cannot use image " + file.getFileName(), e.getMessage());
        return;
      }
    }
    Optional<Map<String, Double>> typed = confirm.apply(guess);
    if (typed.isEmpty()) {
      return;
    }
    try {
      session.setCase(typed.get(), pixels);
    } catch (RuntimeException e) {
      error("Cannot use these values", e.getMessage());
      return;
    }
    show(session);
  }

  private Optional<Map<String, Double>> askCovariates(ExplorerSession session, Map<String, Double> guess) {
    Dialog<ButtonType> d = new Dialog<>();
    d.setTitle("The image's covariates");
    d.setHeaderText(guess.isEmpty() ? "Give the subject's values (they cannot be measured on the image)."
        : "Measured on the image; correct them if you know better.");
    GridPane grid = new GridPane();
    grid.setHgap(8);
    grid.setVgap(6);
    Map<String, TextField> fields = new LinkedHashMap<>();
    int row = 0;
    for (Variable v : session.scalars()) {
      TextField f = new TextField(guess.containsKey(v.name()) ? String.format(Locale.ROOT, "%.3f", guess.get(v.name())) : "");
      fields.put(v.name(), f);
      grid.add(new Label(v.name() + (v.unit().isEmpty() ? "" : " [" + v.unit() + "]")), 0, row);
      grid.add(f, 1, row++);
    }
    d.getDialogPane().setContent(grid);
    d.getDialogPane().getButtonTypes().addAll(ButtonType.OK, ButtonType.CANCEL);
    if (d.showAndWait().orElse(ButtonType.CANCEL) != ButtonType.OK) {
      return Optional.empty();
    }
    Map<String, Double> values = new LinkedHashMap<>();
    for (Map.Entry<String, TextField> e : fields.entrySet()) {
      try {
        values.put(e.getKey(), session.scm().graph().variable(e.getKey()).parse(e.getValue().getText()));
      } catch (RuntimeException ex) {
        error("Cannot read the value of " + e.getKey(), ex.getMessage());
        return Optional.empty();
      }
    }
    return Optional.of(values);
  }

  // ------------------------------------------------------------------ cases and export

  /**
   * Saves the model, the observed case and the interventions, to come back to an exploration; a digit
   * brought into the model's world keeps the user's own case too ("own_case").
   */
  void saveCase(Path file) {
    ExplorerSession s = view.session();
    JsonObject o = new JsonObject();
    o.addProperty("format", "deepscm-case");
    o.addProperty("version", 1);
    o.addProperty("model", s.model().folder() == null ? "" : s.model().folder().toAbsolutePath().toString());
    putCase(o, new ExplorerSession.Case(s.observed(), s.observedImage()));
    o.add("interventions", GSON.toJsonTree(s.interventions()));
    ExplorerSession.Case own = s.ownCase();
    if (own != null) {
      JsonObject ownJson = new JsonObject();
      putCase(ownJson, own);
      o.add("own_case", ownJson);
    }
    try {
      Files.writeString(file, GSON.toJson(o) + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      error("Cannot save the case", e.getMessage());
    }
  }

  /** Reopens a saved case (and its model if another one is open). */
  void openCase(Path file) {
    CaseFile.Saved saved;
    try {
      saved = CaseFile.read(file);
    } catch (IOException e) {
      error("Cannot open case " + file.getFileName(), e.getMessage());
      return;
    }
    String folder = saved.model();
    if (!folder.isEmpty() && (model.folder() == null
        || !Path.of(folder).toAbsolutePath().equals(model.folder().toAbsolutePath()))) {
      load(Path.of(folder));
    }
    ExplorerSession s = view.session();
    try {
      s.setCase(saved.inUse().values(), saved.inUse().image(), saved.own());
      saved.interventions().forEach(s::intervene);
    } catch (RuntimeException e) {
      error("Cannot open case " + file.getFileName(), "its values do not fit the model " + model.name() + ": "
          + e.getMessage());
      return;
    }
    show(s);
  }

  /** Writes a case's "observed" values and its "image" (when it has one) into {@code o}. */
  private static void putCase(JsonObject o, ExplorerSession.Case c) {
    o.add("observed", GSON.toJsonTree(c.values()));
    if (c.image() != null) {
      o.add("image", GSON.toJsonTree(c.image()));
    }
  }

  /** The window's contents as a PNG. */
  private void writeScreenshot(Path file) throws IOException {
    ImageIO.write(SwingFXUtils.fromFXImage(frame.snapshot(null, null), null), "png", file.toFile());
  }

  void exportPng(Path file) {
    try {
      writeScreenshot(file);
    } catch (IOException | RuntimeException e) {
      error("Cannot export the figure", e.getMessage());
    }
  }

  /**
   * The case's counterfactual at ages 45..75 (its other interventions kept), computed off the UI thread
   * on a session of its own, written as a PNG strip (or, for a .gif name, an animation) and a CSV beside it.
   */
  void exportSweep(Path file) {
    ExplorerSession s = view.session();
    Sweep.Spec spec = Sweep.Spec.of(s);
    if (spec == null) {
      error("No sweep for this model", "A sweep needs a brain model (age) or a Morpho-MNIST image model "
          + "(thickness t and intensity i).");
      return;
    }
    Map<String, Double> observed = s.observed();
    double[] image = s.observedImage();
    Map<String, Double> dos = s.interventions();
    dos.remove(spec.variable());
    SavedModel m = model;
    LatestOnlyExecutor worker = executor.sibling();
    worker.submit(superseded -> {
      try {
        Sweep.Result r = Sweep.compute(spec, m, observed, image, dos, ImageMechanism.DEFAULT_PARTICLES);
        Path csv = Sweep.write(r, m, file);
        ui.accept(() -> view.setStatus("wrote the " + spec.title() + " to " + file + " and " + csv.getFileName()));
      } catch (IOException | RuntimeException e) {
        ui.accept(() -> error("Cannot export the " + spec.title(), e.getMessage()));
      } finally {
        ui.accept(worker::close);
      }
    });
  }

  /** A value for an export: a category by its name, a number in full. */
  private static String shown(Variable v, double value) {
    return v.kind().isDiscrete() ? ExplorerView.display(v, value) : String.valueOf(value);
  }

  void exportCsv(Path file) {
    ExplorerSession s = view.session();
    ExplorerSession.Result r = view.lastResult();
    StringBuilder b = new StringBuilder(Csv.record(List.of("variable", "observed", "counterfactual", "intervened")))
        .append('\n');
    for (Variable v : s.scalars()) {
      b.append(Csv.record(List.of(v.name(), shown(v, s.observed().get(v.name())),
          r == null ? "" : shown(v, r.values().get(v.name())),
          String.valueOf(s.interventions().containsKey(v.name()))))).append('\n');
    }
    try {
      Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      error("Cannot export the values", e.getMessage());
    }
  }

  @Override
  public void stop() {
    executor.close();
    typicality.close();
    if (caseRenderer != null) {
      caseRenderer.close();
    }
    if (model != null) {
      model.close();
    }
  }
}
