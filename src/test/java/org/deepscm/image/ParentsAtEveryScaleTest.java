package org.deepscm.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.flow.ParameterSet;
import org.deepscm.scm.ContextEncoding;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.Variable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decoder's parents at every scale (FiLM) and the anticausal predictors' files. */
class ParentsAtEveryScaleTest {
  private static final List<ContextEncoding> CONTEXT = List.of(new ContextEncoding("b", true, 7, 0.1),
      new ContextEncoding("v", true, 3.4, 0.4));

  @Test
  void aModelFolderWithoutTheFieldReadsAsTheDecoderOfThePaper() {
    ImageArchitecture plain = ImageArchitecture.tiny(16, 16);
    JsonObject json = plain.toJson();
    assertFalse(json.has("parent_film"), "old folders stay byte-identical");
    assertEquals(plain, ImageArchitecture.fromJson(json));
    ImageArchitecture film = plain.withParentFilm();
    assertTrue(ImageArchitecture.fromJson(film.toJson()).parentFilm());
    json.addProperty("parent_film", "perhaps");
    InvalidModelException e = assertThrows(InvalidModelException.class, () -> ImageArchitecture.fromJson(json));
    assertTrue(e.getMessage().contains("parent_film"), e.getMessage());
  }

  @Test
  void zeroFilmLayersComputeTheSameImageAndTrainedOnesMakeTheParentsMatterMore() {
    try (NDManager m = NDManager.newBaseManager()) {
      VaeImageMechanism plain = new VaeImageMechanism(Variable.image("x", 16, 16), CONTEXT, ImageArchitecture.tiny(16, 16),
          new ParameterSet(m)).initParameters(new Random(5));
      VaeImageMechanism film = new VaeImageMechanism(Variable.image("x", 16, 16), CONTEXT,
          ImageArchitecture.tiny(16, 16).withParentFilm(), new ParameterSet(m)).initParameters(new Random(5));
      assertEquals(4, film.networks().filmWeightNames().size());
      // the same weights but the FiLM layers, which start at zero
      NDList weights = plain.snapshot(m);
      for (String name : film.networks().filmWeightNames()) {
        NDArray w = film.weights().get(name);
        assertEquals(0f, w.abs().sum().getFloat(), "FiLM starts at zero: " + name);
        NDArray copy = w.duplicate();
        copy.setName(name);
        weights.add(copy);
      }
      film.restore(weights, "test");
      NDArray z = m.randomNormal(new Shape(3, ImageArchitecture.tiny(16, 16).zDim()));
      Map<String, NDArray> pa = Map.of("b", m.create(new double[] {1100, 1200, 1300}),
          "v", m.create(new double[] {10, 30, 60}));
      assertArrayEquals(plain.decoderMean(z, pa).toFloatArray(), film.decoderMean(z, pa).toFloatArray(), 1e-6f);
      // non-zero FiLM weights: the same z decodes differently under other parents
      NDArray w = film.weights().get("x.dec.film2.weight");
      film.weights().put("x.dec.film2.weight", m.randomNormal(w.getShape()));
      Map<String, NDArray> other = Map.of("b", m.create(new double[] {1100, 1200, 1300}),
          "v", m.create(new double[] {20, 60, 120}));
      float[] a = film.decoderMean(z, pa).toFloatArray();
      float[] b = film.decoderMean(z, other).toFloatArray();
      double diff = 0;
      for (int k = 0; k < a.length; k++) {
        diff += Math.abs(a[k] - b[k]);
      }
      assertTrue(diff > 0, "the FiLM layers carry the parents");
    }
  }

  @Test
  void predictorsSurviveTheirFilesAndADamagedFileIsNamed(@TempDir Path dir) throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      ParentPredictor p = new ParentPredictor(1, 16, 16, List.of(ParentPredictor.Target.binary("sex"),
          ParentPredictor.Target.continuous("v", true, 3.4, 0.4)), new ParameterSet(m), null)
          .initParameters(new Random(2));
      float[] px = new float[3 * 256];
      Random r = new Random(1);
      for (int k = 0; k < px.length; k++) {
        px[k] = r.nextInt(256);
      }
      double[][] before = p.predict(px, 3);
      p.save(dir);
      assertTrue(ParentPredictor.existsIn(dir));
      try (NDManager other = NDManager.newBaseManager()) {
        ParentPredictor back = ParentPredictor.load(dir, other);
        assertEquals(p.targets(), back.targets());
        double[][] after = back.predict(px, 3);
        for (int u = 0; u < 3; u++) {
          assertArrayEquals(before[u], after[u], 1e-6);
          assertTrue(after[u][0] > 0 && after[u][0] < 1, "sex reads as a probability");
          assertTrue(after[u][1] > 0, "a log-encoded volume reads positive");
        }
      }
      Files.write(dir.resolve(ParentPredictor.WEIGHTS_FILE), new byte[] {1, 2, 3});
      InvalidModelException e = assertThrows(InvalidModelException.class,
          () -> ParentPredictor.load(dir, NDManager.newBaseManager()));
      assertTrue(e.getMessage().contains("predictors") && e.getMessage().contains(dir.toString()), e.getMessage());
    }
  }

  @Test
  void thePredictorsLossIsMinusTheLogLikelihoodOfEachKindOfTarget() {
    try (NDManager m = NDManager.newBaseManager()) {
      ParentPredictor p = new ParentPredictor(1, 16, 16, List.of(ParentPredictor.Target.continuous("t", true, 0.9, 0.25),
          ParentPredictor.Target.binary("s"), ParentPredictor.Target.categorical("digit", 3)), new ParameterSet(m), null);
      assertEquals(5, p.outputs(), "one output each, three for the digit");
      // one image: t output 0.5 against target 0.1; s logit 2 against 0; digit logits (1, 2, 0) against class 1
      NDArray out = m.create(new float[] {0.5f, 2f, 1f, 2f, 0f}, new Shape(1, 5));
      NDArray target = m.create(new float[] {0.1f, 0f, 1f}, new Shape(1, 3));
      double squared = 0.5 * 0.4 * 0.4;
      double bce = Math.log(1 + Math.exp(2));
      double ce = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(0)) - 2;
      assertEquals(squared + bce + ce, p.negativeLogLikelihood(out, target, null).getFloat(0), 1e-5);
      assertEquals(ce, p.negativeLogLikelihood(out, target, new float[] {0, 0, 1}).getFloat(0), 1e-5,
          "a target left out by the mask does not count");
      JsonObject json = p.toJson();
      assertTrue(json.toString().contains("\"classes\":3"), json.toString());
    }
  }
}
