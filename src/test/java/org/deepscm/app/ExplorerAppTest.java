package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import javafx.scene.control.DialogPane;
import javafx.scene.control.Slider;
import javafx.scene.shape.Polyline;
import javafx.scene.text.Text;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** The explorer on the shipped covariate model, driven as a user would (headless: Monocle). */
@ExtendWith(ApplicationExtension.class)
class ExplorerAppTest {
  private ExplorerApp app;

  @TempDir
  Path dir;

  @Start
  void start(Stage stage) {
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, ExplorerApp.COVARIATE_MODEL);
    app.start(stage);
  }

  private double cf(String variable) {
    return app.view().lastResult().values().get(variable);
  }

  @Test
  void opensOnTheModelWithItsGraph(FxRobot robot) {
    Text t = robot.lookup("#node-t").queryAs(Text.class);
    Text i = robot.lookup("#node-i").queryAs(Text.class);
    assertTrue(t.getText().startsWith("t = "), t.getText());
    assertTrue(t.getY() < i.getY(), "t is drawn above its child i");
    assertTrue(robot.lookup("#rung-sentence").tryQuery().isPresent());
  }

  @Test
  void draggingTheThicknessSliderMovesTheCounterfactualIntensity(FxRobot robot) {
    double before = cf("i");
    assertEquals(app.view().session().observed().get("i"), before, 1e-3, "no intervention: the case itself");
    robot.drag("#slider-t .thumb").moveBy(60, 0).drop();
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(robot.lookup("#do-t").queryAs(org.controlsfx.control.ToggleSwitch.class).isSelected(),
        "moving a slider switches its do() on");
    assertTrue(cf("t") > app.view().session().observed().get("t"), "dragged to the right: thicker");
    assertTrue(cf("i") > before, "a thicker digit is brighter (do(t) moves i)");
    Text node = robot.lookup("#node-t").queryAs(Text.class);
    assertTrue(node.getText().startsWith("do(t)"), node.getText());
    assertTrue(robot.lookup("#node-i").queryAs(Text.class).getText().contains("was"), "i shows its change");
  }

  @Test
  void aValueOutsideTheTrainingRangeIsAnnouncedAboveTheImagesAndWithdrawnWhenItReturns(FxRobot robot) {
    org.controlsfx.control.NotificationPane notice = app.view().extrapolationNotice();
    assertTrue(!notice.isShowing(), "the observed case is inside the training range: no notice");
    double[] range = app.view().session().model().trainingRanges().get("t");
    Slider t = app.view().slider("t");
    assertTrue(t.getMax() > range[1], "the slider reaches past the training range");
    robot.interact(() -> t.setValue(t.getMax()));
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(notice.isShowing(), "do(t) past the range: the notice shows");
    assertTrue(notice.getText().startsWith("t = "), notice.getText());
    assertTrue(notice.getText().contains("outside the training range"), notice.getText());
    assertEquals(0, app.view().statusBar().getProgress(), "the answer is complete: no progress bar");
    assertTrue(app.view().statusBar().getText().contains("last answer"), app.view().statusBar().getText());
    robot.interact(() -> t.setValue(app.view().session().observed().get("t")));
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(!notice.isShowing(), "back inside the range: the notice is withdrawn");
  }

  @Test
  void theRungsAreOneSegmentedButtonWithExactlyOneChosen(FxRobot robot) {
    org.controlsfx.control.SegmentedButton rungs = robot.lookup("#rungs")
        .queryAs(org.controlsfx.control.SegmentedButton.class);
    assertEquals(3, rungs.getButtons().size());
    assertTrue(rungs.getButtons().get(2).isSelected(), "the explorer opens on the counterfactual rung");
    robot.clickOn("#rung-association");
    robot.clickOn("#rung-association");
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals(1, rungs.getButtons().stream().filter(javafx.scene.control.ToggleButton::isSelected).count(),
        "clicking the chosen rung again keeps it chosen");
    assertTrue(rungs.getButtons().get(0).isSelected());
  }

  @Test
  void interveningWithTheObservedValueChangesNothing(FxRobot robot) {
    double t = app.view().session().observed().get("t");
    robot.interact(() -> {
      app.view().slider("t").setValue(t + 0.5);
      app.view().slider("t").setValue(t);
    });
    assertEquals(t, cf("t"), 1e-4);
    assertEquals(app.view().session().observed().get("i"), cf("i"), 1e-2);
  }

  @Test
  void anInterventionCutsTheIncomingEdges(FxRobot robot) {
    robot.interact(() -> app.view().doSwitch("i").setSelected(true));
    Polyline edge = robot.lookup("#edge-t-i").queryAs(Polyline.class);
    assertTrue(!edge.getStrokeDashArray().isEmpty(), "the edge t -> i is drawn cut");
    assertTrue(robot.lookup("#cut-t-i").tryQuery().isPresent(), "and marked with scissors");
    assertTrue(robot.lookup("#node-i").queryAs(Text.class).getText().startsWith("do(i)"));
    assertEquals(app.view().session().observed().get("t"), cf("t"), 1e-4, "do(i) leaves t alone");
  }

  @Test
  void aBadModelFolderShowsADialogAndTheAppKeepsWorking(FxRobot robot) {
    robot.interact(() -> app.load(Path.of("no-such-model")));
    WaitForAsyncUtils.waitForFxEvents();
    DialogPane dialog = robot.lookup(".dialog-pane").queryAs(DialogPane.class);
    assertTrue(dialog.getContentText().contains("does not exist"), dialog.getContentText());
    robot.interact(() -> app.view().slider("t").setValue(4.0));
    assertEquals(4.0, cf("t"), 1e-4, "the loaded model still answers");
  }

  @Test
  void aSavedCaseReopensWithItsInterventions(FxRobot robot) throws Exception {
    robot.interact(() -> app.view().slider("t").setValue(3.7));
    Path file = dir.resolve("case.json");
    robot.interact(() -> app.saveCase(file));
    assertTrue(Files.readString(file).contains("deepscm-case"));
    double i = cf("i");
    robot.interact(() -> app.view().doSwitch("t").setSelected(false));
    assertEquals(app.view().session().observed().get("i"), cf("i"), 1e-2);
    robot.interact(() -> app.openCase(file));
    assertEquals(3.7, app.view().session().interventions().get("t"), 1e-9);
    assertEquals(i, cf("i"), 1e-3);
    Slider s = app.view().slider("t");
    assertEquals(3.7, s.getValue(), 1e-6);
  }

  @Test
  void exportedValuesAreOneCsvRowPerVariable(FxRobot robot) throws Exception {
    robot.interact(() -> app.view().slider("t").setValue(3.7));
    Path file = dir.resolve("values.csv");
    robot.interact(() -> app.exportCsv(file));
    var lines = Files.readAllLines(file);
    assertEquals("variable,observed,counterfactual,intervened", lines.get(0));
    assertEquals(3, lines.size(), lines.toString());
    assertTrue(lines.get(1).startsWith("t,") && lines.get(1).endsWith(",true"), lines.get(1));
    assertEquals(3.7, Double.parseDouble(lines.get(1).split(",")[2]), 1e-6);
  }

  @Test
  void theDensityPanelHoldsTheModelsDensityAndTheTrajectory(FxRobot robot) {
    DensityPanel d = app.view().densityPanel();
    assertTrue(robot.lookup("#density").tryQuery().isPresent());
    for (double shift : new double[] {0, 0.5}) {
      double mass = 0;
      for (double[] row : d.density(shift)) {
        for (double v : row) {
          mass += v * d.cellArea();
        }
      }
      assertEquals(1.0, mass, 0.05, "density integrates to 1 over the plotted range, shift " + shift);
    }
    int before = d.trajectoryLength();
    javafx.scene.image.ImageView drawing = robot.lookup("#density-drawing").queryAs(javafx.scene.image.ImageView.class);
    int[] pixelsBefore = pixels(drawing.getImage());
    int drawingsBefore = d.drawingsDone();
    robot.interact(() -> app.view().slider("t").setValue(3.0));
    robot.interact(() -> app.view().slider("t").setValue(3.5));
    assertEquals(before + 2, d.trajectoryLength(), "each answer adds a point to the trajectory");
    // the chart is an image drawn for the pane's size, and the drawing follows the answers
    assertTrue(d.drawingsDone() > drawingsBefore);
    assertEquals(d.node().getWidth(), drawing.getFitWidth(), 1.0);
    assertEquals(d.node().getHeight(), drawing.getFitHeight(), 1.0);
    int[] pixelsAfter = pixels(drawing.getImage());
    int changed = 0;
    for (int k = 0; k < Math.min(pixelsBefore.length, pixelsAfter.length); k++) {
      changed += pixelsBefore[k] != pixelsAfter[k] ? 1 : 0;
    }
    assertTrue(changed > 50, "the trajectory and the shifted density are drawn: " + changed + " pixels changed");
  }

  private static int[] pixels(javafx.scene.image.Image image) {
    int w = (int) image.getWidth();
    int h = (int) image.getHeight();
    int[] out = new int[w * h];
    image.getPixelReader().getPixels(0, 0, w, h, javafx.scene.image.PixelFormat.getIntArgbInstance(), out, 0, w);
    return out;
  }

  @Test
  void theLadderShowsSamplesAndInterventionalSamples(FxRobot robot) {
    robot.clickOn("#rung-association");
    assertTrue(robot.lookup("#rung-sentence").queryAs(javafx.scene.control.Label.class).getText()
        .startsWith("Association"));
    javafx.scene.layout.Pane samples = robot.lookup("#samples-association").queryAs(javafx.scene.layout.Pane.class);
    assertEquals(ExplorerView.SAMPLES, samples.getChildren().size());
    robot.clickOn("#rung-intervention");
    assertTrue(robot.lookup("#intervention-hint").tryQuery().isPresent(), "no do() yet: a hint");
    robot.interact(() -> app.view().session().intervene("t", 3.0));
    robot.interact(() -> app.view().showRung(1));
    javafx.scene.layout.Pane under = robot.lookup("#samples-do").queryAs(javafx.scene.layout.Pane.class);
    for (javafx.scene.Node n : under.getChildren()) {
      assertTrue(((javafx.scene.control.Label) n).getText().startsWith("t = 3.000"), ((javafx.scene.control.Label) n).getText());
    }
    robot.clickOn("#rung-counterfactual");
    assertTrue(robot.lookup("#density").tryQuery().isPresent());
  }

  @Test
  void theComparisonTabShowsSeeingDoingAndImaginingApart(FxRobot robot) {
    robot.clickOn("Seeing, doing, imagining");
    RungComparisonPanel panel = app.view().comparisonPanel();
    assertEquals("t", panel.variableChoice().getValue());
    assertEquals("i", panel.causeChoice().getValue());
    robot.interact(() -> app.view().slider("i").setValue(230));
    org.deepscm.eval.RungComparison c = panel.last();
    assertEquals(230, c.causeValue(), 1e-9, "b* follows the slider");
    double seeing = java.util.Arrays.stream(c.conditional()).average().orElseThrow();
    double doing = java.util.Arrays.stream(c.interventional()).average().orElseThrow();
    double marginal = java.util.Arrays.stream(c.marginal()).average().orElseThrow();
    assertTrue(seeing > doing + 0.5, "a bright digit is seen with a thick stroke: " + seeing + " vs " + doing);
    assertEquals(marginal, doing, 0.1, "setting the intensity leaves the thickness alone");
    assertEquals(app.view().session().observed().get("t"), c.counterfactual(), 1e-4,
        "this case's thickness had its intensity been set");
    assertTrue(robot.lookup("#compare-caption").queryAs(javafx.scene.control.Label.class).getText()
        .startsWith("Seeing i = 230"));
  }

  @Test
  void theModelMenuSwitchesToAnotherShippedModel(FxRobot robot) {
    robot.clickOn("Model");
    robot.clickOn("morphomnist-covariates-independent");
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals("morphomnist-covariates-independent", app.view().session().model().name());
    assertTrue(robot.lookup("#edge-t-i").tryQuery().isEmpty(), "the independent model has no edge t -> i");
    robot.interact(() -> app.view().slider("t").setValue(4.0));
    assertEquals(app.view().session().observed().get("i"), cf("i"), 1e-3, "and do(t) leaves i alone there");
  }
}
