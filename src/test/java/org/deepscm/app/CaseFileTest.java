package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saved cases: every bad file gets our own words, naming the field. */
class CaseFileTest {
  @TempDir
  Path dir;

  private String problem(String content) throws IOException {
    Path f = dir.resolve("case.json");
    Files.writeString(f, content);
    IOException e = assertThrows(IOException.class, () -> CaseFile.read(f));
    assertTrue(!e.getMessage().contains("Exception") && !e.getMessage().contains("com.google"), e.getMessage());
    return e.getMessage();
  }

  @Test
  void aGoodCaseReads() throws IOException {
    Path f = dir.resolve("good.json");
    Files.writeString(f, "{\"format\": \"deepscm-case\", \"model\": \"models/x\", \"observed\": {\"t\": 2.5, \"i\": 150},"
        + " \"interventions\": {\"t\": 3}}");
    CaseFile.Saved s = CaseFile.read(f);
    assertEquals("models/x", s.model());
    assertEquals(2.5, s.inUse().values().get("t"));
    assertEquals(3.0, s.interventions().get("t"));
  }

  @Test
  void eachBadFileSaysWhatIsWrong() throws IOException {
    assertTrue(problem("{\"observed\": {\"t\": 2}}").contains("needs \"format\": \"deepscm-case\""));
    assertTrue(problem("{\"format\": \"deepscm-case\"}").contains("has no \"observed\" values"));
    String abc = problem("{\"format\": \"deepscm-case\", \"observed\": {\"t\": \"abc\"}}");
    assertTrue(abc.contains("\"observed.t\" is \"abc\", not a finite number"), abc);
    String cut = problem("{\"format\": \"deepscm-case\",\n \"observed\": {\"t\": 2.5,");
    assertTrue(cut.contains("is not complete JSON"), cut);
    assertTrue(problem("[1, 2]").contains("holds no JSON object"));
    assertTrue(problem("{\"format\": \"deepscm-case\", \"observed\": {\"t\": 1}, \"image\": [300]}")
        .contains("grey levels are 0..255"));
    assertTrue(problem("{\"format\": \"deepscm-case\", \"observed\": {\"t\": 1}, \"interventions\": {\"t\": null}}")
        .contains("\"interventions.t\" is null"));
  }

  @Test
  void thousandsOfMutatedCasesEndInOurErrorOrAGoodCase() throws IOException {
    String valid = "{\"format\": \"deepscm-case\", \"model\": \"models/x\", \"observed\": {\"t\": 2.5, \"i\": 150},"
        + " \"image\": [0, 12, 255], \"interventions\": {\"t\": 3}}";
    java.util.SplittableRandom rng = new java.util.SplittableRandom(15);
    Path f = dir.resolve("m.json");
    for (int k = 0; k < 3000; k++) {
      Files.writeString(f, org.deepscm.data.ReaderFuzzTest.mutateText(valid, rng));
      try {
        CaseFile.Saved s = CaseFile.read(f);
        s.inUse().values().values().forEach(v -> assertTrue(Double.isFinite(v)));
      } catch (IOException e) {
        assertTrue(e.getMessage().startsWith("m.json"), "mutation " + k + ": " + e.getMessage());
      } catch (RuntimeException e) {
        org.junit.jupiter.api.Assertions.fail("mutation " + k + " ended in " + e + " for " + Files.readString(f));
      }
    }
  }
}
