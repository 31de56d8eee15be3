package org.deepscm.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * A strict RFC 4180 parser for tests, written apart from the app's own reader so that the CLI's
 * CSV is checked against the standard rather than against itself. It refuses what the RFC
 * refuses: a quote inside an unquoted field, text after a closing quote, an unclosed quote. Line
 * ends may be CRLF (the RFC's) or LF.
 */
final class Rfc4180 {
  private Rfc4180() {}

  static List<List<String>> parse(String text) {
    List<List<String>> records = new ArrayList<>();
    List<String> record = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    int k = 0;
    int n = text.length();
    while (k < n) {
      if (text.charAt(k) == '"') {
        k++;
        while (true) {
          if (k >= n) {
            throw new IllegalArgumentException("unclosed quote in: " + text);
          }
          char c = text.charAt(k++);
          if (c == '"') {
            if (k < n && text.charAt(k) == '"') {
              field.append('"');
              k++;
            } else {
              break;
            }
          } else {
            field.append(c);
          }
        }
        if (k < n && !atSeparator(text, k)) {
          throw new IllegalArgumentException("text after a closing quote at " + k + " in: " + text);
        }
      } else {
        while (k < n && !atSeparator(text, k)) {
          char c = text.charAt(k++);
          if (c == '"' || c == '\r') {
            throw new IllegalArgumentException("quote or bare CR in an unquoted field at " + (k - 1) + " in: " + text);
          }
          field.append(c);
        }
      }
      record.add(field.toString());
      field.setLength(0);
      if (k >= n) {
        break;
      }
      if (text.charAt(k) == ',') {
        k++;
        if (k >= n) {
          record.add("");
        }
        continue;
      }
      k += text.startsWith("\r\n", k) ? 2 : 1;
      records.add(record);
      record = new ArrayList<>();
    }
    if (!record.isEmpty()) {
      records.add(record);
    }
    return records;
  }

  private static boolean atSeparator(String text, int k) {
    char c = text.charAt(k);
    return c == ',' || c == '\n' || c == '\r' && k + 1 < text.length() && text.charAt(k + 1) == '\n';
  }
}
