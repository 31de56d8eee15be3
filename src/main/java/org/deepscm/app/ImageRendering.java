package org.deepscm.app;

import javafx.scene.image.PixelWriter;
import javafx.scene.image.WritableImage;
import org.deepscm.data.ImageFiles;

/** Pixels to JavaFX images: grey levels, and the diverging difference map (same colours as exported PNGs). */
final class ImageRendering {
  private ImageRendering() {}

  static WritableImage grey(double[] px, int h, int w) {
    WritableImage img = new WritableImage(w, h);
    PixelWriter out = img.getPixelWriter();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int v = (int) Math.round(Math.max(0, Math.min(255, px[y * w + x])));
        out.setArgb(x, y, 0xff000000 | (v << 16) | (v << 8) | v);
      }
    }
    return img;
  }

  static WritableImage difference(double[] diff, int h, int w, double range) {
    WritableImage img = new WritableImage(w, h);
    PixelWriter out = img.getPixelWriter();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        out.setArgb(x, y, 0xff000000 | ImageFiles.diverging(diff[y * w + x], range));
      }
    }
    return img;
  }
}
