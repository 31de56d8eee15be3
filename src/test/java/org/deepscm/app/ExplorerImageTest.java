package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.DialogPane;
import javafx.scene.image.Image;
import javafx.scene.image.ImageView;
import javafx.scene.input.KeyCode;
import javafx.scene.layout.FlowPane;
import javafx.stage.Stage;
import org.deepscm.AppPaths;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.train.MorphoMnistModels;
import org.deepscm.train.ScmBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** The explorer on an image model (small, untrained: the pixels must follow the sliders all the same). */
@ExtendWith(ApplicationExtension.class)
class ExplorerImageTest {
  private static Path modelDir;
  private ExplorerApp app;

  @Start
  void start(Stage stage) throws Exception {
    if (modelDir == null) {
      modelDir = Files.createTempDirectory("explorer-image-model");
      ScmBuilder b = MorphoMnistModels.builder("full", true).imageArchitecture(ImageArchitecture.tiny(28, 28));
      var table = MorphoMnistTrueScm.draw(500, 3);
      try (SavedModel m = new SavedModel("tiny-image", b.build(table, 1), b.trainingRanges(table), new JsonObject(),
          null)) {
        ModelFolder.save(m, modelDir);
      }
    }
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, modelDir);
    app.start(stage);
  }

  @AfterAll
  static void clean() throws Exception {
    FxPixels.deleteTree(modelDir);
  }

  private static int[] pixels(Image img) {
    return FxPixels.of(img);
  }

  @Test
  void movingASliderChangesTheCounterfactualImage(FxRobot robot) {
    ImageView cf = robot.lookup("#image-counterfactual").queryAs(ImageView.class);
    int[] before = pixels(cf.getImage());
    robot.drag("#slider-t .thumb").moveBy(80, 0).drop();
    WaitForAsyncUtils.waitForFxEvents();
    int[] after = pixels(cf.getImage());
    int changed = 0;
    for (int k = 0; k < before.length; k++) {
      changed += before[k] != after[k] ? 1 : 0;
    }
    assertTrue(changed > 10, "pixels changed: " + changed);
    assertEquals(32, app.view().lastResult().particles(), "the full 32-particle answer ends on screen");
  }

  @Test
  void theObservedValueGivesAnAllZeroDifference(FxRobot robot) {
    double t = app.view().session().observed().get("t");
    robot.interact(() -> {
      app.view().slider("t").setValue(t + 1);
      app.view().slider("t").setValue(t);
    });
    for (double d : app.view().lastResult().difference()) {
      assertEquals(0, d, 1e-3);
    }
    int white = 0xffffffff;
    for (int p : pixels(robot.lookup("#image-difference").queryAs(ImageView.class).getImage())) {
      assertEquals(white, p, "no change is white");
    }
  }

  @Test
  void aWrongSizedImageGivesADialogAndTheCaseStays(FxRobot robot) throws Exception {
    Path small = Files.createTempFile("small", ".png");
    ImageFiles.writeGrey(small, new double[20 * 20], 20, 20);
    double t = app.view().session().observed().get("t");
    robot.interact(() -> app.openImage(small));
    WaitForAsyncUtils.waitForFxEvents();
    DialogPane dialog = robot.lookup(".dialog-pane").queryAs(DialogPane.class);
    assertTrue(dialog.getContentText().contains("is 20x20 pixels; this model needs 28x28"), dialog.getContentText());
    assertEquals(t, app.view().session().observed().get("t"));
    Files.delete(small);
  }

  @Test
  void pickingATestCaseShowsIt(FxRobot robot) {
    double t0 = app.view().session().observed().get("t");
    robot.clickOn("#case-3");
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(app.view().session().observed().get("t") != t0, "another case");
  }

  private static final Pattern THUMB_TOOLTIP =
      Pattern.compile("digit (\\d), test unit (\\d+): t = (\\S+), i = (\\S+)");

  private static Matcher tooltip(FxRobot robot, String thumb) {
    Matcher m = THUMB_TOOLTIP.matcher(robot.lookup(thumb).queryAs(Button.class).getTooltip().getText());
    assertTrue(m.matches(), m.toString());
    return m;
  }

  /**
   * The test units of the thumbnails on screen, read from their tooltips, each tooltip's class checked
   * against the real digit's: 20 distinct units, two of every class, the ones the strip says it shows.
   */
  private int[] shownUnits(FxRobot robot, int[] labels) {
    var thumbs = robot.lookup("#cases").queryAs(FlowPane.class).getChildren();
    assertEquals(20, thumbs.size());
    int[] units = new int[thumbs.size()];
    int[] perClass = new int[10];
    for (int k = 0; k < units.length; k++) {
      Matcher m = tooltip(robot, "#case-" + k);
      units[k] = Integer.parseInt(m.group(2));
      assertEquals(labels[units[k]], Integer.parseInt(m.group(1)), "the tooltip names the unit's class");
      perClass[labels[units[k]]]++;
    }
    int[] two = new int[10];
    Arrays.fill(two, 2);
    assertArrayEquals(two, perClass, "two of each class");
    assertEquals(units.length, Arrays.stream(units).distinct().count());
    assertArrayEquals(units, app.caseStrip().shownUnits());
    return units;
  }

  @Test
  void theCaseStripPagesThroughTwoDigitsOfEveryClass(FxRobot robot) throws Exception {
    int[] labels = MorphoMnistDataset.labels(MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist"))),
        MorphoMnistDataset.Split.TEST);
    String of = " of " + labels.length;
    Node previous = robot.lookup("#cases-previous").query();
    int[] first = shownUnits(robot, labels);
    assertEquals("cases 1-20" + of, robot.lookup("#cases-range").queryLabeled().getText());
    assertTrue(previous.isDisabled(), "no page before the first");
    assertEquals(tooltip(robot, "#case-0").group(3), ExplorerView.fmt(app.view().session().observed().get("t")),
        "the window opens on the first case of the first page");

    robot.clickOn("#cases-next");
    WaitForAsyncUtils.waitForFxEvents();
    int[] second = shownUnits(robot, labels);
    assertEquals("cases 21-40" + of, robot.lookup("#cases-range").queryLabeled().getText());
    assertTrue(Arrays.stream(second).noneMatch(u -> Arrays.stream(first).anyMatch(f -> f == u)), "other cases");
    assertFalse(previous.isDisabled());
    robot.clickOn("#case-5");
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals(tooltip(robot, "#case-5").group(3), ExplorerView.fmt(app.view().session().observed().get("t")),
        "a thumbnail of the second page opens its own case");

    // back from the keyboard
    robot.interact(previous::requestFocus);
    robot.type(KeyCode.SPACE);
    WaitForAsyncUtils.waitForFxEvents();
    assertArrayEquals(first, shownUnits(robot, labels));
    assertEquals("cases 1-20" + of, robot.lookup("#cases-range").queryLabeled().getText());
  }

  /** File > Export sweep on a digit: thickness 1 to 5 px, one frame per value, the intensity that follows in the CSV. */
  @Test
  void exportsAThicknessSweepAsAnAnimatedGifWithItsValues(FxRobot robot) throws Exception {
    Path dir = Files.createTempDirectory("sweep");
    Path gif = dir.resolve("digit.gif");
    robot.interact(() -> app.exportSweep(gif));
    WaitForAsyncUtils.waitForFxEvents();
    javax.imageio.ImageReader reader = javax.imageio.ImageIO.getImageReadersByFormatName("gif").next();
    try (var in = javax.imageio.ImageIO.createImageInputStream(gif.toFile())) {
      reader.setInput(in);
      assertEquals(9, reader.getNumImages(true), "one frame per thickness, 1 .. 5 px in steps of 0.5");
      assertEquals(28 * 6, reader.read(0).getWidth(), "each frame a digit at 6x");
    } finally {
      reader.dispose();
    }
    java.util.List<String> lines = Files.readAllLines(dir.resolve("digit.csv"));
    assertEquals("do_t,t_cf,i_cf", lines.get(0));
    assertEquals(10, lines.size());
    double firstI = Double.parseDouble(lines.get(1).split(",")[2]);
    double lastI = Double.parseDouble(lines.get(9).split(",")[2]);
    for (int k = 0; k < 9; k++) {
      String[] row = lines.get(k + 1).split(",");
      assertEquals(1 + 0.5 * k, Double.parseDouble(row[1]), 1e-3, "the counterfactual thickness is the one asked");
    }
    // i follows t through the model's own mechanism (this tiny test model has barely learnt it)
    assertTrue(Double.isFinite(firstI) && Double.isFinite(lastI), "i_cf is reported: " + firstI + ", " + lastI);
  }
}
