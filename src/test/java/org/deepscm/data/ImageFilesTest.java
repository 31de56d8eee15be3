package org.deepscm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a user's image: what it is, not what its name says. */
class ImageFilesTest {
  @TempDir
  Path dir;

  @Test
  void aFolderIsNotAnImage() throws IOException {
    Path folder = Files.createDirectory(dir.resolve("digits.png"));
    IOException e = assertThrows(IOException.class, () -> ImageFiles.read(folder, 28, 28));
    assertTrue(e.getMessage().contains("is a folder, not an image file"), e.getMessage());
  }

  @Test
  void aJpegNamedPngIsRefusedSayingWhatItHolds() throws IOException {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    Path jpeg = dir.resolve("digit.png");
    assertTrue(ImageIO.write(img, "jpg", jpeg.toFile()));
    IOException e = assertThrows(IOException.class, () -> ImageFiles.read(jpeg, 28, 28));
    assertTrue(e.getMessage().contains("is named .png but holds JPEG"), e.getMessage());
    Path empty = Files.createFile(dir.resolve("empty.png"));
    e = assertThrows(IOException.class, () -> ImageFiles.read(empty, 28, 28));
    assertTrue(e.getMessage().contains("holds nothing (an empty file)"), e.getMessage());
  }

  @Test
  void aRealPngStillReads() throws IOException {
    Path png = dir.resolve("ok.png");
    double[] px = new double[28 * 28];
    px[5] = 200;
    ImageFiles.writeGrey(png, px, 28, 28);
    assertEquals(200, ImageFiles.read(png, 28, 28).pixels()[5]);
  }
}
