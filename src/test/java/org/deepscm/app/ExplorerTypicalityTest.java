package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import javafx.scene.image.Image;
import javafx.scene.image.ImageView;
import javafx.stage.Stage;
import org.deepscm.AppPaths;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.data.morphomnist.TypicalIntensity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The explorer on the shipped image model with a user's own digit: a real MNIST digit (bright at every
 * thickness) is warned about, can be brought into the model's world and back.
 */
@ExtendWith(ApplicationExtension.class)
class ExplorerTypicalityTest {
  @TempDir
  Path dir;
  private ExplorerApp app;

  @Start
  void start(Stage stage) {
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, ExplorerApp.IMAGE_MODEL);
    app.start(stage);
  }

  private boolean shown(FxRobot robot, String id) {
    return robot.lookup(id).query().isVisible();
  }

  private static int[] pixels(Image img) {
    int w = (int) img.getWidth();
    int h = (int) img.getHeight();
    int[] out = new int[w * h];
    img.getPixelReader().getPixels(0, 0, w, h, javafx.scene.image.PixelFormat.getIntArgbInstance(), out, 0, w);
    return out;
  }

  private int[] originalOnScreen(FxRobot robot) {
    return pixels(robot.lookup("#image-original").queryAs(ImageView.class).getImage());
  }

  /** A real MNIST test digit as a user's PNG, opened as File > Open image does (measured values kept). */
  private double[] openRealDigit(FxRobot robot) throws Exception {
    MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
    double[] digit = digits.imageDoubles(digits.split().test()[0]);
    assertTrue(Morphology.measureIntensity(digit) > 200, "a real digit is bright");
    Path png = dir.resolve("my-digit.png");
    ImageFiles.writeGrey(png, digit, MnistDigits.SIDE, MnistDigits.SIDE);
    robot.interact(() -> app.openImage(png, Optional::of));
    WaitForAsyncUtils.waitForFxEvents();
    assertArrayEquals(digit, app.view().session().observedImage(), 0.5, "the user's digit is the case");
    return digit;
  }

  private static int changedPixels(double[] a, double[] b) {
    int changed = 0;
    for (int k = 0; k < a.length; k++) {
      changed += Math.abs(a[k] - b[k]) > 1 ? 1 : 0;
    }
    return changed;
  }

  @Test
  void aTypicalTestCaseShowsNoBanner(FxRobot robot) {
    assertNull(app.view().session().ownCase(), "the first test case is the case");
    assertFalse(shown(robot, "#typicality-warning"));
    assertFalse(shown(robot, "#own-image-note"));
  }

  @Test
  void aRealDigitIsWarnedAboutBroughtIntoTheModelsWorldAndBack(FxRobot robot) throws Exception {
    double[] digit = openRealDigit(robot);
    ExplorerSession session = app.view().session();
    double t = session.observed().get("t");
    double ownI = session.observed().get("i");
    assertTrue(shown(robot, "#typicality-warning"), "a bright real digit is atypical");
    String warning = robot.lookup("#typicality-text").queryLabeled().getText();
    assertTrue(warning.contains("p(i | t = "), "the warning names i: " + warning);
    assertTrue(shown(robot, "#bring-into-models-world"));
    int[] ownOnScreen = originalOnScreen(robot);

    robot.clickOn("#bring-into-models-world");
    WaitForAsyncUtils.waitForFxEvents();
    session = app.view().session();
    double typicalI = TypicalIntensity.median(session.scm(), t);
    double broughtI = session.observed().get("i");
    assertTrue(changedPixels(digit, session.observedImage()) > 50, "the digit's pixels changed");
    assertTrue(Math.abs(broughtI - typicalI) < 0.2 * Math.abs(ownI - typicalI),
        "i moved to the model's typical " + typicalI + ": " + ownI + " -> " + broughtI);
    assertEquals(Morphology.measureIntensity(session.observedImage()), broughtI, 1e-9, "i is measured on the image");
    assertEquals(t, session.observed().get("t"), 1e-12, "the thickness stays");
    assertFalse(shown(robot, "#typicality-warning"), robot.lookup("#typicality-text").queryLabeled().getText());
    assertTrue(shown(robot, "#own-image-note"));
    assertFalse(java.util.Arrays.equals(ownOnScreen, originalOnScreen(robot)), "the view shows the new digit");

    robot.clickOn("#use-own-image");
    WaitForAsyncUtils.waitForFxEvents();
    session = app.view().session();
    assertArrayEquals(digit, session.observedImage(), 0.5, "the user's own pixels are back");
    assertEquals(ownI, session.observed().get("i"), 1e-12);
    assertArrayEquals(ownOnScreen, originalOnScreen(robot));
    assertTrue(shown(robot, "#typicality-warning"), "and so is the warning");
    assertFalse(shown(robot, "#own-image-note"));
  }

  @Test
  void aSavedCaseKeepsTheImageInUseAndTheUsersOwn(FxRobot robot) throws Exception {
    double[] digit = openRealDigit(robot);
    robot.clickOn("#bring-into-models-world");
    WaitForAsyncUtils.waitForFxEvents();
    double[] brought = app.view().session().observedImage();
    robot.interact(() -> app.view().slider("i").setValue(100));
    Path file = dir.resolve("case.json");
    robot.interact(() -> app.saveCase(file));
    robot.clickOn("#use-own-image");
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals(100, app.view().session().interventions().get("i"), 1e-9, "going back keeps the do()");

    robot.interact(() -> app.openCase(file));
    ExplorerSession session = app.view().session();
    assertArrayEquals(brought, session.observedImage(), 1e-9, "the image in use");
    assertEquals(100, session.interventions().get("i"), 1e-9);
    assertTrue(shown(robot, "#own-image-note"));
    robot.clickOn("#use-own-image");
    WaitForAsyncUtils.waitForFxEvents();
    assertArrayEquals(digit, app.view().session().observedImage(), 0.5, "and the user's own, to go back to");
  }
}
