package org.deepscm.app;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a saved case (File > Save case): every problem is said in our words, naming the file and
 * the field, never a library's message.
 */
final class CaseFile {
  static final String FORMAT = "deepscm-case";

  private CaseFile() {}

  /** A saved case: its model folder ("" when not recorded), the case in use, the user's own, the do()s. */
  record Saved(String model, ExplorerSession.Case inUse, ExplorerSession.Case own, Map<String, Double> interventions) {}

  static Saved read(Path file) throws IOException {
    String name = String.valueOf(file.getFileName());
    if (Files.isDirectory(file)) {
      throw new IOException(name + " is a folder, not a saved case");
    }
    if (!Files.isRegularFile(file)) {
      throw new IOException(name + " does not exist");
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IOException(name + " cannot be read as UTF-8 text: is it a saved case?");
    }
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (RuntimeException e) {
      Matcher m = Pattern.compile("line (\\d+)").matcher(String.valueOf(e.getMessage()));
      throw new IOException(name + " is not complete JSON" + (m.find() ? " (it breaks at line " + m.group(1) + ")" : "")
          + ": was it cut short or edited by hand?");
    }
    if (!root.isJsonObject()) {
      throw new IOException(name + " is not a saved case: it holds no JSON object");
    }
    JsonObject o = root.getAsJsonObject();
    if (!o.has("format") || !o.get("format").isJsonPrimitive() || !FORMAT.equals(o.get("format").getAsString())) {
      throw new IOException(name + " is not a saved case: it needs \"format\": \"" + FORMAT + "\"");
    }
    String model = "";
    if (o.has("model")) {
      if (!o.get("model").isJsonPrimitive()) {
        throw new IOException(name + ": \"model\" must be a folder name");
      }
      model = o.get("model").getAsString();
    }
    ExplorerSession.Case inUse = readCase(o, name, "");
    ExplorerSession.Case own = null;
    if (o.has("own_case")) {
      if (!o.get("own_case").isJsonObject()) {
        throw new IOException(name + ": \"own_case\" must be an object with \"observed\" values");
      }
      own = readCase(o.getAsJsonObject("own_case"), name, "own_case.");
    }
    Map<String, Double> dos = o.has("interventions") ? numbers(o.get("interventions"), name, "interventions")
        : new LinkedHashMap<>();
    return new Saved(model, inUse, own, dos);
  }

  private static ExplorerSession.Case readCase(JsonObject o, String name, String prefix) throws IOException {
    if (!o.has("observed")) {
      throw new IOException(name + " has no \"" + prefix + "observed\" values (a number for each variable)");
    }
    Map<String, Double> observed = numbers(o.get("observed"), name, prefix + "observed");
    double[] image = null;
    if (o.has("image")) {
      if (!o.get("image").isJsonArray()) {
        throw new IOException(name + ": \"" + prefix + "image\" must be a list of grey levels");
      }
      JsonArray a = o.getAsJsonArray("image");
      image = new double[a.size()];
      for (int k = 0; k < image.length; k++) {
        image[k] = number(a.get(k), name, prefix + "image[" + k + "]");
        if (image[k] < 0 || image[k] > 255) {
          throw new IOException(name + ": \"" + prefix + "image[" + k + "]\" is " + image[k] + "; grey levels are 0..255");
        }
      }
    }
    return new ExplorerSession.Case(observed, image);
  }

  private static Map<String, Double> numbers(JsonElement e, String name, String field) throws IOException {
    if (!e.isJsonObject()) {
      throw new IOException(name + ": \"" + field + "\" must be an object of variable: number");
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> v : e.getAsJsonObject().entrySet()) {
      out.put(v.getKey(), number(v.getValue(), name, field + "." + v.getKey()));
    }
    return out;
  }

  private static double number(JsonElement e, String name, String field) throws IOException {
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
      double d = e.getAsDouble();
      if (Double.isFinite(d)) {
        return d;
      }
    }
    throw new IOException(name + ": \"" + field + "\" is " + e + ", not a finite number");
  }
}
