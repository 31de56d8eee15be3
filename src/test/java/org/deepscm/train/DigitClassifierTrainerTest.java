package org.deepscm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.Morphology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The digit classifier's training data: renderings of the training digits only, and the augmentation. */
class DigitClassifierTrainerTest {

  @Test
  void renderingsAreSeededCachedAndOfTheGivenDigitsOnly(@TempDir Path cache) throws IOException {
    MnistDigits digits = MnistDigits.load(Path.of("resources", "mnist"));
    int[] units = Arrays.copyOf(digits.split().train(), 6);
    DigitClassifierTrainer.Images a = DigitClassifierTrainer.images(digits, units, 2, 5, cache, text -> { },
        () -> false);
    assertEquals(18, a.n());
    try (var files = Files.list(cache)) {
      assertEquals(1, files.count(), "one cache file");
    }
    DigitClassifierTrainer.Images b = DigitClassifierTrainer.images(digits, units, 2, 5, cache, text -> { },
        () -> false);
    DigitClassifierTrainer.Images fresh = DigitClassifierTrainer.images(digits, units, 2, 5, null, text -> { },
        () -> false);
    assertArrayEquals(a.pixels(), b.pixels(), "read back from the cache");
    assertArrayEquals(a.pixels(), fresh.pixels(), "the same renderings without the cache");
    for (int u = 0; u < units.length; u++) {
      // the digit as given, then its renderings, all with its own label
      assertArrayEquals(digits.imageBytes(units[u]), Arrays.copyOfRange(a.pixels(), 3 * u * 784, (3 * u + 1) * 784));
      assertFalse(a.rendered()[3 * u]);
      for (int v = 1; v <= 2; v++) {
        assertTrue(a.rendered()[3 * u + v]);
        assertEquals(digits.label(units[u]), a.labels()[3 * u + v]);
        double t = Morphology.measureThickness(a.image(3 * u + v));
        assertTrue(t > 0.5 && t < 7, "rendered thickness " + t);
      }
    }
    DigitClassifierTrainer.Images other = DigitClassifierTrainer.images(digits, units, 2, 6, null, text -> { },
        () -> false);
    assertFalse(Arrays.equals(a.pixels(), other.pixels()), "another seed draws other thicknesses");
  }

  @Test
  void theIdentityMapKeepsTheImageAndAShiftMovesIt() {
    double[] x = new double[MnistDigits.PIXELS];
    x[10 * 28 + 12] = 200;
    x[11 * 28 + 12] = 100;
    float[] same = new float[MnistDigits.PIXELS];
    DigitClassifierTrainer.affine(x, 0, 1, 0, 0, same, 0);
    for (int p = 0; p < x.length; p++) {
      assertEquals(x[p], same[p], 1e-4, "pixel " + p);
    }
    float[] moved = new float[2 * MnistDigits.PIXELS];
    DigitClassifierTrainer.affine(x, 0, 1, 2, -1, moved, MnistDigits.PIXELS);
    assertEquals(200, moved[MnistDigits.PIXELS + 9 * 28 + 14], 1e-4);
    assertEquals(100, moved[MnistDigits.PIXELS + 10 * 28 + 14], 1e-4);
    assertEquals(0, moved[MnistDigits.PIXELS + 10 * 28 + 12], 1e-4);
  }

  @Test
  void elasticDistortionBendsALittleAndKeepsTheInk() throws IOException {
    MnistDigits digits = MnistDigits.load(Path.of("resources", "mnist"));
    double[] x = digits.imageDoubles(digits.split().train()[0]);
    double[] y = DigitClassifierTrainer.elastic(x, new Random(1), DigitClassifierTrainer.ELASTIC_ALPHA,
        DigitClassifierTrainer.ELASTIC_SIGMA);
    double inkX = Arrays.stream(x).sum();
    double inkY = Arrays.stream(y).sum();
    assertTrue(Math.abs(inkY - inkX) < 0.2 * inkX, "ink " + inkX + " -> " + inkY);
    assertFalse(Arrays.equals(x, y));
    assertArrayEquals(x, DigitClassifierTrainer.elastic(x, new Random(1), 0, 4), 1e-9, "no displacement, no change");
  }
}
