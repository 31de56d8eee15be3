package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import javafx.scene.control.ChoiceBox;
import javafx.stage.Stage;
import org.deepscm.scm.LinearGaussianScm;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/** The explorer on a model of three scalar variables (x -> y -> z, x -> z): any saved model opens. */
@ExtendWith(ApplicationExtension.class)
class ExplorerPairTest {
  @TempDir
  static Path dir;
  private ExplorerApp app;

  @Start
  void start(Stage stage) throws Exception {
    Path folder = dir.resolve("linear-gaussian");
    var ranges = Map.of("x", new double[] {-4, 7}, "y", new double[] {-6, 6}, "z", new double[] {-8, 14});
    try (SavedModel m = new SavedModel("linear-gaussian", LinearGaussianScm.build(), ranges,
        new com.google.gson.JsonObject(), folder)) {
      ModelFolder.save(m, folder);
    }
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, folder);
    app.start(stage);
  }

  @Test
  void theDensityPanelOffersEveryPairAndFollowsTheChoice(FxRobot robot) {
    @SuppressWarnings("unchecked")
    ChoiceBox<String> pairs = robot.lookup("#density-pair").queryAs(ChoiceBox.class);
    assertEquals(3, pairs.getItems().size(), pairs.getItems().toString());
    assertEquals("x and y", pairs.getValue(), "a cause and its child first");
    robot.interact(() -> pairs.setValue("x and z"));
    DensityPanel d = app.view().densityPanel();
    assertEquals("x", d.xName());
    assertEquals("z", d.yName());
    double mass = 0;
    for (double[] row : d.density(0)) {
      for (double v : row) {
        mass += v * d.cellArea();
      }
    }
    assertTrue(mass > 0.9, "the sampled density of (x, z) holds the mass in the plotted range: " + mass);
    int before = d.trajectoryLength();
    robot.interact(() -> app.view().slider("x").setValue(3.0));
    assertEquals(before + 1, d.trajectoryLength(), "the new pair's panel follows the slider");
    assertTrue(robot.lookup("#node-z").tryQuery().isPresent(), "the graph shows all three variables");
  }
}
