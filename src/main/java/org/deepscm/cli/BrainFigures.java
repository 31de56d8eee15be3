package org.deepscm.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.deepscm.data.brain.BrainMeasurer;
import org.deepscm.image.ImageMechanism;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTrueScm;
import org.deepscm.scm.Intervention;

/**
 * The README's pictures of the synthetic brain population: a grid of test subjects (young and old,
 * women and men, drawn by a seeded sample) and one subject's TRUE counterfactuals under do(age) and
 * do(ventricle volume). Every tile is labelled with its values; slices in radiological convention.
 */
final class BrainFigures {
  private static final int ZOOM = 2;
  private static final int TILE = BrainSliceRenderer.SIDE * ZOOM;
  private static final int CAPTION = 30;

  private BrainFigures() {}

  /** 4 rows (young women, young men, old women, old men) x 6 subjects of the given split. */
  static Path population(BrainDataset split, long seed, Path file) throws IOException {
    String[] names = {"women 44-54 y", "men 44-54 y", "women 65-73 y", "men 65-73 y"};  // completed years
    List<List<Integer>> groups = new ArrayList<>();
    for (int g = 0; g < 4; g++) {
      groups.add(new ArrayList<>());
    }
    for (int u = 0; u < split.size(); u++) {
      BrainTrueScm.Covariates c = split.covariates(u);
      int old = c.age() >= 65 ? 1 : c.age() < 55 ? 0 : -1;
      if (old >= 0) {
        groups.get(old * 2 + c.sex()).add(u);
      }
    }
    SplittableRandom rng = new SplittableRandom(seed);
    int cols = 6;
    int label = 110;
    BufferedImage img = canvas(label + cols * TILE, 4 * (TILE + CAPTION));
    Graphics2D g = graphics(img);
    for (int row = 0; row < 4; row++) {
      List<Integer> members = groups.get(row);
      if (members.size() < cols) {
        throw new IllegalArgumentException("--figures needs 6 test subjects of each group; this population's test split "
            + "has " + members.size() + " " + names[row] + ": use --subjects 2000 or more");
      }
      int y = row * (TILE + CAPTION);
      g.drawString(names[row], 6, y + TILE / 2);
      for (int col = 0; col < cols; col++) {
        int u = members.remove(rng.nextInt(members.size()));
        BrainTrueScm.Covariates c = split.covariates(u);
        tile(img, split.image(u), label + col * TILE, y);
        if (col == 0) {
          sides(g, label, y);
        }
        caption(g, label + col * TILE, y + TILE, String.format(Locale.ROOT, "%d y %s", (int) c.age(), c.sex() == 1 ? "M" : "F"),
            String.format(Locale.ROOT, "b %.0f v %.0f ml", c.brainMl(), c.ventricleMl()));
      }
    }
    g.dispose();
    return write(img, file);
  }

  /**
   * One subject, original first, then its true counterfactuals: row 1 under do(age = 45, 55, 65, 75),
   * row 2 under do(ventricle volume = 0.5, 1, 2, 3 times its own).
   */
  static Path counterfactuals(BrainSliceRenderer renderer, BrainDataset.Subject s, Path file) throws IOException {
    int label = 150;
    BufferedImage img = canvas(label + 5 * TILE, 2 * (TILE + CAPTION));
    Graphics2D g = graphics(img);
    BrainTrueScm.Covariates c = s.covariates();
    double[] ages = {45, 55, 65, 75};
    double[] factors = {0.5, 1, 2, 3};
    for (int row = 0; row < 2; row++) {
      int y = row * (TILE + CAPTION);
      g.drawString(row == 0 ? "do(age)" : "do(ventricles)", 6, y + TILE / 2 - 8);
      g.drawString(row == 0 ? "true counterfactual" : "x own volume", 6, y + TILE / 2 + 10);
      tile(img, render(renderer, c, s), label, y);
      sides(g, label, y);
      caption(g, label, y + TILE, String.format(Locale.ROOT, "observed %d y %s", (int) c.age(), c.sex() == 1 ? "M" : "F"),
          String.format(Locale.ROOT, "b %.0f v %.0f ml", c.brainMl(), c.ventricleMl()));
      for (int k = 0; k < 4; k++) {
        Map<String, Intervention> action = row == 0 ? Map.of("age", Intervention.set(ages[k]))
            : Map.of("ventricle_volume", Intervention.set(factors[k] * c.ventricleMl()));
        BrainTrueScm.Covariates cf = BrainTrueScm.counterfactual(s.noise(), action);
        tile(img, render(renderer, cf, s), label + (k + 1) * TILE, y);
        String head = row == 0 ? String.format(Locale.ROOT, "do(age=%.0f)", ages[k])
            : String.format(Locale.ROOT, "do(v=x%s)", factors[k] == 0.5 ? "0.5" : String.valueOf((int) factors[k]));
        caption(g, label + (k + 1) * TILE, y + TILE, head,
            String.format(Locale.ROOT, "b %.0f v %.0f ml", cf.brainMl(), cf.ventricleMl()));
      }
    }
    g.dispose();
    return write(img, file);
  }

  /** A column of the model figure: its heading and the do() it shows. */
  record Column(String heading, Map<String, Intervention> action) {}

  /**
   * The model figure's columns after the observed image: do(ventricle volume = 0.5, 2, 3 times its own),
   * do(brain volume = 0.9 times its own), do(age := 75).
   */
  static final List<Column> MODEL_COLUMNS = List.of(
      new Column("do(v x0.5)", Map.of("ventricle_volume", Intervention.scale(0.5))),
      new Column("do(v x2)", Map.of("ventricle_volume", Intervention.scale(2))),
      new Column("do(v x3)", Map.of("ventricle_volume", Intervention.scale(3))),
      new Column("do(b x0.9)", Map.of("brain_volume", Intervention.scale(0.9))),
      new Column("do(age := 75)", Map.of("age", Intervention.set(75))));

  /** The narrowest label column of the model figure; wider when a model's name needs it. */
  static final int MODEL_LABEL = 170;

  /** The model figure's caption under each tile: heading, then the two areas the measurer reads. */
  static final int MODEL_CAPTION = 44;

  /**
   * Model counterfactuals beside the TRUE ones: for each subject a row of TRUE counterfactual images
   * under the {@link #MODEL_COLUMNS}, then a row per model (32 particles). Each model is given the TRUE
   * counterfactual parents (brain and ventricle volume from the subject's own noise), so the picture
   * judges its image mechanism. Every tile is captioned with the ventricle and brain areas the measurer
   * (no learning) reads on it.
   */
  static Path modelCounterfactuals(BrainSliceRenderer renderer, List<BrainDataset.Subject> subjects,
      List<String> names, List<ImageMechanism> models, Path file) throws IOException {
    int label = labelWidth(MODEL_LABEL, names);
    int rows = subjects.size() * (1 + models.size());
    BufferedImage img = canvas(label + (1 + MODEL_COLUMNS.size()) * TILE, rows * (TILE + MODEL_CAPTION));
    Graphics2D g = graphics(img);
    int row = 0;
    for (BrainDataset.Subject s : subjects) {
      BrainTrueScm.Covariates c = s.covariates();
      double[] observed = render(renderer, c, s);
      for (int r = 0; r <= models.size(); r++, row++) {
        int y = row * (TILE + MODEL_CAPTION);
        g.drawString(r == 0 ? "TRUE counterfactual" : names.get(r - 1), 6, y + TILE / 2 - 16);
        g.drawString(String.format(Locale.ROOT, "subject %d: %d y %s", s.index(), (int) c.age(),
            c.sex() == 1 ? "M" : "F"), 6, y + TILE / 2 + 2);
        g.drawString(String.format(Locale.ROOT, "b %.0f ml, v %.0f ml", c.brainMl(), c.ventricleMl()), 6,
            y + TILE / 2 + 18);
        tile(img, observed, label, y);
        sides(g, label, y);
        areas(g, label, y + TILE, "observed", observed);
        for (int k = 0; k < MODEL_COLUMNS.size(); k++) {
          BrainTrueScm.Covariates star = BrainTrueScm.counterfactual(s.noise(), MODEL_COLUMNS.get(k).action());
          double[] cf = r == 0 ? render(renderer, star, s) : modelCounterfactual(models.get(r - 1), observed, c, star);
          tile(img, cf, label + (k + 1) * TILE, y);
          areas(g, label + (k + 1) * TILE, y + TILE, MODEL_COLUMNS.get(k).heading(), cf);
        }
      }
    }
    g.dispose();
    return write(img, file);
  }

  /** A label column at least {@code least} wide that holds each name in the figures' font, with margins. */
  static int labelWidth(int least, List<String> names) {
    BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = graphics(scratch);
    int width = least;
    for (String name : names) {
      width = Math.max(width, g.getFontMetrics().stringWidth(name) + 16);
    }
    g.dispose();
    return width;
  }

  /** A tile's heading and the ventricle and brain areas the measurer reads on it. */
  private static void areas(Graphics2D g, int x, int y, String heading, double[] pixels) {
    BrainMeasurer.Areas a = BrainMeasurer.measure(pixels);
    g.drawString(heading, x + 4, y + 12);
    g.drawString(String.format(Locale.ROOT, "v area %.0f mm2", a.ventricleMm2()), x + 4, y + 26);
    g.drawString(String.format(Locale.ROOT, "b area %.0f mm2", a.brainMm2()), x + 4, y + 40);
  }

  /** The model's counterfactual image of the observed one, its parents set to those of {@code star}. */
  private static double[] modelCounterfactual(ImageMechanism image, double[] observed, BrainTrueScm.Covariates c,
      BrainTrueScm.Covariates star) {
    try (NDManager m = NDManager.newBaseManager()) {
      float[] px = new float[observed.length];
      for (int p = 0; p < px.length; p++) {
        px[p] = (float) observed[p];
      }
      NDArray x = m.create(px, new Shape(1, BrainSliceRenderer.SIDE, BrainSliceRenderer.SIDE));
      Map<String, NDArray> pa = new java.util.HashMap<>();
      Map<String, NDArray> paStar = new java.util.HashMap<>();
      for (String name : image.parents()) {
        pa.put(name, m.create(new double[] {c.get(name)}));
        paStar.put(name, m.create(new double[] {star.get(name)}));
      }
      float[] cf = image.counterfactual(x, pa, paStar).toFloatArray();
      double[] out = new double[cf.length];
      for (int p = 0; p < cf.length; p++) {
        out[p] = cf[p];
      }
      return out;
    }
  }

  private static double[] render(BrainSliceRenderer renderer, BrainTrueScm.Covariates c, BrainDataset.Subject s) {
    float[] f = renderer.render(c.brainMl(), c.ventricleMl(), s.anatomy(), false).image();
    double[] out = new double[f.length];
    for (int p = 0; p < f.length; p++) {
      out[p] = f[p];
    }
    return out;
  }

  private static BufferedImage canvas(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.dispose();
    return img;
  }

  private static Graphics2D graphics(BufferedImage img) {
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    return g;
  }

  private static void tile(BufferedImage img, double[] pixels, int x0, int y0) {
    int side = BrainSliceRenderer.SIDE;
    for (int y = 0; y < TILE; y++) {
      for (int x = 0; x < TILE; x++) {
        int v = (int) Math.round(Math.max(0, Math.min(255, pixels[(y / ZOOM) * side + x / ZOOM])));
        img.setRGB(x0 + x, y0 + y, (v << 16) | (v << 8) | v);
      }
    }
  }

  /** R and L on a tile: the slices are in radiological convention (the subject's right on the left). */
  private static void sides(Graphics2D g, int x, int y) {
    Color before = g.getColor();
    g.setColor(Color.YELLOW);
    g.drawString("R", x + 3, y + TILE / 2 + 4);
    g.drawString("L", x + TILE - 10, y + TILE / 2 + 4);
    g.setColor(before);
  }

  private static void caption(Graphics2D g, int x, int y, String first, String second) {
    g.drawString(first, x + 4, y + 12);
    g.drawString(second, x + 4, y + 26);
  }

  /** Writes a figure as PNG, making its folder when missing. */
  static Path write(BufferedImage img, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    if (!ImageIO.write(img, "png", file.toFile())) {
      throw new IOException("no PNG writer for " + file);
    }
    return file;
  }
}
