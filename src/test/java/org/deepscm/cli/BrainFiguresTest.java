package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainMeasurer;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTemplate;
import org.deepscm.image.ImageMechanism;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's strip of brain models against the TRUE counterfactuals, drawn with the shipped default model. */
class BrainFiguresTest {
  private static final int TILE = 2 * BrainSliceRenderer.SIDE;
  private static final int LABEL = 170;

  @TempDir
  Path dir;

  @Test
  void everyColumnMovesTheTruthAndTheModelRowFollowsIt() throws IOException {
    BrainSliceRenderer renderer = new BrainSliceRenderer(BrainTemplate.shipped());
    BrainDataset.Subject s = BrainDataset.subject(BrainDataset.DEFAULT_SEED, 11900);
    try (SavedModel m = ModelFolder.load(Path.of("models", "brain-deformation"))) {
      ImageMechanism image = (ImageMechanism) m.scm().mechanism("x");
      Path file = BrainFigures.modelCounterfactuals(renderer, List.of(s), List.of("brain-deformation"),
          List.of(image), dir.resolve("strip.png"));
      BufferedImage img = ImageIO.read(file.toFile());
      // a label column, the observed tile and one per column; the TRUE row and the model's, each a tile and a caption
      assertEquals(List.of("do(v x0.5)", "do(v x2)", "do(v x3)", "do(b x0.9)", "do(age := 75)"),
          BrainFigures.MODEL_COLUMNS.stream().map(BrainFigures.Column::heading).toList());
      assertEquals(LABEL + 6 * TILE, img.getWidth());
      assertEquals(2 * (TILE + BrainFigures.MODEL_CAPTION), img.getHeight());
      for (int row = 0; row < 2; row++) {
        double[] observed = tile(img, 0, row);
        for (int col = 1; col <= 5; col++) {
          double moved = meanAbsDifference(observed, tile(img, col, row));
          assertTrue(moved > 1, "row " + row + ", column " + col + " moved the image by " + moved);
        }
      }
      // the measurer reads the do() on the TRUE tiles: ventricles 0.5x < observed < 2x < 3x, a smaller brain at b x0.9
      double[] area = new double[6];
      for (int col = 0; col < 6; col++) {
        area[col] = BrainMeasurer.measure(tile(img, col, 0)).ventricleMm2();
      }
      assertTrue(area[1] < area[0] && area[0] < area[2] && area[2] < area[3], java.util.Arrays.toString(area));
      assertTrue(BrainMeasurer.measure(tile(img, 4, 0)).brainMm2() < BrainMeasurer.measure(tile(img, 0, 0)).brainMm2());
      // age 75 is older than the subject: the true world grows the ventricles
      assertTrue(s.covariates().age() < 75);
      assertTrue(area[5] > area[0], java.util.Arrays.toString(area));
      // the model follows do(v x3) on the same subject
      assertTrue(BrainMeasurer.measure(tile(img, 3, 1)).ventricleMm2() > BrainMeasurer.measure(tile(img, 0, 1)).ventricleMm2());
      assertTrue(BrainMeasurer.measure(tile(img, 4, 1)).brainMm2() < BrainMeasurer.measure(tile(img, 0, 1)).brainMm2(),
          "the model shrinks the brain under do(b x0.9)");
    }
  }

  /** A tile of the figure at 64 x 64, read back from its 2x zoom (top-left pixel of each block). */
  private static double[] tile(BufferedImage img, int col, int row) {
    int side = BrainSliceRenderer.SIDE;
    double[] out = new double[side * side];
    int x0 = LABEL + col * TILE;
    int y0 = row * (TILE + BrainFigures.MODEL_CAPTION);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        out[y * side + x] = img.getRGB(x0 + 2 * x, y0 + 2 * y) & 0xFF;
      }
    }
    return out;
  }

  private static double meanAbsDifference(double[] a, double[] b) {
    double sum = 0;
    for (int p = 0; p < a.length; p++) {
      sum += Math.abs(a[p] - b[p]);
    }
    return sum / a.length;
  }
}
