package org.deepscm.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javafx.scene.image.Image;
import javafx.scene.image.PixelFormat;

/** What the explorer tests read off the screen, and their temporary model folders. */
final class FxPixels {
  private FxPixels() {}

  /** An image's pixels as ARGB, row by row. */
  static int[] of(Image img) {
    int w = (int) img.getWidth();
    int h = (int) img.getHeight();
    int[] out = new int[w * h];
    img.getPixelReader().getPixels(0, 0, w, h, PixelFormat.getIntArgbInstance(), out, 0, w);
    return out;
  }

  /** Deletes a temporary folder and everything in it. */
  static void deleteTree(Path dir) throws IOException {
    if (dir == null) {
      return;
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
