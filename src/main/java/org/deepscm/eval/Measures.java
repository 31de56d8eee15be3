package org.deepscm.eval;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Writes measures as one flat JSON object (name -> number). */
public final class Measures {
  private Measures() {}

  public static JsonObject toJson(Map<String, Double> measures) {
    JsonObject o = new JsonObject();
    measures.forEach(o::addProperty);
    return o;
  }

  public static void writeJson(Map<String, Double> measures, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(toJson(measures)) + "\n",
        StandardCharsets.UTF_8);
  }
}
