package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import javafx.stage.Stage;
import org.deepscm.data.brain.BrainMeasurer;
import org.deepscm.scm.ModelFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The shipped brain model in the explorer, as a clinician uses it: an older age on the slider, and
 * the ventricles of the counterfactual slice grow (measured by the world's measurer, not by eye).
 */
@ExtendWith(ApplicationExtension.class)
class ExplorerBrainModelTest {
  private static final Path MODEL = Path.of("models", "brain-synthetic");
  private ExplorerApp app;
  private Stage stage;

  @Start
  void start(Stage stage) throws Exception {
    assumeTrue(Files.isRegularFile(MODEL.resolve(ModelFolder.MODEL_FILE)), "models/brain-synthetic is shipped");
    this.stage = stage;
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, MODEL);
    app.start(stage);
  }

  /**
   * The uncertainty of that counterfactual on a 1366 x 768 laptop: the spread map beside the difference map, the
   * line under the images as the spread and the change give it, the outline of the pixels changed beyond twice
   * their spread, and the spread map large (at least 256 px) on a double-click. With the system property
   * deepscm.uncertaintyShot=FILE it writes the window there, outline on (the README's picture).
   */
  @Test
  void threeTimesTheVentricleVolumeShowsItsUncertaintyOnALaptop(FxRobot robot) {
    robot.interact(() -> {
      stage.setWidth(1366);
      stage.setHeight(768);
    });
    double v = app.view().session().observed().get("ventricle_volume");
    robot.interact(() -> app.view().slider("ventricle_volume").setValue(3 * v));
    robot.interact(() -> app.view().spreadPanel().outlineToggle().setSelected(true));
    WaitForAsyncUtils.waitForFxEvents();
    ExplorerSession.Result r = app.view().lastResult();
    org.deepscm.image.ParticleSpread.Summary s = org.deepscm.image.ParticleSpread.summarise(r.difference(),
        r.spread(), org.deepscm.image.ParticleSpread.region(app.view().session().observedImage(), r.image(),
            org.deepscm.image.ParticleSpread.REGION_THRESHOLD), 2);
    String line = robot.lookup("#spread-summary").queryLabeled().getText();
    System.out.println(line + " (" + s.regionPixels() + " pixels of the brain)");
    assertTrue(line.equals(String.format(java.util.Locale.ROOT, "Spread over 32 particles: mean %.2f grey levels; "
        + "%.0f %% of the brain moved beyond 2 \u00d7 spread", s.meanSpread(), 100 * s.shareBeyond())), line);
    assertTrue(s.meanSpread() > 0 && s.shareBeyond() > 0.5, "three times the ventricles moves most of the brain "
        + "beyond the particles' disagreement: " + line);
    assertTrue(app.view().spreadPanel().outlineEdges() > 0, "the outline is drawn");
    javafx.scene.image.ImageView map = robot.lookup("#image-uncertainty").queryAs(javafx.scene.image.ImageView.class);
    javafx.scene.image.ImageView diff = robot.lookup("#image-difference").queryAs(javafx.scene.image.ImageView.class);
    assertTrue(map.getFitWidth() == diff.getFitWidth() && map.getFitWidth() >= 64, "as large as the difference map");
    String shot = System.getProperty("deepscm.uncertaintyShot");
    if (shot != null) {
      robot.interact(() -> app.exportPng(Path.of(shot)));
    }
    robot.doubleClickOn("#image-uncertainty");
    WaitForAsyncUtils.waitForFxEvents();
    LargeImageView large = app.view().lastLargeView();
    assertTrue(large != null && large.stage().isShowing() && large.image().getFitWidth() >= 256,
        "the spread map large: " + (large == null ? "none" : large.image().getFitWidth() + " px"));
    robot.interact(() -> large.stage().close());
  }

  @Test
  void anOlderAgeOnTheSliderGrowsTheVentriclesOfTheCounterfactual(FxRobot robot) {
    double observedAge = app.view().session().observed().get("age");
    // the far end of the age range from this subject: older ventricles are larger, younger smaller
    boolean older = observedAge < 58.5;
    double before = BrainMeasurer.measure(app.view().session().observedImage()).ventricleMm2();
    robot.interact(() -> app.view().slider("age").setValue(older ? 73 : 44));
    WaitForAsyncUtils.waitForFxEvents();
    double after = BrainMeasurer.measure(app.view().lastResult().image()).ventricleMm2();
    double vBefore = app.view().session().observed().get("ventricle_volume");
    double vAfter = app.view().lastResult().values().get("ventricle_volume");
    String what = "age " + observedAge + " -> " + (older ? 73 : 44) + ": ventricle volume " + vBefore + " -> " + vAfter
        + " ml, ventricle area on the slice " + before + " -> " + after + " mm2";
    if (older) {
      assertTrue(vAfter > vBefore && after > before * 1.05, what);
    } else {
      assertTrue(vAfter < vBefore && after < before * 0.95, what);
    }
    System.out.println(what);
  }

  /**
   * Three times the subject's own ventricle volume on the slider: under the true SCM the ventricles grow
   * by 3^(1/3) in each direction, about twice the area on the slice. The counterfactual must show most of
   * that: at least 1.75 times the area (the model before counterfactual fine-tuning reached 1.63 on this
   * case, the fine-tuned one 1.84). With the system
   * property deepscm.screenshot=FILE it also writes the window there (the README's picture).
   */
  @Test
  void threeTimesTheVentricleVolumeOnTheSliderWidensTheVentriclesOfTheCounterfactual(FxRobot robot) {
    double v = app.view().session().observed().get("ventricle_volume");
    double before = BrainMeasurer.measure(app.view().session().observedImage()).ventricleMm2();
    // the ventricles alone: the do(age) the window opens with is switched off first
    robot.clickOn("#reset-interventions");
    robot.interact(() -> app.view().slider("ventricle_volume").setValue(3 * v));
    WaitForAsyncUtils.waitForFxEvents();
    double after = BrainMeasurer.measure(app.view().lastResult().image()).ventricleMm2();
    String what = "ventricle volume " + v + " -> " + 3 * v + " ml: ventricle area on the slice " + before + " -> "
        + after + " mm2 (ratio " + after / before + ")";
    System.out.println(what);
    String shot = System.getProperty("deepscm.screenshot");
    if (shot != null) {
      robot.interact(() -> app.exportPng(Path.of(shot)));
    }
    assertTrue(after > 1.75 * before, what);
  }

  /** The samples of the Association rung name the sex, as the Counterfactual rung does, never "sex = 0.000". */
  @Test
  void theSamplesCaptionsNameTheSex(FxRobot robot) {
    robot.clickOn("#rung-association");
    WaitForAsyncUtils.waitForFxEvents();
    java.util.List<String> captions = robot.lookup("#samples-association").queryAs(javafx.scene.layout.Pane.class)
        .getChildren().stream().flatMap(n -> ((javafx.scene.layout.VBox) n).getChildren().stream())
        .filter(n -> n instanceof javafx.scene.control.Label).map(n -> ((javafx.scene.control.Label) n).getText())
        .toList();
    assertTrue(!captions.isEmpty(), "the Association rung shows samples");
    for (String c : captions) {
      assertTrue(c.contains("sex = female") || c.contains("sex = male"), c);
    }
  }

  /** View > Lesson walks the case up the ladder: each step its rung, its sentence, one control ringed. */
  @Test
  void theLessonWalksTheLadderWithOneControlAtEachStep(FxRobot robot) {
    robot.clickOn("View");
    robot.clickOn("#menu-lesson");
    WaitForAsyncUtils.waitForFxEvents();
    javafx.scene.control.Label text = robot.lookup("#lesson-text").queryAs(javafx.scene.control.Label.class);
    assertTrue(text.getText().startsWith("1 / 5") && text.getText().contains("Association"), text.getText());
    org.controlsfx.control.SegmentedButton rungs = robot.lookup("#rungs")
        .queryAs(org.controlsfx.control.SegmentedButton.class);
    assertTrue(rungs.getButtons().get(0).isSelected(), "step 1 is on the association rung");
    assertTrue(robot.lookup("#lesson-back").queryButton().isDisabled(), "no step before the first");
    robot.clickOn("#lesson-next");
    assertTrue(rungs.getButtons().get(1).isSelected(), "step 2 is on the intervention rung");
    assertTrue(app.view().lessonFocus() == app.view().doSwitch("age"), "step 2 rings the do(age) switch");
    assertTrue(app.view().doSwitch("age").getEffect() != null);
    robot.clickOn("#lesson-next");
    robot.clickOn("#lesson-next");
    assertTrue(rungs.getButtons().get(2).isSelected(), "step 4 is on the counterfactual rung");
    assertTrue(app.view().lessonFocus() == app.view().slider("age"), "step 4 rings the age slider");
    assertTrue(app.view().doSwitch("age").getEffect() == null, "the earlier control is let go");
    robot.clickOn("#lesson-back");
    assertTrue(text.getText().startsWith("3 / 5"), text.getText());
    robot.clickOn("#lesson-next");
    robot.clickOn("#lesson-next");
    assertTrue(robot.lookup("#lesson-next").queryButton().getText().equals("Done"));
    robot.clickOn("#lesson-next");
    assertTrue(app.view().lessonStep() < 0, "Done ends the lesson");
    assertTrue(app.view().slider("age").getEffect() == null && app.view().lessonFocus() == null);
  }

  /**
   * File > Export age sweep on the shipped model: seven frames, 45 to 75 years, and the ventricle volume
   * that the model's mechanisms give at each age grows with age. With the system property
   * deepscm.sweepGif=FILE the GIF goes there (the README's animation).
   */
  @Test
  void theAgeSweepOfTheFirstCaseShowsVentriclesGrowingWithAge(FxRobot robot) throws Exception {
    String wanted = System.getProperty("deepscm.sweepGif");
    Path gif = wanted != null ? Path.of(wanted) : Files.createTempDirectory("sweep").resolve("age.gif");
    robot.interact(() -> app.exportSweep(gif));
    WaitForAsyncUtils.waitForFxEvents();
    java.util.List<String> lines = Files.readAllLines(gif.resolveSibling(gif.getFileName().toString()
        .replace(".gif", ".csv")));
    assertTrue(lines.get(0).startsWith("do_age,") && lines.size() == 8, lines.toString());
    int v = java.util.Arrays.asList(lines.get(0).split(",")).indexOf("ventricle_volume_cf");
    double previous = 0;
    for (String line : lines.subList(1, lines.size())) {
      double ventricles = Double.parseDouble(line.split(",")[v]);
      assertTrue(ventricles > previous, "ventricles grow with age: " + lines);
      previous = ventricles;
    }
    assertTrue(Files.size(gif) > 1000, "the animation is written");
  }
}
