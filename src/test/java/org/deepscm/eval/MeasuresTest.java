package org.deepscm.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeasuresTest {
  @TempDir
  Path dir;

  @Test
  void aMeasureThatCannotBeComputedIsNullWithANoteAndTheFileIsStrictJson() throws IOException {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("recon_mae", 5.4);
    m.put("cf_slope", Double.NaN);
    m.put("elbo", Double.NEGATIVE_INFINITY);
    Path file = dir.resolve("m.json");
    Measures.writeJson(m, Map.of("unit_sample", "the whole test split"), file);
    String text = Files.readString(file);
    JsonReader strict = new JsonReader(new StringReader(text));
    strict.setLenient(false);
    JsonObject o = JsonParser.parseReader(strict).getAsJsonObject();
    assertEquals(5.4, o.get("recon_mae").getAsDouble());
    assertTrue(o.get("cf_slope").isJsonNull());
    assertEquals("could not be computed (NaN)", o.get("cf_slope_note").getAsString());
    assertTrue(o.get("elbo").isJsonNull());
    assertTrue(!text.contains("NaN,") && !text.contains("Infinity,"), text);
  }
}
