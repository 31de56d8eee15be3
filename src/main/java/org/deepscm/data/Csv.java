package org.deepscm.data;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;

/**
 * CSV as RFC 4180 defines it, the one place that quotes and unquotes: every CSV this app writes
 * goes through {@link #record}, every CSV it reads through {@link #read}. Writing is strict (a
 * field holding a comma, a double quote or a line break is quoted, its quotes doubled); reading
 * also takes the spaces people type around fields and quotes.
 */
public final class Csv {
  private Csv() {}

  /** A record read from a file: its fields, and the line it starts on (1 is the file's first line). */
  public record Row(int line, List<String> fields) {}

  /** One field as written: quoted when it holds a comma, a double quote, CR or LF, its quotes doubled. */
  public static String field(String text) {
    if (text.indexOf(',') < 0 && text.indexOf('"') < 0 && text.indexOf('\n') < 0 && text.indexOf('\r') < 0) {
      return text;
    }
    return '"' + text.replace("\"", "\"\"") + '"';
  }

  /** One record as written: the fields quoted as needed and joined by commas, without a line end. */
  public static String record(List<String> fields) {
    StringBuilder b = new StringBuilder();
    for (int k = 0; k < fields.size(); k++) {
      b.append(k == 0 ? "" : ",").append(field(fields.get(k)));
    }
    return b.toString();
  }

  /**
   * Reads every record of {@code in}. A quoted field may hold commas, line breaks and doubled
   * quotes; spaces around an unquoted field are kept (callers trim), spaces around a quoted one are
   * dropped. Blank lines are skipped. Line ends may be LF, CRLF or CR.
   *
   * @param source names the input in error messages (e.g. the file)
   * @throws IOException for a quote inside an unquoted field, text after a closing quote, or a
   *     quoted field that is never closed, naming the line
   */
  public static List<Row> read(Reader in, String source) throws IOException {
    List<Row> rows = new ArrayList<>();
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    int line = 1;
    int recordLine = 1;
    int quoteLine = 1;
    boolean quoted = false; // the current field was opened by a quote (it may be closed already)
    boolean inQuotes = false; // inside the quotes of the current field
    boolean blankSoFar = true; // the record holds nothing but spaces so far
    int c = in.read();
    if (c == '\uFEFF') {
      // a byte-order mark, as spreadsheet programs write before UTF-8 CSV: not part of the first name
      c = in.read();
    }
    while (c >= 0) {
      int next = in.read();
      if (inQuotes) {
        if (c == '"' && next == '"') {
          field.append('"');
          next = in.read();
        } else if (c == '"') {
          inQuotes = false;
        } else {
          if (c == '\n' || c == '\r' && next != '\n') {
            line++;
          }
          field.append((char) c);
        }
      } else if (c == ',') {
        fields.add(field.toString());
        field.setLength(0);
        quoted = false;
        blankSoFar = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && next == '\n') {
          next = in.read();
        }
        if (!(blankSoFar && fields.isEmpty() && field.toString().isBlank() && !quoted)) {
          fields.add(field.toString());
          rows.add(new Row(recordLine, List.copyOf(fields)));
        }
        fields.clear();
        field.setLength(0);
        quoted = false;
        blankSoFar = true;
        line++;
        recordLine = line;
      } else if (c == '"') {
        if (quoted) {
          throw new IOException(source + " line " + line + ": text after the closing quote of a field"
              + " (write a quote inside a quoted field as \"\")");
        }
        if (!field.toString().isBlank()) {
          throw new IOException(source + " line " + line + ": a quote inside an unquoted field"
              + " (quote the whole field and double its quotes)");
        }
        field.setLength(0);
        quoted = true;
        inQuotes = true;
        quoteLine = line;
        blankSoFar = false;
      } else {
        if (quoted && c != ' ' && c != '\t') {
          throw new IOException(source + " line " + line + ": text after the closing quote of a field"
              + " (write a quote inside a quoted field as \"\")");
        }
        if (!quoted) {
          field.append((char) c);
        }
      }
      c = next;
    }
    if (inQuotes) {
      throw new IOException(source + ": the quoted field that starts on line " + quoteLine + " is never closed");
    }
    if (!(blankSoFar && fields.isEmpty() && field.toString().isBlank() && !quoted)) {
      fields.add(field.toString());
      rows.add(new Row(recordLine, List.copyOf(fields)));
    }
    return rows;
  }
}
