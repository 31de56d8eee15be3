package org.deepscm.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * Named columns of numbers, one row per unit: the covariates of a dataset or a batch of cases.
 * Reads and writes CSV with a header row; every error names the file, the row and the column.
 */
public final class CovariateTable {
  private final Map<String, double[]> columns;
  private final int rows;

  public CovariateTable(Map<String, double[]> columns) {
    int n = -1;
    for (Map.Entry<String, double[]> e : columns.entrySet()) {
      if (n >= 0 && e.getValue().length != n) {
        throw new IllegalArgumentException(
            "column '" + e.getKey() + "' has " + e.getValue().length + " rows, the others " + n);
      }
      n = e.getValue().length;
    }
    this.columns = new LinkedHashMap<>(columns);
    this.rows = Math.max(n, 0);
  }

  public int rows() {
    return rows;
  }

  public List<String> names() {
    return List.copyOf(columns.keySet());
  }

  public boolean has(String name) {
    return columns.containsKey(name);
  }

  public double[] column(String name) {
    double[] c = columns.get(name);
    if (c == null) {
      throw new IllegalArgumentException("no column '" + name + "'; the table has " + columns.keySet());
    }
    return c;
  }

  public double get(String name, int row) {
    return column(name)[row];
  }

  /** The rows [from, to). */
  public CovariateTable slice(int from, int to) {
    Map<String, double[]> out = new LinkedHashMap<>();
    columns.forEach((k, v) -> out.put(k, Arrays.copyOfRange(v, from, to)));
    return new CovariateTable(out);
  }

  /** The given rows, in the given order. */
  public CovariateTable select(int[] rowIndices) {
    Map<String, double[]> out = new LinkedHashMap<>();
    columns.forEach((k, v) -> {
      double[] c = new double[rowIndices.length];
      for (int r = 0; r < c.length; r++) {
        c[r] = v[rowIndices[r]];
      }
      out.put(k, c);
    });
    return new CovariateTable(out);
  }

  /** A seeded permutation of 0 .. rows-1. */
  public int[] shuffledRows(long seed) {
    int[] idx = new int[rows];
    for (int k = 0; k < rows; k++) {
      idx[k] = k;
    }
    Random r = new Random(seed);
    for (int k = rows - 1; k > 0; k--) {
      int j = r.nextInt(k + 1);
      int t = idx[k];
      idx[k] = idx[j];
      idx[j] = t;
    }
    return idx;
  }

  public double min(String name) {
    return Arrays.stream(column(name)).min().orElse(Double.NaN);
  }

  public double max(String name) {
    return Arrays.stream(column(name)).max().orElse(Double.NaN);
  }

  /** The named columns as float32 batches in {@code manager}. */
  public Map<String, NDArray> toArrays(NDManager manager, Collection<String> names) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (String name : names) {
      double[] c = column(name);
      float[] f = new float[c.length];
      for (int k = 0; k < f.length; k++) {
        f[k] = (float) c[k];
      }
      out.put(name, manager.create(f));
    }
    return out;
  }

  /** A table from batches (one value per row each). */
  public static CovariateTable fromArrays(Map<String, NDArray> arrays) {
    Map<String, double[]> out = new LinkedHashMap<>();
    arrays.forEach((k, v) -> out.put(k, v.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray()));
    return new CovariateTable(out);
  }

  // ---------------------------------------------------------------- CSV

  /**
   * Reads a CSV file with a header row (fields may be quoted, see {@link Csv}). Values may be
   * numbers or, through {@code decode}, names (e.g. a category); a missing, empty or unreadable cell
   * is an error naming its line and column.
   *
   * @param required columns that must be present
   * @param decode maps a column name to a parser for its cells (null for plain numbers)
   */
  public static CovariateTable readCsv(Path file, Collection<String> required,
      Function<String, Function<String, Double>> decode) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("CSV file " + file + " does not exist");
    }
    List<Csv.Row> records;
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      records = Csv.read(in, file.toString());
    }
    if (records.isEmpty()) {
      throw new IOException(file + " is empty: expected a header row with column names");
    }
    String[] names = records.get(0).fields().stream().map(String::trim).toArray(String[]::new);
    List<String> missing = new ArrayList<>(required);
    missing.removeAll(Arrays.asList(names));
    if (!missing.isEmpty()) {
      throw new IOException(file + " has no column " + String.join(", ", missing)
          + "; its columns are " + Arrays.toString(names));
    }
    List<double[]> rowsRead = new ArrayList<>();
    for (Csv.Row record : records.subList(1, records.size())) {
      int lineNo = record.line();
      List<String> cells = record.fields();
      if (cells.size() != names.length) {
        throw new IOException(file + " line " + lineNo + ": " + cells.size() + " cells but the header has "
            + names.length + " columns");
      }
      double[] row = new double[names.length];
      for (int k = 0; k < names.length; k++) {
        String cell = cells.get(k).trim();
        if (cell.isEmpty()) {
          throw new IOException(file + " line " + lineNo + ": column '" + names[k] + "' is empty");
        }
        Function<String, Double> parser = decode == null ? null : decode.apply(names[k]);
        try {
          row[k] = parser != null ? parser.apply(cell) : Double.parseDouble(cell);
        } catch (RuntimeException e) {
          throw new IOException(file + " line " + lineNo + ": column '" + names[k] + "' value '" + cell
              + "' is not " + (parser != null ? "one this column takes" : "a number"), e);
        }
        if (!Double.isFinite(row[k])) {
          throw new IOException(file + " line " + lineNo + ": column '" + names[k] + "' value '" + cell
              + "' is not a finite number");
        }
      }
      rowsRead.add(row);
    }
    Map<String, double[]> columns = new LinkedHashMap<>();
    for (int k = 0; k < names.length; k++) {
      double[] c = new double[rowsRead.size()];
      for (int r = 0; r < c.length; r++) {
        c[r] = rowsRead.get(r)[k];
      }
      columns.put(names[k], c);
    }
    return new CovariateTable(columns);
  }

  public void writeCsv(Writer out) throws IOException {
    out.write(Csv.record(List.copyOf(columns.keySet())));
    out.write('\n');
    for (int r = 0; r < rows; r++) {
      List<String> cells = new ArrayList<>();
      for (double[] c : columns.values()) {
        cells.add(format(c[r]));
      }
      out.write(Csv.record(cells) + '\n');
    }
  }

  public static String format(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }
}
