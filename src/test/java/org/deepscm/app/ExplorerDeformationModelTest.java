package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import javafx.scene.control.ToggleButton;
import javafx.scene.image.Image;
import javafx.scene.image.ImageView;
import javafx.stage.Stage;
import org.deepscm.scm.ModelFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The shipped deformation brain model in the explorer: three times her ventricles on the slider, and the
 * difference panel switched to where tissue moves shows growth (red) where the ventricles are. With the system
 * property deepscm.tissueMotionShot=FILE it writes the window there, tissue motion on (the README's picture).
 */
@ExtendWith(ApplicationExtension.class)
class ExplorerDeformationModelTest {
  private static final Path MODEL = Path.of("models", "brain-deformation");
  private ExplorerApp app;
  private Stage stage;

  @Start
  void start(Stage stage) throws Exception {
    assumeTrue(Files.isRegularFile(MODEL.resolve(ModelFolder.MODEL_FILE)), "models/brain-deformation is shipped");
    this.stage = stage;
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, MODEL);
    app.start(stage);
  }

  @Test
  void threeTimesTheVentriclesShowWhereTissueGrows(FxRobot robot) {
    robot.interact(() -> {
      stage.setWidth(1366);
      stage.setHeight(768);
    });
    robot.interact(() -> app.view().resetInterventions());
    double v = app.view().session().observed().get("ventricle_volume");
    robot.interact(() -> app.view().slider("ventricle_volume").setValue(3 * v));
    WaitForAsyncUtils.waitForFxEvents();
    ExplorerSession.Result r = app.view().lastResult();
    assertTrue(r.motion() != null, "a deformation model's answer says where tissue moved");
    ToggleButton toggle = robot.lookup("#tissue-motion-toggle").queryAs(ToggleButton.class);
    assertFalse(app.view().showsTissueMotion(), "grey levels first");
    Image greyLevels = robot.lookup("#image-difference").queryAs(ImageView.class).getImage();
    robot.interact(() -> toggle.setSelected(true));
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(app.view().showsTissueMotion());
    Image motion = robot.lookup("#image-difference").queryAs(ImageView.class).getImage();
    assertTrue(motion != greyLevels, "the panel is redrawn");
    // the ventricles grow: the largest log area change is an expansion, and it is drawn red
    int w = app.view().session().imageWidth();
    int best = 0;
    for (int k = 1; k < r.motion().length; k++) {
      if (r.motion()[k] > r.motion()[best]) {
        best = k;
      }
    }
    assertTrue(r.motion()[best] > 0.1, "somewhere the area grows by more than 10 %: " + r.motion()[best]);
    javafx.scene.paint.Color c = motion.getPixelReader().getColor(best % w, best / w);
    assertTrue(c.getRed() > c.getBlue(), "growth is red: " + c);
    // the colour bar beside the map says its scale: area change, not grey levels
    assertEquals("+100 %\ngrows", robot.lookup("#colour-bar-top").queryLabeled().getText());
    assertEquals("-50 %\nshrinks", robot.lookup("#colour-bar-bottom").queryLabeled().getText());
    // the default model's extra toggle takes a row above the images: on a laptop they still come first
    robot.interact(() -> {
      stage.getScene().getRoot().applyCss();
      stage.getScene().getRoot().layout();
    });
    java.util.List<String> row = ExplorerLayoutTest.imageRowProblems(stage.getScene().getRoot(),
        ExplorerView.PRIORITY_IMAGE_WIDTH);
    assertTrue(row.isEmpty(), String.join("\n", row));
    String shot = System.getProperty("deepscm.tissueMotionShot");
    if (shot != null) {
      robot.interact(() -> app.exportPng(Path.of(shot)));
    }
    robot.interact(() -> toggle.setSelected(false));
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals("Difference", robot.lookup(".label").queryAllAs(javafx.scene.control.Label.class).stream()
        .map(javafx.scene.control.Label::getText).filter(t -> t.equals("Difference") || t.equals("Tissue motion"))
        .findFirst().orElse(""));
    assertEquals("-128\ndarker", robot.lookup("#colour-bar-bottom").queryLabeled().getText());
  }
}
