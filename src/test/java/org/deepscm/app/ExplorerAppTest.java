package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import javafx.scene.control.DialogPane;
import javafx.scene.control.TableView;
import javafx.scene.text.Text;
import javafx.stage.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** The window as a user first sees it (headless: Monocle). */
@ExtendWith(ApplicationExtension.class)
class ExplorerAppTest {
  private ExplorerApp app;

  @Start
  void start(Stage stage) {
    app = new ExplorerApp();
    app.start(stage);
  }

  @Test
  void opensOnTheShippedModelWithItsGraphAndVariables(FxRobot robot) {
    Text t = robot.lookup("#node-t").queryAs(Text.class);
    Text i = robot.lookup("#node-i").queryAs(Text.class);
    assertTrue(t.getText().startsWith("t"), t.getText());
    assertTrue(i.getText().startsWith("i"), i.getText());
    assertTrue(t.getY() < i.getY(), "t is drawn above its child i");
    TableView<?> table = robot.lookup(".table-view").queryAs(TableView.class);
    assertEquals(2, table.getItems().size());
  }

  @Test
  void aBadModelFolderShowsADialogAndKeepsTheModel(FxRobot robot) {
    robot.interact(() -> app.load(Path.of("no-such-model")));
    WaitForAsyncUtils.waitForFxEvents();
    DialogPane dialog = robot.lookup(".dialog-pane").queryAs(DialogPane.class);
    assertTrue(dialog.getContentText().contains("does not exist"), dialog.getContentText());
    assertTrue(robot.lookup("#node-t").tryQuery().isPresent(), "the loaded model stays on screen");
  }
}
