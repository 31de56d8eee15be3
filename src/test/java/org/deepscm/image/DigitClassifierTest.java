package org.deepscm.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.deepscm.data.StratifiedSample;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.flow.ParameterSet;
import org.deepscm.scm.InvalidModelException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The judge of "digit kept": the shipped classifier reads the test digits, and its file's faults are named. */
class DigitClassifierTest {
  /** A seeded, class-stratified sample of the 2,000 test digits of the project's split. */
  static final int REAL_SAMPLE = 1000;
  static final int RENDERED_SAMPLE = 300;
  static final long SEED = 11;

  static MnistDigits digits;

  @BeforeAll
  static void loadDigits() throws IOException {
    digits = MnistDigits.load(Path.of("resources", "mnist"));
  }

  /** The classifier's accuracy on a seeded class-stratified sample of the real test digits, as given. */
  static double realTestAccuracy(DigitClassifier c, int n, long seed) {
    int[] test = digits.split().test();
    int[] labels = new int[test.length];
    for (int u = 0; u < test.length; u++) {
      labels[u] = digits.label(test[u]);
    }
    int[] chosen = StratifiedSample.of(labels, n, seed);
    float[] px = new float[chosen.length * MnistDigits.PIXELS];
    int[] classes = new int[chosen.length];
    for (int k = 0; k < chosen.length; k++) {
      byte[] b = digits.imageBytes(test[chosen[k]]);
      for (int p = 0; p < b.length; p++) {
        px[k * MnistDigits.PIXELS + p] = b[p] & 0xff;
      }
      classes[k] = labels[chosen[k]];
    }
    return c.accuracy(px, classes);
  }

  /**
   * The goal is 99 %; the shipped judge reads 98.80 % of all 2,000 real test digits (resources/mnist/README.md),
   * so this guards what it reaches, not the goal.
   */
  @Test
  void theShippedClassifierReadsAtLeast98PercentOfRealTestDigits() {
    try (DigitClassifier c = DigitClassifier.load(DigitClassifier.SHIPPED)) {
      double accuracy = realTestAccuracy(c, REAL_SAMPLE, SEED);
      assertTrue(accuracy >= 0.98, "the judge reads " + accuracy + " of " + REAL_SAMPLE + " real test digits");
    }
  }

  @Test
  void theShippedClassifierReadsTheTestRenderings() {
    int[] chosen = StratifiedSample.of(MorphoMnistDataset.labels(digits, MorphoMnistDataset.Split.TEST),
        RENDERED_SAMPLE, SEED);
    MorphoMnistDataset rendered = MorphoMnistDataset.render(digits, MorphoMnistDataset.Split.TEST,
        MorphoMnistDataset.DEFAULT_SEED, chosen);
    float[] px = new float[rendered.size() * MnistDigits.PIXELS];
    int[] classes = new int[rendered.size()];
    for (int u = 0; u < rendered.size(); u++) {
      double[] x = rendered.image(u);
      for (int p = 0; p < x.length; p++) {
        px[u * MnistDigits.PIXELS + p] = (float) x[p];
      }
      classes[u] = rendered.label(u);
    }
    try (DigitClassifier c = DigitClassifier.load(DigitClassifier.SHIPPED)) {
      double accuracy = c.accuracy(px, classes);
      // 98.55 % of all 2,000 (resources/mnist/README.md)
      assertTrue(accuracy >= 0.98, "the judge reads " + accuracy + " of " + RENDERED_SAMPLE + " test renderings");
    }
  }

  @Test
  void theCheckFailsForABadClassifier() {
    // the same check, on an untrained classifier and on the shipped one with its output rows moved one
    // class on: a judge that cannot judge must not pass
    try (DigitClassifier untrained = new DigitClassifier(new ParameterSet(NDManager.newBaseManager()), 3)
        .initParameters(new Random(3))) {
      double accuracy = realTestAccuracy(untrained, REAL_SAMPLE, SEED);
      assertTrue(accuracy < 0.5, "an untrained classifier reads " + accuracy);
    }
    try (DigitClassifier c = DigitClassifier.load(DigitClassifier.SHIPPED)) {
      ParameterSet w = c.weights();
      for (int j = 0; j < c.members(); j++) {
        String weight = DigitClassifier.name(j, "out.weight");
        String biasName = DigitClassifier.name(j, "out.bias");
        float[] out = w.get(weight).toFloatArray();
        float[] bias = w.get(biasName).toFloatArray();
        int width = out.length / DigitClassifier.CLASSES;
        // class c's output row becomes class (c + 1) % 10's: every digit read as the one after it
        float[] rolled = new float[out.length];
        float[] rolledBias = new float[bias.length];
        for (int k = 0; k < DigitClassifier.CLASSES; k++) {
          int to = (k + 1) % DigitClassifier.CLASSES;
          System.arraycopy(out, k * width, rolled, to * width, width);
          rolledBias[to] = bias[k];
        }
        w.put(weight, w.manager().create(rolled, w.get(weight).getShape()));
        w.put(biasName, w.manager().create(rolledBias));
      }
      double accuracy = realTestAccuracy(c, REAL_SAMPLE, SEED);
      assertTrue(accuracy < 0.05, "a classifier with its classes rolled reads " + accuracy);
    }
  }

  @Test
  void float16FilesReadBackToTheSameReadings(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("c.safetensors");
    try (DigitClassifier c = DigitClassifier.load(DigitClassifier.SHIPPED)) {
      c.save(file, true);
      try (DigitClassifier back = DigitClassifier.load(file)) {
        int[] test = Arrays.copyOf(digits.split().test(), 200);
        float[] px = new float[test.length * MnistDigits.PIXELS];
        for (int k = 0; k < test.length; k++) {
          byte[] b = digits.imageBytes(test[k]);
          for (int p = 0; p < b.length; p++) {
            px[k * MnistDigits.PIXELS + p] = b[p] & 0xff;
          }
        }
        assertArrayEquals(c.classify(px, test.length), back.classify(px, test.length));
      }
    }
    assertTrue(Files.size(file) < 1024 * 1024, "float16 weights: " + Files.size(file) + " bytes");
    assertTrue(Files.size(DigitClassifier.SHIPPED) < 1024 * 1024, "shipped: " + Files.size(DigitClassifier.SHIPPED));
  }

  @Test
  void aMissingFileIsNamed(@TempDir Path dir) {
    Path file = dir.resolve("no-such-judge.safetensors");
    InvalidModelException e = assertThrows(InvalidModelException.class, () -> DigitClassifier.load(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("missing"), e.getMessage());
    assertTrue(e.getMessage().contains("train --dataset digit-classifier"), e.getMessage());
  }

  @Test
  void aCorruptFileIsNamed(@TempDir Path dir) throws IOException {
    Path garbage = dir.resolve("garbage.safetensors");
    Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    InvalidModelException e = assertThrows(InvalidModelException.class, () -> DigitClassifier.load(garbage));
    assertTrue(e.getMessage().contains(garbage.toString()) && e.getMessage().contains("cannot be read"),
        e.getMessage());

    Path truncated = dir.resolve("truncated.safetensors");
    byte[] shipped = Files.readAllBytes(DigitClassifier.SHIPPED);
    Files.write(truncated, Arrays.copyOf(shipped, shipped.length / 2));
    e = assertThrows(InvalidModelException.class, () -> DigitClassifier.load(truncated));
    assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());

    // a well-formed file of other weights (a model folder's, say) is refused by name
    Path other = dir.resolve("other.safetensors");
    try (NDManager m = NDManager.newBaseManager(); OutputStream out = Files.newOutputStream(other)) {
      var a = m.create(new float[] {1, 2, 3});
      a.setName("enc.conv1.weight");
      new NDList(a).encode(out, NDList.Encoding.SAFETENSORS);
    }
    e = assertThrows(InvalidModelException.class, () -> DigitClassifier.load(other));
    assertTrue(e.getMessage().contains(other.toString()) && e.getMessage().contains("digit.m0.out.weight"),
        e.getMessage());
    // and one that has some of a classifier's weights but not all
    Path partial = dir.resolve("partial.safetensors");
    try (NDManager m = NDManager.newBaseManager(); OutputStream out = Files.newOutputStream(partial)) {
      var a = m.zeros(new ai.djl.ndarray.types.Shape(10, 128));
      a.setName(DigitClassifier.name(0, "out.weight"));
      new NDList(a).encode(out, NDList.Encoding.SAFETENSORS);
    }
    e = assertThrows(InvalidModelException.class, () -> DigitClassifier.load(partial));
    // which missing weight is named first is not fixed; that one is, and that it is member 0's
    assertTrue(e.getMessage().contains(partial.toString()) && e.getMessage().contains("no weights for parameter "
        + "'digit.m0."), e.getMessage());

    // NaN weights: as damaged as a truncated file
    Path nan = dir.resolve("nan.safetensors");
    try (DigitClassifier c = DigitClassifier.load(DigitClassifier.SHIPPED)) {
      ParameterSet w = c.weights();
      float[] b = w.get(DigitClassifier.name(0, "fc.bias")).toFloatArray();
      b[0] = Float.NaN;
      w.put(DigitClassifier.name(0, "fc.bias"), w.manager().create(b));
      c.save(nan, false);
    }
    e = assertThrows(InvalidModelException.class, () -> DigitClassifier.load(nan));
    assertTrue(e.getMessage().contains(nan.toString()) && e.getMessage().contains("NaN"), e.getMessage());
  }

  @Test
  void aReadingNeedsWholeImages() {
    try (DigitClassifier c = DigitClassifier.load(DigitClassifier.SHIPPED)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.classify(new float[100], 1));
      assertTrue(e.getMessage().contains("100 pixels"), e.getMessage());
      assertEquals(0, c.classify(new float[0], 0).length);
    }
  }
}
