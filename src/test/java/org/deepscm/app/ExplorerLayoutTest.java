package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javafx.geometry.Bounds;
import javafx.scene.Node;
import javafx.scene.Parent;
import javafx.scene.control.ChoiceBox;
import javafx.scene.control.Labeled;
import javafx.scene.control.ScrollBar;
import javafx.scene.control.Slider;
import javafx.scene.image.ImageView;
import javafx.scene.text.Text;
import javafx.stage.Stage;
import org.controlsfx.control.ToggleSwitch;
import org.deepscm.scm.ModelFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The explorer at the screens it is used on: a clinic's 1366 x 768 laptop, 1600 x 1000, 1920 x 1080,
 * and a classroom's projector in presentation mode, on the brain and the Morpho-MNIST models, in every
 * rung, with a do() in force. Judged on the scene graph: every control and label lies inside the window and under no other,
 * no text is cut to "..." , no slider's tick labels run into each other, the density chart keeps a
 * readable height, at 1366 x 768 the main view needs no scroll bar and the brain's image panels are at least 1.5x
 * with their titles on one line, and the counterfactual's uncertainty view
 * (as large as the difference map), its line and its outline toggle are on screen. With the system property
 * deepscm.layoutShots=DIR it also writes each window there (the README's screenshots).
 */
@ExtendWith(ApplicationExtension.class)
class ExplorerLayoutTest {
  private static final Path BRAIN = Path.of("models", "brain-synthetic");
  private static final Path DIGITS = Path.of("models", "morphomnist-full");
  private static final Path DEFORMATION = Path.of("models", "brain-deformation");
  /** Screens: width, height, presentation mode (1) or not (0). */
  private static final int[][] SCREENS = {{1366, 768, 0}, {1600, 1000, 0}, {1920, 1080, 0}, {1920, 1080, 1}};

  private ExplorerApp app;
  private Stage stage;

  @Start
  void start(Stage stage) {
    assumeTrue(Files.isRegularFile(BRAIN.resolve(ModelFolder.MODEL_FILE)), "models/brain-synthetic is shipped");
    this.stage = stage;
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, BRAIN);
    app.start(stage);
  }

  @Test
  void theBrainModelFitsEveryScreenInEveryRung(FxRobot robot) {
    // a counterfactual that moves, as a clinician asks for it: three times her ventricle volume
    robot.interact(() -> app.view().slider("ventricle_volume").setValue(
        3 * app.view().session().observed().get("ventricle_volume")));
    WaitForAsyncUtils.waitForFxEvents();
    List<String> problems = check(robot, "brain");
    assertTrue(problems.isEmpty(), problems.size() + " layout problems:\n" + String.join("\n", problems));
  }

  @Test
  void theDefaultBrainModelWithTissueMotionFitsEveryScreenInEveryRung(FxRobot robot) {
    // the deformation model's Tissue motion toggle takes a row of its own above the images on a laptop
    assumeTrue(Files.isRegularFile(DEFORMATION.resolve(ModelFolder.MODEL_FILE)), "models/brain-deformation is shipped");
    robot.interact(() -> app.load(DEFORMATION));
    WaitForAsyncUtils.waitForFxEvents();
    robot.interact(() -> app.view().resetInterventions());
    robot.interact(() -> app.view().slider("ventricle_volume").setValue(
        3 * app.view().session().observed().get("ventricle_volume")));
    robot.interact(() -> app.view().setTissueMotion(true));
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(app.view().showsTissueMotion());
    List<String> problems = check(robot, "brain-deformation");
    assertTrue(problems.isEmpty(), problems.size() + " layout problems:\n" + String.join("\n", problems));
  }

  @Test
  void theMorphoMnistModelFitsEveryScreenInEveryRung(FxRobot robot) {
    assumeTrue(Files.isRegularFile(DIGITS.resolve(ModelFolder.MODEL_FILE)), "models/morphomnist-full is shipped");
    robot.interact(() -> app.load(DIGITS));
    WaitForAsyncUtils.waitForFxEvents();
    robot.interact(() -> app.view().slider("i").setValue(220));
    WaitForAsyncUtils.waitForFxEvents();
    List<String> problems = check(robot, "morphomnist");
    assertTrue(problems.isEmpty(), problems.size() + " layout problems:\n" + String.join("\n", problems));
  }

  private List<String> check(FxRobot robot, String model) {
    List<String> problems = new ArrayList<>();
    for (int[] screen : SCREENS) {
      robot.interact(() -> {
        stage.setWidth(screen[0]);
        stage.setHeight(screen[1]);
        app.setPresentationMode(screen[2] == 1);
      });
      for (int rung = 2; rung >= 0; rung--) {
        int r = rung;
        robot.interact(() -> app.view().showRung(r));
        WaitForAsyncUtils.waitForFxEvents();
        robot.interact(() -> {
          stage.getScene().getRoot().applyCss();
          stage.getScene().getRoot().layout();
        });
        String where = String.format(Locale.ROOT, "%s %dx%d%s, rung %d: ", model, screen[0], screen[1],
            screen[2] == 1 ? " presentation" : "", r + 1);
        String shots = System.getProperty("deepscm.layoutShots");
        if (shots != null) {
          robot.interact(() -> app.exportPng(Path.of(shots, String.format(Locale.ROOT, "%s-%dx%d%s-rung%d.png", model,
              screen[0], screen[1], screen[2] == 1 ? "-presentation" : "", r + 1))));
        }
        for (String p : problems(stage.getScene().getRoot(), stage.getScene().getWidth(),
            stage.getScene().getHeight(), screen[0] == 1366 && screen[2] == 0, r == 2)) {
          problems.add(where + p);
        }
        if (r == 2) {
          // the counterfactual's uncertainty beside its difference map, its line and the outline toggle: on screen
          for (String id : new String[] {"#image-difference", "#image-uncertainty", "#spread-summary",
              "#outline-toggle"}) {
            Node n = stage.getScene().getRoot().lookup(id);
            if (n == null || !visibleChain(n)) {
              problems.add(where + id + " is not shown");
              continue;
            }
            Bounds b = n.localToScene(n.getLayoutBounds());
            if (b.getWidth() < 1 || b.getMinX() < 0 || b.getMinY() < 0 || b.getMaxX() > stage.getScene().getWidth()
                || b.getMaxY() > stage.getScene().getHeight()) {
              problems.add(where + id + " is not inside the window: " + fmt(b));
            }
          }
          ImageView map = (ImageView) stage.getScene().getRoot().lookup("#image-uncertainty");
          ImageView diff = (ImageView) stage.getScene().getRoot().lookup("#image-difference");
          if (map != null && diff != null && map.getFitWidth() != diff.getFitWidth()) {
            problems.add(where + "the uncertainty view is " + map.getFitWidth() + " px wide, the difference map "
                + diff.getFitWidth());
          }
        }
        if (r == 2 && model.startsWith("brain") && screen[0] == 1366 && screen[2] == 0) {
          // a laptop's brain slices: the images before the chart, at least 1.5x with their titles on one line
          for (String p : imageRowProblems(stage.getScene().getRoot(), ExplorerView.PRIORITY_IMAGE_WIDTH)) {
            problems.add(where + p);
          }
        }
        if (screen[2] == 1) {
          // on a projector the causal graph is read from the back of the room: never shrunk below its own size
          for (Node n : stage.getScene().getRoot().lookupAll("Text")) {
            if (n.getId() != null && n.getId().startsWith("node-") && visibleChain(n)) {
              double shown = n.localToScene(n.getLayoutBounds()).getHeight() / n.getLayoutBounds().getHeight();
              if (shown < 1) {
                problems.add(where + String.format(Locale.ROOT, "the graph's %s is drawn at %.2f of its size",
                    n.getId(), shown));
              }
            }
          }
        }
      }
    }
    return problems;
  }

  /** What is wrong with the layout of {@code root} in a scene of the given size. */
  static List<String> problems(Parent root, double width, double height, boolean noScrollBars,
      boolean densityShown) {
    List<String> out = new ArrayList<>();
    List<Node> leaves = new ArrayList<>();
    collect(root, leaves);
    for (Node n : leaves) {
      Bounds b = n.localToScene(n.getLayoutBounds());
      if (b.getWidth() < 1 || b.getHeight() < 1) {
        continue;
      }
      if (b.getMinX() < -1 || b.getMinY() < -1 || b.getMaxX() > width + 1 || b.getMaxY() > height + 1) {
        out.add(describe(n) + " lies outside the window: " + fmt(b));
      }
      if (n instanceof Labeled l) {
        Text shown = (Text) l.lookup(".text");
        if (shown != null && l.getText() != null && !l.getText().isEmpty() && !shown.getText().equals(l.getText())
            && shown.getText().endsWith(l.getEllipsisString())) {
          out.add(describe(n) + " is cut to \"" + shown.getText() + "\"");
        }
      }
      if (n instanceof Slider s) {
        List<Node> ticks = new ArrayList<>(s.lookupAll(".axis Text"));
        ticks.removeIf(t -> !t.isVisible() || ((Text) t).getText().isBlank());
        for (int i = 0; i < ticks.size(); i++) {
          for (int j = i + 1; j < ticks.size(); j++) {
            Bounds a = ticks.get(i).localToScene(ticks.get(i).getBoundsInLocal());
            Bounds c = ticks.get(j).localToScene(ticks.get(j).getBoundsInLocal());
            if (a.intersects(c)) {
              out.add(describe(n) + ": tick labels \"" + ((Text) ticks.get(i)).getText() + "\" and \""
                  + ((Text) ticks.get(j)).getText() + "\" run into each other");
            }
          }
        }
      }
    }
    for (int i = 0; i < leaves.size(); i++) {
      Bounds a = leaves.get(i).localToScene(leaves.get(i).getLayoutBounds());
      for (int j = i + 1; j < leaves.size(); j++) {
        Bounds c = leaves.get(j).localToScene(leaves.get(j).getLayoutBounds());
        double w = Math.min(a.getMaxX(), c.getMaxX()) - Math.max(a.getMinX(), c.getMinX());
        double h = Math.min(a.getMaxY(), c.getMaxY()) - Math.max(a.getMinY(), c.getMinY());
        // a pixel's overlap is anti-aliasing, not a collision
        if (w > 2 && h > 2) {
          out.add(describe(leaves.get(i)) + " and " + describe(leaves.get(j)) + " overlap: " + fmt(a) + " / " + fmt(c));
        }
      }
    }
    if (noScrollBars) {
      for (Node n : root.lookupAll(".scroll-bar")) {
        if (n instanceof ScrollBar sb && sb.isVisible() && visibleChain(sb) && sb.getVisibleAmount() < sb.getMax()
            - sb.getMin()) {
          out.add("a " + sb.getOrientation().toString().toLowerCase(Locale.ROOT) + " scroll bar is shown");
        }
      }
    }
    if (densityShown) {
      Node chart = root.lookup("#density");
      if (chart != null && visibleChain(chart)) {
        Bounds b = chart.localToScene(chart.getLayoutBounds());
        // inside everything that holds it (the tabs, the scrolled centre): below an edge it is cut off, its axis
        // title first
        for (Node p = chart.getParent(); p != null; p = p.getParent()) {
          Bounds t = p.localToScene(p.getLayoutBounds());
          if (b.getMaxY() > t.getMaxY() + 1) {
            out.add(String.format(Locale.ROOT, "the density chart ends at y %.0f, below the edge of %s at %.0f",
                b.getMaxY(), describe(p), t.getMaxY()));
            break;
          }
        }
        if (b.getHeight() < ExplorerView.MIN_CHART_HEIGHT) {
          out.add(String.format(Locale.ROOT, "the density chart is %.0f px high (at least %.0f)", b.getHeight(),
              ExplorerView.MIN_CHART_HEIGHT));
        }
      }
    }
    return out;
  }

  /**
   * What is wrong with the counterfactual's image row: a panel narrower than {@code leastWidth}, or a title wrapped
   * onto a second line (taller than the original's title, which is one short word).
   */
  static List<String> imageRowProblems(Parent root, double leastWidth) {
    List<String> out = new ArrayList<>();
    for (String id : new String[] {"#image-original", "#image-counterfactual", "#image-difference",
        "#image-uncertainty"}) {
      ImageView v = (ImageView) root.lookup(id);
      if (v == null) {
        out.add(id + " is missing");
      } else if (v.getFitWidth() < leastWidth) {
        out.add(String.format(Locale.ROOT, "%s is %.0f px wide (at least %.0f)", id, v.getFitWidth(), leastWidth));
      }
    }
    Node original = root.lookup("#image-original");
    Parent row = original == null || original.getParent() == null ? null : original.getParent().getParent();
    if (row != null) {
      double oneLine = ((Labeled) ((Parent) original.getParent()).getChildrenUnmodifiable().get(0)).getHeight();
      for (Node panel : row.getChildrenUnmodifiable()) {
        if (panel instanceof Parent p && !p.getChildrenUnmodifiable().isEmpty()
            && p.getChildrenUnmodifiable().get(0) instanceof Labeled title && title.getHeight() > oneLine + 1) {
          out.add(String.format(Locale.ROOT, "the title \"%s\" wraps: %.0f px high, one line is %.0f", title.getText(),
              title.getHeight(), oneLine));
        }
      }
    }
    return out;
  }

  /** The nodes a user reads or touches: labels, buttons, sliders, switches, choices, images (visible ones). */
  private static void collect(Node n, List<Node> out) {
    if (!n.isVisible() || n.getOpacity() == 0) {
      return;
    }
    if (n instanceof Labeled || n instanceof Slider || n instanceof ToggleSwitch || n instanceof ChoiceBox<?>
        || n instanceof ImageView || n instanceof Text t && !t.getText().isBlank()) {
      out.add(n);
      return; // a control's own parts are its business
    }
    if (n.getStyleClass().contains("menu-bar") || n.getStyleClass().contains("tab-header-area")
        || n.getStyleClass().contains("scroll-bar")) {
      return;
    }
    if (n instanceof Parent p) {
      for (Node c : p.getChildrenUnmodifiable()) {
        collect(c, out);
      }
    }
  }

  private static boolean visibleChain(Node n) {
    for (Node p = n; p != null; p = p.getParent()) {
      if (!p.isVisible()) {
        return false;
      }
    }
    return true;
  }

  private static String describe(Node n) {
    String text = n instanceof Labeled l && l.getText() != null ? " \"" + l.getText().replace('\n', ' ') + "\"" : "";
    String id = n.getId() != null ? "#" + n.getId() : "";
    for (Node p = n.getParent(); id.isEmpty() && p != null; p = p.getParent()) {
      if (p.getId() != null) {
        id = "in #" + p.getId();
      }
    }
    return n.getClass().getSimpleName() + text + " " + id;
  }

  private static String fmt(Bounds b) {
    return String.format(Locale.ROOT, "[%.0f..%.0f x %.0f..%.0f]", b.getMinX(), b.getMaxX(), b.getMinY(), b.getMaxY());
  }
}
