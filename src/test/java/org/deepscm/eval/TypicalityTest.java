package org.deepscm.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.Morphology;
import org.deepscm.data.morphomnist.TypicalIntensity;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.train.ModelCard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Warnings for cases unlike the training data, on the shipped Morpho-MNIST models. */
class TypicalityTest {
  @TempDir
  Path dir;

  @Test
  void aTypicalCaseHasNoWarning() {
    try (SavedModel m = ModelFolder.load(Path.of("models", "morphomnist-covariates"))) {
      double i = TypicalIntensity.median(m.scm(), 2.5);
      Typicality.Assessment a = Typicality.assess(m, Map.of("t", 2.5, "i", i), null);
      assertTrue(a.typical(), a.explain());
      assertEquals(0, a.noise().get("i"), 1e-3, "the median has noise 0");
    }
  }

  @Test
  void aRealDigitsIntensityIsFarInTheTail() {
    try (SavedModel m = ModelFolder.load(Path.of("models", "morphomnist-covariates"))) {
      Typicality.Assessment a = Typicality.assess(m, Map.of("t", 2.3, "i", 250.0), null);
      assertFalse(a.typical());
      assertTrue(a.explain().contains("i = 250.0 lies") && a.explain().contains("p(i | t = 2.30)"), a.explain());
      assertTrue(a.explain().contains("may not show the requested change"), a.explain());
    }
  }

  @Test
  void aValueOutsideTheTrainingRangeIsNamed() {
    try (SavedModel m = ModelFolder.load(Path.of("models", "morphomnist-covariates"))) {
      Typicality.Assessment a = Typicality.assess(m, Map.of("t", 8.0, "i", 250.0), null);
      assertTrue(a.warnings().stream().anyMatch(w -> w.startsWith("t = 8.000 is outside the training range")),
          a.warnings().toString());
    }
  }

  @Test
  void anImageLessLikelyThanTheTestSplitIsNamed() throws IOException {
    Path folder = dir.resolve("full");
    try (SavedModel m = ModelFolder.load(Path.of("models", "morphomnist-full"))) {
      ModelFolder.save(m, folder, true);
    }
    MnistDigits digits = MnistDigits.load(Path.of("resources", "mnist"));
    double[] x = digits.imageDoubles(digits.split().test()[0]);
    double t = Morphology.measureThickness(x);
    // folders measured before the key had its world-neutral name are read too
    for (String key : new String[] {Typicality.ELBO_P01, Typicality.ELBO_P01_BEFORE}) {
      for (double p01 : new double[] {1e9, -1e9}) {
        ModelCard.recordMeasures(folder, Map.of(key, p01), "a test");
        try (SavedModel m = ModelFolder.load(folder)) {
          double[] typical = TypicalIntensity.apply(m.scm(), x, t).image();
          Typicality.Assessment a = Typicality.assess(m, Map.of("t", t, "i", Morphology.measureIntensity(typical)),
              typical);
          assertEquals(p01 > 0, a.warnings().stream().anyMatch(w -> w.contains("the image is less likely")),
              key + " = " + p01 + ": " + a.warnings());
        }
      }
    }
    assertTrue(Files.readString(folder.resolve(ModelFolder.CARD_FILE)).contains("a test"));
  }

  @Test
  void typicalIntensityKeepsTheShapeAndMakesTheCaseTypical() throws IOException {
    MnistDigits digits = MnistDigits.load(Path.of("resources", "mnist"));
    try (SavedModel m = ModelFolder.load(Path.of("models", "morphomnist-full"))) {
      int atypicalBefore = 0;
      int[] test = digits.split().test();
      for (int k = 0; k < 10; k++) {
        double[] x = digits.imageDoubles(test[k * 200]);
        double t = Morphology.measureThickness(x);
        atypicalBefore += Typicality.assess(m, Map.of("t", t, "i", Morphology.measureIntensity(x)), null).typical()
            ? 0 : 1;
        TypicalIntensity.Result r = TypicalIntensity.apply(m.scm(), x, t);
        assertEquals(r.intensity(), Morphology.measureIntensity(r.image()), 2.0, "digit " + k);
        assertEquals(t, Morphology.measureThickness(r.image()), 0.15, "digit " + k + " keeps its thickness");
        assertTrue(Typicality.assess(m, Map.of("t", t, "i", Morphology.measureIntensity(r.image())), null).typical());
      }
      assertTrue(atypicalBefore >= 7, "real digits are bright at every thickness: " + atypicalBefore + " of 10");
    }
  }

  @Test
  void anInvertedOrNearlyEmptyImageIsNamedAndNoTrainingLikeImageIs() throws IOException {
    MnistDigits digits = MnistDigits.load(Path.of("resources", "mnist"));
    double brightestBorder = 0;
    double emptiest = 1;
    for (int k : digits.split().test()) {
      double[] x = digits.imageDoubles(k);
      assertTrue(Typicality.imageContent(x).isEmpty(), "MNIST test digit " + k + ": " + Typicality.imageContent(x));
      brightestBorder = Math.max(brightestBorder, border(x, 28));
      emptiest = Math.min(emptiest, lit(x));
    }
    var renderer = new org.deepscm.data.brain.BrainSliceRenderer(
        org.deepscm.data.brain.BrainTemplate.load(Path.of("resources", "brain")));
    int[] subjects = java.util.stream.IntStream.range(0, 40).map(u -> 977 * u % 14000).toArray();
    var brains = org.deepscm.data.brain.BrainDataset.generate(renderer, 2026, subjects, null, () -> false);
    for (int u = 0; u < brains.size(); u++) {
      double[] x = brains.image(u);
      assertTrue(Typicality.imageContent(x).isEmpty(), "brain subject " + subjects[u]);
      brightestBorder = Math.max(brightestBorder, border(x, 64));
    }
    System.out.printf(java.util.Locale.ROOT, "brightest border %.1f; emptiest MNIST digit lights %.2f %%%n",
        brightestBorder, 100 * emptiest);

    double[] inverted = digits.imageDoubles(digits.split().test()[0]);
    for (int p = 0; p < inverted.length; p++) {
      inverted[p] = 255 - inverted[p];
    }
    assertTrue(Typicality.imageContent(inverted).get(0).startsWith("the image's border is bright (mean 255 of 255)"),
        Typicality.imageContent(inverted).toString());
    double[] onePixel = new double[28 * 28];
    onePixel[14 * 28 + 14] = 255;
    assertEquals(java.util.List.of("the image is nearly empty (1 of 784 pixels brighter than 64; every training "
        + "image lights far more)"), Typicality.imageContent(onePixel));
    try (SavedModel m = ModelFolder.load(Path.of("models", "morphomnist-full"))) {
      Typicality.Assessment a = Typicality.assess(m, Map.of("t", 2.0, "i", 200.0), onePixel);
      assertTrue(a.explain().contains("nearly empty") && a.explain().contains("may not show the requested change"),
          a.explain());
    }
  }

  private static double border(double[] x, int side) {
    double sum = 0;
    for (int k = 0; k < side; k++) {
      sum += x[k] + x[(side - 1) * side + k] + x[k * side] + x[k * side + side - 1];
    }
    return sum / (4.0 * side);
  }

  private static double lit(double[] x) {
    return java.util.Arrays.stream(x).filter(v -> v > Typicality.LIT).count() / (double) x.length;
  }
}
