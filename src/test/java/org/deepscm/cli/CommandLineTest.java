package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI as a user runs it, on the shipped models. */
class CommandLineTest {
  @TempDir
  Path dir;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    CommandLine cl = DeepScmCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void everyCommandsHelpIsFormattedWithoutWarnings() {
    // picocli reports a description it cannot format (a bare % in it) on System.err and prints it raw
    java.io.PrintStream old = System.err;
    java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(warnings, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      for (var sub : DeepScmCommand.commandLine().getSubcommands().entrySet()) {
        String usage = sub.getValue().getUsageMessage();
        assertTrue(usage.contains("Usage:"), sub.getKey());
        assertTrue(!usage.contains("%n"), sub.getKey() + "'s help shows a raw %n:\n" + usage);
      }
    } finally {
      System.setErr(old);
    }
    assertEquals("", warnings.toString(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void aStormWithAnImpossibleDelayIsRefusedBeforeAWindowOpens() {
    Run r = run("explore", "--storm", "1", "--storm-after", "-1");
    // 2: what the command line refuses (as any other value out of its range)
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("--storm-after must be 0 to 600 seconds, got -1.0"), r.err());
  }

  @Test
  void benchRefusesATrainingBatchOfOneBeforeAnyWork() {
    // one image per step ended in libtorch's "Expected more than 1 value per channel when training"
    Run r = run("bench", "--model", "models/brain-synthetic", "--train-batch", "1");
    assertEquals(2, r.code(), r.out() + r.err());
    assertEquals("error: --train-batch must be at least 2 (batch normalisation needs two images per training "
        + "step), got 1", r.err().strip());
    assertEquals("", r.out(), "refused before the model is read or anything is timed");
    Run none = run("bench", "--repeats", "0");
    assertEquals(2, none.code(), none.out() + none.err());
    assertTrue(none.err().contains("--repeats must be at least 1"), none.err());
  }

  @Test
  void sampleSheetHasOneRowPerUnit() {
    Run r = run("sample", "-n", "7", "--csv");
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().strip().split("\n");
    assertEquals("t,i", lines[0]);
    assertEquals(8, lines.length);
    for (int k = 1; k < lines.length; k++) {
      String[] cells = lines[k].split(",");
      assertTrue(Double.parseDouble(cells[0]) > 0, "thickness is positive");
      double i = Double.parseDouble(cells[1]);
      assertTrue(i >= 0 && i <= 255, "intensity in 0..255");
    }
  }

  @Test
  void interveningOnThicknessMovesIntensityAsTheTrueScm() {
    Run r = run("intervene", "--do", "t=3", "-n", "20000", "--csv");
    assertEquals(0, r.code(), r.err());
    String iRow = r.out().lines().filter(l -> l.startsWith("i,")).findFirst().orElseThrow();
    double meanDo = Double.parseDouble(iRow.split(",")[4]);
    assertEquals(MorphoMnistTrueScm.interventionalIntensityMean(3), meanDo, 2.0);
    String tRow = r.out().lines().filter(l -> l.startsWith("t,")).findFirst().orElseThrow();
    assertEquals(3.0, Double.parseDouble(tRow.split(",")[4]), 1e-4);
  }

  @Test
  void counterfactualIsCloseToTheTrueOneAndConsistent() {
    double t = 2.1;
    double i = 150;
    Run r = run("counterfactual", "--observed", "t=" + t + ",i=" + i, "--do", "t=3.5", "--csv");
    assertEquals(0, r.code(), r.err());
    String[] cells = r.out().strip().split("\n")[1].split(",");
    double trueCf = MorphoMnistTrueScm.intensity(3.5, MorphoMnistTrueScm.abductIntensityNoise(t, i));
    assertEquals(3.5, Double.parseDouble(cells[2]), 1e-4);
    assertEquals(trueCf, Double.parseDouble(cells[3]), 3.0, "model vs true counterfactual intensity");

    Run same = run("counterfactual", "--observed", "t=2.1,i=150", "--do", "t=2.1", "--csv");
    String[] back = same.out().strip().split("\n")[1].split(",");
    assertEquals(i, Double.parseDouble(back[3]), 1e-2, "do(t := observed t) gives the observation back");
  }

  @Test
  void counterfactualsOfACsvAreWrittenToAFile() throws IOException {
    Path in = dir.resolve("cases.csv");
    Files.writeString(in, "t,i\n1.5,100\n2.5,160\n4.0,230\n");
    Path out = dir.resolve("answers.csv");
    Run r = run("counterfactual", "--input", in.toString(), "--do", "t+=1", "--output", out.toString());
    assertEquals(0, r.code(), r.err());
    var lines = Files.readAllLines(out);
    assertEquals("t,i,t_cf,i_cf", lines.get(0));
    assertEquals(4, lines.size());
    assertEquals(2.5, Double.parseDouble(lines.get(1).split(",")[2]), 1e-4);
    assertTrue(Double.parseDouble(lines.get(1).split(",")[3]) > 100, "thicker strokes are brighter");
  }

  @Test
  void quotedCsvIsReadAndWhatIsWrittenIsRfc4180() throws IOException {
    Path in = dir.resolve("quoted.csv");
    // quoted header and cells, CRLF line ends, a blank line: all valid CSV
    Files.writeString(in, "\"t\",\"i\"\r\n\"1.5\",100\r\n\r\n2.5,\"160\"\r\n");
    Path out = dir.resolve("answers.csv");
    Run r = run("counterfactual", "--input", in.toString(), "--do", "t+=1", "--output", out.toString(), "--csv");
    assertEquals(0, r.code(), r.err());
    for (String text : new String[] {r.out(), Files.readString(out)}) {
      var rows = Rfc4180.parse(text);
      assertEquals(java.util.List.of("t", "i", "t_cf", "i_cf"), rows.get(0));
      assertEquals(3, rows.size(), text);
      rows.forEach(row -> assertEquals(4, row.size(), "fields of " + row));
      assertEquals(2.5, Double.parseDouble(rows.get(1).get(2)), 1e-4);
    }

    Path open = dir.resolve("open.csv");
    Files.writeString(open, "t,i\n\"1.5,100\n");
    Run unclosed = run("counterfactual", "--input", open.toString(), "--do", "t+=1");
    assertEquals(2, unclosed.code());
    assertTrue(unclosed.err().contains("line 2 is never closed"), unclosed.err());
  }

  @Test
  void badInputGivesOneClearErrorAndExitCode2() throws IOException {
    Run negative = run("counterfactual", "--observed", "t=-1,i=150", "--do", "t=3");
    assertEquals(2, negative.code());
    assertTrue(negative.err().contains("t [pixels] = -1.0 is outside its support"), negative.err());
    assertTrue(!negative.err().contains("Exception"), "no stack trace: " + negative.err());

    Run nan = run("counterfactual", "--observed", "t=NaN,i=150", "--do", "t=3");
    assertEquals(2, nan.code());
    assertTrue(nan.err().contains("NaN"), nan.err());

    Run missing = run("counterfactual", "--observed", "t=2", "--do", "t=3");
    assertTrue(missing.err().contains("no value for i"), missing.err());

    Run noModel = run("sample", "--model", dir.resolve("absent").toString());
    assertEquals(2, noModel.code());
    assertTrue(noModel.err().contains("does not exist"), noModel.err());

    Path csv = dir.resolve("bad.csv");
    Files.writeString(csv, "t,intensity\n2,100\n");
    Run badCsv = run("counterfactual", "--input", csv.toString(), "--do", "t=3");
    assertEquals(2, badCsv.code());
    assertTrue(badCsv.err().contains("has no column i"), badCsv.err());

    Run badDo = run("intervene", "--do", "t:=3");
    assertEquals(2, badDo.code());
    assertTrue(badDo.err().contains("cannot read intervention"), badDo.err());

    Run extrapolation = run("counterfactual", "--observed", "t=2,i=150", "--do", "t=9", "--csv");
    assertEquals(0, extrapolation.code());
    assertTrue(extrapolation.err().contains("extrapolation"), extrapolation.err());
    assertTrue(!extrapolation.out().contains("NaN"));
  }

  @Test
  void shippedFullModelMeetsTheTargetsAndWritesFlatJson() throws IOException {
    Path json = dir.resolve("measures.json");
    Run r = run("evaluate", "--model", "models/morphomnist-covariates", "--json", json.toString());
    assertEquals(0, r.code(), r.err());
    JsonObject m = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    assertTrue(m.get("log_p_t").getAsDouble() >= -0.95, "log p(t) " + m.get("log_p_t"));
    assertTrue(m.get("log_p_i_given_t").getAsDouble() >= -4.35, "log p(i | t) " + m.get("log_p_i_given_t"));
    for (int t = 1; t <= 4; t++) {
      double model = m.get("do_t_" + t + "_i_mean_model").getAsDouble();
      double truth = m.get("do_t_" + t + "_i_mean_true").getAsDouble();
      assertEquals(truth, model, 2.0, "E[i | do(t := " + t + ")]");
    }
    assertTrue(m.get("do_t_mean_abs_error").getAsDouble() < 2.0);
    assertEquals(MorphoMnistTrueScm.thicknessMean(), m.get("do_i_t_mean_model").getAsDouble(), 0.03,
        "p(t | do(i)) = p(t)");
    m.entrySet().forEach(e -> assertTrue(e.getValue().isJsonPrimitive(), "flat JSON: " + e.getKey()));
  }

  @Test
  void shippedIndependentModelSitsNearTheMarginalLikelihood() {
    Run r = run("evaluate", "--model", "models/morphomnist-covariates-independent");
    assertEquals(0, r.code(), r.err());
    String row = r.out().lines().filter(l -> l.startsWith("log_p_i ")).findFirst().orElseThrow();
    double logPi = Double.parseDouble(row.trim().split("\\s+")[1]);
    assertEquals(-5.19, logPi, 0.05, "an i independent of t: log p(i)");
  }

  @Test
  void trainWritesAModelFolderThatEvaluates() {
    Path out = dir.resolve("tiny");
    Run r = run("train", "--dataset", "morphomnist-covariates", "--out", out.toString(), "--epochs", "2",
        "--checkpoint", dir.resolve("ck").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("epoch    1/2"), r.err());
    assertTrue(Files.exists(out.resolve("model.json")) && Files.exists(out.resolve("MODEL_CARD.md")));
    Run again = run("train", "--dataset", "morphomnist-covariates", "--out", out.toString(), "--epochs", "3",
        "--checkpoint", dir.resolve("ck").toString(), "--resume");
    assertEquals(0, again.code(), again.err());
    assertTrue(again.err().contains("resumed from") && again.err().contains("epoch    3/3")
        && !again.err().contains("epoch    1/3"), again.err());
  }

  @Test
  void compactHalvesTheWeightsAndRecordsThatTheMeasuresStay() throws Exception {
    Path out = dir.resolve("half");
    Run r = run("compact", "--model", "models/morphomnist-covariates", "--out", out.toString(), "--check-units", "1");
    assertEquals(0, r.code(), r.err());
    long before = Files.size(Path.of("models/morphomnist-covariates/weights.safetensors"));
    long after = Files.size(out.resolve("weights.safetensors"));
    assertTrue(after < 0.75 * before, "float16 weights: " + before + " -> " + after + " bytes");
    String card = Files.readString(out.resolve("MODEL_CARD.md"));
    assertTrue(card.contains("## Half precision"), card);
    String row = card.lines().filter(l -> l.startsWith("| log_p_i_given_t |")).reduce((a, b) -> b).orElseThrow();
    String[] cells = row.split("\\|");
    assertEquals(Double.parseDouble(cells[2].trim()), Double.parseDouble(cells[3].trim()), 0.01,
        "log p(i | t) with float16 weights: " + row);
  }

  @Test
  void anImageForTheCovariateModelAndHugeParticleCountsAreRefusedClearly() {
    Run r = run("counterfactual", "--image", "digit.png", "--do", "t=3");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("has no image variable"), r.err());
    r = run("counterfactual", "--model", "models/morphomnist-full", "--observed", "t=2,i=150", "--do", "t=3",
        "--particles", "10000000");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--particles takes 1 .. 4096"), r.err());
    assertTrue(!r.err().contains("Exception"), r.err());
  }

  @Test
  void compactingInPlaceOrWithANegativeCheckIsRefused() throws Exception {
    Path copy = dir.resolve("covariates");
    Files.createDirectories(copy);
    try (var files = Files.list(Path.of("models", "morphomnist-covariates"))) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    byte[] weights = Files.readAllBytes(copy.resolve("weights.safetensors"));
    Run r = run("compact", "--model", copy.toString(), "--out", copy.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("would overwrite its float32 weights"), r.err());
    assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(copy.resolve("weights.safetensors"))));
    r = run("compact", "--model", copy.toString(), "--out", dir.resolve("f16").toString(), "--check-units", "-5");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--check-units takes 0"), r.err());
  }

  @Test
  void interveneRefusesACountItCannotHoldBeforeStartingAndDrawsLargeOnesInChunks() {
    Run r = run("intervene", "--do", "t=3", "-n", "2000000000");
    assertEquals(2, r.code(), r.out());
    assertTrue(r.err().startsWith("error: intervene -n 2,000,000,000 needs about 80 GB of memory; this Java may use"),
        r.err());
    assertTrue(r.err().contains("lower -n"), r.err());
    r = run("intervene", "--do", "t=3", "-n", "200000", "--samples");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("add --csv to stream them"), r.err());
    // past one chunk (100,000): the summary covers every draw, the do() holds exactly in all of them
    r = run("intervene", "--do", "t=3", "-n", "250000", "--csv");
    assertEquals(0, r.code(), r.err());
    String[] t = r.out().lines().filter(l -> l.startsWith("t,")).findFirst().orElseThrow().split(",");
    assertEquals(3, Double.parseDouble(t[4]), 1e-9);
    assertEquals(0, Double.parseDouble(t[5]), 1e-9);
    assertEquals(2.5, Double.parseDouble(t[2]), 0.1, "the observational mean thickness");
  }

  @Test
  void samplingStopsWhenTheReaderGoesAwayAsWithHead() {
    // a pipe whose reader left after the first kilobyte: every later write fails, as `| head` makes it
    java.util.concurrent.atomic.AtomicLong attempted = new java.util.concurrent.atomic.AtomicLong();
    java.io.OutputStream pipe = new java.io.OutputStream() {
      @Override
      public void write(int b) throws java.io.IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws java.io.IOException {
        if (attempted.addAndGet(len) > 1024) {
          throw new java.io.IOException("Broken pipe");
        }
      }
    };
    java.io.PrintStream stdout = System.out;
    try {
      System.setOut(new java.io.PrintStream(pipe, true));
      CommandLine cl = DeepScmCommand.commandLine(); // its writer wraps System.out, as picocli's default does
      cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8),
          true));
      int code = cl.execute("sample", "-n", "5000000", "--csv");
      assertEquals(0, code);
      assertTrue(attempted.get() < 20_000_000, "stopped after a chunk or two, not 50 chunks: " + attempted.get());
    } finally {
      System.setOut(stdout);
    }
  }

  @Test
  void anInterventionThatOverflowsTheModelIsAnErrorNotInfinity() {
    Run r = run("counterfactual", "--observed", "t=2.1,i=150", "--do", "t=1e300");
    assertEquals(2, r.code(), r.out());
    assertTrue(r.err().contains("do(t := 1e300)") && r.err().contains("overflows the model"), r.err());
    assertTrue(!r.out().contains("Infinity") && !r.out().contains("NaN"), r.out());
    r = run("intervene", "--do", "t=1e300");
    assertEquals(2, r.code(), r.out());
    assertTrue(r.err().contains("overflow the model"), r.err());
    assertTrue(!r.out().contains("NaN"), r.out());
  }

  @Test
  void largeSamplesStreamAsCsvAndATableOfThemIsRefused() {
    Run r = run("sample", "-n", "100000000");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("add --csv to stream them"), r.err());
    r = run("sample", "-n", "250000", "--csv");
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().split("\n");
    assertEquals(250_001, lines.length, "one header and a row per unit");
    assertEquals("t,i", lines[0]);
    assertEquals(1, java.util.Arrays.stream(lines).filter("t,i"::equals).count(), "the header once");
  }

  @Test
  void outputIntoAMissingFolderIsRefusedFirstAndManyRowsStayOffTheScreen() throws IOException {
    Path input = dir.resolve("cases.csv");
    StringBuilder b = new StringBuilder("t,i\n");
    for (int k = 0; k < 300; k++) {
      b.append(1.5 + k % 30 / 10.0).append(',').append(100 + k % 100).append('\n');
    }
    Files.writeString(input, b);
    Run r = run("counterfactual", "--input", input.toString(), "--do", "t+=1", "--output",
        dir.resolve("missing").resolve("answers.csv").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("does not exist; create it first"), r.err());
    assertTrue(r.out().isEmpty(), "nothing printed before the error: " + r.out());
    Path answers = dir.resolve("answers.csv");
    r = run("counterfactual", "--input", input.toString(), "--do", "t+=1", "--output", answers.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("... and 280 more rows: all 300 are in"), r.err());
    assertTrue(r.out().split("\n").length < 30, "the screen shows a head: " + r.out().split("\n").length);
    assertEquals(301, Files.readAllLines(answers).size());
  }

  @Test
  void aFileNamedForTheWrongKindOfOutputIsRefusedBeforeAnyWork() throws IOException {
    // the CSV of values went into cf.png, a file no image viewer opens; the image option is --image-out
    Path png = dir.resolve("cf.png");
    Run r = run("counterfactual", "--observed", "t=2.1,i=150", "--do", "t=3.5", "--output", png.toString());
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().startsWith("error: --output " + png + " is named like an image (.png), but --output writes "
        + "the answers as CSV"), r.err());
    assertTrue(r.err().contains("--image-out"), "names the image option: " + r.err());
    assertEquals("", r.out());
    assertTrue(!Files.exists(png));
    for (String name : new String[] {"cf.JPG", "cf.jpeg", "cf.gif", "cf.bmp", "cf.tif", "cf.tiff", "cf.nii",
        "cf.nii.gz"}) {
      Run other = run("counterfactual", "--observed", "t=2.1,i=150", "--do", "t=3.5", "--output",
          dir.resolve(name).toString());
      assertEquals(2, other.code(), name + ": " + other.err());
      assertTrue(other.err().contains("is named like an image"), other.err());
      assertTrue(!Files.exists(dir.resolve(name)), name);
    }
    Path json = dir.resolve("measures.png");
    Run evaluate = run("evaluate", "--model", "models/morphomnist-covariates", "--json", json.toString());
    assertEquals(2, evaluate.code(), evaluate.out() + evaluate.err());
    assertTrue(evaluate.err().contains("--json " + json + " is named like an image (.png), but --json writes the "
        + "measures as JSON"), evaluate.err());
    assertEquals("", evaluate.out(), "refused before measuring");
    Run folder = run("evaluate", "--model", "models/morphomnist-covariates", "--json", dir.toString());
    assertEquals(2, folder.code(), folder.out() + folder.err());
    assertTrue(folder.err().contains("is a folder; give a file name, e.g. measures.json"), folder.err());
    // the other way round: a PNG written into a file named .csv
    Path csv = dir.resolve("cf.csv");
    Run image = run("counterfactual", "--model", "models/morphomnist-full", "--image", "missing.png",
        "--do", "t=3", "--image-out", csv.toString());
    assertEquals(2, image.code(), image.out() + image.err());
    assertTrue(image.err().contains("--image-out " + csv + " is named like a data file (.csv), but --image-out "
        + "writes PNG images; the answers' CSV goes to --output"), image.err());
    assertTrue(!Files.exists(csv));
  }

  @Test
  void aCsvOutputWithAnOrdinaryNameIsStillWritten() throws IOException {
    Path csv = dir.resolve("answers.v2.CSV");
    Run r = run("counterfactual", "--observed", "t=2.1,i=150", "--do", "t=3.5", "--output", csv.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(2, Files.readAllLines(csv).size());
  }
}
