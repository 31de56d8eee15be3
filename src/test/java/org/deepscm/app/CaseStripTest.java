package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javafx.collections.ListChangeListener;
import javafx.scene.Node;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.layout.FlowPane;
import javafx.stage.Stage;
import org.deepscm.AppPaths;
import org.deepscm.data.morphomnist.MnistDigits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** The case strip as the app runs it: pages rendered on a background thread. */
@ExtendWith(ApplicationExtension.class)
class CaseStripTest {
  private final LatestOnlyExecutor renderer = LatestOnlyExecutor.background();
  private CaseStrip strip;

  @Start
  void start(Stage stage) throws Exception {
    MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
    strip = new CaseStrip(CaseSource.morphoMnist(digits), renderer, ExplorerView::fx, picked -> { });
    stage.setScene(new Scene(new FlowPane(strip.root()), 1300, 240));
    stage.show();
  }

  @Test
  void theFirstPageWaitsWhileTheUserIsBusyAndAPageAskedForDoesNot(FxRobot robot) throws Exception {
    MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
    java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean(true);
    CaseStrip waiting = new CaseStrip(CaseSource.morphoMnist(digits), renderer, ExplorerView::fx, picked -> { },
        busy::get);
    robot.interact(waiting::showFirstPage);
    // a slider is held (or the model answering): the page that comes by itself waits
    Thread.sleep(600);
    assertEquals(-1, waiting.shownPage(), "no page while the user is busy");
    busy.set(false);
    // then comes a second after the user stopped, not a second per case (twenty cases)
    WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> waiting.shownPage() == 0);
    assertArrayEquals(waiting.unitsOf(0), waiting.shownUnits());
    // a page the user asks for comes at once, busy or not
    busy.set(true);
    Button next = (Button) waiting.root().lookup("#cases-next");
    robot.interact(next::fire);
    WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> waiting.shownPage() == 1);
  }

  @AfterEach
  void stopRenderer() {
    renderer.close();
  }

  @Test
  void aQuickDoubleClickShowsOnlyTheLatestPage(FxRobot robot) throws Exception {
    // nothing is rendered until the explorer asks (after its first answer)
    Thread.sleep(200);
    assertEquals(-1, strip.shownPage());
    robot.interact(strip::showFirstPage);
    WaitForAsyncUtils.waitFor(20, TimeUnit.SECONDS, () -> strip.shownPage() == 0);
    FlowPane thumbs = robot.lookup("#cases").queryAs(FlowPane.class);
    List<String> shown = new CopyOnWriteArrayList<>();
    thumbs.getChildren().addListener((ListChangeListener<Node>) c ->
        shown.add(((Button) c.getList().get(0)).getTooltip().getText()));
    Button next = robot.lookup("#cases-next").queryButton();
    robot.interact(next::fire);
    // the second page is still being rendered (about 160 ms) when the second click comes
    Thread.sleep(20);
    robot.interact(next::fire);
    WaitForAsyncUtils.waitFor(20, TimeUnit.SECONDS, () -> strip.shownPage() == 2);
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals(1, shown.size(), "only the latest page was put on screen: " + shown);
    assertTrue(shown.get(0).contains("test unit " + strip.unitsOf(2)[0] + ":"), shown.get(0));
    assertArrayEquals(strip.unitsOf(2), strip.shownUnits());
    assertEquals("cases 41-60 of 2000", robot.lookup("#cases-range").queryLabeled().getText());
  }
}
