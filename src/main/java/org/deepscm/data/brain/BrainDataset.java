package org.deepscm.data.brain;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.deepscm.data.morphomnist.IdxReader;
import org.deepscm.data.morphomnist.MnistImport;

/**
 * The synthetic brain population: subject n of a population is drawn from its own random stream
 * (population seed, n), so any subject, its noise and its true counterfactuals can be made again
 * without the others. A population of {@link #DEFAULT_SIZE} subjects is split 70/15/15 by subject
 * number (subjects are independent draws, so the split needs no shuffle); each split's images and
 * covariates are generated on first use, with progress, and cached like the Morpho-MNIST dataset.
 */
public final class BrainDataset {
  public static final int FORMAT = 1;
  public static final long DEFAULT_SEED = 2026L;
  public static final int DEFAULT_SIZE = 14_000;

  public enum Split {
    TRAIN, VALIDATION, TEST;

    /** Subject numbers [from, to) of this split in a population of n. */
    public int from(int n) {
      return switch (this) {
        case TRAIN -> 0;
        case VALIDATION -> (int) Math.round(0.70 * n);
        case TEST -> (int) Math.round(0.85 * n);
      };
    }

    public int to(int n) {
      return switch (this) {
        case TRAIN -> VALIDATION.from(n);
        case VALIDATION -> TEST.from(n);
        case TEST -> n;
      };
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Progress of a generation: subjects done of total. */
  public interface Progress {
    void update(int done, int total);
  }

  /** One subject: its number, exogenous noise and covariates. */
  public record Subject(int index, BrainTrueScm.Noise noise, Anatomy anatomy, BrainTrueScm.Covariates covariates) {}

  /** Subject {@code index} of the population drawn from {@code seed}. */
  public static Subject subject(long seed, int index) {
    SplittableRandom rng = new SplittableRandom(mix(seed) ^ mix(0x5DEECE66DL + index));
    BrainTrueScm.Noise u = new BrainTrueScm.Noise(rng.nextDouble(), open(rng.nextDouble()), Anatomy.gaussian(rng),
        Anatomy.gaussian(rng));
    Anatomy anatomy = Anatomy.draw(rng);
    return new Subject(index, u, anatomy, BrainTrueScm.covariates(u));
  }

  private final long seed;
  private final int[] index;
  private final BrainTrueScm.Covariates[] covariates;
  private final byte[] images;
  private final float[] brainArea;
  private final float[] ventricleArea;

  private BrainDataset(long seed, int[] index, BrainTrueScm.Covariates[] covariates, byte[] images, float[] brainArea,
      float[] ventricleArea) {
    this.seed = seed;
    this.index = index;
    this.covariates = covariates;
    this.images = images;
    this.brainArea = brainArea;
    this.ventricleArea = ventricleArea;
  }

  public int size() {
    return index.length;
  }

  public long seed() {
    return seed;
  }

  /** The subject's number in the population (its noise: {@link #subject(long, int)}). */
  public int subjectIndex(int unit) {
    return index[unit];
  }

  public Subject subject(int unit) {
    return subject(seed, index[unit]);
  }

  public BrainTrueScm.Covariates covariates(int unit) {
    return covariates[unit];
  }

  /** The unit's image, 64 x 64 grey levels 0..255, row-major. */
  public double[] image(int unit) {
    double[] out = new double[BrainSliceRenderer.PIXELS];
    for (int p = 0; p < out.length; p++) {
      out[p] = images[unit * BrainSliceRenderer.PIXELS + p] & 0xff;
    }
    return out;
  }

  /** Brain tissue area of the unit's slice from the label map, mm2. */
  public double brainAreaMm2(int unit) {
    return brainArea[unit];
  }

  public double ventricleAreaMm2(int unit) {
    return ventricleArea[unit];
  }

  /**
   * The split from the cache in {@code cacheDir}, generated there first if needed.
   *
   * @param cancelled checked between subjects; generation stops with an IOException when it says so
   */
  public static BrainDataset load(BrainSliceRenderer renderer, Split split, long seed, int populationSize,
      Path cacheDir, Progress progress, BooleanSupplier cancelled) throws IOException {
    String name = String.format(Locale.ROOT, "brain-v%d-%s-seed%d-of%d", FORMAT, split.label(), seed, populationSize);
    Path imageFile = cacheDir.resolve(name + "-images-idx3-ubyte.gz");
    Path tableFile = cacheDir.resolve(name + "-subjects.csv");
    int from = split.from(populationSize);
    int to = split.to(populationSize);
    if (Files.isRegularFile(imageFile) && Files.isRegularFile(tableFile)) {
      try {
        BrainDataset cached = read(seed, imageFile, tableFile);
        if (cached.size() == to - from && cached.index[0] == from && cached.matchesGenerator(renderer)) {
          return cached;
        }
      } catch (IOException | RuntimeException e) {
        // a damaged cache is regenerated below
      }
    }
    int[] subjects = new int[to - from];
    for (int u = 0; u < subjects.length; u++) {
      subjects[u] = from + u;
    }
    BrainDataset made = generate(renderer, seed, subjects, progress, cancelled);
    Files.createDirectories(cacheDir);
    made.write(imageFile, tableFile);
    return made;
  }

  /**
   * n fresh training subjects for one epoch: subjects numbered from populationSize + epoch * n, so no
   * epoch repeats another and none is in the validation or test split (the true SCM makes them for
   * free: about 5 ms a subject on 2 cores, against minutes for an epoch of training).
   */
  public static BrainDataset fresh(BrainSliceRenderer renderer, long seed, int populationSize, int epoch, int n,
      Progress progress, BooleanSupplier cancelled) throws IOException {
    if (epoch < 0 || n < 1) {
      throw new IllegalArgumentException("fresh subjects need epoch >= 0 and n >= 1, got " + epoch + " and " + n);
    }
    long first = populationSize + (long) epoch * n;
    if (first + n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("epoch " + epoch + " of " + n + " fresh subjects runs past subject number "
          + Integer.MAX_VALUE);
    }
    int[] subjects = new int[n];
    for (int k = 0; k < n; k++) {
      subjects[k] = (int) (first + k);
    }
    return generate(renderer, seed, subjects, progress, cancelled);
  }

  /**
   * Subjects of the population, by number, rendered at once in parallel without the cache (fresh
   * subjects for an epoch of training, a sample of a split).
   */
  public static BrainDataset generate(BrainSliceRenderer renderer, long seed, int[] subjects, Progress progress,
      BooleanSupplier cancelled) throws IOException {
    int n = subjects.length;
    BrainTrueScm.Covariates[] cov = new BrainTrueScm.Covariates[n];
    byte[] images = new byte[n * BrainSliceRenderer.PIXELS];
    float[] brainArea = new float[n];
    float[] ventricleArea = new float[n];
    int threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 8));
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "brain-generator");
      t.setDaemon(true);
      return t;
    });
    AtomicInteger next = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (int w = 0; w < threads; w++) {
        jobs.add(pool.submit(() -> {
          for (int u = next.getAndIncrement(); u < n; u = next.getAndIncrement()) {
            if (cancelled.getAsBoolean()) {
              return null;
            }
            Subject s = subject(seed, subjects[u]);
            BrainSliceRenderer.Slice slice = renderer.render(s.covariates().brainMl(), s.covariates().ventricleMl(),
                s.anatomy());
            cov[u] = s.covariates();
            for (int p = 0; p < BrainSliceRenderer.PIXELS; p++) {
              images[u * BrainSliceRenderer.PIXELS + p] = (byte) (int) slice.image()[p];
            }
            brainArea[u] = (float) slice.brainAreaMm2();
            ventricleArea[u] = (float) slice.ventricleAreaMm2();
            int d = done.incrementAndGet();
            if (progress != null && (d % 100 == 0 || d == n)) {
              synchronized (progress) {
                progress.update(d, n);
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("brain generation interrupted after " + done.get() + " of " + n + " subjects");
    } catch (ExecutionException e) {
      throw new IllegalStateException("brain generation failed: " + e.getCause().getMessage(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    if (done.get() < n) {
      throw new IOException("brain generation cancelled after " + done.get() + " of " + n + " subjects");
    }
    return new BrainDataset(seed, subjects.clone(), cov, images, brainArea, ventricleArea);
  }

  /**
   * Whether the cache was made by this version of the true SCM and renderer: its first and last
   * subjects are made again and compared (a changed constant anywhere changes them).
   */
  private boolean matchesGenerator(BrainSliceRenderer renderer) {
    for (int unit : new int[] {0, size() - 1}) {
      Subject s = subject(unit);
      if (!s.covariates().equals(covariates[unit])) {
        return false;
      }
      float[] x = renderer.render(s.covariates().brainMl(), s.covariates().ventricleMl(), s.anatomy(), false).image();
      for (int p = 0; p < x.length; p++) {
        if ((images[unit * BrainSliceRenderer.PIXELS + p] & 0xff) != (int) x[p]) {
          return false;
        }
      }
    }
    return true;
  }

  private void write(Path imageFile, Path tableFile) throws IOException {
    Path tmpImages = imageFile.resolveSibling(imageFile.getFileName() + ".tmp");
    MnistImport.writeIdx(tmpImages, IdxReader.MAGIC_IDX3_UBYTE,
        new int[] {size(), BrainSliceRenderer.SIDE, BrainSliceRenderer.SIDE}, images);
    Path tmpTable = tableFile.resolveSibling(tableFile.getFileName() + ".tmp");
    try (BufferedWriter w = Files.newBufferedWriter(tmpTable, StandardCharsets.UTF_8)) {
      w.write("subject,sex,age,brain_volume,ventricle_volume,brain_area_mm2,ventricle_area_mm2\n");
      for (int u = 0; u < size(); u++) {
        BrainTrueScm.Covariates c = covariates[u];
        // the covariates are written in full: they read back bit for bit
        w.write(index[u] + "," + c.sex() + "," + c.age() + "," + c.brainMl() + "," + c.ventricleMl() + ","
            + brainArea[u] + "," + ventricleArea[u] + "\n");
      }
    }
    Files.move(tmpImages, imageFile, StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmpTable, tableFile, StandardCopyOption.REPLACE_EXISTING);
  }

  private static BrainDataset read(long seed, Path imageFile, Path tableFile) throws IOException {
    IdxReader.Images im = IdxReader.readImages(imageFile);
    List<String> lines;
    try (BufferedReader r = Files.newBufferedReader(tableFile, StandardCharsets.UTF_8)) {
      lines = r.lines().skip(1).filter(l -> !l.isBlank()).toList();
    }
    int n = lines.size();
    if (im.count() != n || im.rows() != BrainSliceRenderer.SIDE || im.cols() != BrainSliceRenderer.SIDE) {
      throw new IOException("cache " + imageFile + " does not match " + tableFile);
    }
    int[] index = new int[n];
    BrainTrueScm.Covariates[] cov = new BrainTrueScm.Covariates[n];
    float[] brainArea = new float[n];
    float[] ventricleArea = new float[n];
    for (int u = 0; u < n; u++) {
      String[] c = lines.get(u).split(",");
      index[u] = Integer.parseInt(c[0]);
      cov[u] = new BrainTrueScm.Covariates(Integer.parseInt(c[1]), Double.parseDouble(c[2]), Double.parseDouble(c[3]),
          Double.parseDouble(c[4]));
      brainArea[u] = Float.parseFloat(c[5]);
      ventricleArea[u] = Float.parseFloat(c[6]);
    }
    return new BrainDataset(seed, index, cov, im.data(), brainArea, ventricleArea);
  }

  /** A uniform draw kept strictly inside (0, 1), where the age quantile is finite. */
  private static double open(double u) {
    return Math.min(1 - 1e-12, Math.max(1e-12, u));
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
