package org.deepscm.data.morphomnist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.deepscm.scm.Intervention;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MorphoMnistDatasetTest {
  static MnistDigits digits;

  @TempDir
  Path cache;

  @BeforeAll
  static void loadDigits() throws IOException {
    digits = MnistDigits.load(Path.of("resources", "mnist"));
  }

  private static int[] someDigits() {
    return Arrays.copyOf(digits.split().test(), 40);
  }

  @Test
  void imagesShowTheirCovariates() throws IOException {
    MorphoMnistDataset d = MorphoMnistDataset.generate(digits, someDigits(), 9, null, () -> false);
    double worstT = 0;
    double worstI = 0;
    double sumI = 0;
    for (int u = 0; u < d.size(); u++) {
      double[] x = d.image(u);
      double t = Morphology.measureThickness(x);
      double i = Morphology.measureIntensity(x);
      worstT = Math.max(worstT, Math.abs(t - d.thickness(u)) / d.thickness(u));
      worstI = Math.max(worstI, Math.abs(i - d.intensity(u)));
      sumI += Math.abs(i - d.intensity(u));
      assertEquals(digits.label(d.digit(u)), d.label(u));
    }
    assertTrue(worstT < 0.12, "worst relative thickness error " + worstT);
    // storing bytes moves the 50% threshold of the foreground mask a little, and its median with it
    assertTrue(sumI / d.size() < 1.5, "mean intensity error " + sumI / d.size());
    assertTrue(worstI < 6, "worst intensity error " + worstI);
  }

  @Test
  void sameSeedSameDataAndTheCacheReadsBack() throws IOException {
    MorphoMnistDataset a = MorphoMnistDataset.generate(digits, someDigits(), 9, null, () -> false);
    MorphoMnistDataset b = MorphoMnistDataset.generate(digits, someDigits(), 9, null, () -> false);
    for (int u = 0; u < a.size(); u++) {
      assertArrayEquals(a.image(u), b.image(u));
      assertEquals(a.epsT(u), b.epsT(u));
    }
  }

  @Test
  void trueCounterfactualOfTheNullInterventionIsTheImage() throws IOException {
    MorphoMnistDataset d = MorphoMnistDataset.generate(digits, someDigits(), 9, null, () -> false);
    for (int u = 0; u < 5; u++) {
      double[] digit = digits.imageDoubles(d.digit(u));
      double[] same = MorphoMnistTrueScm.counterfactualImage(digit, d.epsT(u), d.epsI(u), null, null);
      double[] x = d.image(u);
      for (int p = 0; p < x.length; p++) {
        assertEquals(x[p], same[p], 0.5 + 1e-9);
      }
      // do(t := t + 1) makes the digit thicker and, through i := f(eps_I, t), brighter
      double[] cf = MorphoMnistTrueScm.counterfactualCovariates(d.epsT(u), d.epsI(u), Intervention.shift(1), null);
      assertEquals(d.thickness(u) + 1, cf[0], 1e-12);
      assertTrue(cf[1] > d.intensity(u));
      double[] noI = MorphoMnistTrueScm.counterfactualCovariates(d.epsT(u), d.epsI(u), null, Intervention.set(100));
      assertEquals(d.thickness(u), noI[0], 1e-12, "do(i) leaves t alone");
    }
  }

  @Test
  void cachedSplitIsReusedAndADamagedCacheIsRegenerated() throws IOException {
    // the validation split (1,000 digits) takes a few seconds to render once
    MorphoMnistDataset first = MorphoMnistDataset.load(digits, MorphoMnistDataset.Split.VALIDATION, 3, cache, null,
        () -> false);
    assertEquals(1000, first.size());
    long start = System.nanoTime();
    MorphoMnistDataset again = MorphoMnistDataset.load(digits, MorphoMnistDataset.Split.VALIDATION, 3, cache, null,
        () -> false);
    assertTrue((System.nanoTime() - start) / 1e9 < 2, "the second load comes from the cache");
    assertArrayEquals(first.image(17), again.image(17));
    try (var files = Files.list(cache)) {
      Path csv = files.filter(f -> f.toString().endsWith(".csv")).findFirst().orElseThrow();
      Files.writeString(csv, "garbage\n1,2\n");
    }
    MorphoMnistDataset repaired = MorphoMnistDataset.load(digits, MorphoMnistDataset.Split.VALIDATION, 3, cache, null,
        () -> false);
    assertArrayEquals(first.image(17), repaired.image(17));
  }
}
