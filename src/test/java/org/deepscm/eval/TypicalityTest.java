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
    for (double p01 : new double[] {1e9, -1e9}) {
      ModelCard.recordMeasures(folder, Map.of(Typicality.ELBO_P01, p01), "a test");
      try (SavedModel m = ModelFolder.load(folder)) {
        double[] typical = TypicalIntensity.apply(m.scm(), x, t).image();
        Typicality.Assessment a = Typicality.assess(m, Map.of("t", t, "i", Morphology.measureIntensity(typical)),
            typical);
        assertEquals(p01 > 0, a.warnings().stream().anyMatch(w -> w.contains("the image is less likely")),
            "p01 = " + p01 + ": " + a.warnings());
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
}
