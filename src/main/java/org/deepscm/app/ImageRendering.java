package org.deepscm.app;

import javafx.scene.image.PixelFormat;
import javafx.scene.image.WritableImage;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.SequentialColours;

/**
 * Pixels to screen colours: grey levels, the diverging difference map (same colours as exported
 * PNGs) and the sequential map of a counterfactual's spread. The ARGB arrays need no JavaFX, so
 * {@code bench} times exactly what the explorer draws.
 */
public final class ImageRendering {
  private ImageRendering() {}

  /** Grey levels 0..255 (clipped) as opaque ARGB, row by row. */
  public static int[] greyArgb(double[] px) {
    int[] out = new int[px.length];
    for (int k = 0; k < px.length; k++) {
      int v = (int) Math.round(Math.max(0, Math.min(255, px[k])));
      out[k] = 0xff000000 | (v << 16) | (v << 8) | v;
    }
    return out;
  }

  /** Differences on the diverging map, -range blue .. 0 white .. +range red, as opaque ARGB. */
  public static int[] differenceArgb(double[] diff, double range) {
    return differenceArgb(diff, range, ImageFiles.Diverging.RED_BLUE);
  }

  /** The same in the given colours. */
  public static int[] differenceArgb(double[] diff, double range, ImageFiles.Diverging colours) {
    int[] out = new int[diff.length];
    for (int k = 0; k < diff.length; k++) {
      out[k] = 0xff000000 | colours.rgb(diff[k], range);
    }
    return out;
  }

  static WritableImage grey(double[] px, int h, int w) {
    return image(greyArgb(px), h, w);
  }

  /**
   * Grey levels through a display window (as radiology viewers do): level - window/2 shows black,
   * level + window/2 white; window 255 and level 127.5 show the grey levels as they are.
   */
  static WritableImage grey(double[] px, int h, int w, double window, double level) {
    double lo = level - window / 2;
    double[] shown = new double[px.length];
    for (int k = 0; k < px.length; k++) {
      shown[k] = (px[k] - lo) / window * 255;
    }
    return image(greyArgb(shown), h, w);
  }

  static WritableImage difference(double[] diff, int h, int w, double range, ImageFiles.Diverging colours) {
    return image(differenceArgb(diff, range, colours), h, w);
  }

  /** Spreads (grey levels) on a sequential map from 0 to {@code range} (clipped above), as opaque ARGB. */
  public static int[] spreadArgb(double[] sd, double range, SequentialColours colours) {
    int[] out = new int[sd.length];
    for (int k = 0; k < sd.length; k++) {
      out[k] = 0xff000000 | colours.rgb(sd[k], range);
    }
    return out;
  }

  static WritableImage spread(double[] sd, int h, int w, double range, SequentialColours colours) {
    return image(spreadArgb(sd, range, colours), h, w);
  }

  private static WritableImage image(int[] argb, int h, int w) {
    WritableImage img = new WritableImage(w, h);
    img.getPixelWriter().setPixels(0, 0, w, h, PixelFormat.getIntArgbInstance(), argb, 0, w);
    return img;
  }
}
