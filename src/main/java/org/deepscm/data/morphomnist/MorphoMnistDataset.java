package org.deepscm.data.morphomnist;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import org.apache.commons.math3.distribution.GammaDistribution;
import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.deepscm.data.CovariateTable;

/**
 * One split of the synthetic Morpho-MNIST dataset of paper Eq. 7: every real digit of the split
 * becomes one unit with its own exogenous noise (eps_T, eps_I), its covariates (t, i) and its
 * image x = SetIntensity(SetThickness(digit, t), i), stored as unsigned bytes like MNIST.
 *
 * <p>Generated deterministically from (split, seed) on first use, with progress, and cached; a
 * cache that does not match is regenerated. Every unit keeps its digit and noise, so the true
 * counterfactual image of any unit under any do() can be generated ({@link MorphoMnistTrueScm}).
 */
public final class MorphoMnistDataset {
  public static final int FORMAT = 1;
  public static final long DEFAULT_SEED = 2020L;

  /** Which split of the real digits. */
  public enum Split {
    TRAIN, VALIDATION, TEST;

    int[] of(MnistDigits.Split s) {
      return switch (this) {
        case TRAIN -> s.train();
        case VALIDATION -> s.validation();
        case TEST -> s.test();
      };
    }
  }

  /** Progress of a generation: units done of total. */
  public interface Progress {
    void update(int done, int total);
  }

  private final int[] digit;
  private final int[] label;
  private final double[] epsT;
  private final double[] epsI;
  private final byte[] images;

  private MorphoMnistDataset(int[] digit, int[] label, double[] epsT, double[] epsI, byte[] images) {
    this.digit = digit;
    this.label = label;
    this.epsT = epsT;
    this.epsI = epsI;
    this.images = images;
  }

  public int size() {
    return digit.length;
  }

  /** Index of the unit's real digit in {@link MnistDigits}. */
  public int digit(int unit) {
    return digit[unit];
  }

  public int label(int unit) {
    return label[unit];
  }

  public double epsT(int unit) {
    return epsT[unit];
  }

  public double epsI(int unit) {
    return epsI[unit];
  }

  public double thickness(int unit) {
    return MorphoMnistTrueScm.thickness(epsT[unit]);
  }

  public double intensity(int unit) {
    return MorphoMnistTrueScm.intensity(thickness(unit), epsI[unit]);
  }

  /** The unit's image, 784 values 0..255 (row-major). */
  public double[] image(int unit) {
    double[] x = new double[MnistDigits.PIXELS];
    for (int p = 0; p < x.length; p++) {
      x[p] = images[unit * MnistDigits.PIXELS + p] & 0xff;
    }
    return x;
  }

  /** The covariates t and i with the exogenous noise, one row per unit. */
  public CovariateTable covariates() {
    double[] t = new double[size()];
    double[] i = new double[size()];
    for (int u = 0; u < size(); u++) {
      t[u] = thickness(u);
      i[u] = intensity(u);
    }
    java.util.Map<String, double[]> cols = new java.util.LinkedHashMap<>();
    cols.put("t", t);
    cols.put("i", i);
    cols.put("eps_t", epsT.clone());
    cols.put("eps_i", epsI.clone());
    return new CovariateTable(cols);
  }

  /**
   * The split's dataset from the cache in {@code cacheDir}, generated there first if needed.
   *
   * @param cancelled checked between units; generation stops with an IOException when it says so
   */
  public static MorphoMnistDataset load(MnistDigits digits, Split split, long seed, Path cacheDir,
      Progress progress, BooleanSupplier cancelled) throws IOException {
    int[] units = split.of(digits.split());
    String name = String.format(Locale.ROOT, "morphomnist-v%d-%s-seed%d", FORMAT, split.name().toLowerCase(Locale.ROOT),
        seed);
    Path imageFile = cacheDir.resolve(name + "-images-idx3-ubyte.gz");
    Path tableFile = cacheDir.resolve(name + "-units.csv");
    if (Files.isRegularFile(imageFile) && Files.isRegularFile(tableFile)) {
      try {
        MorphoMnistDataset cached = read(imageFile, tableFile);
        if (cached.size() == units.length && java.util.Arrays.equals(cached.digit, units)) {
          return cached;
        }
      } catch (IOException | RuntimeException e) {
        // a damaged cache is regenerated below
      }
    }
    MorphoMnistDataset made = generate(digits, units, seed + split.ordinal() * 7919L, progress, cancelled);
    Files.createDirectories(cacheDir);
    made.write(imageFile, tableFile);
    return made;
  }

  /**
   * The chosen units of a split (indices into the split, in the order given) exactly as {@link #load}
   * makes them (same noise, same images), rendered at once without touching the cache: for a
   * stratified sample of the test split or a page of cases.
   */
  public static MorphoMnistDataset render(MnistDigits digits, Split split, long seed, int[] chosen) {
    int[] units = split.of(digits.split());
    MorphoMnistDataset all;
    try {
      all = generate(digits, units, seed + split.ordinal() * 7919L, null, () -> false, 0);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    int n = chosen.length;
    int[] digit = new int[n];
    int[] label = new int[n];
    double[] epsT = new double[n];
    double[] epsI = new double[n];
    for (int k = 0; k < n; k++) {
      int u = chosen[k];
      if (u < 0 || u >= units.length) {
        throw new IndexOutOfBoundsException("unit " + u + " outside the " + split.name().toLowerCase(Locale.ROOT)
            + " split's 0.." + (units.length - 1));
      }
      digit[k] = all.digit[u];
      label[k] = all.label[u];
      epsT[k] = all.epsT[u];
      epsI[k] = all.epsI[u];
    }
    MorphoMnistDataset d = new MorphoMnistDataset(digit, label, epsT, epsI, new byte[n * MnistDigits.PIXELS]);
    for (int k = 0; k < n; k++) {
      d.renderUnit(digits, k);
    }
    return d;
  }

  /** The label of every unit of a split, without rendering: the strata of a sample. */
  public static int[] labels(MnistDigits digits, Split split) {
    int[] units = split.of(digits.split());
    int[] out = new int[units.length];
    for (int u = 0; u < units.length; u++) {
      out[u] = digits.label(units[u]);
    }
    return out;
  }

  /**
   * The covariates (and noise) of every unit of a split exactly as {@link #load} draws them, without
   * rendering a single image: the scalar measures need the whole test split, and this is instant.
   */
  public static CovariateTable covariates(MnistDigits digits, Split split, long seed) {
    int[] units = split.of(digits.split());
    try {
      return generate(digits, units, seed + split.ordinal() * 7919L, null, () -> false, 0).covariates();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Draws the noise of every unit from the seed and renders the images (about 8 ms a digit). */
  static MorphoMnistDataset generate(MnistDigits digits, int[] units, long seed, Progress progress,
      BooleanSupplier cancelled) throws IOException {
    return generate(digits, units, seed, progress, cancelled, units.length);
  }

  private static MorphoMnistDataset generate(MnistDigits digits, int[] units, long seed, Progress progress,
      BooleanSupplier cancelled, int render) throws IOException {
    RandomGenerator rng = new MersenneTwister(seed);
    GammaDistribution gamma = new GammaDistribution(rng, MorphoMnistTrueScm.GAMMA_SHAPE,
        1 / MorphoMnistTrueScm.GAMMA_RATE);
    int n = units.length;
    int[] label = new int[n];
    double[] epsT = new double[n];
    double[] epsI = new double[n];
    for (int u = 0; u < n; u++) {
      label[u] = digits.label(units[u]);
      epsT[u] = gamma.sample();
      epsI[u] = rng.nextGaussian();
    }
    byte[] images = new byte[n * MnistDigits.PIXELS];
    MorphoMnistDataset d = new MorphoMnistDataset(units.clone(), label, epsT, epsI, images);
    for (int u = 0; u < render; u++) {
      if (cancelled.getAsBoolean()) {
        throw new IOException("dataset generation cancelled after " + u + " of " + n + " digits");
      }
      d.renderUnit(digits, u);
      if (progress != null && ((u + 1) % 100 == 0 || u + 1 == render)) {
        progress.update(u + 1, n);
      }
    }
    return d;
  }

  private void renderUnit(MnistDigits digits, int u) {
    double[] x = MorphoMnistTrueScm.image(digits.imageDoubles(digit[u]), thickness(u), intensity(u));
    for (int p = 0; p < x.length; p++) {
      images[u * MnistDigits.PIXELS + p] = (byte) Math.round(Math.max(0, Math.min(255, x[p])));
    }
  }

  private void write(Path imageFile, Path tableFile) throws IOException {
    Path tmpImages = imageFile.resolveSibling(imageFile.getFileName() + ".tmp");
    MnistImport.writeIdx(tmpImages, IdxReader.MAGIC_IDX3_UBYTE,
        new int[] {size(), MnistDigits.SIDE, MnistDigits.SIDE}, images);
    Path tmpTable = tableFile.resolveSibling(tableFile.getFileName() + ".tmp");
    try (BufferedWriter w = Files.newBufferedWriter(tmpTable, StandardCharsets.UTF_8)) {
      w.write("digit,label,eps_t,eps_i\n");
      for (int u = 0; u < size(); u++) {
        // 17 significant digits: the noise reads back bit for bit
        w.write(digit[u] + "," + label[u] + "," + Double.toString(epsT[u]) + "," + Double.toString(epsI[u]) + "\n");
      }
    }
    Files.move(tmpImages, imageFile, StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmpTable, tableFile, StandardCopyOption.REPLACE_EXISTING);
  }

  private static MorphoMnistDataset read(Path imageFile, Path tableFile) throws IOException {
    IdxReader.Images im = IdxReader.readImages(imageFile);
    java.util.List<String> lines;
    try (BufferedReader r = Files.newBufferedReader(tableFile, StandardCharsets.UTF_8)) {
      lines = r.lines().skip(1).filter(l -> !l.isBlank()).toList();
    }
    int n = lines.size();
    if (im.count() != n || im.rows() != MnistDigits.SIDE || im.cols() != MnistDigits.SIDE) {
      throw new IOException("cache " + imageFile + " does not match " + tableFile);
    }
    int[] digit = new int[n];
    int[] label = new int[n];
    double[] epsT = new double[n];
    double[] epsI = new double[n];
    for (int u = 0; u < n; u++) {
      String[] c = lines.get(u).split(",");
      digit[u] = Integer.parseInt(c[0]);
      label[u] = Integer.parseInt(c[1]);
      epsT[u] = Double.parseDouble(c[2]);
      epsI[u] = Double.parseDouble(c[3]);
    }
    return new MorphoMnistDataset(digit, label, epsT, epsI, im.data());
  }
}
