package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import javafx.geometry.Rectangle2D;
import javafx.scene.SnapshotParameters;
import javafx.scene.canvas.Canvas;
import javafx.scene.control.CheckBox;
import javafx.scene.control.CheckMenuItem;
import javafx.scene.control.MenuBar;
import javafx.scene.image.ImageView;
import javafx.scene.input.KeyCode;
import javafx.scene.paint.Color;
import javafx.stage.Stage;
import org.deepscm.data.SequentialColours;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.image.ParticleSpread;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.train.MorphoMnistModels;
import org.deepscm.train.ScmBuilder;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The uncertainty view on an image model (small, untrained: what is shown must follow the answer all the same):
 * the spread map, the line under the images, the outline toggle, the colour-blind colours and the large view.
 */
@ExtendWith(ApplicationExtension.class)
class ExplorerUncertaintyTest {
  private static Path modelDir;
  private ExplorerApp app;
  private Stage stage;

  @Start
  void start(Stage stage) throws Exception {
    if (modelDir == null) {
      modelDir = Files.createTempDirectory("explorer-spread-model");
      ScmBuilder b = MorphoMnistModels.builder("full", true).imageArchitecture(ImageArchitecture.tiny(28, 28));
      var table = MorphoMnistTrueScm.draw(500, 3);
      try (SavedModel m = new SavedModel("tiny-image", b.build(table, 1), b.trainingRanges(table), new JsonObject(),
          null)) {
        ModelFolder.save(m, modelDir);
      }
    }
    this.stage = stage;
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, modelDir);
    app.start(stage);
  }

  @AfterAll
  static void clean() throws Exception {
    FxPixels.deleteTree(modelDir);
  }

  private ImageView map(FxRobot robot) {
    return robot.lookup("#image-uncertainty").queryAs(ImageView.class);
  }

  @Test
  void withNoChangeAskedForTheSpreadIsZeroEverywhere(FxRobot robot) {
    double t = app.view().session().observed().get("t");
    robot.interact(() -> app.view().slider("t").setValue(t + 1));
    assertTrue(app.view().lastResult().spread()[0] >= 0);
    // do() switched off again: no intervention, the answer is the observed image
    robot.interact(() -> app.view().doSwitch("t").setSelected(false));
    ExplorerSession.Result r = app.view().lastResult();
    assertTrue(app.view().session().interventions().isEmpty());
    assertArrayEquals(new double[r.spread().length], r.spread(), "no intervention: every particle alike");
    double[] observed = app.view().session().observedImage();
    for (int k = 0; k < observed.length; k++) {
      assertEquals(observed[k], r.image()[k], 1e-3, "the answer is the observed image");
    }
    int none = 0xff000000 | SequentialColours.HEAT.at(0);
    for (int p : FxPixels.of(map(robot).getImage())) {
      assertEquals(none, p, "no spread is white");
    }
    String line = robot.lookup("#spread-summary").queryLabeled().getText();
    assertEquals("Spread over 32 particles: none: every particle gives the same image", line);
  }

  @Test
  void anInterventionShowsTheSpreadItsSummaryAndOutline(FxRobot robot) {
    double t = app.view().session().observed().get("t");
    robot.interact(() -> app.view().slider("t").setValue(t + 2));
    ExplorerSession.Result r = app.view().lastResult();
    assertEquals(32, r.particles());
    double most = 0;
    for (double v : r.spread()) {
      most = Math.max(most, v);
    }
    assertTrue(most > 0, "a real intervention spreads the particles");
    SpreadPanel panel = app.view().spreadPanel();
    assertTrue(panel.range() >= most && panel.range() / 2 < Math.max(most, SpreadPanel.RANGES[0]),
        "the colour bar's top is the first step at or above the largest spread: " + panel.range() + " for " + most);
    // the map shows each pixel's spread on the bar's scale
    int[] shown = FxPixels.of(map(robot).getImage());
    for (int k = 0; k < shown.length; k++) {
      assertEquals(0xff000000 | SequentialColours.HEAT.rgb(r.spread()[k], panel.range()), shown[k], "pixel " + k);
    }
    // the line: the mean spread over the digit and the share changed beyond twice it, as ParticleSpread says
    ParticleSpread.Summary s = ParticleSpread.summarise(r.difference(), r.spread(),
        ParticleSpread.region(app.view().session().observedImage(), r.image(), ParticleSpread.REGION_THRESHOLD), 2);
    String line = robot.lookup("#spread-summary").queryLabeled().getText();
    assertEquals(String.format(java.util.Locale.ROOT, "Spread over 32 particles: mean %.2f grey levels; %.0f %% of "
        + "the digit moved beyond 2 \u00d7 spread", s.meanSpread(), 100 * s.shareBeyond()), line);

    // the outline: nothing drawn while the toggle is off, the beyond-pixels' edges once it is on
    Canvas outline = robot.lookup("#outline").queryAs(Canvas.class);
    assertEquals(0, inked(outline), "the outline is off by default");
    robot.clickOn("#outline-toggle");
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(robot.lookup("#outline-toggle").queryAs(CheckBox.class).isSelected());
    int edges = panel.outlineEdges();
    assertTrue(s.shareBeyond() == 0 ? edges == 0 : edges > 0, "edges " + edges + " for share " + s.shareBeyond());
    if (edges > 0) {
      assertTrue(inked(outline) > 0, "the outline is drawn over the counterfactual");
    }
    assertEquals(robot.lookup("#image-counterfactual").queryAs(ImageView.class).getFitWidth(), outline.getWidth());
  }

  /** Pixels of a canvas with any ink (not transparent). */
  private static int inked(Canvas c) {
    int[] count = new int[1];
    javafx.application.Platform.runLater(() -> {
      SnapshotParameters p = new SnapshotParameters();
      p.setFill(Color.TRANSPARENT);
      for (int argb : FxPixels.of(c.snapshot(p, null))) {
        count[0] += (argb >>> 24) != 0 ? 1 : 0;
      }
    });
    WaitForAsyncUtils.waitForFxEvents();
    return count[0];
  }

  @Test
  void aPreviewSaysItsSpreadIsRoughAndKeepsTheColourScale(FxRobot robot) {
    SpreadPanel panel = app.view().spreadPanel();
    String rough = panel.describe(new ParticleSpread.Summary(1.234, 0.5, 100), 3, 4, false);
    assertEquals("Rough spread, 4 particles: mean 1.23 grey levels; 50 % of the digit moved beyond 2 \u00d7 "
        + "spread", rough);
    // a preview's answer on screen: its line says so, and the colour bar keeps the full answer's range
    double t = app.view().session().observed().get("t");
    robot.interact(() -> app.view().slider("t").setValue(t + 2));
    ExplorerSession.Result full = app.view().lastResult();
    double range = panel.range();
    double[] wide = full.spread().clone();
    double far = Math.min(100, 10 * range);
    java.util.Arrays.fill(wide, 0, 10, far);
    ExplorerSession.Result preview = new ExplorerSession.Result(full.values(), full.image(), full.difference(), wide,
        4, 1);
    robot.interact(() -> panel.show(preview, app.view().session().observedImage(), false));
    assertTrue(robot.lookup("#spread-summary").queryLabeled().getText().startsWith("Rough spread, 4 particles: "),
        robot.lookup("#spread-summary").queryLabeled().getText());
    assertEquals(range, panel.range(), "a preview keeps the colour scale");
    robot.interact(() -> panel.show(new ExplorerSession.Result(full.values(), full.image(), full.difference(), wide,
        32, 1), app.view().session().observedImage(), true));
    assertTrue(panel.range() >= far && panel.range() > range, "a full answer sets it: " + panel.range());
    assertTrue(robot.lookup("#spread-summary").queryLabeled().getText().startsWith("Spread over 32 particles: "));
  }

  @Test
  void theColourBlindColoursRepaintTheMap(FxRobot robot) {
    double t = app.view().session().observed().get("t");
    robot.interact(() -> app.view().slider("t").setValue(t + 2));
    ExplorerSession.Result r = app.view().lastResult();
    CheckMenuItem item = (CheckMenuItem) ((MenuBar) stage.getScene().getRoot().lookup(".menu-bar")).getMenus()
        .stream().flatMap(m -> m.getItems().stream()).filter(i -> "menu-safe-spread-colours".equals(i.getId()))
        .findFirst().orElseThrow();
    robot.interact(() -> {
      item.setSelected(true);
      item.fire();
    });
    // fire() toggles a check item: whatever it shows now is what the map must use
    SequentialColours now = item.isSelected() ? SequentialColours.VIRIDIS : SequentialColours.HEAT;
    assertEquals(now, app.view().spreadPanel().colours());
    int[] shown = FxPixels.of(map(robot).getImage());
    double range = app.view().spreadPanel().range();
    for (int k = 0; k < shown.length; k++) {
      assertEquals(0xff000000 | now.rgb(r.spread()[k], range), shown[k]);
    }
  }

  @Test
  void doubleClickingAPanelShowsItLargeAndEscapeClosesIt(FxRobot robot) {
    double t = app.view().session().observed().get("t");
    robot.interact(() -> app.view().slider("t").setValue(t + 2));
    robot.doubleClickOn("#image-uncertainty");
    WaitForAsyncUtils.waitForFxEvents();
    LargeImageView large = app.view().lastLargeView();
    assertNotNull(large, "a double-click opens the large view");
    assertTrue(large.stage().isShowing());
    assertSame(map(robot).getImage(), large.image().getImage(), "the same picture");
    assertTrue(large.image().getFitWidth() >= LargeImageView.MIN_SIDE, "large: " + large.image().getFitWidth());
    // it follows the next answer
    robot.interact(() -> app.view().slider("t").setValue(t + 1));
    assertSame(map(robot).getImage(), large.image().getImage(), "the large view follows the answers");
    robot.interact(() -> large.stage().getScene().getRoot().requestFocus());
    robot.interact(() -> large.stage().getScene().getOnKeyPressed().handle(new javafx.scene.input.KeyEvent(
        javafx.scene.input.KeyEvent.KEY_PRESSED, "", "", KeyCode.ESCAPE, false, false, false, false)));
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(!large.stage().isShowing(), "Escape closes it");

    // the counterfactual's large view carries the outline too
    robot.interact(() -> app.view().spreadPanel().outlineToggle().setSelected(true));
    robot.doubleClickOn("#image-counterfactual");
    WaitForAsyncUtils.waitForFxEvents();
    LargeImageView cf = app.view().lastLargeView();
    assertTrue(cf != large && cf.stage().isShowing());
    assertTrue(cf.stage().getScene().getRoot().lookup("Canvas") != null, "an outline over the large counterfactual");
    robot.interact(() -> cf.stage().close());
  }

  @Test
  void aLaptopScreenShowsAPanelAtLeast256PixelsLarge() {
    for (int side : new int[] {28, 64}) {
      double zoom = LargeImageView.zoomFor(new Rectangle2D(0, 0, 1366, 728), side, side);
      assertTrue(side * zoom >= 256 && side * zoom <= 0.75 * 728, side + " px at " + zoom);
    }
    // the panels' zoom: whole from 2x up, quarter steps below, never under 1x
    assertEquals(3, ExplorerView.zoomFor(3.9));
    assertEquals(1.5, ExplorerView.zoomFor(1.7));
    assertEquals(1, ExplorerView.zoomFor(0.4));
    assertEquals(12, ExplorerView.zoomFor(40));
  }
}
