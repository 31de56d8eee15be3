package org.deepscm.data.brain;

import java.io.BufferedReader;
import java.io.FilterReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.deepscm.data.Csv;
import org.deepscm.data.ImageFiles;

/**
 * A user's own brain subjects (e.g. from UK Biobank) read from a CSV and checked completely before any training
 * starts. Nothing is written anywhere.
 *
 * <p>The CSV (UTF-8, a byte-order mark is allowed; RFC 4180 quoting, see {@link Csv}) has a header row naming at
 * least the columns {@code age, sex, brain_volume, ventricle_volume, image} and optionally {@code id}, in any order
 * (matched ignoring case and surrounding spaces); other columns are ignored. One subject per row:
 *
 * <ul>
 *   <li>{@code id}: any text, unique in the file; without the column each subject is named by its image file's
 *       name without the extension when no two rows share one, else by its row ({@code row2} for the first
 *       subject: the header is row 1), and {@link Cases#naming} says which;
 *   <li>{@code age}: years, 0..120 (outside the training range only a warning);
 *   <li>{@code sex}: 0 / F / female, or 1 / M / male (case-insensitive);
 *   <li>{@code brain_volume}, {@code ventricle_volume}: ml, positive, ventricles below brain; a value over
 *       {@value #MAX_PLAUSIBLE_ML} ml is taken for mm3 and refused with the value in ml to give instead;
 *   <li>{@code image}: a path, relative to the CSV's folder or absolute, to either a 64 x 64 grey PNG in our
 *       convention (3 mm pixels, 192 mm field of view, grey levels 0..255, radiological: row 0 anterior, column 0
 *       the subject's right; a colour PNG is converted with a warning), or a NIfTI-1 volume ({@code .nii} or
 *       {@code .nii.gz}, told by the name) from which the axial slice at world z = {@code sliceMm} is taken, see
 *       {@link #axialImage}.
 * </ul>
 *
 * <p>Every problem is an error that names the CSV, the row as a spreadsheet shows it (the header is row 1), the
 * column, the problem and what would be accepted; all of them are collected (the first {@value #MAX_LISTED} are
 * listed, then a count) and thrown together as one {@link InvalidCasesException}, so the file can be fixed in one
 * go. Memory is bounded: at most {@value #MAX_ROWS} rows and {@value #MAX_CSV_CHARS} characters of CSV, the images'
 * memory is checked against the Java heap before any image is read, and a NIfTI volume is held only while its
 * slice is taken.
 */
public final class BrainCases {
  /** The columns a CSV may have, in the order the documentation lists them; all but {@code id} are required. */
  public static final List<String> COLUMNS =
      List.of("id", "age", "sex", "brain_volume", "ventricle_volume", "image");
  /** The columns every CSV must have. */
  public static final List<String> REQUIRED = COLUMNS.subList(1, COLUMNS.size());
  /** More rows are refused. */
  public static final int MAX_ROWS = 200_000;
  /** A larger CSV (in characters) is refused before it is held in memory: 128 Mi. */
  public static final long MAX_CSV_CHARS = 128L * 1024 * 1024;
  /** Errors listed one by one in the exception's message; the rest are counted. The same for warnings. */
  public static final int MAX_LISTED = 20;
  /** Ages must lie in 0..this, years. */
  public static final double MAX_AGE = 120;
  /** A volume above this many ml is taken to be in mm3. */
  public static final double MAX_PLAUSIBLE_ML = 10_000;
  /**
   * The grey level the 99.5th percentile of a NIfTI slice's non-zero voxels is mapped to. Our synthetic images
   * show the Colin27 template's brightest white matter (133 template units) at 133 x
   * {@link BrainSliceRenderer#GREY_PER_UNIT} = 229.5, and most white matter at 200..230; the brightest tissue
   * of a real T1 slice (its white matter) is put at the same level so that both speak one intensity scale. The
   * 99.5th percentile and not the maximum, so that a few bright voxels (vessels, artefacts) do not darken the rest.
   */
  public static final double WHITE_MATTER_GREY = 230;
  /** The percentile of a slice's non-zero voxels mapped to {@link #WHITE_MATTER_GREY}. */
  public static final double WHITE_MATTER_PERCENTILE = 99.5;

  private static final int SIDE = BrainSliceRenderer.SIDE;
  private static final int SUB = 3;
  private static final int FINE = SIDE * SUB;
  /** The plane searched for the centroid and the percentile is sampled at most this many points a side. */
  private static final int MAX_PLANE_SAMPLES = 1024;
  /** A warning when more than this fraction of a slice's non-zero samples lie outside the field of view. */
  private static final double OUTSIDE_WARNING_FRACTION = 0.01;
  private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
  private static final Pattern NOT_FINITE =
      Pattern.compile("[+-]?(nan|inf|infinity|\u221e)|#num!|#div/0!", Pattern.CASE_INSENSITIVE);
  private static final Pattern DECIMAL_COMMA = Pattern.compile("[+-]?\\d+,\\d+");
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private BrainCases() {}

  /**
   * The subjects of a CSV, all checked.
   *
   * @param csv the CSV file read
   * @param ids each subject's id, unique
   * @param covariates each subject's sex, age (years) and volumes (ml)
   * @param images each subject's 64 x 64 slice, row-major (index row * 64 + column), grey levels 0..255, in
   *     radiological convention (row 0 anterior, column 0 the subject's right)
   * @param warnings what was accepted but may matter (ages outside the training range, colour converted, ...),
   *     each naming its row; at most {@value #MAX_LISTED} and a count of the rest
   * @param rows each subject's row in the CSV as a spreadsheet shows it (the header is row 1)
   * @param imageFiles each subject's image file, resolved
   * @param naming null when the CSV has an {@code id} column; otherwise one sentence saying how the subjects
   *     were named instead (by their image files' names, or by their rows)
   */
  public record Cases(Path csv, String[] ids, BrainTrueScm.Covariates[] covariates, double[][] images,
      List<String> warnings, int[] rows, Path[] imageFiles, String naming) {
    public Cases {
      warnings = List.copyOf(warnings);
    }

    /** The number of subjects. */
    public int size() {
      return ids.length;
    }
  }

  /** A CSV of cases that cannot be used: every problem found, each naming its row and column. */
  public static final class InvalidCasesException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path csv;
    private final List<String> problems;
    private final int total;

    InvalidCasesException(Path csv, List<String> problems, int total) {
      super(message(csv, problems, total));
      this.csv = csv;
      this.problems = List.copyOf(problems);
      this.total = total;
    }

    InvalidCasesException(Path csv, String problem) {
      this(csv, List.of(problem), 1);
    }

    InvalidCasesException(Path csv, String problem, Throwable cause) {
      this(csv, List.of(problem), 1);
      initCause(cause);
    }

    /** One problem with a message of its own (one that names the file already). */
    InvalidCasesException(Path csv, String problem, String message, Throwable cause) {
      super(message, cause);
      this.csv = csv;
      this.problems = List.of(problem);
      this.total = 1;
    }

    /** The CSV file. */
    public Path csv() {
      return csv;
    }

    /** The problems listed (at most {@value #MAX_LISTED}), each starting with its row, e.g. "row 3, column 'age': ...". */
    public List<String> problems() {
      return problems;
    }

    /** How many problems were found in all. */
    public int total() {
      return total;
    }

    private static String message(Path csv, List<String> problems, int total) {
      if (total == 1 && problems.size() == 1) {
        return csv + " " + problems.get(0);
      }
      StringBuilder b = new StringBuilder();
      b.append(csv).append(": ").append(total).append(" problems; fix them all, then run again:");
      for (String p : problems) {
        b.append("\n  ").append(p);
      }
      if (total > problems.size()) {
        b.append("\n  and ").append(total - problems.size()).append(" more");
      }
      return b.toString();
    }
  }

  /**
   * One slice taken from a NIfTI volume.
   *
   * @param pixels 64 x 64 grey levels 0..255, row-major, radiological (row 0 anterior, column 0 the subject's right)
   * @param centreXMm the world x of the centroid of the plane's non-zero voxels, on which the slice is centred
   * @param centreYMm its world y
   * @param whiteLevel the plane's 99.5th percentile of non-zero voxels, in the volume's units (mapped to 230)
   * @param outsideFraction the fraction of the plane's non-zero samples that fall outside the 192 mm field of view
   */
  public record NiftiSlice(double[] pixels, double centreXMm, double centreYMm, double whiteLevel,
      double outsideFraction) {}

  /**
   * Where a slice's pixels lie in the volume's world space, as a NIfTI affine for a 64 x 64 x 1 image stored as the
   * slice is (voxel i = column, j = row): the centre of pixel (row r, column c) at world x = centre x + 94.5 - 3c
   * (radiological: column 0 is +x), y = centre y + 94.5 - 3r (row 0 anterior), z = {@code zMm}, 3 mm pixels (the
   * points {@link #axialImage} averaged, 1 mm apart, around each centre). A map computed on the slice (a
   * counterfactual's spread) written with it lies over the volume it came from.
   */
  public static double[][] sliceAffine(NiftiSlice slice, double zMm) {
    double pixel = BrainSliceRenderer.PIXEL_MM;
    double first = BrainSliceRenderer.FOV_MM / 2 - pixel / 2;
    return new double[][] {
        {-pixel, 0, 0, slice.centreXMm() + first},
        {0, -pixel, 0, slice.centreYMm() + first},
        {0, 0, pixel, zMm},
        {0, 0, 0, 1}};
  }

  /** A NIfTI-1 volume, told by its name ({@code .nii} or {@code .nii.gz}, any case). */
  public static boolean isNifti(Path file) {
    String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return lower.endsWith(".nii") || lower.endsWith(".nii.gz");
  }

  /**
   * What is wrong with a pair of volumes no brain has, or null when a brain can hold them: a volume that is not
   * positive, one that looks like mm3 (over {@value #MAX_PLAUSIBLE_ML} ml, with the value in ml to give instead),
   * or ventricles not smaller than the brain around them.
   */
  public static String volumeProblem(double brainMl, double ventricleMl) {
    for (String v : List.of("brain_volume", "ventricle_volume")) {
      String problem = volumeProblem(v, v.equals("brain_volume") ? brainMl : ventricleMl);
      if (problem != null) {
        return problem;
      }
    }
    if (ventricleMl >= brainMl) {
      return "ventricles of " + plain(ventricleMl) + " ml do not fit in a brain of " + plain(brainMl)
          + " ml: ventricle_volume must be below brain_volume";
    }
    return null;
  }

  /**
   * What is wrong with one volume ({@code name}: brain_volume or ventricle_volume) no brain has, or null: not
   * positive, or over {@value #MAX_PLAUSIBLE_ML} ml (taken for mm3, with the value in ml to give instead).
   */
  public static String volumeProblem(String name, double ml) {
    if (!(ml > 0)) {
      return name + " " + plain(ml) + " ml is not a positive volume";
    }
    if (ml > MAX_PLAUSIBLE_ML) {
      return name + " " + plain(ml) + " looks like mm3: volumes are in ml (" + plain(ml / 1000) + " ml?)";
    }
    return null;
  }

  /** What is wrong with an age no person has (outside 0..{@value #MAX_AGE} years), or null. */
  public static String ageProblem(double years) {
    if (!(years >= 0 && years <= MAX_AGE)) {
      return "age " + plain(years) + " years is outside a human life (0.." + (int) MAX_AGE + " years)";
    }
    return null;
  }

  private static String plain(double v) {
    return Double.isFinite(v)
        ? new BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString()
        : String.valueOf(v);
  }

  /** {@link #read(Path, Double, double, double)} with the synthetic population's age range, 44..73 years. */
  public static Cases read(Path csv, Double sliceMm) throws IOException {
    return read(csv, sliceMm, BrainTrueScm.AGE_MIN, BrainTrueScm.AGE_MIN + BrainTrueScm.AGE_SPAN);
  }

  /**
   * Reads and checks every row of {@code csv} and loads its images.
   *
   * @param sliceMm the world z (mm) of the axial slice taken from NIfTI volumes ({@code --slice-mm}); may be null
   *     when no row names a NIfTI volume
   * @param trainingAgeMin ages below this are accepted with a warning (outside the training range)
   * @param trainingAgeMax ages above this likewise
   * @throws InvalidCasesException with every problem found (the first {@value #MAX_LISTED} listed)
   * @throws IllegalArgumentException for a {@code sliceMm} that is not finite
   */
  public static Cases read(Path csv, Double sliceMm, double trainingAgeMin, double trainingAgeMax)
      throws IOException {
    if (sliceMm != null && !Double.isFinite(sliceMm)) {
      throw new IllegalArgumentException("the slice height must be a finite number of mm, got " + sliceMm);
    }
    List<Csv.Row> records = readRecords(csv);
    if (records.isEmpty()) {
      throw new InvalidCasesException(csv, "is empty: expected a header row naming the columns "
          + String.join(", ", REQUIRED) + " (and optionally id)");
    }
    int[] col = header(csv, records.get(0));
    int n = records.size() - 1;
    if (n == 0) {
      throw new InvalidCasesException(csv, "has a header but no rows: give one subject per row after the header");
    }
    if (n > MAX_ROWS) {
      throw new InvalidCasesException(csv, "has " + n + " rows; at most " + MAX_ROWS + " subjects are read at once:"
          + " split the file or take a sample");
    }
    long imageBytes = (long) n * BrainSliceRenderer.PIXELS * Double.BYTES;
    long heap = Runtime.getRuntime().maxMemory();
    if (heap != Long.MAX_VALUE && imageBytes > heap / 10 * 6) {
      throw new InvalidCasesException(csv, "has " + n + " rows, whose images need about " + (imageBytes >> 20)
          + " MiB; this Java may use " + (heap >> 20) + " MiB in all: give it more memory (-Xmx) or fewer rows");
    }
    return new Reading(csv, sliceMm, trainingAgeMin, trainingAgeMax, col).run(records);
  }

  /**
   * The axial slice at world z = {@code zMm} of a volume, in the form our brain images have: the plane's non-zero
   * (positive) voxels located, their centroid (x, y) taken as the centre, the 192 mm x 192 mm square around it
   * sampled at 1 mm (trilinear) and averaged to 64 x 64 pixels of 3 mm (as {@link BrainSliceRenderer} does), shown
   * radiologically (row 0 anterior, column 0 the subject's right, world +x in RAS), and scaled so that the plane's
   * {@value #WHITE_MATTER_PERCENTILE}th percentile of non-zero voxels becomes {@value #WHITE_MATTER_GREY} (see
   * {@link #WHITE_MATTER_GREY}), rounded and clamped to 0..255. Meant for a skull-stripped T1 registered to a
   * standard space, as UK Biobank's T1_brain_to_MNI.
   *
   * @throws IOException naming the problem when z lies outside the volume (giving its z range in mm) or the plane
   *     holds no non-zero voxel
   */
  public static NiftiSlice axialImage(NiftiVolume volume, double zMm) throws IOException {
    double[] lo = {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
    double[] hi = {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY};
    double[][] a = volume.affine();
    for (int corner = 0; corner < 8; corner++) {
      double i = (corner & 1) == 0 ? 0 : volume.nx() - 1;
      double j = (corner & 2) == 0 ? 0 : volume.ny() - 1;
      double k = (corner & 4) == 0 ? 0 : volume.nz() - 1;
      for (int d = 0; d < 3; d++) {
        double w = a[d][0] * i + a[d][1] * j + a[d][2] * k + a[d][3];
        lo[d] = Math.min(lo[d], w);
        hi[d] = Math.max(hi[d], w);
      }
    }
    String zRange = "its voxel centres span z = " + mm(lo[2]) + " .. " + mm(hi[2]) + " mm (world, "
        + volume.orientation() + ")";
    double tolerance = 1e-6 * Math.max(1, hi[2] - lo[2]);
    if (!(zMm >= lo[2] - tolerance && zMm <= hi[2] + tolerance)) {
      throw new IOException("the slice z = " + mm(zMm) + " mm lies outside the volume: " + zRange
          + "; give --slice-mm inside it");
    }
    // The whole plane, to find the brain in it: its centroid and its intensity scale.
    double step = Math.max(1, Math.max(hi[0] - lo[0], hi[1] - lo[1]) / (MAX_PLANE_SAMPLES - 1));
    int cols = (int) Math.floor((hi[0] - lo[0]) / step) + 1;
    int rows = (int) Math.floor((hi[1] - lo[1]) / step) + 1;
    float[][] plane = volume.axialSlice(zMm, lo[0], hi[1], step, rows, cols);
    int count = 0;
    double sumX = 0;
    double sumY = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        if (plane[r][c] > 0) {
          count++;
          sumX += lo[0] + c * step;
          sumY += hi[1] - r * step;
        }
      }
    }
    if (count == 0) {
      throw new IOException("the axial plane at z = " + mm(zMm) + " mm holds no non-zero voxel (" + zRange
          + "): give a --slice-mm that cuts through the brain");
    }
    float[] values = new float[count];
    double cx = sumX / count;
    double cy = sumY / count;
    int outside = 0;
    int p = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        if (plane[r][c] > 0) {
          values[p++] = plane[r][c];
          if (Math.abs(lo[0] + c * step - cx) > BrainSliceRenderer.FOV_MM / 2
              || Math.abs(hi[1] - r * step - cy) > BrainSliceRenderer.FOV_MM / 2) {
            outside++;
          }
        }
      }
    }
    Arrays.sort(values);
    double rank = WHITE_MATTER_PERCENTILE / 100 * (count - 1);
    int below = (int) Math.floor(rank);
    int above = Math.min(below + 1, count - 1);
    double white = values[below] + (values[above] - values[below]) * (rank - below);
    double scale = WHITE_MATTER_GREY / white;

    // The field of view: 1 mm samples at the same points as BrainSliceRenderer's 3 x 3 sub-samples, x = cx + 95.5
    // - m for m = 0..191 (radiological: +x first), y = cy + 95.5 - n.
    double half = BrainSliceRenderer.FOV_MM / 2 - 0.5;
    float[][] fine = volume.axialSlice(zMm, cx - half, cy + half, 1, FINE, FINE);
    double[] pixels = new double[BrainSliceRenderer.PIXELS];
    for (int r = 0; r < SIDE; r++) {
      for (int c = 0; c < SIDE; c++) {
        double acc = 0;
        for (int sy = 0; sy < SUB; sy++) {
          for (int sx = 0; sx < SUB; sx++) {
            acc += fine[r * SUB + sy][FINE - 1 - (c * SUB + sx)];
          }
        }
        double grey = Math.rint(acc / (SUB * SUB) * scale);
        pixels[r * SIDE + c] = Math.max(0, Math.min(255, grey));
      }
    }
    return new NiftiSlice(pixels, cx, cy, white, (double) outside / count);
  }

  // ------------------------------------------------------------------------------------------------ reading

  private static List<Csv.Row> readRecords(Path csv) throws IOException {
    if (Files.isDirectory(csv)) {
      throw new InvalidCasesException(csv, "is a folder: give the CSV file of cases");
    }
    if (!Files.exists(csv)) {
      throw new InvalidCasesException(csv, "does not exist: give the CSV file of cases");
    }
    if (!Files.isReadable(csv)) {
      throw new InvalidCasesException(csv, "cannot be read (no permission)");
    }
    var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try (InputStream raw = Files.newInputStream(csv);
        BufferedReader in = new BufferedReader(new LimitedReader(new InputStreamReader(raw, decoder), csv))) {
      in.mark(1);
      if (in.read() != '\uFEFF') {
        in.reset();
      }
      return Csv.read(in, csv.toString());
    } catch (InvalidCasesException e) {
      throw e;
    } catch (CharacterCodingException e) {
      throw new InvalidCasesException(csv, "is not UTF-8 text: save it as \"CSV UTF-8\" (Excel) or convert it,"
          + " e.g. iconv -f latin1 -t utf-8", e);
    } catch (IOException e) {
      // Csv's messages start with the file's name already ("FILE line 3: ...", "FILE: the quoted field ...")
      String m = e.getMessage() == null ? e.toString() : e.getMessage();
      String problem = m.startsWith(csv.toString()) ? m.substring(csv.toString().length()).replaceFirst("^:? ", "") : m;
      throw new InvalidCasesException(csv, problem, m.startsWith(csv.toString()) ? m : csv + ": " + m, e);
    }
  }

  /** Refuses a CSV over {@link #MAX_CSV_CHARS} characters before it is all in memory. */
  private static final class LimitedReader extends FilterReader {
    private final Path csv;
    private long chars;

    LimitedReader(Reader in, Path csv) {
      super(in);
      this.csv = csv;
    }

    @Override
    public int read() throws IOException {
      int c = super.read();
      count(c < 0 ? 0 : 1);
      return c;
    }

    @Override
    public int read(char[] buf, int off, int len) throws IOException {
      int got = super.read(buf, off, len);
      count(Math.max(0, got));
      return got;
    }

    private void count(int n) throws InvalidCasesException {
      chars += n;
      if (chars > MAX_CSV_CHARS) {
        throw new InvalidCasesException(csv, "holds more than " + (MAX_CSV_CHARS >> 20) + " Mi characters;"
            + " at most " + MAX_ROWS + " subjects are read at once: keep only the columns "
            + String.join(", ", COLUMNS) + ", or split the file");
      }
    }
  }

  /** The index of each of {@link #COLUMNS} in the header. */
  private static int[] header(Path csv, Csv.Row header) throws InvalidCasesException {
    List<String> fields = header.fields();
    String row = "row " + header.line();
    int[] col = new int[COLUMNS.size()];
    Arrays.fill(col, -1);
    List<String> found = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (int f = 0; f < fields.size(); f++) {
      String name = fields.get(f).trim();
      found.add(name);
      int k = COLUMNS.indexOf(name.toLowerCase(Locale.ROOT));
      if (k < 0) {
        continue;
      }
      if (col[k] >= 0) {
        problems.add(row + ": column '" + COLUMNS.get(k) + "' appears twice (columns " + letters(col[k]) + " and "
            + letters(f) + "): keep one");
      } else {
        col[k] = f;
      }
    }
    List<String> missing = new ArrayList<>();
    for (int k = 1; k < col.length; k++) {
      if (col[k] < 0) {
        missing.add("'" + COLUMNS.get(k) + "'");
      }
    }
    if (!missing.isEmpty()) {
      problems.add(0, row + " (the header): no column " + String.join(", ", missing) + "; the columns found are "
          + found + "; needed: " + String.join(", ", REQUIRED) + ", and optionally id (any order; other columns "
          + "are ignored)");
    }
    if (!problems.isEmpty()) {
      throw new InvalidCasesException(csv, problems, problems.size());
    }
    return col;
  }

  /** A file's name without its extension (.png, .nii, .nii.gz, any case). */
  static String stem(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    for (String ending : List.of(".nii.gz", ".nii", ".png")) {
      if (lower.endsWith(ending)) {
        return name.substring(0, name.length() - ending.length());
      }
    }
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  /** Column letters as a spreadsheet shows them: 0 is A, 26 is AA. */
  static String letters(int index) {
    StringBuilder b = new StringBuilder();
    for (int v = index + 1; v > 0; v = (v - 1) / 26) {
      b.insert(0, (char) ('A' + (v - 1) % 26));
    }
    return b.toString();
  }

  private static String mm(double v) {
    return BigDecimal.valueOf(Math.round(v * 1000) / 1000.0).stripTrailingZeros().toPlainString();
  }

  /** The checks of one file, collecting problems and warnings as it goes. */
  private static final class Reading {
    private final Path csv;
    private final Path folder;
    private final Double sliceMm;
    private final double ageMin;
    private final double ageMax;
    private final int[] col;
    private final List<String> problems = new ArrayList<>();
    private int problemCount;
    private final List<String> warnings = new ArrayList<>();
    private int warningCount;
    private final List<Integer> niftiRowsWithoutSlice = new ArrayList<>();
    private String niftiExample;
    private int niftiProblemIndex = -1;

    Reading(Path csv, Double sliceMm, double ageMin, double ageMax, int[] col) {
      this.csv = csv;
      Path parent = csv.toAbsolutePath().getParent();
      this.folder = parent == null ? csv.toAbsolutePath() : parent;
      this.sliceMm = sliceMm;
      this.ageMin = ageMin;
      this.ageMax = ageMax;
      this.col = col;
    }

    Cases run(List<Csv.Row> records) throws InvalidCasesException {
      int n = records.size() - 1;
      int headerColumns = records.get(0).fields().size();
      String[] ids = new String[n];
      BrainTrueScm.Covariates[] covariates = new BrainTrueScm.Covariates[n];
      double[][] images = new double[n][];
      int[] rowNumbers = new int[n];
      Path[] files = new Path[n];
      Map<String, Integer> idRows = new HashMap<>();
      int extraLines = lineBreaks(records.get(0).fields());
      for (int r = 1; r <= n; r++) {
        Csv.Row record = records.get(r);
        int sheetRow = record.line() - extraLines;
        extraLines += lineBreaks(record.fields());
        rowNumbers[r - 1] = sheetRow;
        String where = "row " + sheetRow + (sheetRow != record.line() ? " (line " + record.line() + ")" : "");
        List<String> cells = record.fields();
        if (cells.size() != headerColumns) {
          problem(where + ": " + cells.size() + " cells but the header has " + headerColumns + " columns"
              + " (a comma inside a value? put the value in double quotes)");
          continue;
        }
        String id = col[0] < 0 ? "" : cells.get(col[0]).trim();
        if (col[0] < 0) {
          // named once every image file is known (see named)
        } else if (id.isEmpty()) {
          problem(where + ", column 'id': empty: give each subject an id, unique in the file");
        } else if (idRows.containsKey(id)) {
          problem(where + ", column 'id': '" + id + "' is already the id of row " + idRows.get(id)
              + ": ids must be unique");
        } else {
          idRows.put(id, sheetRow);
        }
        ids[r - 1] = id;
        String who = where + (id.isEmpty() ? "" : " (id " + id + ")");

        double age = number(where, "age", cells.get(col[1]), "the age in years, e.g. 61.5");
        if (!Double.isNaN(age)) {
          if (age < 0 || age > MAX_AGE) {
            problem(where + ", column 'age': " + cells.get(col[1]).trim() + " years is outside 0.." + (int) MAX_AGE
                + ": give the age in years");
            age = Double.NaN;
          } else if (age < ageMin || age > ageMax) {
            warning(who + ", column 'age': " + cells.get(col[1]).trim() + " years is outside the training range "
                + mm(ageMin) + ".." + mm(ageMax) + " years; answers for this subject are extrapolation");
          }
        }
        int sex = sex(where, cells.get(col[2]));
        double brain = volume(where, "brain_volume", cells.get(col[3]));
        double ventricle = volume(where, "ventricle_volume", cells.get(col[4]));
        if (!Double.isNaN(brain) && !Double.isNaN(ventricle) && ventricle >= brain) {
          problem(where + ", column 'ventricle_volume': " + cells.get(col[4]).trim() + " ml is not below brain_volume "
              + cells.get(col[3]).trim() + " ml: the ventricles lie inside the brain (both in ml)");
          ventricle = Double.NaN;
        }
        if (!Double.isNaN(age) && sex >= 0 && !Double.isNaN(brain) && !Double.isNaN(ventricle)) {
          covariates[r - 1] = new BrainTrueScm.Covariates(sex, age, brain, ventricle);
        }
        files[r - 1] = imageFile(where, cells.get(col[5]));
        if (files[r - 1] != null) {
          images[r - 1] = image(where, who, sheetRow, files[r - 1]);
        }
      }
      if (!niftiRowsWithoutSlice.isEmpty()) {
        int more = niftiRowsWithoutSlice.size() - 1;
        String message = "row " + niftiRowsWithoutSlice.get(0) + ", column 'image': " + niftiExample
            + " is a NIfTI volume" + (more > 0 ? " (and " + more + " more rows name NIfTI volumes)" : "")
            + ", but no slice height was given: give the world z in mm of the axial slice to take with --slice-mm Z"
            + " (e.g. 18 in MNI space, where the lateral ventricles show well)";
        if (niftiProblemIndex < MAX_LISTED) {
          problems.add(niftiProblemIndex, message);
          if (problems.size() > MAX_LISTED) {
            problems.remove(problems.size() - 1);
          }
        }
        problemCount++;
      }
      if (problemCount > 0) {
        throw new InvalidCasesException(csv, problems, problemCount);
      }
      if (warningCount > warnings.size()) {
        warnings.add("and " + (warningCount - warnings.size()) + " more warnings");
      }
      String naming = null;
      if (col[0] < 0) {
        naming = named(ids, rowNumbers, files);
      }
      return new Cases(csv, ids, covariates, images, warnings, rowNumbers, files, naming);
    }

    /**
     * Names the subjects of a CSV without ids: by their image files' names without the extension when no two
     * share one (sub-0001.png is sub-0001), else by their rows as a spreadsheet shows them (row2, row3, ...).
     * Returns the sentence that says which.
     */
    private String named(String[] ids, int[] rowNumbers, Path[] files) {
      String[] stems = new String[files.length];
      for (int u = 0; u < files.length; u++) {
        stems[u] = stem(files[u].getFileName().toString());
      }
      boolean unique = Arrays.stream(stems).allMatch(stem -> !stem.isEmpty())
          && Arrays.stream(stems).distinct().count() == stems.length;
      for (int u = 0; u < ids.length; u++) {
        ids[u] = unique ? stems[u] : "row" + rowNumbers[u];
      }
      return csv + " has no column 'id': its subjects are named "
          + (unique ? "by their image files' names (" + ids[0] + ", ...)"
              : "by their rows (" + ids[0] + ", ...: the header is row 1), as two rows share an image file name");
    }
    private void problem(String text) {
      problemCount++;
      if (problems.size() < MAX_LISTED) {
        problems.add(text);
      }
    }

    private void warning(String text) {
      warningCount++;
      if (warnings.size() < MAX_LISTED) {
        warnings.add(text);
      }
    }

    /** A finite number, or NaN after a problem was recorded. */
    private double number(String where, String column, String cell, String accepted) {
      String text = cell.trim();
      String at = where + ", column '" + column + "': ";
      if (text.isEmpty()) {
        problem(at + "empty: give " + accepted);
        return Double.NaN;
      }
      if (NOT_FINITE.matcher(text).matches()) {
        problem(at + "'" + text + "' is not a finite number: give " + accepted);
        return Double.NaN;
      }
      if (!NUMBER.matcher(text).matches()) {
        String hint = DECIMAL_COMMA.matcher(text).matches() ? " (write the decimal point as '.')" : "";
        problem(at + "'" + text + "' is not a number" + hint + ": give " + accepted);
        return Double.NaN;
      }
      double v = Double.parseDouble(text);
      if (!Double.isFinite(v)) {
        problem(at + "'" + text + "' is not a finite number: give " + accepted);
        return Double.NaN;
      }
      return v;
    }

    /** 0 or 1, or -1 after a problem was recorded. */
    private int sex(String where, String cell) {
      String text = cell.trim();
      String accepted = ": give 0, F or female for female, 1, M or male for male";
      switch (text.toLowerCase(Locale.ROOT)) {
        case "0", "f", "female" -> {
          return 0;
        }
        case "1", "m", "male" -> {
          return 1;
        }
        case "" -> problem(where + ", column 'sex': empty" + accepted);
        default -> problem(where + ", column 'sex': '" + text + "' is not a sex we read" + accepted);
      }
      return -1;
    }

    private double volume(String where, String column, String cell) {
      double v = number(where, column, cell, "the volume in ml, e.g. 1150.5");
      if (Double.isNaN(v)) {
        return v;
      }
      String text = cell.trim();
      String at = where + ", column '" + column + "': ";
      if (v <= 0) {
        problem(at + text + " ml is not positive: give the volume in ml (> 0)");
        return Double.NaN;
      }
      if (v > MAX_PLAUSIBLE_ML) {
        String ml;
        try {
          ml = new BigDecimal(text).movePointLeft(3).stripTrailingZeros().toPlainString();
        } catch (NumberFormatException e) {
          ml = Double.toString(v / 1000);
        }
        problem(at + column + " " + text + " looks like mm3; give ml (" + ml + ")");
        return Double.NaN;
      }
      return v;
    }

    /** The image file named by a cell, checked to exist and to be a file; null after a problem. */
    private Path imageFile(String where, String cell) {
      String name = cell.trim();
      String at = where + ", column 'image': ";
      if (name.isEmpty()) {
        problem(at + "empty: give the subject's image, a 64x64 grey PNG or a NIfTI volume (.nii, .nii.gz),"
            + " as a path relative to the CSV's folder " + folder + " or absolute");
        return null;
      }
      Path file;
      try {
        file = folder.resolve(name).normalize();
      } catch (InvalidPathException e) {
        problem(at + "'" + name + "' is not a file path: " + e.getReason());
        return null;
      }
      if (Files.isDirectory(file)) {
        problem(at + name + " is a folder, not an image file");
        return null;
      }
      if (!Files.exists(file)) {
        problem(at + "image file " + name + " does not exist" + (Path.of(name).isAbsolute() ? ""
            : " (looked for " + file + "; paths are relative to the CSV's folder)"));
        return null;
      }
      if (!Files.isReadable(file)) {
        problem(at + name + " cannot be read (no permission)");
        return null;
      }
      String lower = name.toLowerCase(Locale.ROOT);
      if (!lower.endsWith(".png") && !lower.endsWith(".nii") && !lower.endsWith(".nii.gz")) {
        problem(at + name + " is neither a PNG (.png) nor a NIfTI volume (.nii, .nii.gz): give a 64x64 grey PNG"
            + " or a NIfTI volume");
        return null;
      }
      return file;
    }

    /**
     * The image's pixels, or null after a problem. Once {@value #MAX_LISTED} problems are listed, files are no longer
     * decoded (their existence was checked): the CSV is refused anyway, and decoding thousands of volumes only to
     * count their problems would take long.
     */
    private double[] image(String where, String who, int sheetRow, Path file) {
      String at = where + ", column 'image': ";
      String name = file.getFileName().toString();
      boolean nifti = !name.toLowerCase(Locale.ROOT).endsWith(".png");
      if (nifti && sliceMm == null) {
        if (niftiRowsWithoutSlice.isEmpty()) {
          niftiExample = file.toString();
          niftiProblemIndex = problems.size();
        }
        niftiRowsWithoutSlice.add(sheetRow);
        return null;
      }
      if (problemCount >= MAX_LISTED) {
        return null;
      }
      try {
        return nifti ? nifti(who, file) : png(who, file);
      } catch (IOException | RuntimeException e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        problem(at + m);
        return null;
      }
    }

    private double[] png(String who, Path file) throws IOException {
      byte[] magic;
      try (InputStream in = Files.newInputStream(file)) {
        magic = in.readNBytes(PNG_MAGIC.length);
      }
      if (!Arrays.equals(magic, PNG_MAGIC)) {
        throw new IOException(file + " is named .png but is not a PNG file");
      }
      int width;
      int height;
      try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
        Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
        if (readers == null || !readers.hasNext()) {
          throw new IOException("no PNG reader took it");
        }
        ImageReader reader = readers.next();
        try {
          reader.setInput(in);
          width = reader.getWidth(0);
          height = reader.getHeight(0);
        } finally {
          reader.dispose();
        }
      } catch (IOException | RuntimeException e) {
        throw new IOException(file + " is not a readable PNG: " + e.getMessage(), e);
      }
      if (width != SIDE || height != SIDE) {
        throw new IOException(file + " is " + width + "x" + height + " pixels; images must be " + SIDE + "x" + SIDE
            + " grey levels (3 mm pixels, a 192 mm field of view, row 0 anterior, column 0 the subject's right):"
            + " resample it, or give the NIfTI volume and --slice-mm");
      }
      ImageFiles.Grey grey = ImageFiles.read(file, SIDE, SIDE);
      if (grey.wasColour()) {
        warning(who + ", column 'image': " + file + " is a colour PNG; converted to grey (0.299 R + 0.587 G"
            + " + 0.114 B)");
      }
      return grey.pixels();
    }

    private double[] nifti(String who, Path file) throws IOException {
      NiftiVolume volume = NiftiVolume.read(file);
      NiftiSlice slice;
      try {
        slice = axialImage(volume, sliceMm);
      } catch (IOException e) {
        throw new IOException(file + ": " + e.getMessage(), e);
      }
      if ("pixdim".equals(volume.affineSource())) {
        warning(who + ", column 'image': " + file + " has neither sform nor qform, so its world z is only voxel"
            + " index x voxel size: the slice at z = " + mm(sliceMm) + " mm may not be where you expect");
      }
      if (slice.outsideFraction() > OUTSIDE_WARNING_FRACTION) {
        warning(who + ", column 'image': " + String.format(Locale.ROOT, "%.0f%%", 100 * slice.outsideFraction())
            + " of the non-zero voxels at z = " + mm(sliceMm) + " mm in " + file + " lie outside the 192 mm field of"
            + " view: is the volume skull-stripped, and are its units mm?");
      }
      return slice.pixels();
    }
  }

  /** Line breaks inside a record's fields (CRLF counts once), which put the next record further down the file. */
  private static int lineBreaks(List<String> fields) {
    int n = 0;
    for (String f : fields) {
      for (int i = 0; i < f.length(); i++) {
        char c = f.charAt(i);
        if (c == '\n' || c == '\r' && (i + 1 >= f.length() || f.charAt(i + 1) != '\n')) {
          n++;
        }
      }
    }
    return n;
  }
}
