package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.image.ImageArchitecture;
import org.deepscm.image.VaeImageMechanism;
import org.deepscm.scm.SavedModel;
import org.deepscm.train.MorphoMnistModels;
import org.deepscm.train.ScmBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's strip of Morpho-MNIST models against the TRUE counterfactuals. */
class MorphoMnistFiguresTest {
  @TempDir
  Path dir;

  @Test
  void digitsOfDistinctClassesInTheMiddleOfTheRangeOneRowPerModelAndTheTruth() throws IOException {
    MnistDigits digits = MnistDigits.load(Path.of("resources", "mnist"));
    // a class-stratified sample (the split is ordered by class: its first units are all zeros)
    int[] sample = org.deepscm.data.StratifiedSample.of(
        MorphoMnistDataset.labels(digits, MorphoMnistDataset.Split.TEST), 200, 3);
    MorphoMnistDataset test = MorphoMnistDataset.render(digits, MorphoMnistDataset.Split.TEST,
        MorphoMnistDataset.DEFAULT_SEED, sample);
    List<Integer> units = MorphoMnistFigures.chooseUnits(test, 3, 1);
    assertEquals(3, units.size());
    Set<Integer> classes = new HashSet<>();
    for (int u : units) {
      classes.add(test.label(u));
      assertTrue(test.thickness(u) >= 1.8 && test.thickness(u) <= 3.2, "thickness of unit " + u);
      assertTrue(test.intensity(u) >= 110 && test.intensity(u) <= 190, "intensity of unit " + u);
    }
    assertEquals(3, classes.size(), "three different digits");
    assertEquals(units, MorphoMnistFigures.chooseUnits(test, 3, 1), "the same seed, the same digits");

    ScmBuilder b = MorphoMnistModels.builder("full", true).imageArchitecture(ImageArchitecture.tiny(28, 28));
    var table = MorphoMnistTrueScm.draw(500, 3);
    try (SavedModel m = new SavedModel("tiny", b.build(table, 1), b.trainingRanges(table), new JsonObject(), null)) {
      VaeImageMechanism image = (VaeImageMechanism) m.scm().mechanism("x");
      Path file = MorphoMnistFigures.modelCounterfactuals(digits, test, units, List.of("a", "b"),
          List.of(image, image), dir.resolve("strip.png"));
      BufferedImage img = ImageIO.read(file.toFile());
      assertEquals(List.of("do(i := 80)", "do(i := 200)", "do(t := 1.5)", "do(t := 4)"), MorphoMnistFigures.COLUMNS);
      // a label column and five tiles of 4 x 28 px; three digits x (truth + two models) rows of tile + caption
      assertEquals(150 + 5 * 112, img.getWidth());
      assertEquals(3 * 3 * (112 + 30), img.getHeight());
      // a model's name longer than the label column widens it, so that it does not run under the first tile
      String longName = "morphomnist-full-finetuned";
      file = MorphoMnistFigures.modelCounterfactuals(digits, test, units.subList(0, 1), List.of(longName),
          List.of(image), dir.resolve("long.png"));
      int label = ImageIO.read(file.toFile()).getWidth() - 5 * 112;
      java.awt.Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
      g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12));
      int nameWidth = g.getFontMetrics().stringWidth(longName);
      g.dispose();
      assertTrue(label > 150 && label >= 6 + nameWidth, "label column " + label + " px for a name of " + nameWidth + " px");
    }
  }
}
