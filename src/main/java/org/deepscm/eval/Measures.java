package org.deepscm.eval;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes measures as one flat JSON object (name -> number). A measure that could not be computed (NaN,
 * infinite) is written as null with a note beside it ({@code <name>_note}): bare NaN is not JSON.
 */
public final class Measures {
  private Measures() {}

  public static JsonObject toJson(Map<String, Double> measures) {
    JsonObject o = new JsonObject();
    measures.forEach((k, v) -> {
      if (v != null && Double.isFinite(v)) {
        o.addProperty(k, v);
      } else {
        o.add(k, com.google.gson.JsonNull.INSTANCE);
        o.addProperty(k + "_note", "could not be computed (" + v + ")");
      }
    });
    return o;
  }

  public static void writeJson(Map<String, Double> measures, Path file) throws IOException {
    writeJson(measures, Map.of(), file);
  }

  /** The measures with text fields (e.g. which units were measured) first. */
  public static void writeJson(Map<String, Double> measures, Map<String, String> about, Path file)
      throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    JsonObject o = new JsonObject();
    about.forEach(o::addProperty);
    toJson(measures).entrySet().forEach(e -> o.add(e.getKey(), e.getValue()));
    Files.writeString(file, new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n",
        StandardCharsets.UTF_8);
  }
}
