package org.deepscm.scm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepscm.data.CovariateTable;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.train.MorphoMnistModels;
import org.deepscm.train.ScmBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFolderTest {
  @TempDir
  Path dir;

  private SavedModel sample(String graph) {
    CovariateTable train = MorphoMnistTrueScm.draw(2000, 5);
    ScmBuilder builder = MorphoMnistModels.builder(graph);
    SavedModel m = builder.buildSaved("test-" + graph, train, 3);
    // move the parameters away from their identity initialisation so the round trip means something
    m.scm().parameters().all().forEach((name, p) -> m.scm().parameters().put(name,
        p.getManager().randomNormal(0, 0.3f, p.getShape(), DataType.FLOAT32)));
    JsonObject training = new JsonObject();
    training.addProperty("dataset", "morphomnist-covariates");
    return new SavedModel(m.name(), m.scm(), m.trainingRanges(), training, null);
  }

  private static double[] logProb(StructuralCausalModel scm, double[] t, double[] i) {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> v = new LinkedHashMap<>();
      v.put("t", m.create(t));
      v.put("i", m.create(i));
      return scm.logProb(v).toDoubleArray();
    }
  }

  @Test
  void saveThenLoadGivesTheSameModel() throws IOException {
    for (String graph : List.of("full", "independent")) {
      Path folder = dir.resolve(graph);
      double[] t = {1.2, 2.5, 4.0, 5.5};
      double[] i = {90, 150, 200, 250};
      try (SavedModel original = sample(graph)) {
        ModelFolder.save(original, folder);
        try (SavedModel loaded = ModelFolder.load(folder)) {
          assertEquals(original.scm().graph().toString(), loaded.scm().graph().toString());
          assertArrayEquals(logProb(original.scm(), t, i), logProb(loaded.scm(), t, i), 1e-6);
          assertArrayEquals(original.trainingRange("t"), loaded.trainingRange("t"), 0);
          assertEquals("morphomnist-covariates", loaded.training().get("dataset").getAsString());
        }
      }
    }
  }

  @Test
  void missingOrEmptyFolderNamesWhatIsMissing() throws IOException {
    InvalidModelException none = assertThrows(InvalidModelException.class,
        () -> ModelFolder.load(dir.resolve("nowhere")));
    assertTrue(none.getMessage().contains("does not exist"), none.getMessage());
    Files.createDirectories(dir.resolve("empty"));
    InvalidModelException empty = assertThrows(InvalidModelException.class,
        () -> ModelFolder.load(dir.resolve("empty")));
    assertTrue(empty.getMessage().contains("has no model.json"), empty.getMessage());
  }

  private Path saved() throws IOException {
    Path folder = dir.resolve("m");
    try (SavedModel m = sample("full")) {
      ModelFolder.save(m, folder);
    }
    return folder;
  }

  private static void editModelJson(Path folder, java.util.function.Consumer<JsonObject> edit) throws IOException {
    Path f = folder.resolve(ModelFolder.MODEL_FILE);
    JsonObject o = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
    edit.accept(o);
    Files.writeString(f, o.toString(), StandardCharsets.UTF_8);
  }

  private static String loadError(Path folder) {
    return assertThrows(InvalidModelException.class, () -> ModelFolder.load(folder)).getMessage();
  }

  @Test
  void corruptModelJsonIsRefusedWithTheReason() throws IOException {
    Path folder = saved();
    Files.writeString(folder.resolve(ModelFolder.MODEL_FILE), "{ not json", StandardCharsets.UTF_8);
    assertTrue(loadError(folder).contains("not readable JSON"));

    folder = saved();
    editModelJson(folder, o -> o.addProperty("version", 7));
    String newer = loadError(folder);
    assertTrue(newer.contains("format version 7") && newer.contains("reads versions 1 to 1"), newer);

    folder = saved();
    editModelJson(folder, o -> o.remove("mechanisms"));
    assertTrue(loadError(folder).contains("missing field 'mechanisms'"));

    folder = saved();
    editModelJson(folder, o -> o.getAsJsonArray("mechanisms").get(1).getAsJsonObject()
        .getAsJsonArray("steps").get(0).getAsJsonObject().addProperty("type", "wavelet"));
    assertTrue(loadError(folder).contains("unknown step 'wavelet'"));

    folder = saved();
    editModelJson(folder, o -> o.getAsJsonArray("mechanisms").get(0).getAsJsonObject()
        .getAsJsonArray("context").add(JsonParser.parseString(
            "{\"parent\":\"i\",\"log\":false,\"shift\":0,\"scale\":1}")));
    assertTrue(loadError(folder).contains("cycle"));
  }

  @Test
  void missingCorruptOrMismatchedWeightsAreRefused() throws IOException {
    Path folder = saved();
    Files.delete(folder.resolve(ModelFolder.WEIGHTS_FILE));
    assertTrue(loadError(folder).contains("has no weights file"));

    folder = saved();
    Files.write(folder.resolve(ModelFolder.WEIGHTS_FILE), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    assertTrue(loadError(folder).contains("weights"));

    // weights of the independent graph do not fit the full graph's parameters
    folder = saved();
    Path other = dir.resolve("other");
    try (SavedModel m = sample("independent")) {
      ModelFolder.save(m, other);
    }
    Files.copy(other.resolve(ModelFolder.WEIGHTS_FILE), folder.resolve(ModelFolder.WEIGHTS_FILE),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    String mismatch = loadError(folder);
    assertTrue(mismatch.contains("no weights for parameter"), mismatch);
  }

  @Test
  void nanWeightsAreRefused() throws IOException {
    Path folder = dir.resolve("nan");
    try (SavedModel m = sample("full")) {
      var p = m.scm().parameters();
      p.put("t.0.spline.widths", p.manager().full(new ai.djl.ndarray.types.Shape(8), Float.NaN));
      ModelFolder.save(m, folder);
    }
    String e = loadError(folder);
    assertTrue(e.contains("t.0.spline.widths") && e.contains("NaN"), e);
  }

  @Test
  void halfPrecisionWeightsLoadAndGiveNearlyTheSameModel() throws IOException {
    Path full = dir.resolve("f32");
    Path half = dir.resolve("f16");
    double[] t = {1.2, 2.5, 4.0};
    double[] i = {90, 150, 230};
    try (SavedModel m = sample("full")) {
      ModelFolder.save(m, full);
      ModelFolder.save(m, half, true);
    }
    assertTrue(Files.size(half.resolve(ModelFolder.WEIGHTS_FILE)) < Files.size(full.resolve(ModelFolder.WEIGHTS_FILE)));
    try (SavedModel a = ModelFolder.load(full); SavedModel b = ModelFolder.load(half)) {
      assertArrayEquals(logProb(a.scm(), t, i), logProb(b.scm(), t, i), 2e-2);
    }
  }
}
