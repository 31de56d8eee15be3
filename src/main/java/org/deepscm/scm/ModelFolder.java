package org.deepscm.scm;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deepscm.flow.FlowStep;
import org.deepscm.flow.ParameterSet;
import org.deepscm.image.ImageMechanism;

/**
 * Reads and writes model folders. A folder holds:
 *
 * <ul>
 *   <li>{@code model.json}: {@code format} = "deepscm-model", {@code version} (this code writes
 *       {@value #VERSION} and reads every version up to it), the variables, one mechanism per
 *       variable (its parents' encodings and its flow steps from noise to value), each variable's
 *       training range, and the training record;
 *   <li>{@code weights.safetensors}: every parameter by name (float32, or float16 to save space);
 *   <li>{@code MODEL_CARD.md}: data, command, seed, wall time and measures, for people.
 * </ul>
 *
 * The format is described in full in the README ("Model folders").
 */
public final class ModelFolder {
  public static final String FORMAT = "deepscm-model";
  public static final int VERSION = 1;
  public static final String MODEL_FILE = "model.json";
  public static final String WEIGHTS_FILE = "weights.safetensors";
  public static final String CARD_FILE = "MODEL_CARD.md";

  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

  private ModelFolder() {}

  // ---------------------------------------------------------------- writing

  public static void save(SavedModel model, Path folder) throws IOException {
    save(model, folder, false);
  }

  /**
   * @param float16 store the weights in half precision (half the size; loading turns them back into
   *     float32). Check with `evaluate` that the measures do not change before shipping such a folder.
   */
  public static void save(SavedModel model, Path folder, boolean float16) throws IOException {
    Files.createDirectories(folder);
    JsonObject root = new JsonObject();
    root.addProperty("format", FORMAT);
    root.addProperty("version", VERSION);
    root.addProperty("name", model.name());
    StructuralCausalModel scm = model.scm();
    JsonArray variables = new JsonArray();
    for (Variable v : scm.graph().variables()) {
      JsonObject o = variableJson(v);
      double[] range = model.trainingRange(v.name());
      if (range != null) {
        JsonArray r = new JsonArray();
        r.add(range[0]);
        r.add(range[1]);
        o.add("training_range", r);
      }
      variables.add(o);
    }
    root.add("variables", variables);
    JsonArray mechanisms = new JsonArray();
    for (String name : scm.graph().topologicalOrder()) {
      mechanisms.add(mechanismJson(scm.mechanism(name)));
    }
    root.add("mechanisms", mechanisms);
    root.addProperty("weights", WEIGHTS_FILE);
    root.add("training", model.training() == null ? new JsonObject() : model.training());

    // write to temporary files and move into place, so an interrupted save never leaves half a model
    Path weightsTmp = folder.resolve(WEIGHTS_FILE + ".tmp");
    try (NDManager m = NDManager.newBaseManager();
        OutputStream out = Files.newOutputStream(weightsTmp)) {
      NDList list = scm.parameters().snapshot(m);
      for (String name : scm.graph().topologicalOrder()) {
        if (scm.mechanism(name) instanceof ImageMechanism image) {
          list.addAll(image.snapshot(m));
        }
      }
      if (float16) {
        NDList half = new NDList();
        for (ai.djl.ndarray.NDArray a : list) {
          ai.djl.ndarray.NDArray h = a.toType(ai.djl.ndarray.types.DataType.FLOAT16, true);
          h.setName(a.getName());
          half.add(h);
        }
        list = half;
      }
      list.encode(out, NDList.Encoding.SAFETENSORS);
    }
    Path modelTmp = folder.resolve(MODEL_FILE + ".tmp");
    Files.writeString(modelTmp, GSON.toJson(root) + "\n", StandardCharsets.UTF_8);
    Files.move(weightsTmp, folder.resolve(WEIGHTS_FILE), StandardCopyOption.REPLACE_EXISTING);
    Files.move(modelTmp, folder.resolve(MODEL_FILE), StandardCopyOption.REPLACE_EXISTING);
  }

  static JsonObject variableJson(Variable v) {
    JsonObject o = new JsonObject();
    o.addProperty("name", v.name());
    o.addProperty("kind", v.kind().name().toLowerCase(Locale.ROOT));
    o.addProperty("unit", v.unit());
    o.add("lower", number(v.lower()));
    o.add("upper", number(v.upper()));
    if (!v.categories().isEmpty()) {
      o.add("categories", GSON.toJsonTree(v.categories()));
    }
    if (!v.shape().isEmpty()) {
      o.add("shape", GSON.toJsonTree(v.shape()));
    }
    return o;
  }

  private static JsonElement number(double x) {
    return Double.isInfinite(x) ? JsonNull.INSTANCE : new JsonPrimitive(x);
  }

  static JsonObject mechanismJson(Mechanism m) {
    JsonObject o = new JsonObject();
    o.addProperty("variable", m.variable().name());
    if (m instanceof FlowMechanism f) {
      o.addProperty("type", "flow");
      o.add("context", contextJson(f.context()));
      JsonArray steps = new JsonArray();
      for (FlowStep s : f.steps()) {
        steps.add(stepJson(s));
      }
      o.add("steps", steps);
    } else if (m instanceof GumbelMaxMechanism g) {
      o.addProperty("type", "gumbel_max");
      o.add("context", contextJson(g.context()));
      o.add("hidden", GSON.toJsonTree(g.hidden()));
    } else if (m instanceof ImageMechanism image) {
      return image.toJson();
    } else {
      throw new IllegalArgumentException("cannot save a mechanism of type " + m.getClass().getSimpleName());
    }
    return o;
  }

  private static JsonArray contextJson(List<ContextEncoding> context) {
    return ContextEncoding.toJson(context);
  }

  private static JsonObject stepJson(FlowStep s) {
    JsonObject o = new JsonObject();
    o.addProperty("type", s.type());
    if (s instanceof FlowStep.Spline sp) {
      o.addProperty("bins", sp.bins());
      o.addProperty("bound", sp.bound());
    } else if (s instanceof FlowStep.ConditionalAffine ca) {
      o.add("hidden", GSON.toJsonTree(ca.hidden()));
    } else if (s instanceof FlowStep.Normalise n) {
      o.addProperty("shift", n.shift());
      o.addProperty("scale", n.scale());
    }
    return o;
  }

  // ---------------------------------------------------------------- reading

  /**
   * Loads a model folder with its weights.
   *
   * @throws InvalidModelException naming the folder, the file and what is wrong with it
   */
  public static SavedModel load(Path folder) {
    try {
      return loadChecked(folder);
    } catch (InvalidModelException | InvalidValueException e) {
      throw e;
    } catch (RuntimeException e) {
      // a number that is no number, an array where an object belongs: a damaged or hand-edited file
      throw new InvalidModelException("model folder " + folder + ": " + MODEL_FILE + " or " + WEIGHTS_FILE
          + " is damaged or was edited by hand (a field holds a value of the wrong kind); restore it from the "
          + "release or train the model again", e);
    }
  }

  private static SavedModel loadChecked(Path folder) {
    if (!Files.isDirectory(folder)) {
      throw new InvalidModelException("model folder " + folder + " does not exist or is not a folder");
    }
    Path modelFile = folder.resolve(MODEL_FILE);
    if (!Files.isRegularFile(modelFile)) {
      throw new InvalidModelException("model folder " + folder + " has no " + MODEL_FILE);
    }
    JsonObject root;
    try {
      JsonElement parsed = JsonParser.parseString(Files.readString(modelFile, StandardCharsets.UTF_8));
      if (!parsed.isJsonObject()) {
        throw new InvalidModelException(modelFile + " does not hold a JSON object");
      }
      root = parsed.getAsJsonObject();
    } catch (IOException | JsonParseException e) {
      throw new InvalidModelException(modelFile + " is not readable JSON: " + e.getMessage(), e);
    }
    Reader r = new Reader(modelFile);
    if (!FORMAT.equals(r.string(root, "format"))) {
      throw new InvalidModelException(modelFile + " is not a DeepSCM model (format must be \"" + FORMAT + "\")");
    }
    int version = r.integer(root, "version");
    if (version < 1 || version > VERSION) {
      throw new InvalidModelException(
          modelFile + " has format version " + version + "; this version of DeepSCM Explorer reads versions 1 to "
              + VERSION + " (a newer release may read it)");
    }
    String name = root.has("name") ? r.string(root, "name") : folder.getFileName().toString();

    List<Variable> variables = new ArrayList<>();
    Map<String, double[]> ranges = new LinkedHashMap<>();
    for (JsonElement e : r.array(root, "variables")) {
      JsonObject o = r.object(e, "variables[]");
      Variable v = readVariable(o, r);
      variables.add(v);
      if (o.has("training_range")) {
        JsonArray a = r.array(o, "training_range");
        ranges.put(v.name(), new double[] {a.get(0).getAsDouble(), a.get(1).getAsDouble()});
      }
    }
    Map<String, Variable> byName = new LinkedHashMap<>();
    variables.forEach(v -> byName.put(v.name(), v));

    NDManager manager = NDManager.newBaseManager();
    try {
      ParameterSet params = new ParameterSet(manager);
      Map<String, Mechanism> mechanisms = new LinkedHashMap<>();
      Map<String, List<String>> parents = new LinkedHashMap<>();
      for (JsonElement e : r.array(root, "mechanisms")) {
        JsonObject o = r.object(e, "mechanisms[]");
        String var = r.string(o, "variable");
        Variable v = byName.get(var);
        if (v == null) {
          throw new InvalidModelException(modelFile + ": mechanism for unknown variable '" + var + "'");
        }
        Mechanism m = readMechanism(o, v, params, r);
        if (mechanisms.put(var, m) != null) {
          throw new InvalidModelException(modelFile + ": two mechanisms for variable '" + var + "'");
        }
        parents.put(var, m.parents());
      }
      CausalGraph graph;
      try {
        graph = new CausalGraph(variables, parents);
      } catch (InvalidModelException ex) {
        throw new InvalidModelException(modelFile + ": " + ex.getMessage(), ex);
      }
      // fresh parameters give the expected names and shapes; the weights file then fills them
      java.util.Random unused = new java.util.Random(0);
      for (Mechanism m : mechanisms.values()) {
        if (m instanceof FlowMechanism f) {
          f.initParameters(unused);
        } else if (m instanceof GumbelMaxMechanism g) {
          g.initParameters(unused);
        }
      }
      Path weights = folder.resolve(root.has("weights") ? r.string(root, "weights") : WEIGHTS_FILE);
      if (!Files.isRegularFile(weights)) {
        throw new InvalidModelException("model folder " + folder + " has no weights file " + weights.getFileName());
      }
      try (NDManager tmp = NDManager.newBaseManager(); InputStream in = Files.newInputStream(weights)) {
        NDList list;
        try {
          list = NDList.decode(tmp, in);
        } catch (RuntimeException ex) {
          // our words, not the decoder's: which file, what is wrong with it, what to do
          String what = ex.getClass().getName().startsWith("com.google.gson")
              ? "its header (the tensor index) is not valid JSON" : "its header or tensor data is damaged or cut short";
          throw new InvalidModelException(weights + " is not a readable weights file (safetensors): " + what
              + "; copy the model folder again, or retrain it", ex);
        }
        try {
          params.restore(list, weights.toString());
          for (Mechanism m : mechanisms.values()) {
            if (m instanceof ImageMechanism image) {
              image.restore(list, weights.toString());
            }
          }
        } catch (IllegalArgumentException ex) {
          throw new InvalidModelException(ex.getMessage(), ex);
        }
      } catch (IOException ex) {
        throw new InvalidModelException("cannot read " + weights + ": " + ex.getMessage(), ex);
      }
      JsonObject training = root.has("training") && root.get("training").isJsonObject()
          ? root.getAsJsonObject("training") : new JsonObject();
      StructuralCausalModel scm = new StructuralCausalModel(graph, mechanisms, params);
      return new SavedModel(name, scm, ranges, training, folder);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  private static Variable readVariable(JsonObject o, Reader r) {
    String name = r.string(o, "name");
    String kindText = r.string(o, "kind");
    VariableKind kind;
    try {
      kind = VariableKind.valueOf(kindText.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new InvalidModelException(r.file + ": variable '" + name + "' has unknown kind '" + kindText + "'");
    }
    double lower = o.has("lower") && !o.get("lower").isJsonNull() ? o.get("lower").getAsDouble() : Double.NEGATIVE_INFINITY;
    double upper = o.has("upper") && !o.get("upper").isJsonNull() ? o.get("upper").getAsDouble() : Double.POSITIVE_INFINITY;
    if (kind == VariableKind.POSITIVE) {
      lower = 0;
    }
    List<String> categories = new ArrayList<>();
    if (o.has("categories")) {
      r.array(o, "categories").forEach(c -> categories.add(c.getAsString()));
    }
    String unit = o.has("unit") ? r.string(o, "unit") : "";
    try {
      return new Variable(name, kind, unit, lower, upper, categories, r.integers(o, "shape"));
    } catch (InvalidModelException e) {
      throw new InvalidModelException(r.file + ": " + e.getMessage(), e);
    }
  }

  private static Mechanism readMechanism(JsonObject o, Variable v, ParameterSet params, Reader r) {
    List<ContextEncoding> context = new ArrayList<>();
    if (o.has("context")) {
      for (JsonElement e : r.array(o, "context")) {
        JsonObject c = r.object(e, "context[]");
        context.add(new ContextEncoding(r.string(c, "parent"), c.has("log") && c.get("log").getAsBoolean(),
            r.number(c, "shift"), r.number(c, "scale")));
      }
    }
    String type = r.string(o, "type");
    switch (type) {
      case "flow" -> {
        List<FlowStep> steps = new ArrayList<>();
        for (JsonElement e : r.array(o, "steps")) {
          steps.add(readStep(r.object(e, "steps[]"), v, r));
        }
        return new FlowMechanism(v, context, steps, params);
      }
      case "gumbel_max" -> {
        return new GumbelMaxMechanism(v, context, r.integers(o, "hidden"), params);
      }
      case "image" -> {
        // the image networks keep weights of their own (trained apart from the flows), freed with the model
        try {
          return ImageMechanism.fromJson(o, v, new ParameterSet(params.manager()));
        } catch (RuntimeException e) {
          throw new InvalidModelException(r.file + ": " + e.getMessage(), e);
        }
      }
      default -> throw new InvalidModelException(r.file + ": mechanism of '" + v.name() + "' has unknown type '"
          + type + "' (known: flow, gumbel_max, image)");
    }
  }

  private static FlowStep readStep(JsonObject o, Variable v, Reader r) {
    String type = r.string(o, "type");
    try {
      return switch (type) {
        case "spline" -> new FlowStep.Spline(r.integer(o, "bins"), r.number(o, "bound"));
        case "affine" -> new FlowStep.Affine();
        case "conditional_affine" -> new FlowStep.ConditionalAffine(r.integers(o, "hidden"));
        case "normalise" -> new FlowStep.Normalise(r.number(o, "shift"), r.number(o, "scale"));
        case "exp" -> new FlowStep.Exp();
        case "sigmoid" -> new FlowStep.Sigmoid();
        default -> throw new InvalidModelException(
            r.file + ": flow of '" + v.name() + "' has unknown step '" + type
                + "' (known: spline, affine, conditional_affine, normalise, exp, sigmoid)");
      };
    } catch (IllegalArgumentException e) {
      if (e instanceof InvalidModelException) {
        throw e;
      }
      throw new InvalidModelException(r.file + ": flow of '" + v.name() + "': " + e.getMessage(), e);
    }
  }

  /** Field access that names the file and the field in every error. */
  private static final class Reader {
    final Path file;

    Reader(Path file) {
      this.file = file;
    }

    JsonElement field(JsonObject o, String name) {
      JsonElement e = o.get(name);
      if (e == null || e.isJsonNull()) {
        throw new InvalidModelException(file + ": missing field '" + name + "'");
      }
      return e;
    }

    String string(JsonObject o, String name) {
      JsonElement e = field(o, name);
      if (!e.isJsonPrimitive()) {
        throw new InvalidModelException(file + ": field '" + name + "' must be a string");
      }
      return e.getAsString();
    }

    double number(JsonObject o, String name) {
      JsonElement e = field(o, name);
      try {
        double x = e.getAsDouble();
        if (!Double.isFinite(x)) {
          throw new NumberFormatException("not finite");
        }
        return x;
      } catch (RuntimeException ex) {
        throw new InvalidModelException(file + ": field '" + name + "' must be a finite number, got " + e);
      }
    }

    int integer(JsonObject o, String name) {
      double x = number(o, name);
      if (x != Math.rint(x)) {
        throw new InvalidModelException(file + ": field '" + name + "' must be a whole number, got " + x);
      }
      return (int) x;
    }

    List<Integer> integers(JsonObject o, String name) {
      List<Integer> out = new ArrayList<>();
      if (o.has(name)) {
        for (JsonElement e : array(o, name)) {
          out.add(e.getAsInt());
        }
      }
      return out;
    }

    JsonArray array(JsonObject o, String name) {
      JsonElement e = field(o, name);
      if (!e.isJsonArray()) {
        throw new InvalidModelException(file + ": field '" + name + "' must be a list");
      }
      return e.getAsJsonArray();
    }

    JsonObject object(JsonElement e, String where) {
      if (!e.isJsonObject()) {
        throw new InvalidModelException(file + ": each entry of " + where + " must be an object");
      }
      return e.getAsJsonObject();
    }
  }
}
