package org.deepscm.data.brain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.deepscm.scm.Intervention;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The true image mechanism and the cached population made with it. */
class BrainSliceRendererTest {
  private static BrainSliceRenderer renderer;

  @TempDir
  Path dir;

  @BeforeAll
  static void load() throws IOException {
    renderer = new BrainSliceRenderer(BrainTemplate.load(Path.of("resources", "brain")));
  }

  private static double[] image(BrainTrueScm.Covariates c, Anatomy a) {
    float[] f = renderer.render(c.brainMl(), c.ventricleMl(), a, false).image();
    double[] d = new double[f.length];
    for (int p = 0; p < f.length; p++) {
      d[p] = f[p];
    }
    return d;
  }

  @Test
  void planesComputedWhenFirstAskedForAreThePlanesComputedAtOnce() throws IOException {
    BrainTemplate eager = BrainTemplate.loadComputingEveryPlane(Path.of("resources", "brain"));
    BrainTemplate lazy = BrainTemplate.load(Path.of("resources", "brain"));
    // the facts file's fastest speed is the one over every plane (it sets the rendering flow's step)
    assertEquals(eager.maxExpansionSpeed(), lazy.maxExpansionSpeed(), 0.0,
        "resources/brain/template.json's " + BrainTemplate.MAX_SPEED_KEY + " is out of date");
    for (double z : new double[] {10, 14.5, 17.25, 26}) {
      float[][] a = eager.expansionField(z);
      float[][] b = lazy.expansionField(z);
      assertArrayEquals(a[0], b[0], 0f, "ux at z " + z);
      assertArrayEquals(a[1], b[1], 0f, "uy at z " + z);
    }
    // and a subject rendered with either is the same image
    Anatomy subject = Anatomy.draw(new java.util.SplittableRandom(3));
    float[] one = new BrainSliceRenderer(eager).render(1100, 40, subject, false).image();
    float[] two = new BrainSliceRenderer(lazy).render(1100, 40, subject, false).image();
    assertArrayEquals(one, two, 0f);
  }

  @Test
  void theTemplateHoldsTheColin27VolumesAndSlab() {
    BrainTemplate t = renderer.template();
    assertEquals(1710.862, t.brainMl(), 1e-9);
    assertEquals(26.331, t.ventricleMl(), 1e-9);
    assertEquals(10, t.zMinMm(), 0);
    assertEquals(26, t.zMaxMm(), 0);
  }

  @Test
  void generationIsDeterministicAndTheSameInParallel() throws IOException {
    int[] subjects = {3, 1, 4, 1, 5, 9, 2, 6};
    BrainDataset a = BrainDataset.generate(renderer, 7, subjects, null, () -> false);
    BrainDataset b = BrainDataset.generate(renderer, 7, subjects, null, () -> false);
    for (int u = 0; u < subjects.length; u++) {
      assertArrayEquals(a.image(u), b.image(u));
      BrainDataset.Subject s = BrainDataset.subject(7, subjects[u]);
      assertArrayEquals(a.image(u), image(s.covariates(), s.anatomy()), "subject " + subjects[u] + " alone");
    }
    assertArrayEquals(a.image(1), a.image(3), "the same subject twice");
  }

  @Test
  void doNothingReproducesTheImageExactly() throws IOException {
    BrainDataset d = BrainDataset.generate(renderer, 2026, new int[] {12000, 12001, 12002}, null, () -> false);
    for (int u = 0; u < d.size(); u++) {
      BrainDataset.Subject s = d.subject(u);
      BrainTrueScm.Covariates cf = BrainTrueScm.counterfactual(s.noise(), Map.of());
      assertArrayEquals(d.image(u), image(cf, s.anatomy()));
    }
  }

  @Test
  void ventriclesGrowWithVentricleVolumeAndTheTissueStays() {
    BrainDataset.Subject s = BrainDataset.subject(2026, 42);
    double v = s.covariates().ventricleMl();
    double previous = 0;
    double tissue0 = Double.NaN;
    for (double factor : new double[] {0.5, 1, 2, 3}) {
      BrainTrueScm.Covariates cf = BrainTrueScm.counterfactual(s.noise(),
          Map.of("ventricle_volume", Intervention.set(factor * v)));
      BrainSliceRenderer.Slice slice = renderer.render(cf.brainMl(), cf.ventricleMl(), s.anatomy());
      double area = slice.ventricleAreaMm2();
      assertTrue(area > 1.3 * previous, "ventricle area " + area + " at x" + factor + " after " + previous);
      previous = area;
      double measured = BrainMeasurer.measure(image(cf, s.anatomy())).ventricleMm2();
      assertEquals(area, measured, 0.25 * area, "measured ventricle area at x" + factor);
      if (Double.isNaN(tissue0)) {
        tissue0 = slice.brainAreaMm2();
      }
      assertEquals(tissue0, slice.brainAreaMm2(), 0.06 * tissue0, "brain tissue area at x" + factor);
    }
  }

  @Test
  void aLargerBrainCoversMoreOfTheSlice() {
    BrainDataset.Subject s = BrainDataset.subject(2026, 43);
    double small = renderer.render(1000, 30, s.anatomy()).brainAreaMm2();
    double large = renderer.render(1400, 42, s.anatomy()).brainAreaMm2();
    // area grows as the scale squared: (1.4)^(2/3) = 1.25
    assertEquals(Math.pow(1.4, 2.0 / 3), large / small, 0.03);
  }

  @Test
  void theVentricleFlowIsInvertible() {
    float[][] field = renderer.template().expansionField(18);
    double speed = renderer.template().maxExpansionSpeed();
    for (double[] start : new double[][] {{-10, 5}, {12, -20}, {0, 0}, {25, 30}, {-40, -60}}) {
      for (double time : new double[] {-1, 0.5, 3}) {
        int steps = (int) Math.ceil(Math.abs(time) * speed / BrainSliceRenderer.MAX_STEP_MM);
        double[] p = start.clone();
        BrainSliceRenderer.flowBack(p, field, renderer.template(), time, steps * 4);
        BrainSliceRenderer.flowBack(p, field, renderer.template(), -time, steps * 4);
        assertEquals(start[0], p[0], 0.1, "x after t = " + time + " and back");
        assertEquals(start[1], p[1], 0.1, "y after t = " + time + " and back");
      }
    }
  }

  @Test
  void imagesAreGreyLevelsWithBackgroundAndTissue() {
    BrainDataset.Subject s = BrainDataset.subject(2026, 44);
    double[] x = image(s.covariates(), s.anatomy());
    double corner = x[0] + x[63] + x[64 * 63] + x[64 * 64 - 1];
    assertTrue(corner / 4 < 15, "background " + corner / 4);
    double centreMax = 0;
    for (int r = 20; r < 44; r++) {
      for (int c = 20; c < 44; c++) {
        centreMax = Math.max(centreMax, x[r * 64 + c]);
      }
    }
    assertTrue(centreMax > 150, "white matter " + centreMax);
    for (double v : x) {
      assertTrue(v >= 0 && v <= 255 && v == Math.rint(v));
    }
  }

  @Test
  void badVolumesAreRefused() {
    Anatomy a = BrainDataset.subject(2026, 1).anatomy();
    assertThrows(IllegalArgumentException.class, () -> renderer.render(-1, 30, a));
    assertThrows(IllegalArgumentException.class, () -> renderer.render(1100, Double.NaN, a));
  }

  @Test
  void splitsAreCachedAndADamagedCacheIsMadeAgain() throws IOException {
    int[] calls = {0};
    BrainDataset test = BrainDataset.load(renderer, BrainDataset.Split.TEST, 9, 200, dir, (done, n) -> calls[0]++,
        () -> false);
    assertEquals(30, test.size());
    assertEquals(170, test.subjectIndex(0));
    assertTrue(calls[0] > 0);
    calls[0] = 0;
    BrainDataset again = BrainDataset.load(renderer, BrainDataset.Split.TEST, 9, 200, dir, (done, n) -> calls[0]++,
        () -> false);
    assertEquals(0, calls[0], "read from the cache");
    for (int u = 0; u < test.size(); u++) {
      assertArrayEquals(test.image(u), again.image(u));
      assertEquals(test.covariates(u), again.covariates(u));
      assertEquals(test.ventricleAreaMm2(u), again.ventricleAreaMm2(u), 0);
    }
    // a cache written by another version of the generator (here: one subject's age differs) is made again
    Path table;
    try (var files = Files.list(dir)) {
      table = files.filter(f -> f.toString().endsWith(".csv")).findFirst().orElseThrow();
    }
    java.util.List<String> lines = new java.util.ArrayList<>(Files.readAllLines(table));
    String[] first = lines.get(1).split(",");
    first[2] = String.valueOf(Double.parseDouble(first[2]) + 1);
    lines.set(1, String.join(",", first));
    Files.write(table, lines);
    assertEquals(test.covariates(0), BrainDataset.load(renderer, BrainDataset.Split.TEST, 9, 200, dir, null,
        () -> false).covariates(0));
    Files.writeString(table, "subject,sex\n1,abc\n");
    BrainDataset remade = BrainDataset.load(renderer, BrainDataset.Split.TEST, 9, 200, dir, null, () -> false);
    assertArrayEquals(test.image(7), remade.image(7));
    assertEquals(140, BrainDataset.Split.TRAIN.to(200));
    assertEquals(170, BrainDataset.Split.VALIDATION.to(200));
  }

  @Test
  void freshSubjectsDifferEveryEpochAndLieOutsideTheSplits() throws IOException {
    BrainDataset e0 = BrainDataset.fresh(renderer, 3, 200, 0, 5, null, () -> false);
    BrainDataset e1 = BrainDataset.fresh(renderer, 3, 200, 1, 5, null, () -> false);
    assertEquals(200, e0.subjectIndex(0));
    assertEquals(205, e1.subjectIndex(0));
    assertTrue(!java.util.Arrays.equals(e0.image(0), e1.image(0)));
    assertArrayEquals(e1.image(4), BrainDataset.fresh(renderer, 3, 200, 1, 5, null, () -> false).image(4));
    assertThrows(IllegalArgumentException.class, () -> BrainDataset.fresh(renderer, 3, 200, -1, 5, null, () -> false));
  }

  @Test
  void generationCanBeCancelled() {
    IOException e = assertThrows(IOException.class,
        () -> BrainDataset.generate(renderer, 1, new int[] {1, 2, 3}, null, () -> true));
    assertTrue(e.getMessage().contains("cancelled"), e.getMessage());
  }
}
