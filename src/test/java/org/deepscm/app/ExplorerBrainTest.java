package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.Slider;
import javafx.scene.image.Image;
import javafx.scene.image.ImageView;
import javafx.scene.layout.FlowPane;
import javafx.scene.text.Text;
import javafx.stage.Stage;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainTrueScm;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.train.BrainModels;
import org.deepscm.train.ScmBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The explorer on a brain model (small and untrained: the pixels must follow the sliders all the
 * same): brain test subjects in the case strip, the age slider, the slice orientation.
 */
@ExtendWith(ApplicationExtension.class)
class ExplorerBrainTest {
  private static Path modelDir;
  private ExplorerApp app;

  @Start
  void start(Stage stage) throws Exception {
    if (modelDir == null) {
      modelDir = Files.createTempDirectory("explorer-brain-model");
      ScmBuilder b = BrainModels.builder(true).imageArchitecture(ImageArchitecture.tiny(64, 64));
      Map<String, double[]> cols = new LinkedHashMap<>();
      for (String v : BrainTrueScm.VARIABLES) {
        cols.put(v, new double[500]);
      }
      for (int k = 0; k < 500; k++) {
        BrainTrueScm.Covariates c = BrainDataset.subject(3, k).covariates();
        for (String v : BrainTrueScm.VARIABLES) {
          cols.get(v)[k] = c.get(v);
        }
      }
      CovariateTable table = new CovariateTable(cols);
      try (SavedModel m = new SavedModel("tiny-brain", b.build(table, 1), b.trainingRanges(table), new JsonObject(),
          null)) {
        ModelFolder.save(m, modelDir);
      }
    }
    app = new ExplorerApp(LatestOnlyExecutor.inline(), Runnable::run, modelDir);
    app.start(stage);
  }

  @AfterAll
  static void clean() throws Exception {
    FxPixels.deleteTree(modelDir);
  }

  private static int[] pixels(Image img) {
    return FxPixels.of(img);
  }

  @Test
  void opensOnABrainTestSubjectWithWomenAndMenOfManyAgesInTheStrip(FxRobot robot) throws Exception {
    Map<String, Double> observed = app.view().session().observed();
    assertTrue(observed.get("age") >= 44 && observed.get("age") <= 73, "age " + observed);
    assertEquals(64, (int) robot.lookup("#image-original").queryAs(ImageView.class).getImage().getWidth());
    WaitForAsyncUtils.waitFor(20, TimeUnit.SECONDS, () -> app.caseStrip().shownPage() == 0);
    WaitForAsyncUtils.waitForFxEvents();
    FlowPane thumbs = robot.lookup("#cases").queryAs(FlowPane.class);
    int women = 0;
    int men = 0;
    java.util.Set<Integer> decades = new java.util.HashSet<>();
    for (Node n : thumbs.getChildren()) {
      String tip = ((Button) n).getTooltip().getText();
      assertTrue(tip.startsWith("test subject "), tip);
      women += tip.contains("woman") ? 1 : 0;
      men += tip.contains(": man") ? 1 : 0;
      java.util.regex.Matcher m = java.util.regex.Pattern.compile(", (\\d+) years").matcher(tip);
      assertTrue(m.find(), tip);
      decades.add(Integer.parseInt(m.group(1)) / 10);
    }
    assertEquals(20, women + men);
    assertTrue(women >= 8 && men >= 8, women + " women, " + men + " men");
    assertTrue(decades.size() >= 3, "age decades " + decades);
    robot.clickOn("#case-3");
    WaitForAsyncUtils.waitForFxEvents();
    String tip = robot.lookup("#case-3").queryAs(Button.class).getTooltip().getText();
    assertTrue(tip.contains(", " + (int) (double) app.view().session().observed().get("age") + " years"),
        "the picked subject is the case: " + tip);
  }

  @Test
  void movingTheVentricleSliderChangesTheCounterfactualSlice(FxRobot robot) {
    ImageView cf = robot.lookup("#image-counterfactual").queryAs(ImageView.class);
    int[] before = pixels(cf.getImage());
    robot.drag("#slider-ventricle_volume .thumb").moveBy(120, 0).drop();
    WaitForAsyncUtils.waitForFxEvents();
    int[] after = pixels(cf.getImage());
    int changed = 0;
    for (int k = 0; k < before.length; k++) {
      changed += before[k] != after[k] ? 1 : 0;
    }
    assertTrue(changed > 10, "pixels changed: " + changed);
    assertTrue(app.view().session().interventions().containsKey("ventricle_volume"), "do(ventricle_volume) is set");
  }

  /**
   * View > Lesson opened after a drag: step 1 (association) shows the case as observed, no do() in the graph or on
   * the sliders; when the lesson ends the user's own do() is back, whatever the lesson set meanwhile.
   */
  @Test
  void theLessonStartsFromTheObservedCaseAndGivesTheUsersInterventionsBack(FxRobot robot) {
    Slider ventricles = app.view().slider("ventricle_volume");
    double mine = ventricles.getMin() + 0.8 * (ventricles.getMax() - ventricles.getMin());
    robot.interact(() -> ventricles.setValue(mine));
    WaitForAsyncUtils.waitForFxEvents();
    Map<String, Double> before = app.view().session().interventions();
    assertEquals(mine, before.get("ventricle_volume"), 1e-9);

    robot.clickOn("View");
    robot.clickOn("#menu-lesson");
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(robot.lookup("#lesson-text").queryLabeled().getText().startsWith("1 / "));
    assertEquals(Map.of(), app.view().session().interventions(), "step 1: the case as observed");
    Text node = robot.lookup("#node-ventricle_volume").queryAs(Text.class);
    assertFalse(node.getText().contains("do("), "no do() in the graph: " + node.getText());
    assertFalse(app.view().doSwitch("ventricle_volume").isSelected(), "the do() switch is off");
    double observed = app.view().session().observed().get("ventricle_volume");
    assertEquals(observed, ventricles.getValue(), 1e-2, "the slider shows the observed value");

    // what the class does in the lesson is the lesson's
    robot.clickOn("#lesson-next");
    robot.interact(() -> app.view().doSwitch("age").setSelected(true));
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(app.view().session().interventions().containsKey("age"));
    robot.clickOn("#lesson-close");
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals(before, app.view().session().interventions(), "the user's settings are back");
    assertEquals(mine, ventricles.getValue(), 1e-9);
    assertTrue(app.view().doSwitch("ventricle_volume").isSelected());
    assertTrue(robot.lookup("#node-ventricle_volume").queryAs(Text.class).getText().startsWith("do(ventricle_volume)"));
    assertTrue(robot.lookup("#rungs").queryAs(org.controlsfx.control.SegmentedButton.class).getButtons().get(2)
        .isSelected(), "back on the counterfactual rung the user was on");
    assertEquals(-1, app.view().lessonStep());
  }

  @Test
  void theAgeSliderIntervenesOnAgeInYears(FxRobot robot) {
    double age = app.view().session().observed().get("age");
    robot.interact(() -> app.view().slider("age").setValue(70));
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals(70, app.view().session().interventions().get("age"), 1e-9);
    String line = robot.lookup("#cf-age").queryLabeled().getText();
    assertTrue(line.contains("counterfactual 70.0") && line.contains("(intervened)"), line);
    assertEquals(age, app.view().session().observed().get("age"), 0, "the observed case stays");
    assertEquals("do(age)", robot.lookup("#do-age").queryAs(org.controlsfx.control.ToggleSwitch.class).getText());
    assertEquals("do(brain_volume)", robot.lookup("#do-brain_volume").queryAs(org.controlsfx.control.ToggleSwitch.class)
        .getText());
  }

  @Test
  void doSexSwitchesTheCategoryAndTheAnswerSaysIt(FxRobot robot) {
    double observed = app.view().session().observed().get("sex");
    String other = observed == 0 ? "male" : "female";
    @SuppressWarnings("unchecked")
    javafx.scene.control.ChoiceBox<String> choice = robot.lookup("#choice-sex").queryAs(
        javafx.scene.control.ChoiceBox.class);
    robot.interact(() -> choice.setValue(other));
    WaitForAsyncUtils.waitForFxEvents();
    assertEquals(observed == 0 ? 1.0 : 0.0, app.view().session().interventions().get("sex"));
    String line = robot.lookup("#cf-sex").queryLabeled().getText();
    assertTrue(line.contains("counterfactual " + other) && line.contains("(intervened)"), line);
    assertTrue(robot.lookup("#do-sex").queryAs(org.controlsfx.control.ToggleSwitch.class).isSelected());
    robot.interact(() -> robot.lookup("#do-sex").queryAs(org.controlsfx.control.ToggleSwitch.class).setSelected(false));
    WaitForAsyncUtils.waitForFxEvents();
    assertFalse(app.view().session().interventions().containsKey("sex"));
  }

  @Test
  void opensANiftiVolumeAsTheSubjectsSliceWithTheGivenValues(FxRobot robot) {
    Map<String, Double> given = new LinkedHashMap<>();
    given.put("sex", 1.0);
    given.put("age", 66.0);
    given.put("brain_volume", 1250.0);
    given.put("ventricle_volume", 35.0);
    Map<String, Double>[] asked = new Map[1];
    robot.interact(() -> app.openImage(Path.of("resources", "brain", "colin27-slab.nii.gz"), guess -> {
      asked[0] = guess;
      return java.util.Optional.of(given);
    }));
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(asked[0].isEmpty(), "nothing is guessed for a brain: " + asked[0]);
    assertEquals(66.0, app.view().session().observed().get("age"));
    double[] slice = app.view().session().observedImage();
    assertEquals(64 * 64, slice.length);
    double max = java.util.Arrays.stream(slice).max().orElse(0);
    assertTrue(max >= 200 && max <= 255, "white matter brought to the synthetic scale: " + max);
    assertTrue(slice[0] < 5, "background in the corner: " + slice[0]);
  }

  @Test
  void aDigitSizedPngIsRefusedWithTheSizeNeeded(FxRobot robot) throws Exception {
    Path small = Files.createTempFile("digit", ".png");
    org.deepscm.data.ImageFiles.writeGrey(small, new double[28 * 28], 28, 28);
    double age = app.view().session().observed().get("age");
    robot.interact(() -> app.openImage(small, guess -> java.util.Optional.of(Map.of())));
    WaitForAsyncUtils.waitForFxEvents();
    javafx.scene.control.DialogPane dialog = robot.lookup(".dialog-pane").queryAs(javafx.scene.control.DialogPane.class);
    assertTrue(dialog.getContentText().contains("is 28x28 pixels; this model needs 64x64"), dialog.getContentText());
    assertEquals(age, app.view().session().observed().get("age"), "the case stays");
    Files.delete(small);
  }

  @Test
  void exportsAnAgeSweepAsAStripWithItsValues(FxRobot robot) throws Exception {
    Path dir = Files.createTempDirectory("sweep");
    Path png = dir.resolve("sweep.png");
    robot.interact(() -> app.view().slider("ventricle_volume").setValue(30));
    robot.interact(() -> app.exportSweep(png));
    WaitForAsyncUtils.waitForFxEvents();
    java.awt.image.BufferedImage strip = javax.imageio.ImageIO.read(png.toFile());
    assertEquals(7 * 128, strip.getWidth(), "seven slices of 64 x 64 at 2x");
    java.util.List<String> lines = Files.readAllLines(dir.resolve("sweep.csv"));
    assertEquals("do_age,sex_cf,age_cf,brain_volume_cf,ventricle_volume_cf", lines.get(0));
    assertEquals(8, lines.size());
    for (int k = 0; k < 7; k++) {
      String[] row = lines.get(k + 1).split(",");
      assertEquals(45 + 5 * k, Double.parseDouble(row[0]), 1e-9);
      assertEquals(45 + 5 * k, Double.parseDouble(row[2]), 1e-3, "the counterfactual age is the one asked");
      assertEquals(30, Double.parseDouble(row[4]), 1e-3, "do(ventricle_volume) is kept");
    }
    String said = robot.lookup("#status").queryAs(org.controlsfx.control.StatusBar.class).getText();
    assertTrue(said.startsWith("wrote the age sweep"), "the status bar says where: " + said);
  }

  @Test
  void exportsAnAgeSweepAsALoopingAnimatedGif(FxRobot robot) throws Exception {
    Path dir = Files.createTempDirectory("sweep");
    Path gif = dir.resolve("sweep.gif");
    robot.interact(() -> app.exportSweep(gif));
    WaitForAsyncUtils.waitForFxEvents();
    javax.imageio.ImageReader reader = javax.imageio.ImageIO.getImageReadersByFormatName("gif").next();
    try (var in = javax.imageio.ImageIO.createImageInputStream(gif.toFile())) {
      reader.setInput(in);
      assertEquals(7, reader.getNumImages(true), "one frame per age, 45 .. 75");
      java.awt.image.BufferedImage first = reader.read(0);
      java.awt.image.BufferedImage last = reader.read(6);
      assertEquals(64 * 3, first.getWidth(), "each frame a slice at 3x");
      // the captions under the slices (do(age = 45 years) .. 75) tell the frames apart (this untrained model's
      // slices may barely change)
      int differ = 0;
      for (int y = 64 * 3; y < first.getHeight(); y++) {
        for (int x = 0; x < 64 * 3; x++) {
          differ += first.getRGB(x, y) != last.getRGB(x, y) ? 1 : 0;
        }
      }
      assertTrue(differ > 10, "the first and the last frame say different ages: " + differ + " pixels differ");
      javax.imageio.metadata.IIOMetadataNode root = (javax.imageio.metadata.IIOMetadataNode) reader
          .getImageMetadata(0).getAsTree("javax_imageio_gif_image_1.0");
      String tree = root.getElementsByTagName("ApplicationExtension").getLength() > 0
          ? ((javax.imageio.metadata.IIOMetadataNode) root.getElementsByTagName("ApplicationExtension").item(0))
              .getAttribute("applicationID") : "";
      assertEquals("NETSCAPE", tree, "it loops");
    } finally {
      reader.dispose();
    }
    assertTrue(Files.isRegularFile(dir.resolve("sweep.csv")), "the values beside it");
    assertFalse(Files.exists(dir.resolve("sweep.gif.part")), "no half-written file left");
  }

  @Test
  void colourBlindSafeColoursRedrawTheDifferenceMapInOrangeAndPurple(FxRobot robot) {
    robot.interact(() -> app.view().slider("ventricle_volume").setValue(60));
    WaitForAsyncUtils.waitForFxEvents();
    ImageView diff = robot.lookup("#image-difference").queryAs(ImageView.class);
    int[] redBlue = pixels(diff.getImage());
    robot.clickOn("View");
    robot.clickOn("#menu-safe-colours");
    WaitForAsyncUtils.waitForFxEvents();
    int[] safe = pixels(diff.getImage());
    double[] d = app.view().lastResult().difference();
    int changed = 0;
    for (int k = 0; k < d.length; k++) {
      if (Math.abs(d[k]) > 1) {
        int expected = 0xff000000 | org.deepscm.data.ImageFiles.Diverging.ORANGE_PURPLE.rgb(d[k],
            ExplorerView.DIFFERENCE_RANGE);
        assertEquals(expected, safe[k], "pixel " + k + " of difference " + d[k]);
        changed += safe[k] != redBlue[k] ? 1 : 0;
      }
    }
    assertTrue(changed > 0, "the map was redrawn in the new colours");
    assertEquals(org.deepscm.data.ImageFiles.Diverging.ORANGE_PURPLE, app.view().differenceColours());
  }

  @Test
  void windowAndLevelChangeTheDisplayNotTheData(FxRobot robot) {
    ImageView original = robot.lookup("#image-original").queryAs(ImageView.class);
    int[] before = pixels(original.getImage());
    double[] data = app.view().session().observedImage();
    robot.interact(() -> {
      robot.lookup("#window").queryAs(javafx.scene.control.Slider.class).setValue(100);
      robot.lookup("#level").queryAs(javafx.scene.control.Slider.class).setValue(60);
    });
    WaitForAsyncUtils.waitForFxEvents();
    int[] after = pixels(original.getImage());
    // a pixel of grey level 60 now shows mid-grey; one above 110 shows white
    int brighter = 0;
    for (int k = 0; k < data.length; k++) {
      int shown = after[k] & 0xff;
      int expected = (int) Math.round(Math.max(0, Math.min(255, (data[k] - 10) / 100 * 255)));
      assertEquals(expected, shown, 1, "pixel " + k);
      brighter += (after[k] & 0xff) > (before[k] & 0xff) ? 1 : 0;
    }
    assertTrue(brighter > 500, "a narrow window on dark tissue brightens it: " + brighter);
    assertTrue(java.util.Arrays.equals(data, app.view().session().observedImage()), "the case is untouched");
    robot.interact(() -> robot.lookup("#window-reset").queryButton().fire());
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(java.util.Arrays.equals(before, pixels(original.getImage())), "full range shows the grey levels again");
  }

  @Test
  void theSliceOrientationIsStatedAndCanBeMirrored(FxRobot robot) {
    String radiological = robot.lookup("#orientation").queryLabeled().getText();
    assertTrue(radiological.startsWith("Radiological") && radiological.contains("R | L"), radiological);
    ImageView original = robot.lookup("#image-original").queryAs(ImageView.class);
    assertEquals(1, original.getScaleX());
    javafx.scene.control.ToggleButton toggle = robot.lookup("#orientation-toggle").queryAs(
        javafx.scene.control.ToggleButton.class);
    robot.interact(toggle::fire);
    WaitForAsyncUtils.waitForFxEvents();
    assertTrue(robot.lookup("#orientation").queryLabeled().getText().contains("L | R"));
    assertEquals(-1, original.getScaleX());
    assertEquals(-1, robot.lookup("#image-counterfactual").queryAs(ImageView.class).getScaleX());
    robot.interact(toggle::fire);
    WaitForAsyncUtils.waitForFxEvents();
    assertFalse(app.view().neurologicalView());
    assertEquals(1, original.getScaleX());
  }
}
