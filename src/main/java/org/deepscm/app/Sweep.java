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
 * A case's counterfactual along one variable (its other interventions kept): a brain at ages 45, 50,
 * ... 75 years (radiological convention, R and L marked), a digit at thickness 1, 1.5, ... 5 px; as a
 * PNG strip or an animated GIF and a CSV of the counterfactual values: what a clinician takes into a
 * report and a teacher into a slide. Computed on its own session, off the UI thread.
 */
final class Sweep {
  /**
   * What is swept and what each frame's caption reports beside it.
   *
   * @param brain slices: R and L marked
   */
  record Spec(String variable, double[] values, String unit, String reported, String reportedUnit, boolean brain) {
    /** A brain's age from 45 to 75 years, its ventricle volume reported. */
    static final Spec AGE = new Spec("age", new double[] {45, 50, 55, 60, 65, 70, 75}, "years", "ventricle_volume",
        "ml", true);
    /** A digit's thickness from 1 to 5 px, its intensity reported (do(t) moves i). */
    static final Spec THICKNESS = new Spec("t", new double[] {1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5}, "px", "i", "",
        false);

    /** The sweep of a session's model, or null for a model without one (no image, or neither age nor t). */
    static Spec of(ExplorerSession s) {
      if (s.imageVariable() == null) {
        return null;
      }
      if (s.isBrain()) {
        return AGE;
      }
      boolean digits = s.scalars().stream().anyMatch(v -> v.name().equals("t"))
          && s.scalars().stream().anyMatch(v -> v.name().equals("i"));
      return digits ? THICKNESS : null;
    }

    /** The menu's words, e.g. "age sweep (45-75 years)". */
    String title() {
      return (brain ? "age" : "thickness") + " sweep (" + ExplorerView.fmtShort(values[0]) + "-"
          + ExplorerView.fmtShort(values[values.length - 1]) + " " + unit + ")";
    }

    String frame(int k) {
      return "do(" + variable + " = " + ExplorerView.fmtShort(values[k]) + " " + unit + ")";
    }

    String report(Map<String, Double> v) {
      String value = ExplorerView.fmt(v.get(reported));
      return brain ? "ventricles " + value + " " + reportedUnit : reported + " = " + value;
    }
  }

  private static final int ZOOM = 2;

  private Sweep() {}

  /** The counterfactuals, one per swept value. */
  record Result(Spec spec, List<Map<String, Double>> values, List<double[]> images, int height, int width) {}

  static Result compute(Spec spec, SavedModel model, Map<String, Double> observed, double[] image,
      Map<String, Double> dos, int particles) {
    ExplorerSession s = new ExplorerSession(model);
    s.setCase(observed, image);
    dos.forEach(s::intervene);
    List<Map<String, Double>> values = new ArrayList<>();
    List<double[]> images = new ArrayList<>();
    for (double value : spec.values()) {
      s.intervene(spec.variable(), value);
      ExplorerSession.Result r = s.counterfactual(particles);
      values.add(r.values());
      images.add(r.image());
    }
    s.release();
    return new Result(spec, values, images, s.imageHeight(), s.imageWidth());
  }

  /** A file name ending in .gif (any case) asks for the animation. */
  static boolean isGif(Path file) {
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gif");
  }

  /**
   * Writes the sweep to {@code file}, a PNG strip or (for a .gif name) an animation of one frame per value
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
    Spec spec = r.spec();
    // digits are small: drawn larger
    int zoom = r.width() <= 32 ? 6 : 3;
    int caption = 36;
    List<BufferedImage> frames = new ArrayList<>();
    for (int k = 0; k < spec.values().length; k++) {
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
      if (spec.brain()) {
        g.setColor(Color.YELLOW);
        g.drawString("R", 4, r.height() * zoom / 2);
        g.drawString("L", r.width() * zoom - 12, r.height() * zoom / 2);
      }
      g.setColor(Color.BLACK);
      g.drawString(spec.frame(k), 6, r.height() * zoom + 15);
      g.drawString(spec.report(r.values().get(k)), 6, r.height() * zoom + 31);
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
    Spec spec = r.spec();
    int zoom = r.width() <= 32 ? 4 : ZOOM;
    // wide enough for its caption
    int tile = Math.max(r.width() * zoom, 112);
    int caption = 34;
    int n = spec.values().length;
    BufferedImage img = new BufferedImage(n * tile, r.height() * zoom + caption, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int left = (tile - r.width() * zoom) / 2;
    for (int k = 0; k < n; k++) {
      double[] px = r.images().get(k);
      for (int y = 0; y < r.height() * zoom; y++) {
        for (int x = 0; x < r.width() * zoom; x++) {
          int v = (int) Math.round(Math.max(0, Math.min(255, px[(y / zoom) * r.width() + x / zoom])));
          img.setRGB(k * tile + left + x, y, (v << 16) | (v << 8) | v);
        }
      }
      g.setColor(Color.BLACK);
      g.drawString(spec.frame(k), k * tile + 4, r.height() * zoom + 14);
      g.drawString(spec.report(r.values().get(k)), k * tile + 4, r.height() * zoom + 28);
    }
    if (spec.brain()) {
      g.setColor(Color.YELLOW);
      g.drawString("R", left + 3, r.height() * zoom / 2);
      g.drawString("L", left + r.width() * zoom - 10, r.height() * zoom / 2);
    }
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
    Spec spec = r.spec();
    List<String> header = new ArrayList<>(List.of("do_" + spec.variable()));
    scalars.forEach(v -> header.add(v.name() + "_cf"));
    b.append(Csv.record(header)).append('\n');
    for (int k = 0; k < spec.values().length; k++) {
      List<String> row = new ArrayList<>(List.of(String.valueOf(spec.values()[k])));
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
