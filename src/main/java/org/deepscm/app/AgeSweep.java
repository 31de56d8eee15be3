package org.deepscm.app;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.deepscm.data.Csv;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.Variable;

/**
 * A brain case's counterfactual at ages 45, 50, ... 75 years (its other interventions kept), as a
 * PNG strip or an animated GIF (radiological convention, R and L marked) and a CSV of the counterfactual
 * values: what a clinician takes into a report and a teacher into a slide. Computed on its own session,
 * off the UI thread.
 */
final class AgeSweep {
  static final double[] AGES = {45, 50, 55, 60, 65, 70, 75};
  private static final int ZOOM = 2;

  private AgeSweep() {}

  /** The counterfactuals, one per age. */
  record Result(List<Map<String, Double>> values, List<double[]> images, int height, int width) {}

  static Result compute(SavedModel model, Map<String, Double> observed, double[] image, Map<String, Double> dos,
      int particles) {
    ExplorerSession s = new ExplorerSession(model);
    s.setCase(observed, image);
    dos.forEach(s::intervene);
    List<Map<String, Double>> values = new ArrayList<>();
    List<double[]> images = new ArrayList<>();
    for (double age : AGES) {
      s.intervene("age", age);
      ExplorerSession.Result r = s.counterfactual(particles);
      values.add(r.values());
      images.add(r.image());
    }
    return new Result(values, images, s.imageHeight(), s.imageWidth());
  }

  /** A file name ending in .gif (any case) asks for the animation. */
  static boolean isGif(Path file) {
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gif");
  }

  /**
   * Writes the sweep to {@code file}, a PNG strip or (for a .gif name) an animation of one frame per age
   * that loops, and the values to the CSV beside it (same name, .csv); returns the CSV.
   */
  static Path write(Result r, SavedModel model, Path file) throws IOException {
    if (isGif(file)) {
      return writeGif(r, model, file);
    }
    return writeStrip(r, model, file);
  }

  /** Frame time of the animation: slow enough to read the caption, quick enough to see the change. */
  static final int FRAME_MILLIS = 700;

  private static Path writeGif(Result r, SavedModel model, Path gif) throws IOException {
    Path csv = checkedCsv(gif);
    int zoom = 3;
    int caption = 36;
    List<BufferedImage> frames = new ArrayList<>();
    for (int k = 0; k < AGES.length; k++) {
      BufferedImage img = new BufferedImage(r.width() * zoom, r.height() * zoom + caption, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = img.createGraphics();
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, img.getWidth(), img.getHeight());
      double[] px = r.images().get(k);
      for (int y = 0; y < r.height() * zoom; y++) {
        for (int x = 0; x < r.width() * zoom; x++) {
          int v = (int) Math.round(Math.max(0, Math.min(255, px[(y / zoom) * r.width() + x / zoom])));
          img.setRGB(x, y, (v << 16) | (v << 8) | v);
        }
      }
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
      g.setColor(Color.YELLOW);
      g.drawString("R", 4, r.height() * zoom / 2);
      g.drawString("L", r.width() * zoom - 12, r.height() * zoom / 2);
      g.setColor(Color.BLACK);
      g.drawString(String.format(Locale.ROOT, "do(age = %.0f years)", AGES[k]), 6, r.height() * zoom + 15);
      g.drawString(String.format(Locale.ROOT, "ventricles %s ml", ExplorerView.fmt(r.values().get(k)
          .get("ventricle_volume"))), 6, r.height() * zoom + 31);
      g.dispose();
      frames.add(img);
    }
    AnimatedGif.write(frames, FRAME_MILLIS, gif);
    writeValues(r, model, csv);
    return csv;
  }

  private static Path checkedCsv(Path image) throws IOException {
    Path csv = image.resolveSibling(image.getFileName().toString().replaceFirst("(?i)\\.(png|gif)$", "") + ".csv");
    Path parent = image.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      throw new IOException("the folder " + parent + " does not exist");
    }
    return csv;
  }

  private static Path writeStrip(Result r, SavedModel model, Path png) throws IOException {
    int tile = r.width() * ZOOM;
    int caption = 34;
    BufferedImage img = new BufferedImage(AGES.length * tile, r.height() * ZOOM + caption, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int k = 0; k < AGES.length; k++) {
      double[] px = r.images().get(k);
      for (int y = 0; y < r.height() * ZOOM; y++) {
        for (int x = 0; x < tile; x++) {
          int v = (int) Math.round(Math.max(0, Math.min(255, px[(y / ZOOM) * r.width() + x / ZOOM])));
          img.setRGB(k * tile + x, y, (v << 16) | (v << 8) | v);
        }
      }
      g.setColor(Color.BLACK);
      Map<String, Double> v = r.values().get(k);
      g.drawString(String.format(Locale.ROOT, "do(age=%.0f)", AGES[k]), k * tile + 4, r.height() * ZOOM + 14);
      g.drawString(String.format(Locale.ROOT, "v %s ml", ExplorerView.fmt(v.get("ventricle_volume"))), k * tile + 4,
          r.height() * ZOOM + 28);
    }
    g.setColor(Color.YELLOW);
    g.drawString("R", 3, r.height() * ZOOM / 2);
    g.drawString("L", tile - 10, r.height() * ZOOM / 2);
    g.dispose();
    Path csv = checkedCsv(png);
    if (!ImageIO.write(img, "png", png.toFile())) {
      throw new IOException("no PNG writer for " + png);
    }
    writeValues(r, model, csv);
    return csv;
  }

  private static void writeValues(Result r, SavedModel model, Path csv) throws IOException {
    List<Variable> scalars = model.scm().scalarPart().graph().topologicalOrder().stream()
        .map(model.scm().graph()::variable).toList();
    StringBuilder b = new StringBuilder();
    List<String> header = new ArrayList<>(List.of("do_age"));
    scalars.forEach(v -> header.add(v.name() + "_cf"));
    b.append(Csv.record(header)).append('\n');
    for (int k = 0; k < AGES.length; k++) {
      List<String> row = new ArrayList<>(List.of(String.valueOf(AGES[k])));
      for (Variable v : scalars) {
        double value = r.values().get(k).get(v.name());
        // a category by its name (sex_cf: female), as everywhere in the explorer
        row.add(v.kind().isDiscrete() ? ExplorerView.display(v, value) : String.valueOf(value));
      }
      b.append(Csv.record(row)).append('\n');
    }
    Files.writeString(csv, b.toString(), StandardCharsets.UTF_8);
  }
}
