package org.deepscm.app;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deepscm.data.StratifiedSample;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTrueScm;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;

/**
 * The test cases a {@link CaseStrip} pages through, in the order shown: a seeded order that mixes
 * the split's strata (digit classes; sexes and age decades), so every page shows all kinds.
 */
interface CaseSource {
  /** One case: the covariates, the image (grey levels, row-major) and what its tooltip says. */
  record Case(Map<String, Double> values, double[] image, int height, int width, String description) {}

  /** Case identifiers (test units, subject numbers) in the order shown. */
  int[] order();

  /** The cases of the given identifiers, rendered (called off the UI thread). */
  List<Case> render(int[] ids);

  /** The Morpho-MNIST test split: two digits of every class on each page of 20. */
  static CaseSource morphoMnist(MnistDigits digits) {
    MorphoMnistDataset.Split split = MorphoMnistDataset.Split.TEST;
    int[] order = StratifiedSample.interleaved(MorphoMnistDataset.labels(digits, split), MorphoMnistDataset.DEFAULT_SEED);
    return new CaseSource() {
      @Override
      public int[] order() {
        return order.clone();
      }

      @Override
      public List<Case> render(int[] ids) {
        MorphoMnistDataset cases = MorphoMnistDataset.render(digits, split, MorphoMnistDataset.DEFAULT_SEED, ids);
        java.util.ArrayList<Case> out = new java.util.ArrayList<>();
        for (int k = 0; k < ids.length; k++) {
          Map<String, Double> values = new LinkedHashMap<>();
          values.put("t", cases.thickness(k));
          values.put("i", cases.intensity(k));
          out.add(new Case(values, cases.image(k), MnistDigits.SIDE, MnistDigits.SIDE, String.format(Locale.ROOT,
              "digit %d, test unit %d: t = %s, i = %s", cases.label(k), ids[k], ExplorerView.fmt(cases.thickness(k)),
              ExplorerView.fmt(cases.intensity(k)))));
        }
        return out;
      }
    };
  }

  /**
   * The synthetic brain population's test subjects (made on demand from their own noise, no cache
   * needed): women and men of every age decade in turn.
   */
  static CaseSource brain(BrainSliceRenderer renderer) {
    long seed = BrainDataset.DEFAULT_SEED;
    int from = BrainDataset.Split.TEST.from(BrainDataset.DEFAULT_SIZE);
    int to = BrainDataset.Split.TEST.to(BrainDataset.DEFAULT_SIZE);
    int[] strata = new int[to - from];
    for (int k = 0; k < strata.length; k++) {
      BrainTrueScm.Covariates c = BrainDataset.subject(seed, from + k).covariates();
      strata[k] = c.stratum();
    }
    int[] order = StratifiedSample.interleaved(strata, seed);
    for (int k = 0; k < order.length; k++) {
      order[k] += from;
    }
    return new CaseSource() {
      @Override
      public int[] order() {
        return order.clone();
      }

      @Override
      public List<Case> render(int[] ids) {
        try {
          BrainDataset d = BrainDataset.generate(renderer, seed, ids, null, () -> false);
          java.util.ArrayList<Case> out = new java.util.ArrayList<>();
          for (int k = 0; k < ids.length; k++) {
            BrainTrueScm.Covariates c = d.covariates(k);
            Map<String, Double> values = new LinkedHashMap<>();
            for (String v : BrainTrueScm.VARIABLES) {
              values.put(v, c.get(v));
            }
            out.add(new Case(values, d.image(k), BrainSliceRenderer.SIDE, BrainSliceRenderer.SIDE,
                String.format(Locale.ROOT, "test subject %d: %s, %d years, brain %s ml, ventricles %s ml", ids[k],
                    c.sex() == 1 ? "man" : "woman", (int) c.age(), ExplorerView.fmt(c.brainMl()),
                    ExplorerView.fmt(c.ventricleMl()))));
          }
          return out;
        } catch (java.io.IOException e) {
          throw new IllegalStateException("cannot make the test subjects: " + e.getMessage(), e);
        }
      }
    };
  }
}
