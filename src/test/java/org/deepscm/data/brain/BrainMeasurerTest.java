package org.deepscm.data.brain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The measurer that judges brain images, against the generator's label maps. */
class BrainMeasurerTest {
  @Test
  void agreesWithTheLabelMapsOnAThousandSubjects() throws IOException {
    BrainSliceRenderer renderer = new BrainSliceRenderer(BrainTemplate.load(Path.of("resources", "brain")));
    int[] subjects = new int[1000];
    for (int k = 0; k < subjects.length; k++) {
      subjects[k] = 11_900 + k; // test subjects of the default population
    }
    BrainDataset d = BrainDataset.generate(renderer, BrainDataset.DEFAULT_SEED, subjects, null, () -> false);
    BrainCalibration.Agreement a = BrainCalibration.measurerAgreement(d, 1000, 1);
    System.out.println("measurer vs label maps, 1000 test subjects: " + a);
    assertTrue(a.brainR() >= 0.95, "brain r " + a.brainR());
    assertTrue(a.ventricleR() >= 0.95, "ventricle r " + a.ventricleR());
    assertTrue(a.brainRelError() < 0.05, "brain relative error " + a.brainRelError());
    assertTrue(a.ventricleRelError() < 0.10, "ventricle relative error " + a.ventricleRelError());
  }

  @Test
  void anEmptySliceHasNoBrain() {
    BrainMeasurer.Areas a = BrainMeasurer.measure(new double[64 * 64]);
    assertEquals(0, a.brainMm2());
    assertEquals(0, a.ventricleMm2());
  }

  @Test
  void aDarkDiscInABrightDiscIsAVentricle() {
    double[] x = new double[64 * 64];
    int inner = 0;
    int outer = 0;
    for (int r = 0; r < 64; r++) {
      for (int c = 0; c < 64; c++) {
        double d = Math.hypot(r - 31.5, c - 31.5);
        x[r * 64 + c] = d < 4 ? 50 : d < 25 ? 200 : 3;
        inner += d < 4 ? 1 : 0;
        outer += d < 25 ? 1 : 0;
      }
    }
    BrainMeasurer.Areas a = BrainMeasurer.measure(x);
    // sharp edges: every CSF pixel is ventricle, every tissue pixel brain (3 mm pixels: 9 mm2)
    assertEquals(inner * 9, a.ventricleMm2(), 1e-9);
    assertEquals((outer - inner) * 9, a.brainMm2(), 1e-9);
  }

  @Test
  void badSlicesAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BrainMeasurer.measure(new double[28 * 28]));
    assertTrue(e.getMessage().contains("64 x 64"), e.getMessage());
    double[] x = new double[64 * 64];
    x[5] = Double.NaN;
    e = assertThrows(IllegalArgumentException.class, () -> BrainMeasurer.measure(x));
    assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
  }
}
