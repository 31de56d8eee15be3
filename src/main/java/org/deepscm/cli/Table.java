package org.deepscm.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deepscm.data.Csv;

/** A plain-text table or CSV for the terminal: a header and rows of cells. */
final class Table {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  Table(List<String> header) {
    this.header = List.copyOf(header);
  }

  Table row(Object... cells) {
    List<String> r = new ArrayList<>();
    for (Object c : cells) {
      r.add(c instanceof Double d ? number(d) : String.valueOf(c));
    }
    rows.add(r);
    return this;
  }

  static String number(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return String.valueOf(v);
    }
    double a = Math.abs(v);
    if (a != 0 && (a >= 1e6 || a < 1e-3)) {
      return String.format(Locale.ROOT, "%.4e", v);
    }
    return String.format(Locale.ROOT, "%.4f", v);
  }

  void print(PrintWriter out, boolean csv) {
    print(out, csv, true);
  }

  int size() {
    return rows.size();
  }

  /** The first n rows, for a screen when all of them go to a file. */
  Table head(int n) {
    Table t = new Table(header);
    t.rows.addAll(rows.subList(0, Math.min(n, rows.size())));
    return t;
  }

  /** As {@link #print(PrintWriter, boolean)}; a CSV without its header row continues a stream of chunks. */
  void print(PrintWriter out, boolean csv, boolean withHeader) {
    if (csv) {
      // labels such as "x (mean |change|, 0-255)" hold commas: Csv quotes them
      if (withHeader) {
        out.println(Csv.record(header));
      }
      rows.forEach(r -> out.println(Csv.record(r)));
      out.flush();
      return;
    }
    int[] width = new int[header.size()];
    for (int c = 0; c < width.length; c++) {
      width[c] = header.get(c).length();
      for (List<String> r : rows) {
        width[c] = Math.max(width[c], r.get(c).length());
      }
    }
    StringBuilder line = new StringBuilder();
    for (int c = 0; c < width.length; c++) {
      line.append(c == 0 ? "" : "  ").append(pad(header.get(c), width[c]));
    }
    out.println(line.toString().stripTrailing());
    line.setLength(0);
    for (int c = 0; c < width.length; c++) {
      line.append(c == 0 ? "" : "  ").append("-".repeat(width[c]));
    }
    out.println(line);
    for (List<String> r : rows) {
      line.setLength(0);
      for (int c = 0; c < width.length; c++) {
        line.append(c == 0 ? "" : "  ").append(pad(r.get(c), width[c]));
      }
      out.println(line.toString().stripTrailing());
    }
    out.flush();
  }

  private static String pad(String s, int w) {
    return s + " ".repeat(Math.max(0, w - s.length()));
  }
}
