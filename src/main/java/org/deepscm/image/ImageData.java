package org.deepscm.image;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deepscm.scm.InvalidValueException;

/**
 * Images with their parents' values, in memory, for training and evaluation: {@code pixels} holds
 * n images of {@code pixelsPerImage} values each (row-major, channel-major within an image), every
 * one in 0..255; {@code parents} maps each parent name to its n values.
 */
public record ImageData(float[] pixels, int n, int pixelsPerImage, Map<String, double[]> parents) {

  /** @throws InvalidValueException for a size mismatch or a pixel that is NaN, infinite or outside 0..255 */
  public ImageData {
    if (n < 1 || pixelsPerImage < 1 || (long) n * pixelsPerImage != pixels.length) {
      throw new InvalidValueException("image data: " + pixels.length + " pixel values do not make " + n
          + " images of " + pixelsPerImage + " pixels");
    }
    for (int k = 0; k < pixels.length; k++) {
      float v = pixels[k];
      if (!(v >= 0 && v <= 255)) {
        throw new InvalidValueException("image data: pixel " + (k % pixelsPerImage) + " of image " + (k / pixelsPerImage)
            + " = " + v + (Float.isNaN(v) ? " is NaN" : " is outside 0..255"));
      }
    }
    parents = Map.copyOf(parents);
    for (Map.Entry<String, double[]> e : parents.entrySet()) {
      if (e.getValue().length != n) {
        throw new InvalidValueException("image data: parent '" + e.getKey() + "' has " + e.getValue().length
            + " values for " + n + " images");
      }
    }
  }

  /** From images given as arrays of pixels (each the same length). */
  public static ImageData of(double[][] images, Map<String, double[]> parents) {
    int per = images[0].length;
    float[] px = new float[images.length * per];
    for (int i = 0; i < images.length; i++) {
      if (images[i].length != per) {
        throw new InvalidValueException("image data: image " + i + " has " + images[i].length + " pixels, image 0 has " + per);
      }
      for (int k = 0; k < per; k++) {
        px[i * per + k] = (float) images[i][k];
      }
    }
    return new ImageData(px, images.length, per, new LinkedHashMap<>(parents));
  }

  /** The same images with other parent columns (the pixels are shared, not copied). */
  public ImageData withParents(Map<String, double[]> columns) {
    return new ImageData(pixels, n, pixelsPerImage, columns);
  }

  /** Copies the pixels of the given images into {@code out} (rows.length * pixelsPerImage values). */
  public void gather(int[] rows, float[] out) {
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(pixels, rows[r] * pixelsPerImage, out, r * pixelsPerImage, pixelsPerImage);
    }
  }
}
