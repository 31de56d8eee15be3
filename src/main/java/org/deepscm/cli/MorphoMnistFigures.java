package org.deepscm.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.image.ImageMechanism;
import org.deepscm.scm.Intervention;

/**
 * The README's picture of Morpho-MNIST image models against the truth: for a few test digits, the
 * observed image, its TRUE counterfactuals (paper Eq. 7 with the digit's own noise) and each model's
 * under do(i := 80), do(i := 200), do(t := 1.5) and do(t := 4). Every tile is captioned with the
 * thickness and intensity the morphometrics measure on it, so the picture shows how far each model
 * went. The models get the TRUE counterfactual parents, so the picture judges their image mechanism.
 */
final class MorphoMnistFigures {
  private static final int ZOOM = 4;
  private static final int TILE = MnistDigits.SIDE * ZOOM;
  private static final int CAPTION = 30;
  /** The narrowest label column; wider when a model's name needs it. */
  static final int LABEL = 150;

  /** The interventions of the columns, after the observed image. */
  static final List<String> COLUMNS = List.of("do(i := 80)", "do(i := 200)", "do(t := 1.5)", "do(t := 4)");

  private MorphoMnistFigures() {}

  /**
   * Test digits for the figure: a seeded walk through the split that takes digits of distinct
   * classes with thickness 1.8-3.2 px and intensity 110-190, so that every column moves them.
   */
  static List<Integer> chooseUnits(MorphoMnistDataset test, int count, long seed) {
    int[] classes = new int[test.size()];
    for (int u = 0; u < classes.length; u++) {
      classes[u] = test.label(u);
    }
    int[] order = org.deepscm.data.StratifiedSample.interleaved(classes, seed);
    List<Integer> chosen = new ArrayList<>();
    boolean[] classTaken = new boolean[10];
    for (int u : order) {
      if (chosen.size() == count) {
        break;
      }
      double t = test.thickness(u);
      double i = test.intensity(u);
      if (!classTaken[test.label(u)] && t >= 1.8 && t <= 3.2 && i >= 110 && i <= 190) {
        classTaken[test.label(u)] = true;
        chosen.add(u);
      }
    }
    return chosen;
  }

  static Path modelCounterfactuals(MnistDigits digits, MorphoMnistDataset test, List<Integer> units,
      List<String> names, List<ImageMechanism> models, Path file) throws IOException {
    int rows = units.size() * (1 + models.size());
    int label = BrainFigures.labelWidth(LABEL, names);
    BufferedImage img = new BufferedImage(label + (1 + COLUMNS.size()) * TILE, rows * (TILE + CAPTION),
        BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int row = 0;
    for (int unit : units) {
      double[] observed = test.image(unit);
      double[] digit = digits.imageDoubles(test.digit(unit));
      for (int r = 0; r <= models.size(); r++, row++) {
        int y = row * (TILE + CAPTION);
        g.drawString(r == 0 ? "TRUE counterfactual" : names.get(r - 1), 6, y + TILE / 2 - 8);
        g.drawString(String.format(Locale.ROOT, "test digit %d (a %d)", unit, test.label(unit)), 6,
            y + TILE / 2 + 10);
        tile(img, observed, label, y);
        caption(g, label, y + TILE, "observed", observed);
        for (int k = 0; k < COLUMNS.size(); k++) {
          Intervention doT = k >= 2 ? Intervention.set(k == 2 ? 1.5 : 4) : null;
          Intervention doI = k < 2 ? Intervention.set(k == 0 ? 80 : 200) : null;
          double[] star = MorphoMnistTrueScm.counterfactualCovariates(test.epsT(unit), test.epsI(unit), doT, doI);
          double[] cf = r == 0
              ? MorphoMnistTrueScm.image(digit, star[0], star[1])
              : modelCounterfactual(models.get(r - 1), observed, test.thickness(unit), test.intensity(unit), star);
          tile(img, cf, label + (k + 1) * TILE, y);
          caption(g, label + (k + 1) * TILE, y + TILE, COLUMNS.get(k), cf);
        }
      }
    }
    g.dispose();
    return BrainFigures.write(img, file);
  }

  private static double[] modelCounterfactual(ImageMechanism image, double[] observed, double t, double i,
      double[] star) {
    try (NDManager m = NDManager.newBaseManager()) {
      float[] px = new float[observed.length];
      for (int p = 0; p < px.length; p++) {
        px[p] = (float) observed[p];
      }
      NDArray x = m.create(px, new Shape(1, MnistDigits.SIDE, MnistDigits.SIDE));
      Map<String, NDArray> pa = Map.of("t", m.create(new double[] {t}), "i", m.create(new double[] {i}));
      Map<String, NDArray> paStar = Map.of("t", m.create(new double[] {star[0]}),
          "i", m.create(new double[] {star[1]}));
      float[] cf = image.counterfactual(x, pa, paStar).toFloatArray();
      double[] out = new double[cf.length];
      for (int p = 0; p < cf.length; p++) {
        out[p] = cf[p];
      }
      return out;
    }
  }

  private static void tile(BufferedImage img, double[] pixels, int x0, int y0) {
    for (int y = 0; y < TILE; y++) {
      for (int x = 0; x < TILE; x++) {
        int v = (int) Math.round(Math.max(0, Math.min(255,
            pixels[(y / ZOOM) * MnistDigits.SIDE + x / ZOOM])));
        img.setRGB(x0 + x, y0 + y, (v << 16) | (v << 8) | v);
      }
    }
  }

  /** The column's name and what the morphometrics read on the tile. */
  private static void caption(Graphics2D g, int x, int y, String first, double[] pixels) {
    g.drawString(first, x + 4, y + 12);
    g.drawString(String.format(Locale.ROOT, "t %.1f  i %.0f", Morphology.measureThickness(pixels),
        Morphology.measureIntensity(pixels)), x + 4, y + 26);
  }
}
