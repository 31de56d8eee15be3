package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javafx.scene.control.Button;
import javafx.scene.image.ImageView;
import javafx.scene.text.Text;
import javafx.stage.Stage;
import org.deepscm.scm.ModelFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The first window a user sees on the shipped models: a counterfactual that differs from the case (a blank difference
 * map shows nothing happen), its do() in the graph and on the slider like a user's, and one click back to the case
 * as observed. With the system property deepscm.openingShot=FILE the brain model's first window, at 1366 x 768, is
 * written there (the README's first picture).
 */
@ExtendWith(ApplicationExtension.class)
class ExplorerOpeningTest {
  private ExplorerApp app;
  private Stage stage;

  @Start
  void start(Stage stage) {
    this.stage = stage;
    assumeTrue(Files.isRegularFile(ExplorerApp.BRAIN_MODEL.resolve(ModelFolder.MODEL_FILE)),
        "models/brain-synthetic is shipped");
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, ExplorerApp.BRAIN_MODEL);
    app.start(stage);
  }

  /** How many different colours the difference map on screen shows (1: blank). */
  private static long differenceColours(FxRobot robot) {
    return Arrays.stream(FxPixels.of(robot.lookup("#image-difference").queryAs(ImageView.class).getImage()))
        .distinct().count();
  }

  @Test
  void theBrainModelOpensOnTheCaseTwentyYearsOlderAndOneClickResetsIt(FxRobot robot) throws Exception {
    String shot = System.getProperty("deepscm.openingShot");
    if (shot != null) {
      // a clinic's laptop screen, as the layout test's first one
      robot.interact(() -> {
        stage.setWidth(1366);
        stage.setHeight(768);
      });
      WaitForAsyncUtils.waitForFxEvents();
      robot.interact(() -> app.exportPng(Path.of(shot)));
    }
    ExplorerSession session = app.view().session();
    double age = session.observed().get("age");
    double[] range = session.model().trainingRange("age");
    double older = Math.min(age + 20, range[1]);
    double expected = older - age >= 10 ? older : Math.max(age - 20, range[0]);
    assertEquals(Map.of("age", expected), session.interventions(), "observed age " + age);
    assertTrue(Math.abs(expected - age) >= 10, "a change worth seeing: " + age + " -> " + expected);
    assertTrue(app.view().doSwitch("age").isSelected(), "do(age) is switched on as a user's would be");
    assertEquals(expected, app.view().slider("age").getValue(), 1e-9);
    assertTrue(robot.lookup("#node-age").queryAs(Text.class).getText().startsWith("do(age)"));
    assertTrue(differenceColours(robot) > 1, "the difference map is not blank at open");
    double ventricles = app.view().lastResult().values().get("ventricle_volume");
    assertTrue(ventricles > session.observed().get("ventricle_volume") == expected > age,
        "older ventricles are larger: " + session.observed().get("ventricle_volume") + " -> " + ventricles);

    Button reset = robot.lookup("#reset-interventions").queryButton();
    assertFalse(reset.isDisabled());
    assertTrue(app.view().densityPanel().trajectoryLength() >= 1, "the opening do(age) drew a trajectory");
    robot.clickOn(reset);
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals(Map.of(), session.interventions(), "reset: the case as observed");
    // the trajectory starts again at the observed case: no point of the path to the old do() is left
    DensityPanel chart = app.view().densityPanel();
    WaitForAsyncUtils.waitFor(30, TimeUnit.SECONDS, () -> chart.trajectoryLength() >= 1);
    WaitForAsyncUtils.waitForFxEvents();
    double observedX = session.observed().get(chart.xName());
    for (double[] p : chart.trajectoryPoints()) {
      assertEquals(observedX, p[0], 1e-3, "a trajectory point after reset: " + chart.xName() + " " + p[0]);
    }
    assertFalse(app.view().doSwitch("age").isSelected());
    assertEquals(age, app.view().slider("age").getValue(), 1e-2);
    assertEquals(1, differenceColours(robot), "no do(), no difference");
    assertTrue(reset.isDisabled(), "nothing left to reset");

    // a case picked from the strip starts as observed, as it did before
    WaitForAsyncUtils.waitFor(60, TimeUnit.SECONDS, () -> app.caseStrip().shownPage() == 0);
    WaitForAsyncUtils.waitForFxEvents();
    robot.interact(() -> app.view().slider("ventricle_volume").setValue(40));
    robot.clickOn("#case-3");
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals(Map.of(), app.view().session().interventions());
  }

  @Test
  void theMorphoMnistModelOpensOnTheDigitOnePixelThicker(FxRobot robot) {
    robot.interact(() -> app.load(ExplorerApp.IMAGE_MODEL));
    WaitForAsyncUtils.waitForFxEvents();
    ExplorerSession session = app.view().session();
    assertTrue(session.model().name().contains("morphomnist"), session.model().name());
    double t = session.observed().get("t");
    double[] range = session.model().trainingRange("t");
    assertTrue(t + 1 <= range[1], "the first test digit leaves room: t = " + t + ", range " + Arrays.toString(range));
    assertEquals(Map.of("t", t + 1), session.interventions());
    assertTrue(app.view().doSwitch("t").isSelected());
    assertTrue(robot.lookup("#node-t").queryAs(Text.class).getText().startsWith("do(t)"));
    assertTrue(differenceColours(robot) > 1, "the difference map is not blank at open");
    assertTrue(app.view().lastResult().values().get("i") > session.observed().get("i"),
        "a thicker digit is brighter (t -> i)");
  }
}
