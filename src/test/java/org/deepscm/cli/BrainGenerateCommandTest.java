package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate --dataset brain as a user runs it: a small population, its calibration and its pictures. */
class BrainGenerateCommandTest {
  @TempDir
  Path dir;

  @Test
  void generatesCachesAndDrawsASmallPopulation() throws IOException {
    Path cache = dir.resolve("cache");
    Path figures = dir.resolve("figures");
    CommandLineTest.Run r = CommandLineTest.run("generate", "--dataset", "brain", "--subjects", "2000", "--cache",
        cache.toString(), "--figures", figures.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("brain population: 2000 subjects (seed 2026)"), r.out());
    assertTrue(r.out().contains("| brain volume (mm3): log-mean |"), r.out());
    assertTrue(r.out().contains("ventricle area: r = 0.99"), r.out());
    assertTrue(r.err().contains("test: 300 subjects ready"), r.err());
    try (var files = Files.list(cache)) {
      assertEquals(6, files.count(), "images and table of three splits");
    }
    BufferedImage grid = ImageIO.read(figures.resolve("brain-population.png").toFile());
    assertEquals(4 * (128 + 30), grid.getHeight());
    BufferedImage strip = ImageIO.read(figures.resolve("brain-true-counterfactuals.png").toFile());
    assertEquals(2 * (128 + 30), strip.getHeight());
    // the do(ventricles x3) tile differs from the observed one
    int differing = 0;
    for (int y = 128 + 30; y < 2 * 128 + 30; y++) {
      for (int x = 0; x < 128; x++) {
        differing += strip.getRGB(150 + x, y) != strip.getRGB(150 + 4 * 128 + x, y) ? 1 : 0;
      }
    }
    assertTrue(differing > 1000, differing + " pixels differ");
  }

  @Test
  void figuresOfATinyPopulationAreRefusedWithAdvice() {
    CommandLineTest.Run r = CommandLineTest.run("generate", "--dataset", "brain", "--subjects", "200", "--cache",
        dir.toString(), "--figures", dir.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("use --subjects 2000 or more"), r.err());
  }

  @Test
  void aPopulationTooSmallOrTooLargeIsRefused() {
    CommandLineTest.Run r = CommandLineTest.run("generate", "--dataset", "brain", "--subjects", "5", "--cache",
        dir.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--subjects takes 100"), r.err());
    r = CommandLineTest.run("generate", "--dataset", "brains");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("available: morphomnist, brain"), r.err());
  }
}
