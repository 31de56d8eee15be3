package org.deepscm.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.eval.MorphoMnistEvaluation;
import org.junit.jupiter.api.Test;

class StratifiedSampleTest {
  private static int[] testLabels() throws IOException {
    return MorphoMnistDataset.labels(MnistDigits.load(Path.of("resources", "mnist")), MorphoMnistDataset.Split.TEST);
  }

  private static int[] counts(int[] strata, int[] units) {
    int[] c = new int[10];
    for (int u : units) {
      c[strata[u]]++;
    }
    return c;
  }

  @Test
  void aSampleOfTheTestSplitCoversEveryClassInProportion() throws IOException {
    int[] labels = testLabels();
    // the split is stored class by class: the first 500 units hold only a few classes
    assertTrue(Arrays.stream(counts(labels, java.util.stream.IntStream.range(0, 500).toArray())).filter(c -> c == 0)
        .count() >= 5, "the test split is class-ordered, which is why a sample must be stratified");
    int[] all = counts(labels, java.util.stream.IntStream.range(0, labels.length).toArray());
    for (int n : new int[] {10, 100, 500, 1234}) {
      int[] sample = StratifiedSample.of(labels, n, 1);
      assertEquals(n, sample.length);
      assertEquals(n, Arrays.stream(sample).distinct().count(), "no unit twice");
      int[] got = counts(labels, sample);
      for (int c = 0; c < 10; c++) {
        double exact = (double) n * all[c] / labels.length;
        assertTrue(Math.abs(got[c] - exact) < 1, "n = " + n + ", class " + c + ": " + got[c] + " for " + exact);
      }
    }
  }

  @Test
  void theWholeSplitWhenNIsItsSize() throws IOException {
    int[] labels = testLabels();
    int[] expected = java.util.stream.IntStream.range(0, labels.length).toArray();
    assertArrayEquals(expected, StratifiedSample.of(labels, labels.length, 7));
    assertArrayEquals(expected, StratifiedSample.of(labels, Integer.MAX_VALUE, 7));
    assertEquals("the whole test split (2000 units)", MorphoMnistEvaluation.describeSample(2000, 2000, 7));
  }

  @Test
  void theSeedChoosesTheSampleReproducibly() throws IOException {
    int[] labels = testLabels();
    assertArrayEquals(StratifiedSample.of(labels, 100, 3), StratifiedSample.of(labels, 100, 3));
    assertFalse(Arrays.equals(StratifiedSample.of(labels, 100, 3), StratifiedSample.of(labels, 100, 4)));
  }

  @Test
  void interleavedPagesShowEveryClassAndEveryUnitOnce() throws IOException {
    int[] labels = testLabels();
    int[] order = StratifiedSample.interleaved(labels, 1);
    assertEquals(labels.length, Arrays.stream(order).distinct().count());
    for (int page = 0; page < 5; page++) {
      int[] units = Arrays.copyOfRange(order, page * 20, page * 20 + 20);
      assertArrayEquals(new int[] {2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, counts(labels, units), "page " + page);
    }
  }

  @Test
  void badSizesAreRefused() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> StratifiedSample.of(new int[] {0, 1}, -1, 1));
    assertTrue(e.getMessage().contains("negative"));
  }
}
