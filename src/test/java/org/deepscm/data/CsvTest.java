package org.deepscm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class CsvTest {
  private static List<Csv.Row> read(String text) throws IOException {
    return Csv.read(new StringReader(text), "test.csv");
  }

  @Test
  void quotesOnlyWhatNeedsIt() {
    assertEquals("plain", Csv.field("plain"));
    assertEquals("\"a, b\"", Csv.field("a, b"));
    assertEquals("\"say \"\"hi\"\"\"", Csv.field("say \"hi\""));
    assertEquals("\"two\nlines\"", Csv.field("two\nlines"));
    assertEquals("x,\"x (mean |change|, 0-255)\",", Csv.record(List.of("x", "x (mean |change|, 0-255)", "")));
  }

  @Test
  void readsBackWhatItWrites() throws IOException {
    List<String> fields = List.of("a, b", "say \"hi\"", "two\nlines", "", " spaced ", "plain");
    List<Csv.Row> rows = read(Csv.record(List.of("h1", "h2", "h3", "h4", "h5", "h6")) + "\n" + Csv.record(fields)
        + "\nnext,,,,,\n");
    assertEquals(3, rows.size());
    assertEquals(fields, rows.get(1).fields());
    assertEquals(2, rows.get(1).line());
    assertEquals(4, rows.get(2).line(), "the line after a quoted line break");
  }

  @Test
  void takesTypedSpacesCrlfAndBlankLines() throws IOException {
    List<Csv.Row> rows = read("t , i\r\n\r\n 1.5 , \"x.png\" \r\n");
    assertEquals(2, rows.size());
    assertEquals(List.of("t ", " i"), rows.get(0).fields());
    assertEquals(List.of(" 1.5 ", "x.png"), rows.get(1).fields());
    assertEquals(3, rows.get(1).line());
  }

  @Test
  void refusesWhatIsNotCsvNamingTheLine() {
    IOException stray = assertThrows(IOException.class, () -> read("a,b\nx\"y,1\n"));
    assertTrue(stray.getMessage().contains("test.csv line 2: a quote inside an unquoted field"), stray.getMessage());
    IOException after = assertThrows(IOException.class, () -> read("a,b\n\"x\"y,1\n"));
    assertTrue(after.getMessage().contains("line 2: text after the closing quote"), after.getMessage());
    IOException open = assertThrows(IOException.class, () -> read("a,b\n1,2\n\"x,1\n"));
    assertTrue(open.getMessage().contains("starts on line 3 is never closed"), open.getMessage());
  }

  @Test
  void aByteOrderMarkIsNotPartOfTheFirstColumnName() throws java.io.IOException {
    var rows = Csv.read(new java.io.StringReader("\uFEFFt,i\n2.5,150\n"), "bom.csv");
    org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of("t", "i"), rows.get(0).fields());
  }
}
