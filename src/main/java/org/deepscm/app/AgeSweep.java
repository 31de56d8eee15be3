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
 * PNG strip (radiological convention, R and L marked) and a CSV of the counterfactual values: what
 * a clinician takes into a report or a slide. Computed on its own session, off the UI thread.
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

  /** Writes the strip to {@code png} and the values to the CSV beside it (same name, .csv). */
  static Path write(Result r, SavedModel model, Path png) throws IOException {
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
    Path csv = png.resolveSibling(png.getFileName().toString().replaceFirst("(?i)\\.png$", "") + ".csv");
    Path parent = png.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      throw new IOException("the folder " + parent + " does not exist");
    }
    List<Variable> scalars = model.scm().scalarPart().graph().topologicalOrder().stream()
        .map(model.scm().graph()::variable).toList();
    StringBuilder b = new StringBuilder();
    List<String> header = new ArrayList<>(List.of("do_age"));
    scalars.forEach(v -> header.add(v.name() + "_cf"));
    b.append(Csv.record(header)).append('\n');
    for (int k = 0; k < AGES.length; k++) {
      List<String> row = new ArrayList<>(List.of(String.valueOf(AGES[k])));
      for (Variable v : scalars) {
        row.add(String.valueOf(r.values().get(k).get(v.name())));
      }
      b.append(Csv.record(row)).append('\n');
    }
    if (!ImageIO.write(img, "png", png.toFile())) {
      throw new IOException("no PNG writer for " + png);
    }
    Files.writeString(csv, b.toString(), StandardCharsets.UTF_8);
    return csv;
  }
}
