package org.deepscm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.nio.file.Files;
import org.deepscm.AppPaths;
import org.deepscm.data.brain.BrainCalibration;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTemplate;
import org.deepscm.data.brain.BrainTrueScm;
import org.deepscm.data.morphomnist.MnistDigits;
import org.deepscm.data.morphomnist.MorphoMnistDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true,
    description = {"Render a synthetic dataset from its true SCM and cache it (done on first use otherwise).",
        "Example: generate --dataset morphomnist",
        "         generate --dataset brain --figures resources/docs"})
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--dataset", required = true, description = "morphomnist: the real digits of resources/mnist "
      + "with thickness and intensity from paper Eq. 7 (7,000 / 1,000 / 2,000 digits); brain: the synthetic brain "
      + "population made from the Colin27 template by its true SCM (resources/brain/README.md), split 70/15/15")
  String dataset;

  @Option(names = "--seed", description = "noise seed (default: 2020 for morphomnist, 2026 for brain)")
  Long seed;

  @Option(names = "--subjects", description = "brain: subjects in the population (default: ${DEFAULT-VALUE})")
  int subjects = BrainDataset.DEFAULT_SIZE;

  @Option(names = "--figures", paramLabel = "DIR", description = "brain: also write brain-population.png (24 test "
      + "subjects) and brain-true-counterfactuals.png (one subject under do(age) and do(ventricle volume)) there; "
      + "morphomnist: with --compare-models, morphomnist-model-counterfactuals.png")
  Path figures;

  @Option(names = "--compare-models", split = ",", paramLabel = "DIR", description = "with --figures: also write "
      + "these models' counterfactuals beside the TRUE ones; brain: brain-model-counterfactuals.png, do(ventricle "
      + "volume = 0.5, 2, 3 times its own), do(brain volume = 0.9 times its own) and do(age := 75) for two test "
      + "subjects; morphomnist: morphomnist-model-counterfactuals.png, do(i := 80, 200) and do(t := 1.5, 4) for three "
      + "test digits")
  java.util.List<Path> compareModels = new java.util.ArrayList<>();

  @Option(names = "--cache", paramLabel = "DIR", description = "cache folder (default: ~/.cache/deepscm-explorer)")
  Path cache;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (dataset.equals("brain")) {
      return brain();
    }
    if (!dataset.equals("morphomnist")) {
      throw new IllegalArgumentException("unknown dataset '" + dataset + "'; available: morphomnist, brain");
    }
    if (!compareModels.isEmpty() && figures == null) {
      throw new IllegalArgumentException("--compare-models writes a figure: give --figures DIR");
    }
    if (figures != null && compareModels.isEmpty()) {
      throw new IllegalArgumentException("morphomnist: --figures draws models' counterfactuals: give --compare-models");
    }
    long seed = this.seed != null ? this.seed : MorphoMnistDataset.DEFAULT_SEED;
    PrintWriter err = spec.commandLine().getErr();
    MnistDigits digits = MnistDigits.load(AppPaths.resolve(Path.of("resources", "mnist")));
    Path dir = cache != null ? cache : AppPaths.cache();
    for (MorphoMnistDataset.Split split : MorphoMnistDataset.Split.values()) {
      long start = System.nanoTime();
      MorphoMnistDataset d = MorphoMnistDataset.load(digits, split, seed, dir, (done, total) -> {
        err.printf(Locale.ROOT, "\r%s: %d / %d digits", split.name().toLowerCase(Locale.ROOT), done, total);
        err.flush();
      }, () -> Thread.currentThread().isInterrupted());
      err.printf(Locale.ROOT, "\r%s: %d units ready in %s (%.1f s)%n", split.name().toLowerCase(Locale.ROOT),
          d.size(), dir, (System.nanoTime() - start) / 1e9);
      if (split == MorphoMnistDataset.Split.TEST && figures != null) {
        Path file = morphoMnistFigure(digits, d, seed);
        spec.commandLine().getOut().println("wrote " + file);
      }
    }
    return 0;
  }

  private Path morphoMnistFigure(MnistDigits digits, MorphoMnistDataset test, long seed) throws IOException {
    try (ComparedModels c = ComparedModels.load(compareModels, java.util.List.of("t", "i"),
        "a Morpho-MNIST image model with parents t and i")) {
      return MorphoMnistFigures.modelCounterfactuals(digits, test, MorphoMnistFigures.chooseUnits(test, 3, seed),
          c.names, c.images, figures.resolve("morphomnist-model-counterfactuals.png"));
    }
  }

  /** The --compare-models folders, loaded and checked to be image models with the given parents; closed together. */
  private static final class ComparedModels implements AutoCloseable {
    final java.util.List<String> names = new java.util.ArrayList<>();
    final java.util.List<org.deepscm.image.ImageMechanism> images = new java.util.ArrayList<>();
    private final java.util.List<org.deepscm.scm.SavedModel> loaded = new java.util.ArrayList<>();

    static ComparedModels load(java.util.List<Path> folders, java.util.List<String> parents, String what) {
      ComparedModels c = new ComparedModels();
      try {
        for (Path dirOfModel : folders) {
          org.deepscm.scm.SavedModel m = org.deepscm.scm.ModelFolder.load(AppPaths.resolve(dirOfModel));
          c.loaded.add(m);
          if (!(m.scm().mechanism("x") instanceof org.deepscm.image.ImageMechanism image)
              || !image.parents().containsAll(parents)) {
            throw new IllegalArgumentException("--compare-models " + dirOfModel + " is not " + what);
          }
          c.names.add(dirOfModel.getFileName().toString());
          c.images.add(image);
        }
        return c;
      } catch (RuntimeException e) {
        c.close();
        throw e;
      }
    }

    @Override
    public void close() {
      loaded.forEach(org.deepscm.scm.SavedModel::close);
    }
  }

  private int brain() throws IOException {
    if (subjects < 100 || subjects > 1_000_000) {
      throw new IllegalArgumentException("--subjects takes 100 .. 1,000,000 (each subject's 64 x 64 image takes 4 KB), got "
          + subjects);
    }
    long seed = this.seed != null ? this.seed : BrainDataset.DEFAULT_SEED;
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    BrainSliceRenderer renderer = new BrainSliceRenderer(BrainTemplate.shipped());
    Path dir = cache != null ? cache : AppPaths.cache();
    long total = System.nanoTime();
    BrainDataset test = null;
    BrainDataset train = null;
    for (BrainDataset.Split split : BrainDataset.Split.values()) {
      long start = System.nanoTime();
      BrainDataset d = BrainDataset.load(renderer, split, seed, subjects, dir, (done, n) -> {
        err.printf(Locale.ROOT, "\r%s: %d / %d subjects", split.label(), done, n);
        err.flush();
      }, () -> Thread.currentThread().isInterrupted());
      err.printf(Locale.ROOT, "\r%s: %d subjects ready in %s (%.1f s)%n", split.label(), d.size(), dir,
          (System.nanoTime() - start) / 1e9);
      if (split == BrainDataset.Split.TEST) {
        test = d;
      } else if (split == BrainDataset.Split.TRAIN) {
        train = d;
      }
    }
    long bytes = 0;
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith(
          String.format(Locale.ROOT, "brain-v%d-", BrainDataset.FORMAT))
          && f.getFileName().toString().contains("-seed" + seed + "-of" + subjects + "-")).toList()) {
        bytes += Files.size(f);
      }
    }
    out.printf(Locale.ROOT, "brain population: %d subjects (seed %d) in %.1f s; cache %.1f MB in %s%n", subjects, seed,
        (System.nanoTime() - total) / 1e9, bytes / 1e6, dir);
    out.println();
    out.print(BrainCalibration.table(train));
    out.println();
    BrainCalibration.Agreement a = BrainCalibration.measurerAgreement(test, Math.min(1000, test.size()), seed);
    out.printf(Locale.ROOT, "measurer against the label maps, %d test subjects (seeded sample):%n", a.n());
    out.printf(Locale.ROOT, "  brain area:     r = %.4f, mean relative error %.2f %%%n", a.brainR(), 100 * a.brainRelError());
    out.printf(Locale.ROOT, "  ventricle area: r = %.4f, mean relative error %.2f %%%n", a.ventricleR(),
        100 * a.ventricleRelError());
    if (!compareModels.isEmpty() && figures == null) {
      throw new IllegalArgumentException("--compare-models writes a figure: give --figures DIR");
    }
    if (figures != null) {
      Path grid = BrainFigures.population(test, seed, figures.resolve("brain-population.png"));
      // a subject near the population's middle: 60-65 years, ventricles 20-40 ml
      BrainDataset.Subject chosen = null;
      for (int u = 0; u < test.size() && chosen == null; u++) {
        BrainTrueScm.Covariates c = test.covariates(u);
        if (c.age() > 60 && c.age() < 65 && c.ventricleMl() > 20 && c.ventricleMl() < 40) {
          chosen = test.subject(u);
        }
      }
      Path strip = BrainFigures.counterfactuals(renderer, chosen != null ? chosen : test.subject(0),
          figures.resolve("brain-true-counterfactuals.png"));
      out.println("wrote " + grid + " and " + strip);
      if (!compareModels.isEmpty()) {
        // the middle subject and one with small ventricles (under 15 ml, 45-55 years)
        java.util.List<BrainDataset.Subject> subjects = new java.util.ArrayList<>();
        subjects.add(chosen != null ? chosen : test.subject(0));
        for (int u = 0; u < test.size() && subjects.size() < 2; u++) {
          BrainTrueScm.Covariates c = test.covariates(u);
          if (c.age() > 45 && c.age() < 55 && c.ventricleMl() < 15) {
            subjects.add(test.subject(u));
          }
        }
        try (ComparedModels c = ComparedModels.load(compareModels, java.util.List.of("ventricle_volume"),
            "a brain image model")) {
          Path models = BrainFigures.modelCounterfactuals(renderer, subjects, c.names, c.images,
              figures.resolve("brain-model-counterfactuals.png"));
          out.println("wrote " + models);
        }
      }
    }
    return 0;
  }
}
