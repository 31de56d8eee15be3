package org.deepscm.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.Variable;

/** Writes MODEL_CARD.md: what a person needs to know to trust (or not) a model folder. */
public final class ModelCard {
  private ModelCard() {}

  public static void write(SavedModel model, String description, Path folder) throws IOException {
    JsonObject tr = model.training();
    StringBuilder b = new StringBuilder();
    b.append("# Model card: ").append(model.name()).append("\n\n");
    b.append(description).append("\n\n");
    b.append("## Causal graph and mechanisms\n\n");
    b.append("| variable | kind | unit | parents | training range |\n|---|---|---|---|---|\n");
    for (Variable v : model.scm().graph().variables()) {
      double[] r = model.trainingRange(v.name());
      b.append("| ").append(v.name()).append(" | ").append(v.kind().name().toLowerCase(Locale.ROOT)).append(" | ")
          .append(v.unit()).append(" | ").append(String.join(", ", model.scm().graph().parents(v.name())))
          .append(" | ").append(r == null ? "" : String.format(Locale.ROOT, "%.4g .. %.4g", r[0], r[1]))
          .append(" |\n");
    }
    b.append("\nThe mechanisms (flow steps from noise to value, normalisation constants) are listed in `")
        .append(ModelFolder.MODEL_FILE).append("`; the weights are in `").append(ModelFolder.WEIGHTS_FILE)
        .append("`.\n\n");
    b.append("## Training\n\n| field | value |\n|---|---|\n");
    for (Map.Entry<String, JsonElement> e : tr.entrySet()) {
      if (!e.getKey().equals("measures") && !e.getKey().equals("history")) {
        b.append("| ").append(e.getKey()).append(" | ").append(text(e.getValue())).append(" |\n");
      }
    }
    if (tr.has("measures")) {
      b.append("\n## Measures (test split)\n\n| measure | value |\n|---|---|\n");
      for (Map.Entry<String, JsonElement> e : tr.getAsJsonObject("measures").entrySet()) {
        b.append("| ").append(e.getKey()).append(" | ")
            .append(String.format(Locale.ROOT, "%.4f", e.getValue().getAsDouble())).append(" |\n");
      }
    }
    Files.writeString(folder.resolve(ModelFolder.CARD_FILE), b.toString(), StandardCharsets.UTF_8);
  }

  /**
   * Replaces the measures of a model folder (model.json's training.measures and the card's
   * "Measures (test split)" section) with a new evaluation, saying how it was made; the rest of the
   * folder is left as it was.
   */
  public static void recordMeasures(Path folder, Map<String, Double> measures, String how) throws IOException {
    Path modelFile = folder.resolve(ModelFolder.MODEL_FILE);
    JsonObject model = com.google.gson.JsonParser.parseString(Files.readString(modelFile, StandardCharsets.UTF_8))
        .getAsJsonObject();
    JsonObject training = model.has("training") ? model.getAsJsonObject("training") : new JsonObject();
    JsonObject m = new JsonObject();
    measures.forEach(m::addProperty);
    training.add("measures", m);
    training.addProperty("measured_by", how);
    model.add("training", training);
    Path tmp = folder.resolve(ModelFolder.MODEL_FILE + ".tmp");
    Files.writeString(tmp, new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(model) + "\n",
        StandardCharsets.UTF_8);
    Files.move(tmp, modelFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    StringBuilder section = new StringBuilder("## Measures (test split)\n\n").append(how).append("\n\n")
        .append("| measure | value |\n|---|---|\n");
    measures.forEach((k, v) -> section.append("| ").append(k).append(" | ")
        .append(String.format(Locale.ROOT, "%.4f", v)).append(" |\n"));
    Path card = folder.resolve(ModelFolder.CARD_FILE);
    String text = Files.isRegularFile(card) ? Files.readString(card, StandardCharsets.UTF_8) : "";
    int start = text.indexOf("## Measures (test split)");
    if (start < 0) {
      text = text + (text.isEmpty() || text.endsWith("\n\n") ? "" : "\n") + section;
    } else {
      int end = text.indexOf("\n## ", start);
      text = text.substring(0, start) + section + (end < 0 ? "" : text.substring(end));
    }
    Files.writeString(card, text, StandardCharsets.UTF_8);
  }

  private static String text(JsonElement e) {
    return e.isJsonPrimitive() ? e.getAsString().replace("|", "\\|") : e.toString().replace("|", "\\|");
  }
}
