package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --dataset digit-classifier}: what it refuses before it trains anything. */
class DigitClassifierCommandTest {
  @TempDir
  Path dir;

  @Test
  void optionsOfOtherDatasetsAreRefusedNotIgnored() {
    Path out = dir.resolve("judge.safetensors");
    var r = CommandLineTest.run("train", "--dataset", "digit-classifier", "--out", out.toString(), "--image-epochs",
        "3");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--image-epochs is not an option of --dataset digit-classifier"), r.err());
    assertTrue(!Files.exists(out), "nothing written");
  }

  @Test
  void theOutputIsOneSafetensorsFile() {
    var r = CommandLineTest.run("train", "--dataset", "digit-classifier", "--out", dir.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("one file") && r.err().contains(".safetensors"), r.err());
  }
}
