package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import javafx.scene.control.DialogPane;
import javafx.scene.control.Label;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The explorer started on a model folder it cannot read (`explore --model BROKEN`, a damaged install): the
 * window opens, says why, and another model can still be opened. It used to end in an exception from the
 * error dialog, whose owner window had no scene yet.
 */
@ExtendWith(ApplicationExtension.class)
class ExplorerBadStartModelTest {
  private ExplorerApp app;
  private Stage stage;

  @Start
  void start(Stage stage) throws Exception {
    Path broken = Files.createTempDirectory("broken-model");
    Files.writeString(broken.resolve("model.json"), "{ this is not a model");
    this.stage = stage;
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, broken);
    app.start(stage);
  }

  @Test
  void aModelThatCannotBeReadAtStartIsReportedAndAnotherCanBeOpened(FxRobot robot) {
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(stage.isShowing(), "the window is open");
    DialogPane dialog = robot.lookup(".dialog-pane").queryAs(DialogPane.class);
    assertTrue(dialog.getHeaderText().startsWith("Cannot open model"), dialog.getHeaderText());
    String said = robot.lookup(".label").queryAllAs(Label.class).stream().map(Label::getText)
        .filter(text -> text != null && text.startsWith("No model loaded")).findFirst().orElse("");
    assertTrue(!said.isEmpty(), "the window says that no model is loaded");
    robot.interact(() -> app.load(ExplorerApp.COVARIATE_MODEL));
    robot.interact(() -> app.view().slider("t").setValue(4.0));
    assertEquals(4.0, app.view().lastResult().values().get("t"), 1e-4, "the model opened afterwards answers");
  }
}
