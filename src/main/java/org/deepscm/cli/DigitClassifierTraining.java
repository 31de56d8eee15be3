package org.deepscm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.deepscm.AppPaths;
import org.deepscm.DeviceInfo;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import org.deepscm.flow.ParameterSet;
import org.deepscm.image.DigitClassifier;
import org.deepscm.train.DigitClassifierTrainer;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code train --dataset digit-classifier --out FILE}: the judge of "digit kept" ({@link DigitClassifier}),
 * trained on the project's training digits and their renderings ({@link DigitClassifierTrainer}), saved as
 * float16 safetensors when float16 reads the test digits and renderings exactly as well as float32 (else as
 * float32; both accuracies are printed), then read back from that file and measured on the test digits as given, on the test
 * renderings of the Morpho-MNIST dataset, and on TRUE counterfactuals of a sample of test units.
 */
final class DigitClassifierTraining {
  /** The options of {@code train} this dataset takes; any other one is refused rather than ignored. */
  private static final Set<String> OPTIONS = Set.of("--dataset", "--out", "--seed", "--epochs", "--batch", "--lr",
      "--variants");
  /** Test units whose TRUE counterfactuals are read after training (seeded, class-stratified). */
  static final int TRUE_CF_UNITS = 200;

  private final TrainCommand o;

  DigitClassifierTraining(TrainCommand options) {
    this.o = options;
  }

  int train() throws IOException {
    for (OptionSpec given : o.spec.commandLine().getParseResult().matchedOptions()) {
      if (!OPTIONS.contains(given.longestName())) {
        throw new IllegalArgumentException(given.longestName() + " is not an option of --dataset digit-classifier "
            + "(it takes --out FILE, --seed, --epochs, --batch, --lr and --variants)");
      }
    }
    if (Files.isDirectory(o.out) || !o.out.getFileName().toString().endsWith(".safetensors")) {
      throw new IllegalArgumentException("--out " + o.out + ": the digit classifier is one file; give a name ending "
          + "in .safetensors, e.g. " + DigitClassifier.SHIPPED);
    }
    DigitClassifierTrainer.Options d = DigitClassifierTrainer.Options.defaults(o.seed);
    var parsed = o.spec.commandLine().getParseResult();
    DigitClassifierTrainer.Options opt = new DigitClassifierTrainer.Options(d.members(),
        parsed.hasMatchedOption("--variants") ? o.variants : d.variants(),
        parsed.hasMatchedOption("--epochs") ? o.epochs : d.epochs(),
        parsed.hasMatchedOption("--batch") ? o.batch : d.batchSize(),
        parsed.hasMatchedOption("--lr") ? o.learningRate : d.learningRate(), d.maxShift(), o.seed);
    PrintWriter log = o.spec.commandLine().getErr();
    DigitClassifierTrainer.Log lines = text -> {
      log.println(text);
      log.flush();
    };
    long started = System.nanoTime();
    MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
    MnistDigits.Split split = digits.split();
    log.printf(Locale.ROOT, "digit classifier on %s: the %d training digits as given and %d renderings of each "
        + "(t uniform in %.1f..%.0f px, i uniform in %.0f..%.0f drawn afresh at every step), elastic "
        + "distortions of half of them and small random affine maps (shifts up to %d px); "
        + "%d epochs, batch %d, Adam lr %s (cosine), seed %d%n", DeviceInfo.describe(), split.train().length,
        opt.variants(), DigitClassifierTrainer.T_MIN, DigitClassifierTrainer.T_MAX, DigitClassifierTrainer.I_MIN,
        DigitClassifierTrainer.I_MAX, opt.maxShift(), opt.epochs(), opt.batchSize(), opt.learningRate(), opt.seed());
    java.util.function.BooleanSupplier cancelled = () -> Thread.currentThread().isInterrupted();
    DigitClassifierTrainer.Images train = DigitClassifierTrainer.images(digits, split.train(), opt.variants(),
        opt.seed(), AppPaths.cache(), lines, cancelled);
    DigitClassifierTrainer.Images val = DigitClassifierTrainer.images(digits, split.validation(), 1, opt.seed() + 1,
        AppPaths.cache(), lines, cancelled);
    float[] valPixels = DigitClassifierTrainer.fixedViews(val, opt.seed() + 2);
    DigitClassifierTrainer.Result r;
    Map<String, Double> float32;
    boolean half;
    try (DigitClassifier c = new DigitClassifier(new ParameterSet(ai.djl.ndarray.NDManager.newBaseManager()),
        opt.members()).initParameters(new Random(opt.seed()))) {
      log.printf("%d member networks, %d parameters in all; %d training images an epoch (each digit as given "
          + "twice), %d validation images (the %d validation digits as given and rendered once)%n", c.members(),
          c.weights().count(), train.n() + split.train().length, val.n(), split.validation().length);
      r = DigitClassifierTrainer.train(c, train, val, valPixels, opt, lines, cancelled);
      // float16 is shipped only where it reads the test digits exactly as well as the float32 weights
      float32 = measureTest(c, digits, lines);
      c.save(o.out, true);
      Map<String, Double> float16;
      try (DigitClassifier back = DigitClassifier.load(o.out)) {
        float16 = measureTest(back, digits, lines);
      }
      half = float16.equals(float32);
      if (!half) {
        log.println("float16 weights read the test digits differently (" + float16 + " against float32 "
            + float32 + "): saving float32");
        c.save(o.out, false);
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    log.printf(Locale.ROOT, "saved %s (%s, %d bytes): best epoch %d, validation accuracy %.4f; %.0f s so far "
        + "(training %.0f s)%n", o.out, half ? "float16" : "float32", Files.size(o.out), r.bestEpoch(),
        r.bestValidationAccuracy(), seconds, r.seconds());
    Map<String, Double> measures = measure(o.out, digits, lines);
    PrintWriter out = o.spec.commandLine().getOut();
    out.println("saved " + o.out + " (" + (half ? "float16" : "float32") + ")");
    measures.forEach((k, v) -> out.printf(Locale.ROOT, "%s = %.4f%n", k, v));
    float32.forEach((k, v) -> out.printf(Locale.ROOT, "float32_%s = %.4f%n", k, v));
    out.printf(Locale.ROOT, "best_epoch = %d%n", r.bestEpoch());
    out.printf(Locale.ROOT, "validation_accuracy = %.4f%n", r.bestValidationAccuracy());
    out.printf(Locale.ROOT, "training_seconds = %.0f%n", r.seconds());
    out.printf(Locale.ROOT, "wall_seconds = %.0f%n", (System.nanoTime() - started) / 1e9);
    return 0;
  }

  /**
   * The classifier in {@code file} (as stored: float16 read back as float32) measured on every test digit as
   * given, on every test rendering of the Morpho-MNIST dataset (paper Eq. 7, seed
   * {@link MorphoMnistDataset#DEFAULT_SEED}), and on the TRUE counterfactuals of {@value #TRUE_CF_UNITS} test
   * units under the evaluation's grid.
   */
  static Map<String, Double> measure(Path file, MnistDigits digits, DigitClassifierTrainer.Log log)
      throws IOException {
    try (DigitClassifier c = DigitClassifier.load(file)) {
      Map<String, Double> m = measureTest(c, digits, log);
      log.line("reading the TRUE counterfactuals of " + TRUE_CF_UNITS + " test units (class-stratified, seed 1)");
      m.putAll(DigitClassifierTrainer.trueCounterfactualAccuracy(c, digits, TRUE_CF_UNITS, 1));
      return m;
    }
  }

  /** {@code c}'s accuracy on all 2,000 test digits as given and on all their test renderings. */
  static Map<String, Double> measureTest(DigitClassifier c, MnistDigits digits, DigitClassifierTrainer.Log log)
      throws IOException {
    Map<String, Double> m = new LinkedHashMap<>();
    int[] test = digits.split().test();
    m.put("real_test_accuracy", c.accuracy(DigitClassifierTrainer.asGiven(digits, test),
        DigitClassifierTrainer.labelsOf(digits, test)));
    m.put("real_test_digits", (double) test.length);
    MorphoMnistDataset rendered = MorphoMnistDataset.load(digits, MorphoMnistDataset.Split.TEST,
        MorphoMnistDataset.DEFAULT_SEED, AppPaths.cache(), (done, total) -> {
          if (done % 500 == 0) {
            log.line("rendering the test split: " + done + " / " + total);
          }
        }, () -> Thread.currentThread().isInterrupted());
    m.put("rendered_test_accuracy", c.accuracy(DigitClassifierTrainer.pixels(rendered),
        DigitClassifierTrainer.labels(rendered)));
    m.put("rendered_test_units", (double) rendered.size());
    return m;
  }
}
