package org.deepscm.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Grey-level images as files (PNG): reading a user's image with checks that name what is wrong,
 * and writing images and difference maps.
 */
public final class ImageFiles {
  private ImageFiles() {}

  /** A grey image read from a file, and whether colour had to be dropped. */
  public record Grey(double[] pixels, int height, int width, boolean wasColour) {
    /** True when every pixel has one grey level: there is no stroke (no foreground) to work on. */
    public boolean isBlank() {
      for (double p : pixels) {
        if (p != pixels[0]) {
          return false;
        }
      }
      return true;
    }
  }

  /** What a file's first bytes say it is: PNG, JPEG, GIF, BMP, or "no known image format". */
  static String contentKind(Path file) throws IOException {
    byte[] head = new byte[8];
    int n;
    try (var in = Files.newInputStream(file)) {
      n = in.readNBytes(head, 0, head.length);
    }
    int b0 = n > 0 ? head[0] & 0xff : -1;
    int b1 = n > 1 ? head[1] & 0xff : -1;
    if (n >= 8 && b0 == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G') {
      return "PNG";
    }
    if (b0 == 0xff && b1 == 0xd8) {
      return "JPEG";
    }
    if (n >= 3 && head[0] == 'G' && head[1] == 'I' && head[2] == 'F') {
      return "GIF";
    }
    if (n >= 2 && head[0] == 'B' && head[1] == 'M') {
      return "BMP";
    }
    return n == 0 ? "nothing (an empty file)" : "no known image format";
  }

  /**
   * Reads a PNG (or any format ImageIO knows) as grey levels 0..255, row-major.
   *
   * @throws IOException when the file is missing, not an image, or not {@code height} x {@code width}
   */
  public static Grey read(Path file, int height, int width) throws IOException {
    if (Files.isDirectory(file)) {
      throw new IOException(file + " is a folder, not an image file; give a PNG file");
    }
    if (!Files.isRegularFile(file)) {
      throw new IOException("image file " + file + " does not exist");
    }
    String kind = contentKind(file);
    if (file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png") && !kind.equals("PNG")) {
      throw new IOException(file + " is named .png but holds " + kind + "; save it as PNG (grey levels, lossless)");
    }
    BufferedImage img;
    try {
      img = ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      throw new IOException(file + " is not a readable image: " + e.getMessage(), e);
    }
    if (img == null) {
      throw new IOException(file + " is not an image format this app reads (use PNG)");
    }
    if (img.getHeight() != height || img.getWidth() != width) {
      throw new IOException(file + " is " + img.getWidth() + "x" + img.getHeight() + " pixels; this model needs "
          + width + "x" + height);
    }
    double[] px = new double[height * width];
    var raster = img.getRaster();
    if (raster.getNumBands() <= 2 && img.getColorModel().getNumColorComponents() == 1) {
      // grey PNGs: read the stored levels (getRGB would pass them through a gamma conversion)
      int bits = img.getColorModel().getComponentSize(0);
      double scale = 255.0 / ((1 << bits) - 1);
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          px[y * width + x] = Math.round(raster.getSample(x, y, 0) * scale);
        }
      }
      return new Grey(px, height, width, false);
    }
    boolean grey = true;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int rgb = img.getRGB(x, y);
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        grey &= r == g && g == b;
        px[y * width + x] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      }
    }
    return new Grey(px, height, width, !grey);
  }

  /** Writes grey levels (clipped to 0..255) as an 8-bit PNG. */
  public static void writeGrey(Path file, double[] pixels, int height, int width) throws IOException {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int v = (int) Math.round(Math.max(0, Math.min(255, pixels[y * width + x])));
        img.getRaster().setSample(x, y, 0, v);
      }
    }
    write(img, file);
  }

  /**
   * Writes a difference map (counterfactual minus original) in a diverging colour map centred at
   * zero: red where the counterfactual is brighter, blue where it is darker, white for no change;
   * the colour scale is symmetric, +-{@code range} grey levels.
   */
  public static void writeDifference(Path file, double[] difference, int height, int width, double range)
      throws IOException {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        img.setRGB(x, y, diverging(difference[y * width + x], range));
      }
    }
    write(img, file);
  }

  /** Blue (-range) - white (0) - red (+range) as 0xRRGGBB. */
  public static int diverging(double value, double range) {
    return Diverging.RED_BLUE.rgb(value, range);
  }

  /**
   * The difference map's colours: white at zero, towards one colour for brighter and another for darker.
   * Red-blue is the default; orange-purple (ColorBrewer's PuOr ends) stays distinct for every common colour
   * vision deficiency, where red and blue can lose their contrast in print or on a projector.
   */
  public enum Diverging {
    RED_BLUE("red brighter, blue darker", 0xff0000, 0x0000ff),
    ORANGE_PURPLE("orange brighter, purple darker", 0xe66101, 0x5e3c99);

    private final String legend;
    private final int brighter;
    private final int darker;

    Diverging(String legend, int brighter, int darker) {
      this.legend = legend;
      this.brighter = brighter;
      this.darker = darker;
    }

    /** What the colours mean, in words. */
    public String legend() {
      return legend;
    }

    /** The colour (0xRRGGBB) at +range. */
    public int brighter() {
      return brighter;
    }

    /** The colour (0xRRGGBB) at -range. */
    public int darker() {
      return darker;
    }

    /** value / range clipped to -1..1, from white at 0 towards the end colour, as 0xRRGGBB. */
    public int rgb(double value, double range) {
      double t = range > 0 ? Math.max(-1, Math.min(1, value / range)) : 0;
      int end = t >= 0 ? brighter : darker;
      double a = Math.abs(t);
      int r = (int) Math.round(255 + a * (((end >> 16) & 0xff) - 255));
      int g = (int) Math.round(255 + a * (((end >> 8) & 0xff) - 255));
      int b = (int) Math.round(255 + a * ((end & 0xff) - 255));
      return (r << 16) | (g << 8) | b;
    }
  }

  private static void write(BufferedImage img, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    if (!ImageIO.write(img, "png", file.toFile())) {
      throw new IOException("no PNG writer for " + file);
    }
  }
}
